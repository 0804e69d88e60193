//! Fuzzes the core-ABI decoders with arbitrary bytes: they must never panic, and
//! whatever decodes must validate or be rejected cleanly, then re-encode.
//!
//! Run: `cargo install cargo-fuzz`, then from the repository root
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run draw_list -- -max_total_time=60`
//! (cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP enables them on stable).
//! CI runs the seeded mutation corpus in runtime/core/src/abi/tests.rs instead.

#![no_main]

use libfuzzer_sys::fuzz_target;
use showrunner_core::{DrawListLimits, abi, validate};

fuzz_target!(|bytes: &[u8]| {
    let limits = DrawListLimits::default();
    if let Ok(mut ops) = abi::decode_draw_list(bytes, limits.max_ops) {
        let reencoded = abi::encode_draw_list(&ops);
        assert_eq!(abi::decode_draw_list(&reencoded, limits.max_ops).map(|o| o.len()), Ok(ops.len()));
        let _ = validate(&mut ops, &limits);
    }
    let _ = abi::decode_module_info(bytes);
    let _ = abi::decode_props(bytes);
    let _ = abi::decode_result(bytes);
    let _ = abi::decode_frame(bytes);
});
