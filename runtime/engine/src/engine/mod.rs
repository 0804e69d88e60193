//! [`Engine`]: the live show. Owns the show state (scenes, layers, props), the
//! program and preview scene names, the running transition and the worker pool,
//! and turns them into one [`FramePlan`] per output frame.
//!
//! Must not: tick layers outside the program scene (and the incoming scene during a
//! transition; the preview scene only when the preview monitor asks, see [`preview`]), compile modules while frames are being made, or fail a frame over
//! a guest fault (faults become events; the last good list stays on screen).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{DrawOp, Event, FramePlan, LayerPlan, LayerSpec, Prop, ScenePlan, SceneView, ShowSpec};
use showrunner_wasm::{FaultPolicy, GuestLog, Host, LayerStatus, LoadedModule, SwapReport, TransitionInstance, World};

use crate::error::EngineError;
use crate::events::{EngineEvent, EventQueue};
use crate::pool::{LayerTick, Pool, PoolConfig, PoolMetrics, Priority};
use crate::props::conform_props;

mod edit;
mod preview;

pub use edit::LayerPatch;
pub use preview::PreviewFrame;

/// How the engine runs.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineOptions {
    pub pool: PoolConfig,
    /// Retry and quarantine policy of every layer.
    pub policy: FaultPolicy,
    /// Priority of this engine's ticks: Program when live, Offline for renders.
    pub priority: Priority,
    /// Events kept until drained.
    pub event_capacity: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { pool: PoolConfig::default(), policy: FaultPolicy::default(), priority: Priority::Program, event_capacity: 1024 }
    }
}

/// A transition for a take: a loaded transition module and how long it runs.
#[derive(Clone, Debug)]
pub struct TransitionChoice {
    pub module: Arc<LoadedModule>,
    pub duration: Duration,
}

struct RunningTransition {
    instance: TransitionInstance,
    to: String,
    frames: u64,
    /// Frame the transition showed first (progress 0); set by the first frame after the take.
    started_at: Option<u64>,
}

pub struct Engine {
    host: Arc<Host>,
    spec: ShowSpec,
    pool: Arc<Pool>,
    program: String,
    preview: Option<String>,
    transition: Option<RunningTransition>,
    policy: FaultPolicy,
    priority: Priority,
    events: EventQueue,
    no_overlay: Arc<Vec<DrawOp>>,
}

// The server moves the engine onto its frame thread; an Offline renderer shares the pool.
const _: fn() = || {
    fn movable<T: Send>() {}
    fn shareable<T: Send + Sync>() {}
    movable::<Engine>();
    shareable::<Pool>();
};

fn check_scene(layer: &str, reference: &str, module: &LoadedModule) -> Result<(), EngineError> {
    match module.world {
        World::Scene => Ok(()),
        world => Err(EngineError::NotAScene { layer: layer.to_string(), module: reference.to_string(), world: world.name() }),
    }
}

impl Engine {
    /// Validates `spec`, loads each distinct module reference once with `load`,
    /// types and checks every layer's props against its module, and starts every
    /// layer of every scene on the worker pool (ticked only while its scene is live).
    pub fn new<E: fmt::Display>(host: Arc<Host>, mut spec: ShowSpec, options: EngineOptions, mut load: impl FnMut(&str) -> Result<Arc<LoadedModule>, E>) -> Result<Engine, EngineError> {
        spec.validate()?;
        let pool = Arc::new(Pool::new(options.pool)?);
        let mut loaded: HashMap<String, Arc<LoadedModule>> = HashMap::new();
        for layer in spec.scenes.iter_mut().flat_map(|s| s.layers.iter_mut()) {
            let module = match loaded.get(&layer.module) {
                Some(module) => module.clone(),
                None => {
                    let module = load(&layer.module).map_err(|e| EngineError::Load { module: layer.module.clone(), reason: e.to_string() })?;
                    loaded.insert(layer.module.clone(), module.clone());
                    module
                }
            };
            check_scene(&layer.id, &layer.module, &module)?;
            layer.props = conform_props(&module.info, &layer.props).map_err(|source| EngineError::Props { layer: layer.id.clone(), source })?;
            pool.add_layer(&layer.id, module, &layer.props, options.policy.clone())?;
        }
        let program = spec.program.clone();
        Ok(Engine {
            host,
            spec,
            pool,
            program,
            preview: None,
            transition: None,
            policy: options.policy,
            priority: options.priority,
            events: EventQueue::new(options.event_capacity),
            no_overlay: Arc::new(Vec::new()),
        })
    }

    /// The show as it stands now (props as changed, modules as swapped).
    pub fn spec(&self) -> &ShowSpec {
        &self.spec
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// The scene a running transition is taking to program.
    pub fn incoming(&self) -> Option<&str> {
        self.transition.as_ref().map(|t| t.to.as_str())
    }

    pub fn preview(&self) -> Option<&str> {
        self.preview.as_deref()
    }

    /// Names the scene on preview (the operator's next take; not ticked by `frame`).
    pub fn set_preview(&mut self, scene: Option<&str>) -> Result<(), EngineError> {
        if let Some(name) = scene {
            self.scene_exists(name)?;
        }
        self.preview = scene.map(str::to_string);
        Ok(())
    }

    /// The worker pool (shareable with an Offline renderer on another thread).
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    pub fn metrics(&self) -> PoolMetrics {
        self.pool.metrics()
    }

    /// Events since the last call, oldest first.
    pub fn drain_events(&mut self) -> Vec<EngineEvent> {
        self.collect_pool_events();
        self.events.drain()
    }

    /// Events dropped because nobody drained them in time.
    pub fn events_dropped(&self) -> u64 {
        self.events.dropped
    }

    pub(crate) fn push_event(&mut self, event: EngineEvent) {
        self.events.push(event);
    }

    fn collect_pool_events(&mut self) {
        for event in self.pool.drain_events() {
            self.events.push(event.into());
        }
    }

    fn scene_exists(&self, name: &str) -> Result<(), EngineError> {
        match self.spec.scene(name) {
            Some(_) => Ok(()),
            None => Err(EngineError::UnknownScene { name: name.to_string(), known: self.spec.scenes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ") }),
        }
    }

    fn layer_exists(&self, id: &str) -> Result<(), EngineError> {
        self.spec.layer(id).map(|_| ()).ok_or_else(|| EngineError::UnknownLayer(id.to_string()))
    }

    /// Puts `scene` on program: as a cut from the next frame on, or with a
    /// transition starting at the next frame. A take during a transition first
    /// finishes that one. If the transition module faults on start, the take is a cut.
    pub fn take(&mut self, scene: &str, transition: Option<TransitionChoice>) -> Result<(), EngineError> {
        self.scene_exists(scene)?;
        if let Some(choice) = &transition
            && choice.module.world != World::Transition
        {
            return Err(EngineError::NotATransition { module: choice.module.label(), world: choice.module.world.name() });
        }
        self.finish_transition(None, true);
        if scene == self.program {
            return Ok(());
        }
        let from = self.program.clone();
        let frames = transition.as_ref().map_or(0, |c| self.duration_frames(c.duration));
        let Some(choice) = transition.filter(|_| frames > 0) else {
            self.program = scene.to_string();
            self.events.push(EngineEvent::Cut { from, to: scene.to_string() });
            return Ok(());
        };
        let limits = self.host.limits();
        let log = GuestLog::new(format!("transition {from} → {scene}"), limits.log_lines_per_call, limits.log_line_bytes);
        match TransitionInstance::new(&choice.module, &format!("transition to {scene}"), log) {
            Ok(instance) => {
                // The outgoing scene stays on program until the transition ends.
                self.transition = Some(RunningTransition { instance, to: scene.to_string(), frames, started_at: None });
                self.events.push(EngineEvent::TransitionStarted { from, to: scene.to_string(), module: choice.module.label(), frames });
            }
            Err(fault) => {
                self.program = scene.to_string();
                self.events.push(EngineEvent::TransitionFinished { to: scene.to_string(), fault: Some(fault), interrupted: false });
            }
        }
        Ok(())
    }

    /// Frames a transition of `duration` runs (at least 1 for a non-zero duration).
    fn duration_frames(&self, duration: Duration) -> u64 {
        if duration.is_zero() {
            return 0;
        }
        ((duration.as_secs_f64() * self.spec.fps()).round() as u64).max(1)
    }

    fn finish_transition(&mut self, fault: Option<showrunner_wasm::Fault>, interrupted: bool) {
        if let Some(t) = self.transition.take() {
            self.program = t.to.clone();
            self.events.push(EngineEvent::TransitionFinished { to: t.to, fault, interrupted });
        }
    }

    /// Progress of the running transition at frame `index` (finishing it once
    /// its frames are over).
    fn transition_progress(&mut self, index: u64) -> Option<f32> {
        let t = self.transition.as_mut()?;
        let start = *t.started_at.get_or_insert(index);
        let done = index.saturating_sub(start);
        if done >= t.frames {
            self.finish_transition(None, false);
            return None;
        }
        Some(done as f32 / t.frames as f32)
    }

    /// Visible layers of `scene`, bottom to top, with empty draw lists.
    fn layout(&self, scene: &str) -> Vec<LayerPlan> {
        let Some(spec) = self.spec.scene(scene) else { return Vec::new() };
        let mut layers: Vec<&LayerSpec> = spec.layers.iter().filter(|l| l.visible).collect();
        layers.sort_by_key(|l| l.z);
        layers
            .into_iter()
            .map(|l| LayerPlan { id: l.id.clone(), ops: self.no_overlay.clone(), version: 0, transform: l.transform, opacity: l.opacity, crop: l.crop })
            .collect()
    }

    fn report(&mut self, ticks: &[LayerTick]) {
        for tick in ticks {
            if let Some(fault) = &tick.fault {
                self.events.push(EngineEvent::LayerFault { layer: tick.id.to_string(), fault: fault.clone() });
                if tick.quarantined {
                    self.events.push(EngineEvent::Quarantined { layer: tick.id.to_string(), fault: fault.clone() });
                }
            }
        }
    }

    /// Makes frame `index`: ticks the program scene's visible layers (and the
    /// incoming scene's during a transition) in parallel on their workers, mixes
    /// the transition, and returns the scenes bottom to top with the overlay.
    pub fn frame(&mut self, index: u64) -> Result<FramePlan, EngineError> {
        let _frame = tracing::trace_span!("frame", index).entered();
        let info = self.spec.frame(index);
        let progress = self.transition_progress(index);
        let mut outgoing = self.layout(&self.program);
        let mut incoming = match (&self.transition, progress) {
            (Some(t), Some(_)) => Some(self.layout(&t.to)),
            _ => None,
        };
        let ids: Vec<&str> = outgoing.iter().chain(incoming.iter().flatten()).map(|l| l.id.as_str()).collect();
        let ticks = tracing::trace_span!("pool_tick", layers = ids.len()).in_scope(|| self.pool.tick(&info, self.priority, &ids))?;
        for (plan, tick) in outgoing.iter_mut().chain(incoming.iter_mut().flatten()).zip(&ticks) {
            plan.ops = tick.ops.clone();
            plan.version = tick.version;
        }
        self.report(&ticks);
        self.collect_pool_events();

        let mut plan = FramePlan { frame: info, scenes: vec![ScenePlan { name: self.program.clone(), view: SceneView::IDENTITY, layers: outgoing }], overlay: self.no_overlay.clone() };
        let (Some(progress), Some(incoming), Some(t)) = (progress, incoming, self.transition.as_mut()) else {
            return Ok(plan);
        };
        let mut incoming = ScenePlan { name: t.to.clone(), view: SceneView::IDENTITY, layers: incoming };
        let mixed = tracing::trace_span!("transition_mix", progress).in_scope(|| t.instance.mix(progress, &info));
        match mixed {
            Ok(mix) => {
                plan.scenes[0].view = mix.outgoing;
                incoming.view = mix.incoming;
                if mix.incoming_on_top {
                    plan.scenes.push(incoming);
                } else {
                    plan.scenes.insert(0, incoming);
                }
                plan.overlay = Arc::new(mix.overlay);
            }
            Err(fault) => {
                self.finish_transition(Some(fault), false);
                plan.scenes = vec![incoming];
            }
        }
        Ok(plan)
    }

    /// Sends `event` to layer `layer` (delivered before its next tick).
    pub fn event(&mut self, layer: &str, event: Event) -> Result<(), EngineError> {
        self.layer_exists(layer)?;
        Ok(self.pool.event(layer, event)?)
    }

    /// Changes props of `layer`, typed and checked against its module's specs.
    pub fn set_props(&mut self, layer: &str, props: &[Prop]) -> Result<(), EngineError> {
        self.layer_exists(layer)?;
        let module = self.pool.module_of(layer).ok_or_else(|| EngineError::UnknownLayer(layer.to_string()))?;
        let typed = conform_props(&module.info, props).map_err(|source| EngineError::Props { layer: layer.to_string(), source })?;
        self.pool.set_props(layer, &typed)?;
        if let Some(spec) = self.spec.layer_mut(layer) {
            for prop in typed {
                match spec.props.iter_mut().find(|p| p.name == prop.name) {
                    Some(slot) => slot.value = prop.value,
                    None => spec.props.push(prop),
                }
            }
        }
        Ok(())
    }

    /// Hot-swaps `layer` to `module` (loaded off the frame path) at the next frame
    /// boundary, carrying its state. The layer's module reference becomes the
    /// module's content hash.
    pub fn swap(&mut self, layer: &str, module: Arc<LoadedModule>) -> Result<SwapReport, EngineError> {
        self.layer_exists(layer)?;
        check_scene(layer, &module.hash, &module)?;
        let report = self.pool.swap(layer, module.clone())?;
        if let Some(spec) = self.spec.layer_mut(layer) {
            spec.module = module.hash.clone();
            spec.props.retain(|p| module.info.check(p).is_ok());
        }
        Ok(report)
    }

    /// Lifts `layer`'s quarantine; its module is tried again at the next tick.
    pub fn release(&mut self, layer: &str) -> Result<(), EngineError> {
        self.layer_exists(layer)?;
        Ok(self.pool.release(layer)?)
    }

    pub fn layer_status(&self, layer: &str) -> Result<LayerStatus, EngineError> {
        self.layer_exists(layer)?;
        Ok(self.pool.status(layer)?)
    }
}
