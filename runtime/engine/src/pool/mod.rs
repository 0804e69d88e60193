//! The worker pool: N threads, each owning the Wasm stores of the layers assigned to
//! it (least-loaded at assignment, then fixed), reached through bounded channels.
//!
//! Owns: layer placement, the per-layer records a dead worker's layers are rebuilt
//! from (module, current props, last draw list and version), tick fan-out and
//! gathering ([`Pool::tick`]), priorities (a worker serves Program, then Preview,
//! then Offline; a full Preview/Offline queue refuses the task instead of waiting),
//! respawning dead workers, and [`PoolMetrics`].
//!
//! A running task is not preempted: a Program tick may wait for the one tick its
//! worker is in the middle of (bounded by the tick deadline), never for queued ones.
//!
//! Must not: tick a layer on any thread but its own worker, block a Program tick
//! behind queued lower-priority work, or hold its lock while waiting on a worker
//! (except to restart a dead worker's layers).

mod dispatch;
mod layers;
mod metrics;
mod recover;
mod worker;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use showrunner_core::{DrawOp, Prop};
use showrunner_wasm::{Fault, FaultPolicy, LayerStartError, LoadedModule, SetPropsError, SwapError};

pub use dispatch::PendingTick;
pub use metrics::{LatencySummary, PoolMetrics};
use metrics::WorkerStats;
use worker::{Command, TickTask};

/// Who is waiting for a tick. Workers serve higher priorities first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// The frame going on air.
    Program,
    /// A preview monitor.
    Preview,
    /// Offline rendering, thumbnails, checks: only when nothing else waits.
    Offline,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Program, Priority::Preview, Priority::Offline];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Priority::Program => "program",
            Priority::Preview => "preview",
            Priority::Offline => "offline",
        }
    }
}

/// Sizes of the pool.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolConfig {
    /// Worker threads (at least 1).
    pub workers: usize,
    /// Tick tasks each worker queues per priority.
    pub queue_capacity: usize,
    /// Control commands each worker queues.
    pub control_capacity: usize,
    /// Pool events kept until drained; older ones are dropped and counted.
    pub event_capacity: usize,
    /// Window of the busy ratio.
    pub busy_window: Duration,
    /// Task latencies kept per worker for the percentiles.
    pub latency_samples: usize,
}

impl PoolConfig {
    /// min(available parallelism, 8), at least 1.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8)
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig { workers: PoolConfig::default_workers(), queue_capacity: 4, control_capacity: 64, event_capacity: 256, busy_window: Duration::from_secs(1), latency_samples: 512 }
    }
}

/// One layer's result for one frame.
#[derive(Clone, Debug)]
pub struct LayerTick {
    pub id: Arc<str>,
    /// What to draw (the last good list after a fault). The same `Arc` as the
    /// previous frame's when the list did not change.
    pub ops: Arc<Vec<DrawOp>>,
    /// Bumped only when `ops` differ from this layer's previous frame (0: nothing drawn yet).
    pub version: u64,
    /// `ops` were produced by this tick.
    pub fresh: bool,
    pub fault: Option<Fault>,
    /// This tick's fault put the layer in quarantine.
    pub quarantined: bool,
    pub guest_time: Duration,
    /// Worker that owns the layer.
    pub worker: usize,
    /// Thread that ran the tick; `None` if the worker was lost and the pool filled
    /// in the layer's last known list.
    pub thread: Option<ThreadId>,
    pub finished_at: Instant,
    /// The layer's new state checkpoint, when it changed this tick (kept by the pool
    /// so a replacement runner after a worker death starts from it).
    pub checkpoint: Option<Arc<[u8]>>,
}

impl LayerTick {
    /// A tick that kept `ops` without running the guest.
    pub(crate) fn kept(id: Arc<str>, ops: Arc<Vec<DrawOp>>, version: u64, worker: usize) -> LayerTick {
        LayerTick {
            id,
            ops,
            version,
            fresh: false,
            fault: None,
            quarantined: false,
            guest_time: Duration::ZERO,
            worker,
            thread: None,
            finished_at: Instant::now(),
            checkpoint: None,
        }
    }
}

/// Something the pool did on its own that operators should hear about.
#[derive(Clone, Debug, PartialEq)]
pub enum PoolEvent {
    /// A worker thread died and was replaced; its layers were started again from
    /// their module, current props and last state checkpoint (`failed`: layers that
    /// did not start, and why).
    WorkerRespawned { worker: usize, reason: String, layers: Vec<String>, failed: Vec<(String, String)> },
    /// A task panicked inside its guard; the worker lives on.
    TaskPanicked { worker: usize, layer: Option<String>, message: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("no layer `{0}` in the pool")]
    UnknownLayer(String),
    #[error("layer `{0}` is already in the pool; remove it first or pick another id")]
    DuplicateLayer(String),
    #[error("layer `{0}` is not running: its worker was restarted and the module did not start again; remove and re-add it")]
    NotRunning(String),
    #[error("{} queue of worker {worker} is full; the tick was refused (retry later)", priority.name())]
    Refused { priority: Priority, worker: usize },
    #[error("worker {worker} died while handling layer `{layer}`; it was restarted, retry the request")]
    WorkerLost { worker: usize, layer: String },
    #[error("the host panicked handling layer `{layer}` on worker {worker} (a bug: please report it); the worker lives on")]
    Panicked { worker: usize, layer: String },
    #[error("cannot start worker thread {worker}: {reason}")]
    Spawn { worker: usize, reason: String },
    #[error("layer `{layer}` did not start: {source}")]
    Start { layer: String, source: LayerStartError },
    #[error("layer `{layer}` faulted handling the event: {source}")]
    Event { layer: String, source: Fault },
    #[error("layer `{layer}`: {source}")]
    SetProps { layer: String, source: SetPropsError },
    #[error("layer `{layer}` kept its module: {source}")]
    Swap { layer: String, source: SwapError },
}

/// State shared with the worker threads.
pub(crate) struct Shared {
    events: Mutex<VecDeque<PoolEvent>>,
    event_capacity: usize,
    events_dropped: AtomicU64,
}

impl Shared {
    pub(crate) fn push_event(&self, event: PoolEvent) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.len() >= self.event_capacity {
            events.pop_front();
            self.events_dropped.fetch_add(1, Ordering::Relaxed);
        }
        events.push_back(event);
    }
}

/// The pool's ends of one worker's channels.
struct WorkerHandle {
    control: Sender<Command>,
    queues: [Sender<TickTask>; 3],
    /// Disconnected once the thread has ended.
    death: Receiver<()>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<WorkerStats>,
}

/// What a layer is rebuilt from if its worker dies.
struct LayerRecord {
    worker: usize,
    module: Arc<LoadedModule>,
    props: Vec<Prop>,
    policy: FaultPolicy,
    last_ops: Arc<Vec<DrawOp>>,
    version: u64,
    /// The layer's last state checkpoint, restored into its replacement runner.
    state: Option<Arc<[u8]>>,
    /// False after a respawn in which the module failed to start.
    running: bool,
}

struct PoolState {
    workers: Vec<WorkerHandle>,
    layers: HashMap<Arc<str>, LayerRecord>,
}

/// The worker pool. Methods take `&self`: a Program loop and an Offline renderer
/// may share one pool from different threads.
pub struct Pool {
    state: Mutex<PoolState>,
    config: PoolConfig,
    shared: Arc<Shared>,
    tasks_total: AtomicU64,
    tasks_refused: AtomicU64,
    respawns: AtomicU64,
}

impl Pool {
    pub fn new(config: PoolConfig) -> Result<Pool, PoolError> {
        let config = PoolConfig { workers: config.workers.max(1), queue_capacity: config.queue_capacity.max(1), control_capacity: config.control_capacity.max(1), ..config };
        let shared = Arc::new(Shared { events: Mutex::new(VecDeque::new()), event_capacity: config.event_capacity.max(1), events_dropped: AtomicU64::new(0) });
        let mut workers = Vec::with_capacity(config.workers);
        for index in 0..config.workers {
            let stats = Arc::new(WorkerStats::new(config.busy_window, config.latency_samples));
            workers.push(recover::spawn_worker(index, &config, stats, &shared)?);
        }
        let state = Mutex::new(PoolState { workers, layers: HashMap::new() });
        Ok(Pool { state, config, shared, tasks_total: AtomicU64::new(0), tasks_refused: AtomicU64::new(0), respawns: AtomicU64::new(0) })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    pub fn workers(&self) -> usize {
        self.config.workers
    }

    /// The worker that owns layer `id`.
    pub fn worker_of(&self, id: &str) -> Option<usize> {
        self.lock().layers.get(id).map(|r| r.worker)
    }

    /// The module layer `id` runs now.
    pub fn module_of(&self, id: &str) -> Option<Arc<LoadedModule>> {
        self.lock().layers.get(id).map(|r| r.module.clone())
    }

    /// Ids of every layer in the pool, sorted.
    pub fn layer_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().layers.keys().map(|k| k.to_string()).collect();
        ids.sort();
        ids
    }

    /// Events since the last call, oldest first.
    pub fn drain_events(&self) -> Vec<PoolEvent> {
        self.shared.events.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect()
    }

    pub fn metrics(&self) -> PoolMetrics {
        let now = Instant::now();
        let state = self.lock();
        let worker_busy_ratio: Vec<f64> = state.workers.iter().map(|w| w.stats.busy_ratio(now)).collect();
        let worker_queue_depth: Vec<usize> = state.workers.iter().map(|w| w.control.len() + w.queues.iter().map(Sender::len).sum::<usize>()).collect();
        let mut latencies = Vec::new();
        for w in &state.workers {
            w.stats.latencies_into(&mut latencies);
        }
        PoolMetrics {
            workers: state.workers.len(),
            layers: state.layers.len(),
            busy_ratio: worker_busy_ratio.iter().sum::<f64>() / worker_busy_ratio.len().max(1) as f64,
            worker_busy_ratio,
            queue_depth: worker_queue_depth.iter().sum(),
            worker_queue_depth,
            tasks_total: self.tasks_total.load(Ordering::Relaxed),
            tasks_refused: self.tasks_refused.load(Ordering::Relaxed),
            task_latency: LatencySummary::of(&mut latencies),
            respawns: self.respawns.load(Ordering::Relaxed),
            events_dropped: self.shared.events_dropped.load(Ordering::Relaxed),
        }
    }

    /// Kills worker `worker`'s thread with a panic outside its guards, as a host bug
    /// would, and returns once the thread has ended. The pool notices on its next call.
    #[cfg(feature = "fault-injection")]
    pub fn kill_worker(&self, worker: usize) {
        let handle = self.lock().workers.get(worker).map(|w| (w.control.clone(), w.death.clone()));
        if let Some((control, death)) = handle {
            let _ = control.send(Command::Die);
            let _ = death.recv_timeout(Duration::from_secs(10));
        }
    }

    /// Makes worker `worker`'s thread die the same way once it has taken its next
    /// tick task, before answering it: the pool finds out while gathering that tick.
    #[cfg(feature = "fault-injection")]
    pub fn kill_worker_during_next_tick(&self, worker: usize) {
        let control = self.lock().workers.get(worker).map(|w| w.control.clone());
        if let Some(control) = control {
            let _ = control.send(Command::DieOnNextTick);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let workers = std::mem::take(&mut self.lock().workers);
        let threads: Vec<JoinHandle<()>> = workers.into_iter().filter_map(|w| w.thread).collect();
        // The senders are gone with the handles: each worker finishes its task and ends.
        for thread in threads {
            let _ = thread.join();
        }
    }
}
