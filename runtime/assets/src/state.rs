//! `StoreState`: the maps behind the store's lock (name → image, content hash → shared image),
//! the decoded-bytes budget, per-name background-load bookkeeping and recorded failures.
//! Every method is a few map operations: it must never decode, do I/O or drop large images
//! itself (released images are handed back so the caller drops them after unlocking).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{AssetError, LimitKind};
use crate::image::{ContentHash, Image};
use crate::info::{AssetInfo, AssetStatus};
use crate::limits::{AssetLimits, over};
use crate::remembered::{RememberedNames, WhenFull};

/// Images no longer referenced by the store, to drop once the lock is released.
pub(crate) type Released = Vec<Arc<Image>>;

#[derive(Debug)]
struct SharedImage {
    image: Arc<Image>,
    /// How many names point at this image.
    names: usize,
}

/// Background loads of one name. Loads are numbered by a store-wide ticket; a load whose
/// ticket is at or below `stale_up_to` lost to a newer insert, remove or load and is dropped.
#[derive(Debug, Default)]
struct NameLoads {
    in_flight: usize,
    stale_up_to: u64,
}

/// How a background load ended.
#[derive(Debug)]
pub(crate) enum LoadOutcome {
    Stored(AssetInfo),
    Failed(Arc<AssetError>),
    /// A newer insert, remove or load of the same name came first.
    Superseded,
}

#[derive(Debug, Default)]
pub(crate) struct StoreState {
    names: HashMap<String, Arc<Image>>,
    images: HashMap<ContentHash, SharedImage>,
    total_decoded_bytes: u64,
    loads: HashMap<String, NameLoads>,
    failures: RememberedNames<Arc<AssetError>>,
}

impl StoreState {
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<Image>> {
        self.names.get(name)
    }

    pub(crate) fn image_with_hash(&self, hash: &ContentHash) -> Option<Arc<Image>> {
        self.images.get(hash).map(|shared| Arc::clone(&shared.image))
    }

    pub(crate) fn total_decoded_bytes(&self) -> u64 {
        self.total_decoded_bytes
    }

    pub(crate) fn list(&self) -> Vec<AssetInfo> {
        let mut infos: Vec<AssetInfo> = self.names.iter().map(|(name, image)| AssetInfo::new(name, image)).collect();
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos
    }

    pub(crate) fn status(&self, name: &str) -> AssetStatus {
        if self.loads.contains_key(name) {
            AssetStatus::Decoding
        } else if let Some(error) = self.failures.get(name) {
            AssetStatus::Failed(Arc::clone(error))
        } else if let Some(image) = self.names.get(name) {
            AssetStatus::Ready(AssetInfo::new(name, image))
        } else {
            AssetStatus::Unknown
        }
    }

    /// Points `name` at `image` (or at the stored image with the same hash), replacing what
    /// it pointed at, if the store stays within `max_total_decoded_bytes`.
    pub(crate) fn link(&mut self, name: &str, image: Arc<Image>, limits: &AssetLimits, released: &mut Released) -> Result<AssetInfo, AssetError> {
        let hash = image.hash;
        let added = if self.images.contains_key(&hash) { 0 } else { image.decoded_bytes() };
        let freed = match self.names.get(name) {
            Some(old) if old.hash != hash && self.images.get(&old.hash).is_some_and(|shared| shared.names == 1) => old.decoded_bytes(),
            _ => 0,
        };
        let new_total = self.total_decoded_bytes.saturating_sub(freed).saturating_add(added);
        if added > 0 {
            over(name, LimitKind::StoreTotalBytes, new_total, limits.max_total_decoded_bytes)?;
        }
        let shared = self.images.entry(hash).or_insert_with(|| SharedImage { image, names: 0 });
        shared.names += 1;
        let image = Arc::clone(&shared.image);
        let info = AssetInfo::new(name, &image);
        if let Some(old) = self.names.insert(name.to_owned(), image) {
            self.release(old, released);
        }
        self.total_decoded_bytes = new_total;
        self.failures.forget(name);
        Ok(info)
    }

    /// Removes `name`; true when it had an image.
    pub(crate) fn unlink(&mut self, name: &str, released: &mut Released) -> bool {
        self.failures.forget(name);
        match self.names.remove(name) {
            Some(old) => {
                self.release(old, released);
                true
            }
            None => false,
        }
    }

    fn release(&mut self, old: Arc<Image>, released: &mut Released) {
        if let Some(shared) = self.images.get_mut(&old.hash) {
            shared.names = shared.names.saturating_sub(1);
            if shared.names == 0 && let Some(gone) = self.images.remove(&old.hash) {
                self.total_decoded_bytes = self.total_decoded_bytes.saturating_sub(gone.image.decoded_bytes());
                released.push(gone.image);
            }
        }
        released.push(old);
    }

    /// Makes every background load of `name` with a ticket at or below `ticket` stale.
    pub(crate) fn supersede_loads(&mut self, name: &str, ticket: u64) {
        if let Some(loads) = self.loads.get_mut(name) {
            loads.stale_up_to = loads.stale_up_to.max(ticket);
        }
    }

    /// A background load of `name` was queued.
    pub(crate) fn begin_load(&mut self, name: &str) {
        self.loads.entry(name.to_owned()).or_default().in_flight += 1;
    }

    /// A background load of `name` ended: stores its image or records its failure unless a
    /// newer change to the name came first. `None` means the load never decoded (it was
    /// stale already, or never reached the queue) and changes nothing but the bookkeeping.
    pub(crate) fn finish_load(&mut self, name: &str, ticket: u64, decoded: Option<Result<Arc<Image>, AssetError>>, limits: &AssetLimits, released: &mut Released) -> LoadOutcome {
        let stale = self.loads.get(name).is_none_or(|loads| ticket <= loads.stale_up_to);
        let outcome = match decoded {
            None => LoadOutcome::Superseded,
            Some(Ok(image)) if stale => {
                released.push(image);
                LoadOutcome::Superseded
            }
            Some(Err(_)) if stale => LoadOutcome::Superseded,
            Some(decoded) => {
                // The decoded image is handed back in `released` so that, if nothing keeps
                // it, it is freed after the lock is released.
                let linked = decoded.and_then(|image| {
                    released.push(Arc::clone(&image));
                    self.link(name, image, limits, released)
                });
                match linked {
                    Ok(info) => LoadOutcome::Stored(info),
                    Err(error) => {
                        let error = Arc::new(error);
                        self.failures.remember(name, Arc::clone(&error), limits.max_remembered_names, WhenFull::ForgetOldest);
                        LoadOutcome::Failed(error)
                    }
                }
            }
        };
        let decided = !matches!(outcome, LoadOutcome::Superseded);
        if let Some(loads) = self.loads.get_mut(name) {
            if decided {
                loads.stale_up_to = ticket;
            }
            loads.in_flight = loads.in_flight.saturating_sub(1);
            if loads.in_flight == 0 {
                self.loads.remove(name);
            }
        }
        outcome
    }

    /// True when a load of `name` with `ticket` would be dropped on arrival.
    pub(crate) fn is_load_stale(&self, name: &str, ticket: u64) -> bool {
        self.loads.get(name).is_none_or(|loads| ticket <= loads.stale_up_to)
    }
}
