//! Keeping guests' saved state (`save-state` checkpoints) across restarts: every few
//! seconds the frame thread offers the layers' latest checkpoints, and the ones that
//! changed are written to the store on a thread of its own; at shutdown the last
//! ones are written before the show ends. On start the show hands each layer its
//! stored state back (see `restore`).
//!
//! Must not: write on the frame thread, or hold more than one batch of pending
//! states (a slow disk skips a round, it never queues without bound).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use showrunner_engine::Engine;

use crate::store::{DocKind, DocOp, Store};

/// How often changed checkpoints are written.
pub const SAVE_EVERY: Duration = Duration::from_secs(2);
/// Largest checkpoint kept across restarts, in bytes (larger ones are skipped and logged).
pub const MAX_SAVED_STATE_BYTES: usize = 256 * 1024;

/// A stored checkpoint: the module it belongs to and its bytes.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedState {
    pub module: String,
    pub state: Vec<u8>,
}

enum Write {
    Put(String, SavedState),
    Delete(String),
}

pub struct StateSaver {
    sender: Option<SyncSender<Vec<Write>>>,
    writer: Option<JoinHandle<()>>,
    saved: HashMap<String, Arc<[u8]>>,
    forgotten: Vec<String>,
    next: Instant,
}

impl StateSaver {
    pub fn start(store: Arc<Store>) -> std::io::Result<StateSaver> {
        let (sender, receiver) = sync_channel(1);
        let writer = std::thread::Builder::new().name("guest-state".into()).spawn(move || write_batches(&store, &receiver))?;
        Ok(StateSaver { sender: Some(sender), writer: Some(writer), saved: HashMap::new(), forgotten: Vec::new(), next: Instant::now() + SAVE_EVERY })
    }

    /// Marks `state` as already stored for `layer` (restored at start).
    pub fn restored(&mut self, layer: &str, state: Arc<[u8]>) {
        self.saved.insert(layer.to_string(), state);
    }

    /// Writes changed checkpoints if a round is due (cheap otherwise).
    pub fn offer(&mut self, engine: &Engine) {
        if Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + SAVE_EVERY;
        let batch = self.changes(engine);
        if batch.is_empty() {
            return;
        }
        let Some(sender) = &self.sender else { return };
        match sender.try_send(batch) {
            Ok(()) => {}
            // The writer is still busy with the last round: these go in the next one.
            Err(TrySendError::Full(unsent)) => self.unmark(unsent),
            Err(TrySendError::Disconnected(_)) => tracing::error!("the guest-state writer stopped; guest state is no longer saved"),
        }
    }

    /// `layer` was removed: its stored state goes too.
    pub fn forget(&mut self, layer: &str) {
        self.saved.remove(layer);
        self.forgotten.push(layer.to_string());
    }

    /// Writes every changed checkpoint and waits for the writer to finish.
    pub fn flush(&mut self, engine: &Engine) {
        let batch = self.changes(engine);
        if let Some(sender) = self.sender.take()
            && !batch.is_empty()
            && sender.send(batch).is_err()
        {
            tracing::error!("the guest-state writer stopped before the last states were saved");
        }
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the guest-state writer panicked");
        }
    }

    fn changes(&mut self, engine: &Engine) -> Vec<Write> {
        let mut batch: Vec<Write> = self.forgotten.drain(..).map(Write::Delete).collect();
        for layer in engine.spec().layers() {
            let Ok(Some(state)) = engine.layer_state(&layer.id) else { continue };
            if self.saved.get(&layer.id).is_some_and(|saved| Arc::ptr_eq(saved, &state) || **saved == *state) {
                continue;
            }
            if state.len() > MAX_SAVED_STATE_BYTES {
                tracing::warn!(layer = %layer.id, bytes = state.len(), limit = MAX_SAVED_STATE_BYTES, "guest state too large to keep across restarts");
                continue;
            }
            self.saved.insert(layer.id.clone(), state.clone());
            batch.push(Write::Put(layer.id.clone(), SavedState { module: layer.module.clone(), state: state.to_vec() }));
        }
        batch
    }

    fn unmark(&mut self, unsent: Vec<Write>) {
        for write in unsent {
            match write {
                Write::Put(layer, _) => {
                    self.saved.remove(&layer);
                }
                Write::Delete(layer) => self.forgotten.push(layer),
            }
        }
    }
}

fn write_batches(store: &Store, batches: &Receiver<Vec<Write>>) {
    while let Ok(batch) = batches.recv() {
        let ops: Vec<DocOp> = batch
            .into_iter()
            .filter_map(|write| match write {
                Write::Put(layer, saved) => match serde_json::to_value(&saved) {
                    Ok(doc) => Some(DocOp::Put(DocKind::GuestState, layer, doc)),
                    Err(e) => {
                        tracing::error!(%layer, error = %e, "cannot encode guest state");
                        None
                    }
                },
                Write::Delete(layer) => Some(DocOp::Delete(DocKind::GuestState, layer)),
            })
            .collect();
        if let Err(e) = store.batch(&ops) {
            tracing::error!(error = %e, "cannot save guest state; it is tried again when it next changes");
        }
    }
}
