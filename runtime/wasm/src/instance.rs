//! One live guest instance: its own `Store` (so a trap poisons nothing else), the
//! deadline set before every call (counted in thread CPU time, see `cpu_budget`),
//! fault classification, and draw-list validation.

use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{self as core, DrawOp, Event, FrameInfo, ModuleInfo, Prop, Repairs};
use wasmtime::{Store, Trap};

use crate::bindings::{scene::Scene, transition::Transition};
use crate::convert;
use crate::cpu_budget::{self, CallBudget};
use crate::core_abi::{AbiViolation, CoreScene, GuestAbort, OutputOverCap};
use crate::fault::{Fault, FaultKind};
use crate::guest_log::GuestLog;
use crate::limits::deadline_ticks;
use crate::module::{LoadedModule, Pre};
use crate::store::StoreState;

/// A store plus the bits every call needs.
struct Sandbox {
    store: Store<StoreState>,
    module: Arc<LoadedModule>,
    module_label: String,
    layer: String,
    poisoned: bool,
}

impl Sandbox {
    fn new(module: &Arc<LoadedModule>, layer: &str, seed: u64, log: GuestLog) -> Sandbox {
        let host = &module.host;
        let state = StoreState::new(&host.limits, host.services.clone(), log, seed);
        let mut store = Store::new(&host.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(host.limits.transfer_bytes);
        store.set_epoch_deadline(deadline_ticks(host.limits.init_deadline));
        store.epoch_deadline_callback(cpu_budget::on_epoch_deadline);
        Sandbox { store, module: module.clone(), module_label: module.label(), layer: layer.to_string(), poisoned: false }
    }

    fn fault(&self, call: &'static str, kind: FaultKind) -> Fault {
        Fault { module: self.module_label.clone(), layer: self.layer.clone(), call, kind }
    }

    /// Runs one guest call under `deadline`. Any error poisons the sandbox.
    fn call<R>(&mut self, call: &'static str, deadline: Duration, f: impl FnOnce(&mut Store<StoreState>) -> wasmtime::Result<R>) -> Result<R, Fault> {
        if self.poisoned {
            return Err(self.fault(call, FaultKind::Trap { message: "instance already faulted".into() }));
        }
        self.store.data().log.begin_call();
        let wall_cap_factor = self.module.host.limits.wall_cap_factor;
        self.store.data_mut().call_budget = Some(CallBudget::start(deadline, wall_cap_factor));
        self.store.set_epoch_deadline(deadline_ticks(deadline));
        let result = f(&mut self.store);
        self.store.data_mut().call_budget = None;
        result.map_err(|err| {
            self.poisoned = true;
            let kind = self.classify(&err, deadline);
            self.fault(call, kind)
        })
    }

    fn classify(&mut self, err: &wasmtime::Error, deadline: Duration) -> FaultKind {
        if let Some(requested_bytes) = self.store.data_mut().limiter.refused_growth.take() {
            return FaultKind::MemoryCap { limit_bytes: self.module.host.limits.memory_bytes, requested_bytes };
        }
        // wasmtime's error for an over-budget transfer is a private type; its
        // message is the only stable handle on it.
        if err.downcast_ref::<OutputOverCap>().is_some() || format!("{err:#}").contains("fuel allocated for hostcalls has been exhausted") {
            return FaultKind::TransferCap { limit_bytes: self.module.host.limits.transfer_bytes };
        }
        if let Some(AbiViolation(what)) = err.downcast_ref::<AbiViolation>() {
            return FaultKind::MalformedOutput { what: what.clone() };
        }
        if let Some(GuestAbort(message)) = err.downcast_ref::<GuestAbort>() {
            return FaultKind::Trap { message: format!("abort: {message}") };
        }
        let panic = self.store.data().log.call_error();
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => FaultKind::Deadline { budget: deadline },
            Some(trap) => {
                let message = match panic {
                    Some(p) => format!("{trap} ({p})"),
                    None => trap.to_string(),
                };
                FaultKind::Trap { message }
            }
            None => FaultKind::Trap { message: format!("{err:#}") },
        }
    }
}

/// How calls reach the guest: component bindings or core ABI v1. One per instance,
/// so the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Component(Scene),
    Core(CoreScene),
}

/// A scene instance (component or core-ABI module: same budgets, same faults).
/// Calls return a [`Fault`] on any misbehaviour; after one, the instance refuses
/// further calls and should be dropped.
pub struct SceneInstance {
    sandbox: Sandbox,
    backend: Backend,
}

/// Decodes a core module's output; bytes that do not decode poison the instance.
fn decoded<T>(sandbox: &mut Sandbox, call: &'static str, what: &str, r: Result<T, core::abi::AbiError>) -> Result<T, Fault> {
    r.map_err(|e| {
        sandbox.poisoned = true;
        sandbox.fault(call, FaultKind::MalformedOutput { what: format!("{what}: {e}") })
    })
}

impl SceneInstance {
    /// Instantiates `module` (which must be a scene) for `layer`. `seed` fixes the
    /// guest's randomness; `log` receives its log lines.
    pub fn new(module: &Arc<LoadedModule>, layer: &str, seed: u64, log: GuestLog) -> Result<SceneInstance, Fault> {
        let mut sandbox = Sandbox::new(module, layer, seed, log);
        let deadline = module.host.limits.init_deadline;
        let max_output = module.host.limits.transfer_bytes;
        let backend = match &module.pre {
            Pre::Scene(pre) => Backend::Component(sandbox.call("instantiate", deadline, |store| pre.instantiate(store))?),
            Pre::CoreScene(pre) => Backend::Core(sandbox.call("instantiate", deadline, |store| CoreScene::instantiate(pre, store, max_output))?),
            Pre::Transition(_) => return Err(sandbox.fault("instantiate", FaultKind::Instantiate("module is a transition, not a scene".into()))),
        };
        Ok(SceneInstance { sandbox, backend })
    }

    fn limits(&self) -> crate::SandboxLimits {
        self.sandbox.module.host.limits.clone()
    }

    pub fn module(&self) -> &Arc<LoadedModule> {
        &self.sandbox.module
    }

    pub fn log(&self) -> &GuestLog {
        &self.sandbox.store.data().log
    }

    pub fn describe(&mut self) -> Result<ModuleInfo, Fault> {
        let d = self.sandbox.module.host.limits.init_deadline;
        match &self.backend {
            Backend::Component(b) => self.sandbox.call("describe", d, |s| b.call_describe(s)).map(convert::module_info),
            Backend::Core(c) => {
                let bytes = self.sandbox.call("describe", d, |s| c.describe(s))?;
                decoded(&mut self.sandbox, "describe", "module-info", core::abi::decode_module_info(&bytes))
            }
        }
    }

    /// Starts the scene with every prop (defaults filled in by the caller).
    pub fn init(&mut self, props: &[Prop]) -> Result<(), Fault> {
        let d = self.sandbox.module.host.limits.init_deadline;
        let outcome = match &self.backend {
            Backend::Component(b) => {
                let wit_props: Vec<_> = props.iter().map(convert::to_wit_prop).collect();
                self.sandbox.call("init", d, |s| b.call_init(s, &wit_props))?
            }
            Backend::Core(c) => {
                let input = core::abi::encode_props(props);
                let bytes = self.sandbox.call("init", d, |s| c.init(s, &input))?;
                decoded(&mut self.sandbox, "init", "result", core::abi::decode_result(&bytes))?
            }
        };
        outcome.map_err(|reason| {
            self.sandbox.poisoned = true;
            self.sandbox.fault("init", FaultKind::InitFailed(reason))
        })
    }

    pub fn set_props(&mut self, props: &[Prop]) -> Result<(), Fault> {
        let d = self.sandbox.module.host.limits.event_deadline;
        match &self.backend {
            Backend::Component(b) => {
                let wit_props: Vec<_> = props.iter().map(convert::to_wit_prop).collect();
                self.sandbox.call("set-props", d, |s| b.call_set_props(s, &wit_props))
            }
            Backend::Core(c) => {
                let input = core::abi::encode_props(props);
                self.sandbox.call("set-props", d, |s| c.set_props(s, &input))
            }
        }
    }

    pub fn on_event(&mut self, event: &Event) -> Result<(), Fault> {
        let d = self.sandbox.module.host.limits.event_deadline;
        match &self.backend {
            Backend::Component(b) => {
                let e = convert::to_wit_event(event);
                self.sandbox.call("on-event", d, |s| b.call_on_event(s, &e))
            }
            Backend::Core(c) => {
                let input = core::abi::encode_event(event);
                self.sandbox.call("on-event", d, |s| c.on_event(s, &input))
            }
        }
    }

    /// Ticks one frame and validates the draw list (closing groups left open).
    pub fn tick(&mut self, frame: &FrameInfo) -> Result<(Vec<DrawOp>, Repairs), Fault> {
        self.sandbox.store.data().clock.set_seconds(frame.time);
        let limits = self.limits();
        let d = limits.tick_deadline;
        let mut ops = match &self.backend {
            Backend::Component(b) => {
                let f = convert::to_wit_frame(frame);
                convert::draw_list(self.sandbox.call("tick", d, |s| b.call_tick(s, f))?)
            }
            Backend::Core(c) => {
                let input = core::abi::encode_frame(frame);
                let bytes = self.sandbox.call("tick", d, |s| c.tick(s, &input))?;
                decoded(&mut self.sandbox, "tick", "draw list", core::abi::decode_draw_list(&bytes, limits.draw_list.max_ops))?
            }
        };
        match core::validate(&mut ops, &limits.draw_list) {
            Ok(repairs) => Ok((ops, repairs)),
            Err(invalid) => {
                self.sandbox.poisoned = true;
                Err(self.sandbox.fault("tick", FaultKind::InvalidDrawList(invalid)))
            }
        }
    }

    pub fn save_state(&mut self) -> Result<Vec<u8>, Fault> {
        let d = self.sandbox.module.host.limits.init_deadline;
        match &self.backend {
            Backend::Component(b) => self.sandbox.call("save-state", d, |s| b.call_save_state(s)),
            Backend::Core(c) => self.sandbox.call("save-state", d, |s| c.save_state(s)),
        }
    }

    /// `Ok(Err(reason))` when the module declines the state (it stays healthy).
    pub fn restore_state(&mut self, state: &[u8]) -> Result<Result<(), String>, Fault> {
        let d = self.sandbox.module.host.limits.init_deadline;
        match &self.backend {
            Backend::Component(b) => self.sandbox.call("restore-state", d, |s| b.call_restore_state(s, state)),
            Backend::Core(c) => {
                let bytes = self.sandbox.call("restore-state", d, |s| c.restore_state(s, state))?;
                decoded(&mut self.sandbox, "restore-state", "result", core::abi::decode_result(&bytes))
            }
        }
    }
}

/// A transition instance.
pub struct TransitionInstance {
    sandbox: Sandbox,
    bindings: Transition,
}

impl TransitionInstance {
    pub fn new(module: &Arc<LoadedModule>, layer: &str, log: GuestLog) -> Result<TransitionInstance, Fault> {
        let mut sandbox = Sandbox::new(module, layer, 0, log);
        let Pre::Transition(pre) = &module.pre else {
            return Err(sandbox.fault("instantiate", FaultKind::Instantiate("module is a scene, not a transition".into())));
        };
        let deadline = module.host.limits.init_deadline;
        let bindings = sandbox.call("instantiate", deadline, |store| pre.instantiate(store))?;
        Ok(TransitionInstance { sandbox, bindings })
    }

    pub fn describe(&mut self) -> Result<ModuleInfo, Fault> {
        let (b, d) = (&self.bindings, self.sandbox.module.host.limits.init_deadline);
        self.sandbox.call("describe", d, |s| b.call_describe(s)).map(convert::module_info)
    }

    /// The plan for `progress` (clamped to 0..=1), validated.
    pub fn mix(&mut self, progress: f32, frame: &FrameInfo) -> Result<core::MixPlan, Fault> {
        let progress = if progress.is_finite() { progress.clamp(0.0, 1.0) } else { 0.0 };
        self.sandbox.store.data().clock.set_seconds(frame.time);
        let (b, d) = (&self.bindings, self.sandbox.module.host.limits.tick_deadline);
        let f = convert::to_wit_frame(frame);
        let raw = self.sandbox.call("mix", d, |s| b.call_mix(s, progress, f))?;
        let mut plan = convert::mix_plan(raw);
        match core::validate_mix(&mut plan, &self.sandbox.module.host.limits.draw_list) {
            Ok(_) => Ok(plan),
            Err(invalid) => {
                self.sandbox.poisoned = true;
                Err(self.sandbox.fault("mix", FaultKind::InvalidDrawList(invalid)))
            }
        }
    }
}

/// Asks a freshly loaded module to describe itself, in a throwaway instance.
pub(crate) fn describe(module: &Arc<LoadedModule>) -> Result<ModuleInfo, Fault> {
    let log = GuestLog::new(format!("describe {}", &module.hash[..12]), module.host.limits.log_lines_per_call, module.host.limits.log_line_bytes);
    match module.world {
        crate::World::Scene => SceneInstance::new(module, "describe", 0, log)?.describe(),
        crate::World::Transition => TransitionInstance::new(module, "describe", log)?.describe(),
    }
}
