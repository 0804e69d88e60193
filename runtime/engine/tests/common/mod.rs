//! Shared helpers for the engine's integration tests: where the built guest modules
//! are, hosts with budgets a loaded 2-core machine does not trip over, and show
//! builders.

#![allow(dead_code, clippy::expect_used, clippy::result_large_err)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{LayerSpec, Prop, PropValue, SceneSpec, ShowSpec};
use showrunner_engine::{Engine, EngineOptions, ModuleFiles, PoolConfig, TransitionChoice};
use showrunner_wasm::{Host, LoadedModule, NoAssets, SandboxLimits};

/// Path of a guest module built by `cargo xtask build-scenes`.
pub fn guest_path(crate_name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = target.join("wasm32-wasip2/guest").join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(path.exists(), "{} is missing; build the guests first with `cargo xtask build-scenes`", path.display());
    path
}

pub fn guest(crate_name: &str) -> String {
    guest_path(crate_name).to_string_lossy().into_owned()
}

/// Default budgets with deadlines long enough that a healthy call is never cut
/// short by a busy test machine.
pub fn relaxed() -> SandboxLimits {
    SandboxLimits { tick_deadline: Duration::from_millis(500), event_deadline: Duration::from_millis(500), init_deadline: Duration::from_secs(5), ..SandboxLimits::default() }
}

pub fn host_with(limits: SandboxLimits) -> Arc<Host> {
    Host::new(limits, None, Arc::new(NoAssets)).expect("host starts")
}

pub fn host() -> Arc<Host> {
    host_with(relaxed())
}

pub fn load(host: &Arc<Host>, crate_name: &str) -> Arc<LoadedModule> {
    ModuleFiles::new(host.clone()).load(&guest(crate_name)).unwrap_or_else(|e| panic!("{crate_name}: {e}"))
}

pub fn text(name: &str, value: &str) -> Prop {
    Prop { name: name.into(), value: PropValue::Text(value.into()) }
}

pub fn layer(id: &str, crate_name: &str, z: i32) -> LayerSpec {
    LayerSpec { z, ..LayerSpec::new(id, &guest(crate_name)) }
}

pub fn show(scenes: Vec<(&str, Vec<LayerSpec>)>) -> ShowSpec {
    let program = scenes[0].0.to_string();
    let scenes = scenes.into_iter().map(|(name, layers)| SceneSpec { name: name.into(), layers }).collect();
    ShowSpec { width: 1280, height: 720, fps_num: 30, fps_den: 1, scenes, program }
}

pub fn options(workers: usize) -> EngineOptions {
    EngineOptions { pool: PoolConfig { workers, ..PoolConfig::default() }, ..EngineOptions::default() }
}

pub fn engine(host: &Arc<Host>, spec: ShowSpec, workers: usize) -> Engine {
    let mut modules = ModuleFiles::new(host.clone());
    Engine::new(host.clone(), spec, options(workers), |r| modules.load(r)).expect("engine starts")
}

pub fn transition(host: &Arc<Host>, crate_name: &str, duration: Duration) -> Option<TransitionChoice> {
    Some(TransitionChoice { module: load(host, crate_name), duration })
}
