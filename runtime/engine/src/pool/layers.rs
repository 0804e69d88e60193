//! Layer commands: add (placing the layer on the least-loaded worker), remove,
//! events, props, hot-swap, release and status, each answered by the owning worker.
//!
//! Must not: hold the pool lock while the worker runs the command (only while
//! reading or updating the layer's record).

use std::sync::Arc;

use crossbeam_channel::{Sender, bounded};
use showrunner_core::{Event, Prop};
use showrunner_wasm::{FaultPolicy, LayerStatus, LoadedModule, SwapReport};

use super::recover::{NoAnswer, Route};
use super::worker::{Command, Seed};
use super::{LayerRecord, Pool, PoolError};

impl Pool {
    fn failed(answer: NoAnswer, worker: usize, layer: &str) -> PoolError {
        match answer {
            NoAnswer::Died => PoolError::WorkerLost { worker, layer: layer.to_string() },
            NoAnswer::Panicked => PoolError::Panicked { worker, layer: layer.to_string() },
        }
    }

    /// Sends a command to the worker owning `id` and waits for its answer. The
    /// record must exist and be running.
    fn call<T>(&self, id: &str, make: impl FnOnce(Arc<str>, Sender<T>) -> Command) -> Result<T, PoolError> {
        let (key, route) = {
            let mut state = self.lock();
            self.recover_dead(&mut state);
            let (key, record) = state.layers.get_key_value(id).ok_or_else(|| PoolError::UnknownLayer(id.to_string()))?;
            if !record.running {
                return Err(PoolError::NotRunning(id.to_string()));
            }
            (key.clone(), Route::to(&state, record.worker))
        };
        let (reply, answer) = bounded(1);
        self.exchange(&route, make(key, reply), &answer).map_err(|e| Pool::failed(e, route.worker, id))
    }

    /// Starts `module` as layer `id` on the least-loaded worker (ties: the lowest
    /// index) and returns that worker. Props must fit the module's specs.
    pub fn add_layer(&self, id: &str, module: Arc<LoadedModule>, props: &[Prop], policy: FaultPolicy) -> Result<usize, PoolError> {
        self.add_layer_with_state(id, module, props, policy, None)
    }

    /// [`Pool::add_layer`], restoring `state` (an earlier checkpoint of the layer)
    /// into its first instance.
    pub fn add_layer_with_state(&self, id: &str, module: Arc<LoadedModule>, props: &[Prop], policy: FaultPolicy, checkpoint: Option<Arc<[u8]>>) -> Result<usize, PoolError> {
        let (key, route) = {
            let mut state = self.lock();
            self.recover_dead(&mut state);
            if state.layers.contains_key(id) {
                return Err(PoolError::DuplicateLayer(id.to_string()));
            }
            let mut load = vec![0usize; state.workers.len()];
            for record in state.layers.values() {
                load[record.worker] += 1;
            }
            let worker = (0..load.len()).min_by_key(|&w| (load[w], w)).unwrap_or(0);
            let key = Arc::<str>::from(id);
            // Reserved (not running) until the worker has started it.
            let record = LayerRecord { worker, module: module.clone(), props: props.to_vec(), policy: policy.clone(), last_ops: Arc::new(Vec::new()), version: 0, state: checkpoint.clone(), running: false };
            state.layers.insert(key.clone(), record);
            (key, Route::to(&state, worker))
        };
        let (reply, answer) = bounded(1);
        let seed = Seed { ops: Arc::new(Vec::new()), version: 0, state: checkpoint };
        let command = Command::Add { id: key.clone(), module, props: props.to_vec(), policy, seed, reply };
        let answered = self.exchange(&route, command, &answer);
        let mut state = self.lock();
        match answered {
            Ok(Ok(())) => {
                if let Some(record) = state.layers.get_mut(&key) {
                    record.running = true;
                }
                Ok(route.worker)
            }
            Ok(Err(source)) => {
                state.layers.remove(&key);
                Err(PoolError::Start { layer: id.to_string(), source })
            }
            Err(e) => {
                state.layers.remove(&key);
                Err(Pool::failed(e, route.worker, id))
            }
        }
    }

    /// Stops layer `id` and drops its instance.
    pub fn remove_layer(&self, id: &str) -> Result<(), PoolError> {
        let running = self.lock().layers.get(id).map(|r| r.running);
        if running == Some(true) {
            self.call(id, |id, reply| Command::Remove { id, reply })?;
        }
        self.lock().layers.remove(id).map(|_| ()).ok_or_else(|| PoolError::UnknownLayer(id.to_string()))
    }

    /// Delivers an event to layer `id` before its next tick.
    pub fn event(&self, id: &str, event: Event) -> Result<(), PoolError> {
        self.call(id, |id, reply| Command::Event { id, event, reply })?
            .ok_or_else(|| PoolError::UnknownLayer(id.to_string()))?
            .map_err(|source| PoolError::Event { layer: id.to_string(), source })
    }

    /// Changes some props of layer `id` (checked against its module's specs; none
    /// change if one is invalid). The record keeps them for a respawn.
    pub fn set_props(&self, id: &str, props: &[Prop]) -> Result<(), PoolError> {
        let changed = props.to_vec();
        self.call(id, |id, reply| Command::SetProps { id, props: changed, reply })?
            .ok_or_else(|| PoolError::UnknownLayer(id.to_string()))?
            .map_err(|source| PoolError::SetProps { layer: id.to_string(), source })?;
        if let Some(record) = self.lock().layers.get_mut(id) {
            for prop in props {
                match record.props.iter_mut().find(|p| p.name == prop.name) {
                    Some(slot) => slot.value = prop.value.clone(),
                    None => record.props.push(prop.clone()),
                }
            }
        }
        Ok(())
    }

    /// Hot-swaps layer `id` to `module` between two ticks; on error the old module
    /// keeps running.
    pub fn swap(&self, id: &str, module: Arc<LoadedModule>) -> Result<SwapReport, PoolError> {
        let next = module.clone();
        let report = self
            .call(id, |id, reply| Command::Swap { id, module: next, reply })?
            .ok_or_else(|| PoolError::UnknownLayer(id.to_string()))?
            .map_err(|source| PoolError::Swap { layer: id.to_string(), source })?;
        if let Some(record) = self.lock().layers.get_mut(id) {
            record.props.retain(|p| module.info.check(p).is_ok());
            record.module = module;
        }
        Ok(report)
    }

    /// Lifts layer `id`'s quarantine.
    pub fn release(&self, id: &str) -> Result<(), PoolError> {
        match self.call(id, |id, reply| Command::Release { id, reply })? {
            true => Ok(()),
            false => Err(PoolError::UnknownLayer(id.to_string())),
        }
    }

    /// The last guest-state checkpoint of layer `id`, as kept for a respawn.
    pub fn checkpoint(&self, id: &str) -> Option<Arc<[u8]>> {
        self.lock().layers.get(id).and_then(|r| r.state.clone())
    }

    pub fn status(&self, id: &str) -> Result<LayerStatus, PoolError> {
        self.call(id, |id, reply| Command::Status { id, reply })?.ok_or_else(|| PoolError::UnknownLayer(id.to_string()))
    }
}
