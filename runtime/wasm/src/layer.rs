//! [`LayerRunner`]: one layer's module over time. Keeps the last good draw list on
//! screen through faults, re-instantiates with exponential backoff (counted in
//! frames, so it is deterministic), restores the last state checkpoint, quarantines
//! a module that keeps faulting, and hot-swaps modules between two ticks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_core::{DrawOp, Event, FrameInfo, Prop, PropError};

use crate::fault::Fault;
use crate::guest_log::GuestLog;
use crate::instance::SceneInstance;
use crate::module::{LoadedModule, World};

/// When to retry and when to give up on a faulting module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPolicy {
    /// Frames to wait before the first re-instantiation.
    pub first_backoff_frames: u64,
    /// Cap of the doubling backoff.
    pub max_backoff_frames: u64,
    /// Faults within `fault_window_frames` that quarantine the module.
    pub quarantine_after: usize,
    pub fault_window_frames: u64,
    /// How often (in frames) the module's state is saved for recovery; state is
    /// also saved after every event and prop change.
    pub checkpoint_every_frames: u64,
    /// Events kept for delivery while the layer waits to restart.
    pub pending_events: usize,
}

impl Default for FaultPolicy {
    fn default() -> Self {
        FaultPolicy { first_backoff_frames: 1, max_backoff_frames: 300, quarantine_after: 5, fault_window_frames: 900, checkpoint_every_frames: 30, pending_events: 32 }
    }
}

/// Where a layer stands.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerStatus {
    Live,
    /// Faulted; the next instance is tried at `retry_at_frame`.
    Backoff { retry_at_frame: u64 },
    /// Faulted too often; stays off (last good frame kept) until swapped or released.
    Quarantined { last_fault: Fault },
}

/// The result of one tick of a layer.
#[derive(Clone, Debug)]
pub struct TickOutcome {
    /// What to draw: this frame's list, or the last good one after a fault.
    pub ops: Arc<Vec<DrawOp>>,
    /// True if `ops` was produced by this tick.
    pub fresh: bool,
    /// The fault this tick (or its restart attempt) raised.
    pub fault: Option<Fault>,
    /// True if this fault put the layer in quarantine.
    pub quarantined: bool,
    /// Time spent in the guest.
    pub guest_time: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("the new module is a {0}, not a scene")]
    NotAScene(&'static str),
    #[error("the new module failed to start: {0}")]
    NewModule(Fault),
    #[error("the old module could not save its state: {0}")]
    SaveState(Fault),
    #[error("the new module refused the old module's state: {0}")]
    RestoreRefused(String),
}

/// What a successful hot-swap did.
#[derive(Clone, Debug)]
pub struct SwapReport {
    pub from: String,
    pub to: String,
    /// Instantiate + init + state handover.
    pub duration: Duration,
    /// Bytes of state handed over (0: none).
    pub state_bytes: usize,
    pub state_carried: bool,
}

pub struct LayerRunner {
    id: String,
    module: Arc<LoadedModule>,
    instance: Option<SceneInstance>,
    props: Vec<Prop>,
    checkpoint: Option<Vec<u8>>,
    /// Bumped each time `checkpoint` changes, so an owner can copy it only then.
    checkpoint_generation: u64,
    pending_events: VecDeque<Event>,
    last_good: Arc<Vec<DrawOp>>,
    recent_faults: VecDeque<u64>,
    backoff: u64,
    retry_at: u64,
    last_frame: u64,
    frames_since_checkpoint: u64,
    quarantine: Option<Fault>,
    log: GuestLog,
    seed: u64,
    policy: FaultPolicy,
    /// Faults since the layer was created.
    pub faults_total: u64,
    /// Events dropped because the pending queue was full.
    pub events_dropped: u64,
}

/// Every prop of `module`: defaults, overridden by `props` of a known name and type.
fn full_props(module: &LoadedModule, props: &[Prop]) -> Vec<Prop> {
    module
        .info
        .props
        .iter()
        .map(|spec| {
            let value = props
                .iter()
                .find(|p| p.name == spec.name && spec.check(&p.value).is_ok())
                .map_or_else(|| spec.default.clone(), |p| p.value.clone());
            Prop { name: spec.name.clone(), value }
        })
        .collect()
}

fn start(module: &Arc<LoadedModule>, id: &str, seed: u64, log: &GuestLog, props: &[Prop]) -> Result<SceneInstance, Fault> {
    let mut instance = SceneInstance::new(module, id, seed, log.clone())?;
    instance.init(props)?;
    Ok(instance)
}

impl LayerRunner {
    /// Starts `module` on layer `id`. Props must pass the module's specs; missing
    /// ones take their defaults. Fails if the module does not start.
    pub fn new(id: &str, module: Arc<LoadedModule>, props: &[Prop], policy: FaultPolicy) -> Result<LayerRunner, LayerStartError> {
        if module.world != World::Scene {
            return Err(LayerStartError::NotAScene(module.world.name()));
        }
        for p in props {
            module.info.check(p)?;
        }
        let limits = &module.host.limits;
        let log = GuestLog::new(format!("layer {id}"), limits.log_lines_per_call, limits.log_line_bytes);
        let seed = u64::from_le_bytes(blake3::hash(id.as_bytes()).as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let props = full_props(&module, props);
        let instance = start(&module, id, seed, &log, &props)?;
        Ok(LayerRunner {
            id: id.to_string(),
            module,
            instance: Some(instance),
            props,
            checkpoint: None,
            checkpoint_generation: 0,
            pending_events: VecDeque::new(),
            last_good: Arc::new(Vec::new()),
            recent_faults: VecDeque::new(),
            backoff: 0,
            retry_at: 0,
            last_frame: 0,
            frames_since_checkpoint: 0,
            quarantine: None,
            log,
            seed,
            policy,
            faults_total: 0,
            events_dropped: 0,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn module(&self) -> &Arc<LoadedModule> {
        &self.module
    }

    pub fn props(&self) -> &[Prop] {
        &self.props
    }

    /// The layer's guest log (it outlives restarts).
    pub fn log(&self) -> &GuestLog {
        &self.log
    }

    pub fn status(&self) -> LayerStatus {
        match (&self.quarantine, &self.instance) {
            (Some(fault), _) => LayerStatus::Quarantined { last_fault: fault.clone() },
            (None, Some(_)) => LayerStatus::Live,
            (None, None) => LayerStatus::Backoff { retry_at_frame: self.retry_at },
        }
    }

    /// Ticks one frame. Never fails: a fault is reported in the outcome and the
    /// last good draw list is returned instead.
    pub fn tick(&mut self, frame: &FrameInfo) -> TickOutcome {
        self.last_frame = frame.index;
        let started = Instant::now();
        let mut outcome = TickOutcome { ops: self.last_good.clone(), fresh: false, fault: None, quarantined: false, guest_time: Duration::ZERO };
        if self.quarantine.is_some() {
            return outcome;
        }
        if self.instance.is_none()
            && frame.index >= self.retry_at
            && let Err(fault) = self.restart()
        {
            outcome.quarantined = self.record_fault(fault.clone());
            outcome.fault = Some(fault);
        }
        let Some(instance) = self.instance.as_mut() else {
            outcome.guest_time = started.elapsed();
            return outcome;
        };
        match instance.tick(frame) {
            Ok((ops, _repairs)) => {
                self.last_good = Arc::new(ops);
                outcome.ops = self.last_good.clone();
                outcome.fresh = true;
                self.frames_since_checkpoint += 1;
                if self.frames_since_checkpoint >= self.policy.checkpoint_every_frames {
                    self.save_checkpoint();
                }
            }
            Err(fault) => {
                outcome.quarantined = self.record_fault(fault.clone());
                outcome.fault = Some(fault);
            }
        }
        outcome.guest_time = started.elapsed();
        outcome
    }

    /// Sends an event. While the layer is restarting, events are queued (bounded)
    /// and delivered after the restart.
    pub fn on_event(&mut self, event: Event) -> Result<(), Fault> {
        let Some(instance) = self.instance.as_mut() else {
            if self.pending_events.len() >= self.policy.pending_events {
                self.pending_events.pop_front();
                self.events_dropped += 1;
            }
            self.pending_events.push_back(event);
            return Ok(());
        };
        match instance.on_event(&event) {
            Ok(()) => {
                self.save_checkpoint();
                Ok(())
            }
            Err(fault) => {
                self.record_fault(fault.clone());
                Err(fault)
            }
        }
    }

    /// Changes props after checking them against the module's specs; nothing
    /// changes if one is invalid.
    pub fn set_props(&mut self, changed: &[Prop]) -> Result<(), SetPropsError> {
        for p in changed {
            self.module.info.check(p)?;
        }
        for p in changed {
            if let Some(slot) = self.props.iter_mut().find(|s| s.name == p.name) {
                slot.value = p.value.clone();
            }
        }
        if let Some(instance) = self.instance.as_mut() {
            if let Err(fault) = instance.set_props(changed) {
                self.record_fault(fault.clone());
                return Err(SetPropsError::Fault(fault));
            }
            self.save_checkpoint();
        }
        Ok(())
    }

    /// Replaces the module between two ticks: the new one is instantiated and
    /// started, the old one's state is handed over, then they switch. On any error
    /// the old module keeps running.
    pub fn swap(&mut self, new_module: Arc<LoadedModule>) -> Result<SwapReport, SwapError> {
        if new_module.world != World::Scene {
            return Err(SwapError::NotAScene(new_module.world.name()));
        }
        let started = Instant::now();
        let props = full_props(&new_module, &self.props);
        let mut next = start(&new_module, &self.id, self.seed, &self.log, &props).map_err(SwapError::NewModule)?;
        let state = match self.instance.as_mut() {
            Some(old) => match old.save_state() {
                Ok(state) => Some(state),
                Err(fault) => {
                    self.record_fault(fault.clone());
                    return Err(SwapError::SaveState(fault));
                }
            },
            None => self.checkpoint.clone(),
        };
        let state = state.unwrap_or_default();
        if !state.is_empty() {
            match next.restore_state(&state) {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return Err(SwapError::RestoreRefused(reason)),
                Err(fault) => return Err(SwapError::NewModule(fault)),
            }
        }
        let report = SwapReport { from: self.module.label(), to: new_module.label(), duration: started.elapsed(), state_bytes: state.len(), state_carried: !state.is_empty() };
        self.module = new_module;
        self.instance = Some(next);
        self.props = props;
        self.checkpoint = (!state.is_empty()).then_some(state);
        self.checkpoint_generation += 1;
        self.quarantine = None;
        self.recent_faults.clear();
        self.backoff = 0;
        Ok(report)
    }

    /// Lifts a quarantine: the module is tried again at the next tick.
    pub fn release(&mut self) {
        self.quarantine = None;
        self.recent_faults.clear();
        self.backoff = 0;
        self.retry_at = 0;
    }

    /// The last state checkpoint (taken every `checkpoint_every_frames` and after
    /// events and prop changes) and its generation, which moves whenever it changes.
    /// An owner that keeps layers alive across threads copies it to start a
    /// replacement from it ([`LayerRunner::restore_checkpoint`]).
    pub fn checkpoint(&self) -> Option<(&[u8], u64)> {
        self.checkpoint.as_deref().map(|c| (c, self.checkpoint_generation))
    }

    /// Restores a checkpoint taken from an earlier runner of the same module (a
    /// replacement after its thread died) and keeps it as this runner's checkpoint.
    /// `Ok(Err(reason))`: the module declined it and runs from its initial state.
    pub fn restore_checkpoint(&mut self, state: &[u8]) -> Result<Result<(), String>, Fault> {
        let Some(instance) = self.instance.as_mut() else {
            return Ok(Err("the layer has no running instance".into()));
        };
        let restored = instance.restore_state(state)?;
        if restored.is_ok() {
            self.checkpoint = Some(state.to_vec());
            self.checkpoint_generation += 1;
        }
        Ok(restored)
    }

    fn restart(&mut self) -> Result<(), Fault> {
        let mut instance = start(&self.module, &self.id, self.seed, &self.log, &self.props)?;
        if let Some(state) = &self.checkpoint
            && let Err(reason) = instance.restore_state(state)?
        {
            tracing::warn!(layer = %self.id, %reason, "module declined its checkpoint; continuing from its initial state");
        }
        while let Some(event) = self.pending_events.pop_front() {
            instance.on_event(&event)?;
        }
        tracing::info!(layer = %self.id, module = %self.module.label(), "layer restarted after a fault");
        self.instance = Some(instance);
        self.frames_since_checkpoint = 0;
        Ok(())
    }

    fn save_checkpoint(&mut self) {
        self.frames_since_checkpoint = 0;
        let Some(instance) = self.instance.as_mut() else { return };
        match instance.save_state() {
            Ok(state) => {
                self.checkpoint = Some(state);
                self.checkpoint_generation += 1;
            }
            Err(fault) => {
                self.record_fault(fault);
            }
        }
    }

    /// Drops the instance, schedules a retry, and returns true if this fault
    /// quarantined the module.
    fn record_fault(&mut self, fault: Fault) -> bool {
        tracing::warn!(layer = %self.id, kind = fault.kind.code(), "{fault}");
        self.instance = None;
        self.faults_total += 1;
        let now = self.last_frame;
        self.recent_faults.push_back(now);
        while self.recent_faults.front().is_some_and(|&f| now.saturating_sub(f) > self.policy.fault_window_frames) {
            self.recent_faults.pop_front();
        }
        if self.recent_faults.len() >= self.policy.quarantine_after {
            tracing::error!(layer = %self.id, module = %self.module.label(), "module quarantined after {} faults", self.recent_faults.len());
            self.quarantine = Some(fault);
            return true;
        }
        self.backoff = if self.backoff == 0 { self.policy.first_backoff_frames } else { (self.backoff * 2).min(self.policy.max_backoff_frames) };
        self.retry_at = now + self.backoff;
        false
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LayerStartError {
    #[error("the module is a {0}, not a scene")]
    NotAScene(&'static str),
    #[error(transparent)]
    Props(#[from] PropError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

#[derive(Debug, thiserror::Error)]
pub enum SetPropsError {
    #[error(transparent)]
    Props(#[from] PropError),
    #[error(transparent)]
    Fault(Fault),
}
