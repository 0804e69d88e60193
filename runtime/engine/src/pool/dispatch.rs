//! Tick fan-out and gathering: one task per worker for the requested layers it
//! owns, queued at the caller's priority, results put back in request order.
//!
//! Must not: wait on a full queue for Preview or Offline work (the task is refused
//! and counted), or wait for a worker without watching whether it died. A worker
//! lost mid-tick is replaced and its layers ticked once more on the new thread;
//! a layer that still has no result keeps its last list.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use showrunner_core::FrameInfo;

use super::recover::{await_death, reply_or_death};
use super::worker::TickTask;
use super::{LayerTick, Pool, PoolError, Priority};

type Results = Vec<(usize, LayerTick)>;

/// A task about to be queued: the worker's layers (with request positions), its
/// queue for the priority, and its liveness token.
struct Outgoing {
    worker: usize,
    layers: Vec<(usize, Arc<str>)>,
    queue: Sender<TickTask>,
    death: Receiver<()>,
}

/// Tick tasks on their way; [`Pool::wait`] collects them.
pub struct PendingTick {
    frame: FrameInfo,
    priority: Priority,
    /// Every requested layer, in request order.
    ids: Vec<Arc<str>>,
    parts: Vec<Part>,
}

struct Part {
    /// `None` if the task could not be queued (the worker was already gone).
    answer: Option<Receiver<Results>>,
    death: Receiver<()>,
}

impl PendingTick {
    pub fn priority(&self) -> Priority {
        self.priority
    }
}

/// Collects every part; `true` if a worker was lost on the way.
fn gather(pending: PendingTick) -> (Vec<Option<LayerTick>>, bool) {
    let mut slots: Vec<Option<LayerTick>> = vec![None; pending.ids.len()];
    let mut lost = false;
    for part in pending.parts {
        match part.answer.as_ref().and_then(|answer| reply_or_death(answer, &part.death)) {
            Some(results) => {
                for (position, tick) in results {
                    if let Some(slot) = slots.get_mut(position) {
                        *slot = Some(tick);
                    }
                }
            }
            None => {
                await_death(&part.death);
                lost = true;
            }
        }
    }
    (slots, lost)
}

impl Pool {
    /// Queues one tick task per worker owning some of `ids`. Program tasks wait for
    /// room in their own queue (only earlier Program tasks can fill it); Preview
    /// and Offline tasks are refused if a queue they need is full.
    pub fn submit<S: AsRef<str>>(&self, frame: &FrameInfo, priority: Priority, ids: &[S]) -> Result<PendingTick, PoolError> {
        let mut keys = Vec::with_capacity(ids.len());
        let mut sends: Vec<Outgoing> = Vec::new();
        {
            let mut state = self.lock();
            self.recover_dead(&mut state);
            let mut groups: Vec<Vec<(usize, Arc<str>)>> = vec![Vec::new(); state.workers.len()];
            for (position, id) in ids.iter().enumerate() {
                let (key, record) = state.layers.get_key_value(id.as_ref()).ok_or_else(|| PoolError::UnknownLayer(id.as_ref().to_string()))?;
                keys.push(key.clone());
                if record.running {
                    groups[record.worker].push((position, key.clone()));
                }
            }
            for (worker, layers) in groups.into_iter().enumerate().filter(|(_, l)| !l.is_empty()) {
                let handle = &state.workers[worker];
                let queue = &handle.queues[priority.index()];
                if priority != Priority::Program && queue.is_full() {
                    self.tasks_refused.fetch_add(1, Ordering::Relaxed);
                    return Err(PoolError::Refused { priority, worker });
                }
                sends.push(Outgoing { worker, layers, queue: queue.clone(), death: handle.death.clone() });
            }
        }
        let enqueued = Instant::now();
        let mut parts = Vec::with_capacity(sends.len());
        for Outgoing { worker, layers, queue, death } in sends {
            let (reply, answer) = bounded(1);
            let task = TickTask { frame: *frame, layers, enqueued, reply };
            let queued = if priority == Priority::Program {
                queue.send(task).is_ok()
            } else {
                match queue.try_send(task) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_)) => {
                        // Another submitter filled it since the check; tasks already
                        // queued for other workers still run, their results unused.
                        self.tasks_refused.fetch_add(1, Ordering::Relaxed);
                        return Err(PoolError::Refused { priority, worker });
                    }
                    Err(TrySendError::Disconnected(_)) => false,
                }
            };
            if queued {
                self.tasks_total.fetch_add(1, Ordering::Relaxed);
            }
            parts.push(Part { answer: queued.then_some(answer), death });
        }
        Ok(PendingTick { frame: *frame, priority, ids: keys, parts })
    }

    /// Waits for a submitted tick. Never fails: a layer whose worker was lost is
    /// ticked again on the replacement; one that still has no result (or is not
    /// running) keeps its last draw list and version.
    pub fn wait(&self, pending: PendingTick) -> Vec<LayerTick> {
        let (frame, priority, ids) = (pending.frame, pending.priority, pending.ids.clone());
        let (mut slots, lost) = gather(pending);
        if lost {
            let missing: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_none()).collect();
            let retry: Vec<Arc<str>> = missing.iter().map(|&i| ids[i].clone()).collect();
            // `submit` replaces the dead worker first.
            if let Ok(again) = self.submit(&frame, priority, &retry) {
                let (results, _) = gather(again);
                for (k, tick) in results.into_iter().enumerate() {
                    if let (Some(tick), Some(&position)) = (tick, missing.get(k)) {
                        slots[position] = Some(tick);
                    }
                }
            }
        }
        let mut state = self.lock();
        slots
            .into_iter()
            .zip(ids)
            .map(|(slot, id)| match (slot, state.layers.get_mut(&id)) {
                (Some(tick), Some(record)) => {
                    record.last_ops = tick.ops.clone();
                    record.version = tick.version;
                    if let Some(state) = &tick.checkpoint {
                        record.state = Some(state.clone());
                    }
                    tick
                }
                (Some(tick), None) => tick,
                (None, Some(record)) => LayerTick::kept(id, record.last_ops.clone(), record.version, record.worker),
                (None, None) => LayerTick::kept(id, Arc::new(Vec::new()), 0, 0),
            })
            .collect()
    }

    /// Ticks the layers `ids` for `frame` and returns their results in that order.
    pub fn tick<S: AsRef<str>>(&self, frame: &FrameInfo, priority: Priority, ids: &[S]) -> Result<Vec<LayerTick>, PoolError> {
        let pending = self.submit(frame, priority, ids)?;
        Ok(self.wait(pending))
    }

    /// Ticks every layer in the pool (results sorted by id).
    pub fn tick_all(&self, frame: &FrameInfo, priority: Priority) -> Result<Vec<LayerTick>, PoolError> {
        let mut ids: Vec<Arc<str>> = self.lock().layers.keys().cloned().collect();
        ids.sort();
        self.tick(frame, priority, &ids)
    }
}
