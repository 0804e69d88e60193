//! One worker thread: owns the [`LayerRunner`]s (and so the Wasm stores) of the
//! layers assigned to it, serves control commands first, then tick tasks by
//! priority (Program, Preview, Offline), and keeps each layer's draw-list version.
//!
//! Must not: share a layer with another thread, block on anything but its own
//! queues, or let a panic in one task end the thread (every task runs under
//! `catch_unwind`; only the fault-injection hook kills the thread on purpose).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Instant;

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError};
use showrunner_core::{DrawOp, Event, FrameInfo, Prop};
use showrunner_wasm::{Fault, FaultPolicy, LayerRunner, LayerStartError, LayerStatus, LoadedModule, SetPropsError, SwapError, SwapReport};

use super::metrics::WorkerStats;
use super::{LayerTick, PoolEvent, Shared};

/// What a respawned layer starts from, so its version keeps counting up.
pub(crate) struct Seed {
    pub ops: Arc<Vec<DrawOp>>,
    pub version: u64,
    /// Guest state to restore (the last checkpoint of the layer's previous runner).
    pub state: Option<Arc<[u8]>>,
}

/// Commands to a worker. Each carries its own reply channel (capacity 1), so a
/// reply never blocks the worker. `None` in a reply: the worker has no such layer.
pub(crate) enum Command {
    Add { id: Arc<str>, module: Arc<LoadedModule>, props: Vec<Prop>, policy: FaultPolicy, seed: Seed, reply: Sender<Result<(), LayerStartError>> },
    Remove { id: Arc<str>, reply: Sender<bool> },
    Event { id: Arc<str>, event: Event, reply: Sender<Option<Result<(), Fault>>> },
    SetProps { id: Arc<str>, props: Vec<Prop>, reply: Sender<Option<Result<(), SetPropsError>>> },
    Swap { id: Arc<str>, module: Arc<LoadedModule>, reply: Sender<Option<Result<SwapReport, SwapError>>> },
    Release { id: Arc<str>, reply: Sender<bool> },
    Status { id: Arc<str>, reply: Sender<Option<LayerStatus>> },
    /// Ends the thread with a panic outside every guard (tests of the respawn path).
    #[cfg(feature = "fault-injection")]
    Die,
    /// The same, once the next tick task has been taken (before it replies).
    #[cfg(feature = "fault-injection")]
    DieOnNextTick,
}

/// One tick of some of a worker's layers. `layers` pairs each id with its
/// position in the caller's request.
pub(crate) struct TickTask {
    pub frame: FrameInfo,
    pub layers: Vec<(usize, Arc<str>)>,
    pub enqueued: Instant,
    pub reply: Sender<Vec<(usize, LayerTick)>>,
}

/// The worker's ends of its channels.
pub(crate) struct WorkerLink {
    pub index: usize,
    pub control: Receiver<Command>,
    /// Indexed by `Priority::index`: Program first.
    pub queues: [Receiver<TickTask>; 3],
    /// Never sent on: dropped when the thread ends, which tells the pool.
    pub alive: Sender<()>,
    pub stats: Arc<WorkerStats>,
    pub shared: Arc<Shared>,
}

struct Slot {
    runner: LayerRunner,
    last_ops: Arc<Vec<DrawOp>>,
    /// Generation of the checkpoint last sent to the pool.
    shipped: u64,
    version: u64,
}

struct Worker {
    index: usize,
    thread: ThreadId,
    layers: HashMap<Arc<str>, Slot>,
    stats: Arc<WorkerStats>,
    shared: Arc<Shared>,
    #[cfg(feature = "fault-injection")]
    die_on_next_tick: bool,
}

/// The thread's main loop; returns when the pool drops its senders.
pub(crate) fn run(link: WorkerLink) {
    let WorkerLink { index, control, queues, alive, stats, shared } = link;
    let _alive = alive;
    let mut worker = Worker {
        index,
        thread: std::thread::current().id(),
        layers: HashMap::new(),
        stats,
        shared,
        #[cfg(feature = "fault-injection")]
        die_on_next_tick: false,
    };
    let mut select = Select::new();
    select.recv(&control);
    for queue in &queues {
        select.recv(queue);
    }
    loop {
        match control.try_recv() {
            Ok(command) => {
                worker.command(command);
                continue;
            }
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {}
        }
        if let Some(task) = queues.iter().find_map(|q| q.try_recv().ok()) {
            // A command sent before this task (an event, new props) applies first.
            while let Ok(command) = control.try_recv() {
                worker.command(command);
            }
            worker.tick(task);
            continue;
        }
        select.ready();
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

impl Worker {
    fn command(&mut self, command: Command) {
        #[cfg(feature = "fault-injection")]
        match command {
            Command::Die => panic!("worker {} killed by fault injection", self.index),
            Command::DieOnNextTick => {
                self.die_on_next_tick = true;
                return;
            }
            _ => {}
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.apply(command))) {
            self.stats.panic_caught();
            let message = panic_message(payload.as_ref());
            tracing::error!(worker = self.index, "a pool command panicked: {message}");
            self.shared.push_event(PoolEvent::TaskPanicked { worker: self.index, layer: None, message });
        }
    }

    fn apply(&mut self, command: Command) {
        let layers = &mut self.layers;
        match command {
            Command::Add { id, module, props, policy, seed, reply } => {
                let started = LayerRunner::new(&id, module, &props, policy).map(|mut runner| {
                    if let Some(state) = &seed.state {
                        match runner.restore_checkpoint(state) {
                            Ok(Ok(())) => {}
                            Ok(Err(reason)) => tracing::warn!(layer = %id, %reason, "the module declined its checkpoint; it starts afresh"),
                            Err(fault) => tracing::warn!(layer = %id, %fault, "restoring the checkpoint faulted; the layer recovers as after any fault"),
                        }
                    }
                    let shipped = runner.checkpoint().map_or(0, |(_, generation)| generation);
                    layers.insert(id, Slot { runner, last_ops: seed.ops, version: seed.version, shipped });
                });
                let _ = reply.send(started);
            }
            Command::Remove { id, reply } => {
                let _ = reply.send(layers.remove(&id).is_some());
            }
            Command::Event { id, event, reply } => {
                let _ = reply.send(layers.get_mut(&id).map(|s| s.runner.on_event(event)));
            }
            Command::SetProps { id, props, reply } => {
                let _ = reply.send(layers.get_mut(&id).map(|s| s.runner.set_props(&props)));
            }
            Command::Swap { id, module, reply } => {
                let _ = reply.send(layers.get_mut(&id).map(|s| s.runner.swap(module)));
            }
            Command::Release { id, reply } => {
                let found = layers.get_mut(&id).map(|s| s.runner.release()).is_some();
                let _ = reply.send(found);
            }
            Command::Status { id, reply } => {
                let _ = reply.send(layers.get(&id).map(|s| s.runner.status()));
            }
            #[cfg(feature = "fault-injection")]
            Command::Die | Command::DieOnNextTick => {}
        }
    }

    fn tick(&mut self, task: TickTask) {
        #[cfg(feature = "fault-injection")]
        if self.die_on_next_tick {
            panic!("worker {} killed by fault injection while ticking frame {}", self.index, task.frame.index);
        }
        let started = Instant::now();
        self.stats.task_started(started);
        let mut results = Vec::with_capacity(task.layers.len());
        for (position, id) in task.layers {
            let Some(slot) = self.layers.get_mut(&id) else { continue };
            let _layer_tick = tracing::trace_span!("layer_tick", layer = %id, module = %slot.runner.module().info.name, worker = self.index).entered();
            let tick = match catch_unwind(AssertUnwindSafe(|| slot.runner.tick(&task.frame))) {
                Ok(outcome) => {
                    let same = Arc::ptr_eq(&outcome.ops, &slot.last_ops) || *outcome.ops == *slot.last_ops;
                    if !same {
                        slot.version += 1;
                        slot.last_ops = outcome.ops;
                    }
                    let checkpoint = match slot.runner.checkpoint() {
                        Some((state, generation)) if generation != slot.shipped => {
                            slot.shipped = generation;
                            Some(Arc::<[u8]>::from(state))
                        }
                        _ => None,
                    };
                    LayerTick {
                        id,
                        checkpoint,
                        ops: slot.last_ops.clone(),
                        version: slot.version,
                        fresh: outcome.fresh,
                        fault: outcome.fault,
                        quarantined: outcome.quarantined,
                        guest_time: outcome.guest_time,
                        worker: self.index,
                        thread: Some(self.thread),
                        finished_at: Instant::now(),
                    }
                }
                Err(payload) => {
                    self.stats.panic_caught();
                    let message = panic_message(payload.as_ref());
                    tracing::error!(worker = self.index, layer = %id, "ticking the layer panicked: {message}");
                    self.shared.push_event(PoolEvent::TaskPanicked { worker: self.index, layer: Some(id.to_string()), message });
                    LayerTick { thread: Some(self.thread), ..LayerTick::kept(id, slot.last_ops.clone(), slot.version, self.index) }
                }
            };
            results.push((position, tick));
        }
        let finished = Instant::now();
        self.stats.task_finished(started, finished, finished.saturating_duration_since(task.enqueued));
        let _ = task.reply.send(results);
    }
}
