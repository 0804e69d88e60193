//! Core-module ABI v1 (wit/core-abi-v1.md): a well-behaved core module runs like a
//! component; hostile ones (infinite loop, memory bomb, abort, malformed draw-list
//! bytes, lying lengths, wrong exports or imports) end as the same typed faults or
//! load errors, and the host survives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::time::Duration;

use common::*;
use showrunner_core::abi::{encode_draw_list, encode_module_info, encode_result};
use showrunner_core::{Color, DrawOp, Fill, FillRule, ModuleInfo, Paint, Path, PropSpec, PropValue};
use showrunner_wasm::{Abi, FaultKind, FaultPolicy, LayerRunner, LoadError, SandboxLimits, World};

/// WAT string literal of raw bytes.
fn data(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

fn info() -> ModuleInfo {
    ModuleInfo {
        name: "Core test".into(),
        version: "1.0.0".into(),
        props: vec![PropSpec { name: "label".into(), label: "Label".into(), default: PropValue::Text("hi".into()), min: None, max: None }],
    }
}

fn square() -> Vec<DrawOp> {
    let path = Path { verbs: vec![0, 1, 1, 1, 4], points: vec![10.0, 10.0, 110.0, 10.0, 110.0, 110.0, 10.0, 110.0] };
    vec![DrawOp::Fill(Fill { path, paint: Paint::Solid(Color { r: 1.0, g: 0.0, b: 0.0, a: 1.0 }), rule: FillRule::NonZero })]
}

/// A core module implementing ABI v1 with fixed outputs; `body` replaces the
/// body of the named export (e.g. `("sr_tick", "(loop (br 0)) (i32.const 0)")`),
/// `extra` adds module fields (imports go first).
fn module(bodies: &[(&str, &str)], imports: &str, extra: &str) -> Vec<u8> {
    let describe = encode_module_info(&info());
    let ok = encode_result(&Ok(()));
    let draw = encode_draw_list(&square());
    let body = |name: &str, default: String| bodies.iter().find(|(n, _)| *n == name).map_or(default, |(_, b)| b.to_string());
    let text = format!(
        r#"(module
  (import "showrunner" "log" (func $log (param i32 i32 i32)))
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  {imports}
  (memory (export "memory") 2)
  (global $out (mut i32) (i32.const 0))
  (data (i32.const 8192) "{describe}")
  (data (i32.const 16384) "{ok}")
  (data (i32.const 20000) "{draw}")
  (data (i32.const 30000) "\0e\00\00\00h\00o\00s\00t\00i\00l\00e\00")
  (func (export "sr_abi_version") (result i32) {abi})
  (func (export "sr_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "sr_output") (result i32) global.get $out)
  (func (export "sr_describe") (result i32) (global.set $out (i32.const 8192)) (i32.const {describe_len}))
  (func (export "sr_init") (param i32 i32) (result i32) {init})
  (func (export "sr_set_props") (param i32 i32))
  (func (export "sr_on_event") (param i32 i32) {on_event})
  (func (export "sr_tick") (param i32 i32) (result i32) {tick})
  (func (export "sr_save_state") (result i32) (global.set $out (i32.const 16384)) (i32.const 0))
  (func (export "sr_restore_state") (param i32 i32) (result i32) (global.set $out (i32.const 16384)) (i32.const {ok_len}))
  {extra}
)"#,
        describe = data(&describe),
        ok = data(&ok),
        draw = data(&draw),
        abi = body("sr_abi_version", "i32.const 1".into()),
        describe_len = describe.len(),
        init = body("sr_init", format!("(global.set $out (i32.const 16384)) (i32.const {})", ok.len())),
        on_event = body("sr_on_event", String::new()),
        tick = body("sr_tick", format!("(global.set $out (i32.const 20000)) (i32.const {})", draw.len())),
        ok_len = ok.len(),
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn tick_fault(limits: SandboxLimits, bodies: &[(&str, &str)]) -> FaultKind {
    let host = host_with(limits);
    let m = host.load(&module(bodies, "", "")).expect("loads");
    let mut layer = LayerRunner::new("core", m, &[], FaultPolicy::default()).expect("starts");
    let out = layer.tick(&frame(0));
    assert!(!out.fresh);
    let fault = out.fault.expect("faulted");
    assert_eq!((fault.layer.as_str(), fault.call), ("core", "tick"));
    assert!(fault.module.starts_with("Core test"), "{}", fault.module);
    // The host is fine: a component right after draws.
    let mut lt = LayerRunner::new("healthy", load(&host, "scene-lower-third"), &[], FaultPolicy::default()).expect("lower third starts");
    assert!(lt.tick(&frame(0)).fresh);
    fault.kind
}

#[test]
fn a_core_module_is_described_and_ticked_like_a_component() {
    let host = host_with(relaxed());
    let m = host.load(&module(&[], "", "")).expect("loads");
    assert_eq!((m.world, m.abi), (World::Scene, Abi::CoreV1));
    assert_eq!(m.info, info());
    let mut layer = LayerRunner::new("core", m, &[], FaultPolicy::default()).expect("starts");
    for i in 0..10 {
        let out = layer.tick(&frame(i));
        assert!(out.fresh && out.fault.is_none(), "{:?}", out.fault);
        assert_eq!(out.ops.as_ref(), &square());
    }
    layer.on_event(showrunner_core::Event::named("play")).expect("event");
}

#[test]
fn an_infinite_loop_hits_the_deadline() {
    let kind = tick_fault(SandboxLimits::default(), &[("sr_tick", "(loop (br 0)) (i32.const 0)")]);
    assert_eq!(kind, FaultKind::Deadline { budget: Duration::from_millis(5) });
}

#[test]
fn a_memory_bomb_hits_the_memory_cap() {
    let bomb = "(loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (i32.const 0)";
    match tick_fault(relaxed(), &[("sr_tick", bomb)]) {
        FaultKind::MemoryCap { limit_bytes, .. } => assert_eq!(limit_bytes, 64 << 20),
        other => panic!("expected memory cap, got {other}"),
    }
}

#[test]
fn abort_is_a_trap_with_the_message() {
    let abort = "(call $abort (i32.const 30004) (i32.const 0) (i32.const 7) (i32.const 3)) (i32.const 0)";
    match tick_fault(relaxed(), &[("sr_tick", abort)]) {
        FaultKind::Trap { message } => assert!(message.contains("abort: hostile"), "{message}"),
        other => panic!("expected a trap, got {other}"),
    }
}

#[test]
fn malformed_draw_list_bytes_are_a_typed_fault_naming_the_offset() {
    // "SRDL", version 1, one op, unknown tag 9.
    let bad = "(i32.store8 (i32.const 40000) (i32.const 83)) (i32.store8 (i32.const 40001) (i32.const 82)) \
               (i32.store8 (i32.const 40002) (i32.const 68)) (i32.store8 (i32.const 40003) (i32.const 76)) \
               (i32.store8 (i32.const 40004) (i32.const 1)) (i32.store (i32.const 40005) (i32.const 1)) \
               (i32.store8 (i32.const 40009) (i32.const 9)) (global.set $out (i32.const 40000)) (i32.const 10)";
    match tick_fault(relaxed(), &[("sr_tick", bad)]) {
        FaultKind::MalformedOutput { what } => assert!(what.contains("byte 9: unknown draw op 9"), "{what}"),
        other => panic!("expected malformed output, got {other}"),
    }
}

#[test]
fn lying_lengths_are_faults_not_reads_past_memory() {
    let past_end = "(global.set $out (i32.const 131000)) (i32.const 5000)";
    assert!(matches!(tick_fault(relaxed(), &[("sr_tick", past_end)]), FaultKind::MalformedOutput { .. }));
    let negative = "(global.set $out (i32.const 0)) (i32.const -1)";
    assert!(matches!(tick_fault(relaxed(), &[("sr_tick", negative)]), FaultKind::MalformedOutput { .. }));
    let huge = "(global.set $out (i32.const 0)) (i32.const 100000000)";
    assert!(matches!(tick_fault(relaxed(), &[("sr_tick", huge)]), FaultKind::TransferCap { .. }));
}

#[test]
fn wrong_exports_imports_and_versions_are_rejected_at_load() {
    let host = host_with(relaxed());
    let reason = |bytes: Vec<u8>| host.load(&bytes).map(|_| ()).unwrap_err();

    let no_abi = wat::parse_str("(module (memory (export \"memory\") 1) (func (export \"tick\")))").expect("wat");
    assert!(matches!(reason(no_abi), LoadError::CoreModule));

    let wrong_sig = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "sr_abi_version") (result i32) i32.const 1) (func (export "sr_alloc") (param i64) (result i32) i32.const 0))"#,
    )
    .expect("wat");
    let err = reason(wrong_sig);
    assert!(matches!(err, LoadError::CoreAbi(ref m) if m.contains("`sr_alloc` has signature I>i")), "{err}");
    let missing = wat::parse_str("(module (memory (export \"memory\") 1) (func (export \"sr_abi_version\") (result i32) i32.const 1))").expect("wat");
    let err = reason(missing);
    assert!(matches!(err, LoadError::CoreAbi(ref m) if m.contains("`sr_alloc` is missing")), "{err}");

    let file_access = module(&[], r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#, "");
    let err = reason(file_access);
    assert!(matches!(err, LoadError::Link(ref m) if m.contains("fd_write")), "{err}");

    let err = reason(module(&[("sr_abi_version", "i32.const 2")], "", ""));
    assert!(err.to_string().contains("core ABI version 2"), "{err}");
}

/// The AssemblyScript test guests (tests/guests/as-hostile), built by xtask.
fn as_guest(file: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/guests/as-hostile/build").join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; build it with `cargo xtask build-scenes`", path.display()))
}

fn as_hostile(limits: SandboxLimits, mode: &str) -> Result<FaultKind, showrunner_wasm::LayerStartError> {
    let host = host_with(limits);
    let module = host.load(&as_guest("as_hostile.wasm")).expect("AS hostile guest loads");
    assert_eq!(module.abi, Abi::CoreV1);
    let mut layer = LayerRunner::new("as", module, &[text_prop("mode", mode)], FaultPolicy::default())?;
    let out = layer.tick(&frame(0));
    let fault = out.fault.unwrap_or_else(|| panic!("{mode}: no fault"));
    assert!(fault.module.starts_with("Hostile AS"), "{}", fault.module);
    let mut healthy = LayerRunner::new("healthy", load(&host, "scene-lower-third"), &[], FaultPolicy::default()).expect("lower third starts");
    assert!(healthy.tick(&frame(0)).fresh, "{mode}: the host still runs other modules");
    Ok(fault.kind)
}

#[test]
fn assemblyscript_hostile_guests_end_as_typed_faults() {
    let host = host_with(relaxed());
    let module = host.load(&as_guest("as_hostile.wasm")).expect("loads");
    let mut ok = LayerRunner::new("ok", module, &[text_prop("mode", "ok")], FaultPolicy::default()).expect("starts");
    assert!(ok.tick(&frame(0)).fresh, "mode ok draws");

    assert_eq!(as_hostile(SandboxLimits::default(), "tick-loop").expect("starts"), FaultKind::Deadline { budget: Duration::from_millis(5) });
    let roomy = SandboxLimits { tick_deadline: Duration::from_secs(10), ..relaxed() };
    assert!(matches!(as_hostile(roomy, "memory-bomb").expect("starts"), FaultKind::MemoryCap { .. }));
    match as_hostile(relaxed(), "abort").expect("starts") {
        FaultKind::Trap { message } => assert!(message.contains("hostile abort"), "{message}"),
        other => panic!("abort: {other}"),
    }
    match as_hostile(relaxed(), "throw").expect("starts") {
        FaultKind::Trap { message } => assert!(message.contains("hostile throw"), "{message}"),
        other => panic!("throw: {other}"),
    }
    match as_hostile(SandboxLimits::default(), "init-loop") {
        Err(showrunner_wasm::LayerStartError::Fault(f)) => assert_eq!((f.call, f.kind), ("init", FaultKind::Deadline { budget: Duration::from_millis(200) })),
        other => panic!("init-loop: {other:?}"),
    }
}

#[test]
fn an_assemblyscript_module_with_the_wrong_exports_is_rejected_naming_the_export() {
    let host = host_with(relaxed());
    let err = host.load(&as_guest("as_wrong_exports.wasm")).unwrap_err();
    assert!(matches!(err, LoadError::CoreAbi(ref m) if m.contains("`sr_alloc` is missing")), "{err}");
}
