//! The ingest keys and who publishes on each: which input a stream key feeds, whether a
//! publisher holds it (one at a time), and the counters behind [`InputStatus`]. Plain
//! data behind one lock, shared by the server and its connection threads; it must not
//! touch sockets or GStreamer, and it never hands out a full stream key.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use showrunner_assets::LiveInputs;

use super::IngestKey;
use crate::MediaError;
use crate::input::{FrameCounters, InputSource, InputState, InputStatus};

/// Longest stream key accepted (real services use well under 100 characters).
pub(crate) const MAX_KEY_LEN: usize = 256;

/// Why a publish request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownKey,
    Busy { input: String },
}

/// The publisher holding a key.
struct Publisher {
    connection: u64,
    peer: String,
    counters: Option<Arc<FrameCounters>>,
}

struct Slot {
    key: IngestKey,
    /// The key as shown to operators (`rtmp://HOST:PORT/APP/****`).
    masked: String,
    publisher: Option<Publisher>,
    /// Frames published by earlier sessions.
    earlier_frames: u64,
    size: Option<(u32, u32)>,
    sessions: u32,
}

/// The keys of one ingest server.
pub(crate) struct Registry {
    slots: Mutex<Vec<Slot>>,
    /// `rtmp://HOST:PORT/APP/`, the prefix of every masked key.
    url_prefix: String,
}

impl Registry {
    pub(crate) fn new(url_prefix: String) -> Registry {
        Registry { slots: Mutex::new(Vec::new()), url_prefix }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key as operators see it.
    pub(crate) fn masked(&self, key: &str) -> String {
        crate::mask_stream_key(&format!("{}{key}", self.url_prefix))
    }

    /// Adds a key after checking it is well formed and neither it nor its input name is
    /// in use.
    pub(crate) fn add(&self, key: IngestKey) -> Result<(), MediaError> {
        validate(&key)?;
        let mut slots = self.lock();
        if slots.iter().any(|slot| slot.key.input == key.input) {
            return Err(invalid(&key.input, "an ingest key already feeds this input; remove it first"));
        }
        if slots.iter().any(|slot| slot.key.key == key.key) {
            return Err(invalid(&key.input, "this stream key is already used by another input; keys must be unique"));
        }
        let masked = self.masked(&key.key);
        slots.push(Slot { key, masked, publisher: None, earlier_frames: 0, size: None, sessions: 0 });
        Ok(())
    }

    /// Removes the key feeding `input`; returns the connection publishing on it, if any.
    pub(crate) fn remove(&self, input: &str) -> Result<Option<u64>, MediaError> {
        let mut slots = self.lock();
        let index = slots
            .iter()
            .position(|slot| slot.key.input == input)
            .ok_or_else(|| MediaError::UnknownInput { name: input.to_owned() })?;
        Ok(slots.remove(index).publisher.map(|p| p.connection))
    }

    /// Gives the key to `connection` if it exists and nobody publishes on it; returns
    /// the input it feeds.
    pub(crate) fn claim(&self, key: &str, connection: u64, peer: &str) -> Result<String, Refusal> {
        let mut slots = self.lock();
        let slot = slots.iter_mut().find(|slot| slot.key.key == key).ok_or(Refusal::UnknownKey)?;
        if slot.publisher.is_some() {
            return Err(Refusal::Busy { input: slot.key.input.clone() });
        }
        slot.publisher = Some(Publisher { connection, peer: peer.to_owned(), counters: None });
        slot.sessions += 1;
        Ok(slot.key.input.clone())
    }

    /// Attaches the frame counters of `connection`'s decoder to the key it holds.
    pub(crate) fn attach(&self, connection: u64, counters: Arc<FrameCounters>) {
        let mut slots = self.lock();
        if let Some(publisher) =
            slots.iter_mut().filter_map(|s| s.publisher.as_mut()).find(|p| p.connection == connection)
        {
            publisher.counters = Some(counters);
        }
    }

    /// Frees the key `connection` holds. False when the key was removed meanwhile.
    /// `published` says whether the session went live (a failed start is not counted).
    pub(crate) fn release(&self, connection: u64, published: bool) -> bool {
        let mut slots = self.lock();
        let Some(slot) = slots.iter_mut().find(|s| s.publisher.as_ref().is_some_and(|p| p.connection == connection))
        else {
            return false;
        };
        if let Some(publisher) = slot.publisher.take() {
            slot.earlier_frames += publisher.counters.map_or(0, |c| c.published());
        }
        if !published {
            slot.sessions = slot.sessions.saturating_sub(1);
        }
        true
    }

    /// The names of every input.
    pub(crate) fn inputs(&self) -> Vec<String> {
        self.lock().iter().map(|slot| slot.key.input.clone()).collect()
    }

    /// One status per key, in the order the keys were added.
    pub(crate) fn statuses(&self, inputs: &LiveInputs) -> Vec<InputStatus> {
        let mut slots = self.lock();
        slots
            .iter_mut()
            .map(|slot| {
                if let Some(frame) = inputs.get(&slot.key.input) {
                    slot.size = Some((frame.width, frame.height));
                }
                let current = slot.publisher.as_ref().and_then(|p| p.counters.as_ref()).map_or(0, |c| c.published());
                InputStatus {
                    name: slot.key.input.clone(),
                    source: InputSource::Ingest { key: slot.masked.clone() },
                    state: match &slot.publisher {
                        Some(publisher) => InputState::Live { peer: publisher.peer.clone() },
                        None => InputState::Waiting,
                    },
                    frames: slot.earlier_frames + current,
                    size: slot.size,
                    loops: 0,
                    sessions: slot.sessions,
                }
            })
            .collect()
    }
}

fn invalid(input: &str, reason: &str) -> MediaError {
    MediaError::InvalidInput { input: input.to_owned(), reason: reason.to_owned() }
}

/// A key is 1..=256 printable characters without `/`, `?` or spaces (publishers put
/// it at the end of a URL); an input name is not empty.
pub(crate) fn validate(key: &IngestKey) -> Result<(), MediaError> {
    if key.input.trim().is_empty() {
        return Err(invalid(&key.input, "the input name is empty; `video` ops need a name to draw it by"));
    }
    if key.key.is_empty() {
        return Err(invalid(&key.input, "the stream key is empty; give each ingest input a secret key"));
    }
    if key.key.len() > MAX_KEY_LEN {
        return Err(invalid(&key.input, &format!("the stream key is longer than {MAX_KEY_LEN} bytes")));
    }
    if key.key.chars().any(|c| c.is_control() || c.is_whitespace() || c == '/' || c == '?') {
        return Err(invalid(
            &key.input,
            "the stream key has a space, control character, `/` or `?`; publishers send it as the last part of a URL",
        ));
    }
    Ok(())
}
