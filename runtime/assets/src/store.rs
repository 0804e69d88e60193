//! `AssetStore`: decoded images by name, shared by content hash, within limits. Readers (the
//! render thread, every frame) take a read lock for a map lookup and an `Arc` clone; writers
//! decode before locking and hold the write lock only to swap map entries, so a reader never
//! waits on a decode. It must not decode under a lock, drop large images under a lock, or
//! know about GPUs, Wasm or HTTP.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::decode::decode;
use crate::error::AssetError;
use crate::image::{ContentHash, Image};
use crate::info::{AssetInfo, AssetStatus};
use crate::limits::{AssetLimits, DecoderSettings, truncate_name, validate_name};
use crate::loader::{Job, Loader, PendingLoads, RunJob, SubmitError};
use crate::remembered::{RememberedNames, WhenFull};
use crate::state::{LoadOutcome, Released, StoreState};

/// Images by name. Cheap to clone (an `Arc` inside); `Send + Sync`.
#[derive(Clone)]
pub struct AssetStore {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    /// Settings, behind their own lock.
    limits: RwLock<AssetLimits>,
    /// State. Lock order: `state`, then `missing`.
    state: RwLock<StoreState>,
    missing: Mutex<RememberedNames<()>>,
    next_ticket: AtomicU64,
    decoder_settings: DecoderSettings,
    loader: Mutex<Option<Loader>>,
    pending: PendingLoads,
}

impl Default for AssetStore {
    fn default() -> Self {
        AssetStore::new(AssetLimits::default(), DecoderSettings::default())
    }
}

impl std::fmt::Debug for AssetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.read_state();
        f.debug_struct("AssetStore")
            .field("assets", &state.list().len())
            .field("decoded_bytes", &state.total_decoded_bytes())
            .field("pending", &self.pending())
            .finish()
    }
}

impl AssetStore {
    /// An empty store. Decoder threads start on the first [`AssetStore::load`].
    pub fn new(limits: AssetLimits, decoder_settings: DecoderSettings) -> Self {
        AssetStore {
            shared: Arc::new(Shared {
                limits: RwLock::new(limits),
                state: RwLock::new(StoreState::default()),
                missing: Mutex::new(RememberedNames::default()),
                next_ticket: AtomicU64::new(1),
                decoder_settings,
                loader: Mutex::new(None),
                pending: PendingLoads::default(),
            }),
        }
    }

    pub fn limits(&self) -> AssetLimits {
        self.shared.limits()
    }

    /// New limits apply to assets added from now on; stored assets stay.
    pub fn set_limits(&self, limits: AssetLimits) {
        *self.shared.limits.write().unwrap_or_else(PoisonError::into_inner) = limits;
    }

    /// Decodes `bytes` on the caller's thread and stores the image as `name`, replacing any
    /// image of that name atomically. Bytes already stored under another name are not decoded
    /// again: both names share one [`Image`]. Cancels background loads of `name` queued earlier.
    pub fn insert(&self, name: &str, bytes: &[u8]) -> Result<AssetInfo, AssetError> {
        validate_name(name)?;
        let limits = self.shared.limits();
        limits.check_encoded(name, bytes.len())?;
        let image = self.shared.decode_or_share(name, bytes, &limits)?;
        let ticket = self.shared.ticket();
        let mut released = Released::new();
        let stored = {
            let mut state = self.shared.write_state();
            // Keep a handle outside the lock so a rejected image is freed after unlocking.
            released.push(Arc::clone(&image));
            let stored = state.link(name, image, &limits, &mut released);
            if stored.is_ok() {
                state.supersede_loads(name, ticket);
                self.shared.lock_missing().forget(name);
            }
            stored
        };
        drop(released);
        if let Ok(info) = &stored {
            tracing::debug!(asset = name, hash = %info.hash, width = info.width, height = info.height, frames = info.frames, "asset stored");
        }
        stored
    }

    /// Queues `bytes` for a background decoder thread and returns at once; the image appears
    /// under `name` when decoded. A full queue returns [`AssetError::QueueFull`]. Decode
    /// failures are recorded for [`AssetStore::status`]. A later insert, load or remove of the
    /// same name wins over this one.
    pub fn load(&self, name: &str, bytes: Vec<u8>) -> Result<(), AssetError> {
        validate_name(name)?;
        self.shared.limits().check_encoded(name, bytes.len())?;
        let mut loader = self.shared.loader.lock().unwrap_or_else(PoisonError::into_inner);
        if loader.is_none() {
            let started = Loader::start(self.shared.decoder_settings, Arc::downgrade(&self.shared));
            *loader = Some(started.map_err(|source| AssetError::DecoderUnavailable { name: name.to_owned(), source })?);
        }
        let Some(loader) = loader.as_ref() else {
            return Err(AssetError::DecoderUnavailable { name: name.to_owned(), source: std::io::Error::other("decoder threads did not start") });
        };
        let ticket = self.shared.ticket();
        self.shared.write_state().begin_load(name);
        self.shared.pending.begin();
        let submitted = loader.try_submit(Job { name: name.to_owned(), bytes, ticket });
        if let Err(why) = submitted {
            let mut released = Released::new();
            self.shared.write_state().finish_load(name, ticket, None, &self.limits(), &mut released);
            self.shared.pending.finish();
            return Err(match why {
                SubmitError::Full { capacity } => AssetError::QueueFull { name: name.to_owned(), capacity },
                SubmitError::Stopped => AssetError::DecoderUnavailable { name: name.to_owned(), source: std::io::Error::other("decoder threads have stopped") },
            });
        }
        Ok(())
    }

    /// Loads queued or decoding.
    pub fn pending(&self) -> usize {
        self.shared.pending.get()
    }

    /// Waits until no load is pending; false if `timeout` passed first. For tests and startup.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.shared.pending.wait_idle(timeout)
    }

    /// The image stored as `name`. Never waits on a decode.
    pub fn get(&self, name: &str) -> Option<Arc<Image>> {
        self.shared.read_state().get(name).cloned()
    }

    /// Width and height of the image stored as `name`.
    pub fn size(&self, name: &str) -> Option<(u32, u32)> {
        self.shared.read_state().get(name).map(|image| (image.width, image.height))
    }

    /// The stored image whose encoded bytes hash to `hash`, under whatever name.
    pub fn get_by_hash(&self, hash: &ContentHash) -> Option<Arc<Image>> {
        self.shared.read_state().image_with_hash(hash)
    }

    /// Removes `name` and cancels its queued loads; true when it had an image.
    pub fn remove(&self, name: &str) -> bool {
        let ticket = self.shared.ticket();
        let mut released = Released::new();
        let removed = {
            let mut state = self.shared.write_state();
            state.supersede_loads(name, ticket);
            state.unlink(name, &mut released)
        };
        drop(released);
        removed
    }

    /// Every stored asset, sorted by name.
    pub fn list(&self) -> Vec<AssetInfo> {
        self.shared.read_state().list()
    }

    /// Where `name` stands: decoding, failed (with the reason), ready or unknown.
    pub fn status(&self, name: &str) -> AssetStatus {
        self.shared.read_state().status(name)
    }

    /// Decoded bytes of every stored image (shared images count once).
    pub fn total_decoded_bytes(&self) -> u64 {
        self.shared.read_state().total_decoded_bytes()
    }

    /// Records that a draw list asked for `name` and it was not there. True only the first
    /// time for a given name, so the caller warns once; storing the name forgets it, so a
    /// later removal warns again. At most `max_remembered_names` names are remembered; past
    /// that, new missing names return false.
    pub fn note_missing(&self, name: &str) -> bool {
        let cap = self.shared.limits().max_remembered_names;
        let state = self.shared.read_state();
        if state.get(name).is_some() {
            return false;
        }
        self.shared.lock_missing().remember(truncate_name(name), (), cap, WhenFull::Refuse)
    }
}

impl Shared {
    fn limits(&self) -> AssetLimits {
        *self.limits.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_state(&self) -> RwLockReadGuard<'_, StoreState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, StoreState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_missing(&self) -> MutexGuard<'_, RememberedNames<()>> {
        self.missing.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ticket(&self) -> u64 {
        self.next_ticket.fetch_add(1, Ordering::Relaxed)
    }

    /// The stored image with these bytes' hash, or a fresh decode. A decoder panic becomes
    /// [`AssetError::Corrupt`].
    fn decode_or_share(&self, name: &str, bytes: &[u8], limits: &AssetLimits) -> Result<Arc<Image>, AssetError> {
        let hash = ContentHash::of(bytes);
        if let Some(image) = self.read_state().image_with_hash(&hash) {
            return Ok(image);
        }
        match catch_unwind(AssertUnwindSafe(|| decode(name, bytes, hash, limits))) {
            Ok(decoded) => decoded.map(Arc::new),
            Err(_) => Err(AssetError::Corrupt { name: name.to_owned(), reason: "the decoder crashed on this data".to_owned() }),
        }
    }
}

impl RunJob for Shared {
    fn run_job(&self, job: Job) {
        let limits = self.limits();
        let stale = self.read_state().is_load_stale(&job.name, job.ticket);
        let decoded = (!stale).then(|| self.decode_or_share(&job.name, &job.bytes, &limits));
        drop(job.bytes);
        let mut released = Released::new();
        let outcome = {
            let mut state = self.write_state();
            let outcome = state.finish_load(&job.name, job.ticket, decoded, &limits, &mut released);
            if matches!(outcome, LoadOutcome::Stored(_)) {
                self.lock_missing().forget(&job.name);
            }
            outcome
        };
        drop(released);
        match outcome {
            LoadOutcome::Stored(info) => tracing::debug!(asset = %info.name, hash = %info.hash, "asset decoded in the background"),
            LoadOutcome::Failed(error) => tracing::warn!(asset = %job.name, %error, "background asset decode failed"),
            LoadOutcome::Superseded => tracing::debug!(asset = %job.name, "background asset decode superseded"),
        }
        self.pending.finish();
    }
}
