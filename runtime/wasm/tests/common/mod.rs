//! Shared helpers for the host's integration tests: where the built guest modules
//! are, and hosts with default or adjusted budgets.

#![allow(dead_code, clippy::expect_used, clippy::result_large_err)]

use std::path::PathBuf;
use std::sync::Arc;

use showrunner_core::{FrameInfo, Prop, PropValue};
use showrunner_wasm::{FaultPolicy, Host, LayerRunner, LoadedModule, NoAssets, SandboxLimits};

/// Path of a guest component built by `cargo xtask build-scenes`.
pub fn guest_path(crate_name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("wasm32-wasip2/guest").join(format!("{}.wasm", crate_name.replace('-', "_")))
}

pub fn guest_bytes(crate_name: &str) -> Vec<u8> {
    let path = guest_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; build the guests first with `cargo xtask build-scenes`", path.display()))
}

/// Default budgets with deadlines long enough that a healthy call is never cut
/// short because a loaded 2-core test machine preempted it. Tests of the deadlines
/// themselves use `SandboxLimits::default()`.
pub fn relaxed() -> SandboxLimits {
    SandboxLimits {
        tick_deadline: std::time::Duration::from_millis(500),
        event_deadline: std::time::Duration::from_millis(500),
        init_deadline: std::time::Duration::from_secs(5),
        ..SandboxLimits::default()
    }
}

pub fn host_with(limits: SandboxLimits) -> Arc<Host> {
    Host::new(limits, None, Arc::new(NoAssets)).expect("host starts")
}

pub fn load(host: &Arc<Host>, crate_name: &str) -> Arc<LoadedModule> {
    host.load(&guest_bytes(crate_name)).unwrap_or_else(|e| panic!("{crate_name} loads: {e}"))
}

pub fn frame(index: u64) -> FrameInfo {
    FrameInfo::at(index, 1920, 1080, 30, 1)
}

pub fn text_prop(name: &str, value: &str) -> Prop {
    Prop { name: name.into(), value: PropValue::Text(value.into()) }
}

/// A layer running the hostile guest in `mode`.
pub fn hostile_layer(host: &Arc<Host>, id: &str, mode: &str, policy: FaultPolicy) -> Result<LayerRunner, showrunner_wasm::LayerStartError> {
    LayerRunner::new(id, load(host, "guest-hostile"), &[text_prop("mode", mode)], policy)
}
