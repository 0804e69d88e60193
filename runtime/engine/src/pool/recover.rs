//! Starting worker threads and replacing dead ones: a worker whose thread ended is
//! noticed at the next pool call, joined, started again, and its layers are
//! instantiated again from their records (module, current props, the last guest
//! state checkpoint; the last draw list and version kept so the compositor's caches
//! stay valid).
//!
//! Must not: retry forever (one respawn per dead worker per call) or block on a
//! worker without also watching whether it died.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, bounded, select_biased};

use super::metrics::WorkerStats;
use super::worker::{self, Command, Seed, WorkerLink};
use super::{Pool, PoolConfig, PoolError, PoolEvent, PoolState, Shared, WorkerHandle};

/// Starts worker thread `index`.
pub(super) fn spawn_worker(index: usize, config: &PoolConfig, stats: Arc<WorkerStats>, shared: &Arc<Shared>) -> Result<WorkerHandle, PoolError> {
    let (control_tx, control_rx) = bounded(config.control_capacity);
    let [(p_tx, p_rx), (v_tx, v_rx), (o_tx, o_rx)] = [(); 3].map(|_| bounded(config.queue_capacity));
    let (alive, death) = bounded(0);
    let link = WorkerLink { index, control: control_rx, queues: [p_rx, v_rx, o_rx], alive, stats: stats.clone(), shared: shared.clone() };
    let thread = std::thread::Builder::new()
        .name(format!("sr-worker-{index}"))
        .spawn(move || worker::run(link))
        .map_err(|e| PoolError::Spawn { worker: index, reason: e.to_string() })?;
    Ok(WorkerHandle { control: control_tx, queues: [p_tx, v_tx, o_tx], death, thread: Some(thread), stats })
}

/// True once the worker's thread has ended (its liveness token is gone).
pub(super) fn is_dead(death: &Receiver<()>) -> bool {
    matches!(death.try_recv(), Err(TryRecvError::Disconnected))
}

/// How long a worker that dropped a reply may take to finish dying.
const DEATH_GRACE: Duration = Duration::from_secs(5);

/// Waits for a reply, or for the worker to die (`None`).
pub(super) fn reply_or_death<T>(reply: &Receiver<T>, death: &Receiver<()>) -> Option<T> {
    select_biased! {
        recv(reply) -> r => r.ok(),
        recv(death) -> _ => reply.try_recv().ok(),
    }
}

/// Waits (bounded) for a worker that dropped a tick reply to finish dying: its
/// thread is unwinding, and only a finished thread is replaced.
pub(super) fn await_death(death: &Receiver<()>) {
    let _ = death.recv_timeout(DEATH_GRACE);
}

/// The pool's route to one worker for a command.
pub(super) struct Route {
    pub worker: usize,
    pub control: Sender<Command>,
    pub death: Receiver<()>,
    pub stats: Arc<WorkerStats>,
}

impl Route {
    pub fn to(state: &PoolState, worker: usize) -> Route {
        let handle = &state.workers[worker];
        Route { worker, control: handle.control.clone(), death: handle.death.clone(), stats: handle.stats.clone() }
    }
}

/// Why a command got no answer.
pub(super) enum NoAnswer {
    /// The worker thread died (and has been replaced).
    Died,
    /// The command panicked inside its guard; the worker lives on.
    Panicked,
}

impl Pool {
    /// Sends `command` and waits for its answer, watching the worker's liveness.
    pub(super) fn exchange<T>(&self, route: &Route, command: Command, answer: &Receiver<T>) -> Result<T, NoAnswer> {
        let panics_before = route.stats.panics();
        let answered = match route.control.send(command) {
            Ok(()) => reply_or_death(answer, &route.death),
            Err(_) => None,
        };
        if let Some(value) = answered {
            return Ok(value);
        }
        // The reply was dropped: either a guarded panic (the counter moves) or a
        // thread on its way out (its liveness token goes). Both show within moments.
        let deadline = Instant::now() + DEATH_GRACE;
        while Instant::now() < deadline {
            match route.death.recv_timeout(Duration::from_millis(1)) {
                Err(RecvTimeoutError::Disconnected) => {
                    let mut state = self.lock();
                    self.recover_dead(&mut state);
                    return Err(NoAnswer::Died);
                }
                _ if route.stats.panics() > panics_before => return Err(NoAnswer::Panicked),
                _ => {}
            }
        }
        Err(NoAnswer::Panicked)
    }

    /// Replaces every worker whose thread has ended. Called under the state lock at
    /// the start of every pool call.
    pub(super) fn recover_dead(&self, state: &mut PoolState) {
        for index in 0..state.workers.len() {
            if is_dead(&state.workers[index].death) {
                self.respawn(state, index);
            }
        }
    }

    fn respawn(&self, state: &mut PoolState, index: usize) {
        let stats = state.workers[index].stats.clone();
        let fresh = match spawn_worker(index, &self.config, stats.clone(), &self.shared) {
            Ok(handle) => handle,
            Err(e) => {
                tracing::error!(worker = index, "cannot replace a dead worker: {e}");
                return;
            }
        };
        let old = std::mem::replace(&mut state.workers[index], fresh);
        let reason = match old.thread.map(|t| t.join()) {
            Some(Err(payload)) => payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the thread panicked".into()),
            _ => "the thread ended".into(),
        };
        drop((old.control, old.queues));
        stats.thread_replaced();
        self.respawns.fetch_add(1, std::sync::atomic::Ordering::Relaxed);

        let mut ids: Vec<Arc<str>> = state.layers.iter().filter(|(_, r)| r.worker == index && r.running).map(|(id, _)| id.clone()).collect();
        ids.sort();
        let mut failed = Vec::new();
        let (control, death) = (state.workers[index].control.clone(), state.workers[index].death.clone());
        for id in &ids {
            let Some(record) = state.layers.get_mut(id) else { continue };
            // Props the (possibly swapped-in) module does not know would stop it starting.
            let props: Vec<_> = record.props.iter().filter(|p| record.module.info.check(p).is_ok()).cloned().collect();
            let (reply, answer) = bounded(1);
            let seed = Seed { ops: record.last_ops.clone(), version: record.version, state: record.state.clone() };
            let command = Command::Add { id: id.clone(), module: record.module.clone(), props, policy: record.policy.clone(), seed, reply };
            let outcome = match control.send(command) {
                Ok(()) => reply_or_death(&answer, &death),
                Err(_) => None,
            };
            match outcome {
                Some(Ok(())) => record.running = true,
                Some(Err(e)) => {
                    record.running = false;
                    failed.push((id.to_string(), e.to_string()));
                }
                None => {
                    record.running = false;
                    failed.push((id.to_string(), "the new worker died too".into()));
                }
            }
        }
        tracing::warn!(worker = index, %reason, layers = ids.len(), failed = failed.len(), "worker thread died and was replaced");
        let layers = ids.iter().map(|id| id.to_string()).collect();
        self.shared.push_event(PoolEvent::WorkerRespawned { worker: index, reason, layers, failed });
    }
}
