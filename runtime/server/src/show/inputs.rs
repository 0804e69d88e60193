//! The live inputs of a served show: media files and URLs decoded by a [`MediaInput`]
//! each, and RTMP publishers on the one embedded [`IngestServer`] (started with the
//! first ingest key on `ingest_listen`, stopped with the last). All of them publish by
//! name into the [`LiveInputs`] registry the show renders from. The [`InputManager`]
//! starts, lists and stops them, brings stored ones back at start ([`InputDoc`]s in
//! the store), and forwards their events to the [`EventBus`] from a small thread of
//! its own. It also words input events for operators ([`input_event_line`]).
//!
//! Must not: speak HTTP, write to the store, run on the frame thread, or show a stream
//! key anywhere (statuses, errors, events and logs carry masked keys only).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use showrunner_assets::LiveInputs;
use showrunner_media::{
    IngestKey, IngestServer, IngestSettings, InputEvent, InputEvents, InputSource, InputState, InputStatus, MAX_INPUT_NAME_BYTES, MAX_MEDIA_URI_BYTES,
    MediaError, MediaInput, MediaInputSettings,
};

use super::bus::{EventBus, ShowEvent};
use crate::store::{DocKind, Store};

/// Inputs a show keeps at once (media and ingest together).
pub const MAX_INPUTS: usize = 32;
/// Longest stream key, in bytes.
pub const MAX_STREAM_KEY_BYTES: usize = 256;
/// How often input events are moved to the bus.
pub const EVENT_POLL: Duration = Duration::from_millis(100);
/// URI schemes a media input may use; anything else (and a relative path) is refused.
pub const MEDIA_SCHEMES: [&str; 8] = ["file", "http", "https", "rtsp", "rtsps", "rtmp", "rtmps", "srt"];
/// The `name` of bus events about connections the ingest server refused (they have no input yet).
pub const INGEST_EVENT_NAME: &str = "ingest";

/// A stored input (`DocKind::Input`, id = name). `Debug` masks the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputDoc {
    Media { name: String, uri: String, looping: bool },
    Ingest { name: String, key: String },
}

impl std::fmt::Debug for InputDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputDoc::Media { name, uri, looping } => f.debug_struct("Media").field("name", name).field("uri", uri).field("looping", looping).finish(),
            InputDoc::Ingest { name, .. } => f.debug_struct("Ingest").field("name", name).field("key", &"****").finish(),
        }
    }
}

impl InputDoc {
    pub fn name(&self) -> &str {
        match self {
            InputDoc::Media { name, .. } | InputDoc::Ingest { name, .. } => name,
        }
    }

    /// Checks the name, the media URI or the stream key without starting anything.
    pub fn validate(&self) -> Result<(), InputError> {
        let name = self.name();
        let invalid = |reason: String| InputError::Invalid { name: name.chars().take(MAX_INPUT_NAME_BYTES + 8).collect(), reason };
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        if name.is_empty() || name.len() > MAX_INPUT_NAME_BYTES || !name.bytes().all(allowed) {
            return Err(invalid(format!("a name is 1 to {MAX_INPUT_NAME_BYTES} bytes of letters, digits, `_`, `-` and `.`")));
        }
        match self {
            InputDoc::Media { uri, .. } => check_media_uri(uri).map_err(invalid),
            InputDoc::Ingest { key, .. } => check_stream_key(key).map_err(invalid),
        }
    }
}

fn check_media_uri(uri: &str) -> Result<(), String> {
    if uri.is_empty() || uri.len() > MAX_MEDIA_URI_BYTES {
        return Err(format!("the media URI must be 1 to {MAX_MEDIA_URI_BYTES} bytes"));
    }
    if uri.chars().any(char::is_control) {
        return Err("the media URI has a control character".into());
    }
    if uri.starts_with('/') {
        return Ok(());
    }
    let scheme = uri.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme {
        Some(scheme) if MEDIA_SCHEMES.contains(&scheme.as_str()) => Ok(()),
        _ => Err(format!(
            "the media URI {:?} is neither an absolute file path nor a {} URI",
            without_credentials(uri).chars().take(120).collect::<String>(),
            MEDIA_SCHEMES.join("/")
        )),
    }
}

fn check_stream_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_STREAM_KEY_BYTES {
        return Err(format!("a stream key is 1 to {MAX_STREAM_KEY_BYTES} bytes (got {})", key.len()));
    }
    if key.chars().any(|c| c.is_control() || c.is_whitespace() || c == '/' || c == '?') {
        return Err("a stream key has no spaces, control characters, `/` or `?` (publishers send it as the last part of a URL)".into());
    }
    Ok(())
}

/// `uri` with any `user:password@` part replaced by `****@`.
pub fn without_credentials(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else { return uri.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://****{}", &rest[at..]),
        None => uri.to_owned(),
    }
}

/// Why an input could not be added or removed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input {name:?} is not usable: {reason}")]
    Invalid { name: String, reason: String },
    #[error("an input named {0:?} exists already; delete it first or choose another name")]
    DuplicateName(String),
    #[error("another input uses this stream key already; give each ingest input its own key")]
    DuplicateKey,
    #[error("the show has {MAX_INPUTS} inputs already; delete one first")]
    TooMany,
    #[error("no input named {0:?}")]
    Unknown(String),
    #[error("the RTMP ingest server cannot start on {listen}: {reason}; free that port or set `ingest_listen`")]
    IngestUnavailable { listen: SocketAddr, reason: String },
    #[error("input {name:?} cannot start: {reason}")]
    Start { name: String, reason: String },
}

/// What runs for one input.
enum Running {
    Media(MediaInput),
    /// A key on the ingest server.
    Ingest,
    /// Stored but not running (it could not start again after a restart); the error says why.
    Broken(String),
}

struct Entry {
    doc: InputDoc,
    running: Running,
}

#[derive(Default)]
struct Inputs {
    entries: BTreeMap<String, Entry>,
    ingest: Option<IngestServer>,
}

/// The inputs of one served show. Dropping it stops every input and the event thread.
pub struct InputManager {
    frames: LiveInputs,
    events: InputEvents,
    ingest_listen: SocketAddr,
    inputs: Mutex<Inputs>,
    forwarder: Option<(Sender<()>, JoinHandle<()>)>,
}

impl InputManager {
    /// A manager publishing frames into `frames` (the registry the show renders from)
    /// and events onto `bus`; the ingest server, once needed, listens on `ingest_listen`.
    pub fn start(frames: LiveInputs, bus: EventBus, ingest_listen: SocketAddr) -> std::io::Result<InputManager> {
        let events = InputEvents::default();
        let (stop, stopped) = channel::<()>();
        let queue = events.clone();
        let thread = std::thread::Builder::new().name("input-events".into()).spawn(move || {
            // A closed channel (the manager dropped) ends the loop.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVENT_POLL) {
                forward(&queue, &bus);
            }
            forward(&queue, &bus);
        })?;
        Ok(InputManager { frames, events, ingest_listen, inputs: Mutex::default(), forwarder: Some((stop, thread)) })
    }

    fn lock(&self) -> MutexGuard<'_, Inputs> {
        self.inputs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `doc`'s input. Blocks briefly (pipeline set-up, or binding the ingest port).
    pub fn add(&self, doc: InputDoc) -> Result<(), InputError> {
        doc.validate()?;
        let mut inputs = self.lock();
        let name = doc.name().to_owned();
        if inputs.entries.contains_key(&name) {
            return Err(InputError::DuplicateName(name));
        }
        if inputs.entries.len() >= MAX_INPUTS {
            return Err(InputError::TooMany);
        }
        let running = match &doc {
            InputDoc::Media { uri, looping, .. } => Running::Media(self.start_media(&name, uri, *looping)?),
            InputDoc::Ingest { key, .. } => {
                let key_used = inputs.entries.values().any(|e| matches!(&e.doc, InputDoc::Ingest { key: other, .. } if other == key));
                if key_used {
                    return Err(InputError::DuplicateKey);
                }
                self.add_key(&mut inputs, IngestKey { input: name.clone(), key: key.clone() })?;
                Running::Ingest
            }
        };
        inputs.entries.insert(name, Entry { doc, running });
        Ok(())
    }

    fn start_media(&self, name: &str, uri: &str, looping: bool) -> Result<MediaInput, InputError> {
        let settings = MediaInputSettings { name: name.to_owned(), uri: uri.to_owned(), looping };
        MediaInput::start(settings, self.frames.clone(), self.events.clone()).map_err(|e| match e {
            MediaError::InvalidInput { reason, .. } => InputError::Invalid { name: name.to_owned(), reason },
            other => InputError::Start { name: name.to_owned(), reason: other.to_string() },
        })
    }

    fn add_key(&self, inputs: &mut Inputs, key: IngestKey) -> Result<(), InputError> {
        let input = key.input.clone();
        let refused = |e: MediaError| match e {
            MediaError::InvalidInput { reason, .. } => InputError::Invalid { name: input.clone(), reason },
            other => InputError::Start { name: input.clone(), reason: other.to_string() },
        };
        match &inputs.ingest {
            Some(server) => server.add_key(key).map_err(refused),
            None => {
                let settings = IngestSettings { listen: self.ingest_listen, keys: vec![key], ..IngestSettings::default() };
                let server = IngestServer::start(settings, self.frames.clone(), self.events.clone()).map_err(|e| match e {
                    MediaError::InvalidInput { .. } => refused(e),
                    other => InputError::IngestUnavailable { listen: self.ingest_listen, reason: other.to_string() },
                })?;
                self.events.send(InputEvent::StateChanged { name: input.clone(), state: InputState::Waiting });
                inputs.ingest = Some(server);
                Ok(())
            }
        }
    }

    /// Stops the input `name` (its decoder, or its key and publisher), takes its picture
    /// off screen and answers what was stored for it. The ingest server stops with its last key.
    pub fn remove(&self, name: &str) -> Result<InputDoc, InputError> {
        let mut inputs = self.lock();
        let entry = inputs.entries.remove(name).ok_or_else(|| InputError::Unknown(name.chars().take(MAX_INPUT_NAME_BYTES + 8).collect()))?;
        match entry.running {
            Running::Media(input) => input.stop(),
            Running::Ingest => {
                if let Some(server) = &inputs.ingest
                    && let Err(e) = server.remove_key(name)
                {
                    tracing::warn!(input = name, error = %e, "the ingest server did not know the input's key");
                }
            }
            Running::Broken(_) => {}
        }
        self.frames.clear(name);
        let keys_left = inputs.entries.values().any(|e| matches!(e.running, Running::Ingest));
        if !keys_left && let Some(server) = inputs.ingest.take() {
            server.stop();
        }
        Ok(entry.doc)
    }

    /// Stops input `name` like [`InputManager::remove`] if there is one; answers whether there was.
    pub fn discard(&self, name: &str) -> bool {
        self.contains(name) && self.remove(name).is_ok()
    }

    /// Whether an input is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.lock().entries.contains_key(name)
    }

    /// Every input by name; stream keys masked.
    pub fn statuses(&self) -> Vec<InputStatus> {
        let inputs = self.lock();
        let ingest = inputs.ingest.as_ref().map(IngestServer::statuses).unwrap_or_default();
        inputs
            .entries
            .iter()
            .map(|(name, entry)| match &entry.running {
                Running::Media(input) => input.status(),
                Running::Ingest => ingest.iter().find(|s| &s.name == name).cloned().unwrap_or_else(|| idle_status(&entry.doc, InputState::Waiting)),
                Running::Broken(error) => idle_status(&entry.doc, InputState::Failed { error: error.clone() }),
            })
            .collect()
    }

    /// Where the ingest server listens while it runs (the real port when 0 was configured).
    pub fn ingest_addr(&self) -> Option<SocketAddr> {
        self.lock().ingest.as_ref().map(IngestServer::local_addr)
    }

    /// Starts every input stored in `store`. One that cannot start stays listed as failed
    /// (so it can be seen and deleted); each problem comes back as a line for the operator.
    pub fn restore(&self, store: &Store) -> Vec<String> {
        let stored = match store.docs(DocKind::Input) {
            Ok(stored) => stored,
            Err(e) => return vec![format!("the stored inputs cannot be read: {e}")],
        };
        let mut problems = Vec::new();
        for (id, _, value) in stored {
            let doc: InputDoc = match serde_json::from_value(value) {
                Ok(doc) => doc,
                Err(e) => {
                    problems.push(format!("input {id:?}: the stored document is not an input ({e}); delete it with DELETE /api/v1/inputs/{id}"));
                    continue;
                }
            };
            if let Err(e) = self.add(doc.clone()) {
                problems.push(format!("input {:?} did not start again: {e}", doc.name()));
                let mut inputs = self.lock();
                if !inputs.entries.contains_key(doc.name()) {
                    inputs.entries.insert(doc.name().to_owned(), Entry { doc, running: Running::Broken(e.to_string()) });
                }
            }
        }
        problems
    }
}

impl Drop for InputManager {
    fn drop(&mut self) {
        let inputs = std::mem::take(&mut *self.lock());
        for (_, entry) in inputs.entries {
            if let Running::Media(input) = entry.running {
                input.stop();
            }
        }
        if let Some(server) = inputs.ingest {
            server.stop();
        }
        if let Some((stop, thread)) = self.forwarder.take() {
            drop(stop);
            if thread.join().is_err() {
                tracing::error!("the input event thread panicked");
            }
        }
    }
}

/// The status of an input that runs nothing.
fn idle_status(doc: &InputDoc, state: InputState) -> InputStatus {
    let source = match doc {
        InputDoc::Media { uri, looping, .. } => InputSource::Media { uri: uri.clone(), looping: *looping },
        InputDoc::Ingest { .. } => InputSource::Ingest { key: "****".into() },
    };
    InputStatus { name: doc.name().to_owned(), source, state, frames: 0, size: None, loops: 0, sessions: 0 }
}

/// Moves queued input events onto the bus (see [`bus_event`]).
fn forward(events: &InputEvents, bus: &EventBus) {
    for event in events.drain() {
        if let Some(event) = bus_event(&event) {
            bus.publish(event);
        }
    }
}

/// The bus event for an input event: publishes, unpublishes, refusals, ends, failures,
/// stops and a media input going live. Loops and the routine starting, waiting and
/// ingest-live steps (a publish says those) are left off the bus.
pub fn bus_event(event: &InputEvent) -> Option<ShowEvent> {
    let name = match event {
        InputEvent::Looped { .. } => return None,
        InputEvent::StateChanged { state: InputState::Starting | InputState::Waiting, .. } => return None,
        InputEvent::StateChanged { state: InputState::Live { peer }, .. } if !peer.is_empty() => return None,
        InputEvent::StateChanged { name, .. } | InputEvent::Published { name, .. } | InputEvent::Unpublished { name, .. } => name.clone(),
        InputEvent::Rejected { .. } => INGEST_EVENT_NAME.to_owned(),
    };
    Some(ShowEvent::Input { name, message: input_event_line(event) })
}

/// One input event as a line for the operator.
pub fn input_event_line(event: &InputEvent) -> String {
    match event {
        InputEvent::StateChanged { name, state } => format!("input {name}: {}", state_words(state)),
        InputEvent::Published { name, peer } => format!("input {name}: publisher {peer} is live"),
        InputEvent::Unpublished { name, reason } => format!("input {name}: publisher gone ({reason}); drawing nothing until one returns"),
        InputEvent::Rejected { peer, reason } => format!("ingest: refused {peer}: {reason}"),
        InputEvent::Looped { name, loops } => format!("input {name}: looped ({loops})"),
    }
}

fn state_words(state: &InputState) -> String {
    match state {
        InputState::Live { peer } if !peer.is_empty() => format!("live from {peer}"),
        InputState::Failed { error } => format!("failed: {error}"),
        other => other.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn media(name: &str, uri: &str) -> InputDoc {
        InputDoc::Media { name: name.into(), uri: uri.into(), looping: false }
    }

    #[test]
    fn names_uris_and_keys_are_checked_before_anything_starts() {
        assert!(media("cam-1.main_feed", "/tmp/clip.mp4").validate().is_ok());
        assert!(media("cam", "https://host/a.webm").validate().is_ok());
        assert!(media("cam", "RTSP://cam.local/live").validate().is_ok());
        for bad_name in ["", "has space", "slash/x", &"a".repeat(MAX_INPUT_NAME_BYTES + 1)] {
            assert!(matches!(media(bad_name, "/tmp/a.mp4").validate(), Err(InputError::Invalid { .. })), "{bad_name:?}");
        }
        for bad_uri in ["", "clip.mp4", "fd://0", "appsrc://", "javascript:alert(1)", "smb://host/share"] {
            assert!(matches!(media("cam", bad_uri).validate(), Err(InputError::Invalid { .. })), "{bad_uri:?}");
        }
        let key = |key: &str| InputDoc::Ingest { name: "cam".into(), key: key.into() };
        assert!(key("s3cret").validate().is_ok());
        for bad_key in [String::new(), "a".repeat(MAX_STREAM_KEY_BYTES + 1), "has space".into(), "a/b".into(), "a?b".into()] {
            let error = key(&bad_key).validate().unwrap_err();
            assert!(matches!(error, InputError::Invalid { .. }), "{error:?}");
            assert!(bad_key.is_empty() || !error.to_string().contains(&bad_key), "the key is not repeated: {error}");
        }
    }

    #[test]
    fn stored_inputs_round_trip_and_debug_masks_the_key() {
        let doc = InputDoc::Ingest { name: "cam".into(), key: "s3cret-key".into() };
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "ingest", "name": "cam", "key": "s3cret-key"}));
        assert_eq!(serde_json::from_value::<InputDoc>(json).unwrap(), doc);
        assert!(!format!("{doc:?}").contains("s3cret"));
    }

    #[test]
    fn credentials_in_a_uri_are_hidden() {
        assert_eq!(without_credentials("rtsp://admin:pw@cam.local:554/live"), "rtsp://****@cam.local:554/live");
        assert_eq!(without_credentials("https://host/a@b.webm"), "https://host/a@b.webm");
        assert_eq!(without_credentials("/tmp/clip.mp4"), "/tmp/clip.mp4");
    }

    #[test]
    fn only_operator_worthy_events_reach_the_bus() {
        let rejected = InputEvent::Rejected { peer: "127.0.0.1:5000".into(), reason: "unknown key rtmp://h/live/****".into() };
        assert_eq!(bus_event(&rejected), Some(ShowEvent::Input { name: INGEST_EVENT_NAME.into(), message: "ingest: refused 127.0.0.1:5000: unknown key rtmp://h/live/****".into() }));
        let ended = InputEvent::StateChanged { name: "clip".into(), state: InputState::Ended };
        assert_eq!(bus_event(&ended), Some(ShowEvent::Input { name: "clip".into(), message: "input clip: ended".into() }));
        assert_eq!(bus_event(&InputEvent::Looped { name: "clip".into(), loops: 3 }), None);
        assert_eq!(bus_event(&InputEvent::StateChanged { name: "cam".into(), state: InputState::Waiting }), None);
    }
}
