//! What an operator sees of each live output: its state (connecting, live, retrying
//! with the last error, stopped), bytes and bitrate, reconnects and tags lost, and the
//! events emitted when any of that changes. Plain data shared between an output's
//! thread and whoever asks (API, dashboard, metrics); it must not touch GStreamer.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Where an output is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputState {
    /// Opening the connection (or the file).
    Connecting,
    /// Bytes are reaching the server (or the file).
    Live,
    /// The connection failed or dropped; the next attempt starts after `retry_in`.
    Retrying { attempt: u32, last_error: String, retry_in: Duration },
    /// Removed, or the stream ended.
    Stopped,
    /// Gave up (a recording that could not write its file); the error says why.
    Failed { error: String },
}

impl OutputState {
    /// A short name for logs, metrics labels and JSON: connecting, live, retrying, stopped.
    pub fn name(&self) -> &'static str {
        match self {
            OutputState::Connecting => "connecting",
            OutputState::Live => "live",
            OutputState::Retrying { .. } => "retrying",
            OutputState::Stopped => "stopped",
            OutputState::Failed { .. } => "failed",
        }
    }
}

/// A snapshot of one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputStatus {
    pub id: String,
    /// The destination with any stream key masked, safe to show and log.
    pub target: String,
    pub state: OutputState,
    /// Bytes written to the server (or file) over every connection.
    pub bytes_sent: u64,
    /// Over the last second or so.
    pub bitrate_kbps: u32,
    /// Times the output went live again after losing its connection.
    pub reconnects: u32,
    /// Tags (frames or audio packets) lost because the output fell behind or was
    /// reconnecting; it resumes at the next keyframe.
    pub tags_dropped: u64,
}

/// Something that changed on an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputEvent {
    StateChanged { id: String, state: OutputState },
    Reconnected { id: String, reconnects: u32 },
    /// The encoder's video bitrate was stepped (quality adaptation): every output.
    QualityChanged(super::quality::QualityChange),
}

/// The output events of one encoder: a bounded queue (see [`crate::EventQueue`]).
pub(crate) type EventSender = crate::EventQueue<OutputEvent>;

/// One output's status, written by its thread, read by anyone; every state change
/// is also an event.
pub(crate) struct SharedStatus {
    status: Mutex<(OutputStatus, FailedSinceLive)>,
    events: EventSender,
}

/// Whether the output failed since it was last live: its next `Live` is a reconnect.
type FailedSinceLive = bool;

impl SharedStatus {
    pub(crate) fn new(id: &str, target: String, events: EventSender) -> Arc<SharedStatus> {
        let status = OutputStatus {
            id: id.to_owned(),
            target,
            state: OutputState::Connecting,
            bytes_sent: 0,
            bitrate_kbps: 0,
            reconnects: 0,
            tags_dropped: 0,
        };
        events.send(OutputEvent::StateChanged { id: id.to_owned(), state: OutputState::Connecting });
        Arc::new(SharedStatus { status: Mutex::new((status, false)), events })
    }

    fn lock(&self) -> MutexGuard<'_, (OutputStatus, FailedSinceLive)> {
        self.status.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn snapshot(&self) -> OutputStatus {
        self.lock().0.clone()
    }

    /// Sets the state; an actual change is evented, and going live after a failure
    /// counts a reconnect.
    pub(crate) fn set_state(&self, state: OutputState) {
        let mut guard = self.lock();
        let (status, failed_since_live) = &mut *guard;
        if status.state == state {
            return;
        }
        if matches!(state, OutputState::Retrying { .. }) {
            *failed_since_live = true;
        }
        let recovered = state == OutputState::Live && std::mem::take(failed_since_live);
        status.state = state.clone();
        let id = status.id.clone();
        if recovered {
            status.reconnects += 1;
        }
        let reconnects = status.reconnects;
        drop(guard);
        self.events.send(OutputEvent::StateChanged { id: id.clone(), state });
        if recovered {
            self.events.send(OutputEvent::Reconnected { id, reconnects });
        }
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut OutputStatus)) {
        change(&mut self.lock().0);
    }
}

/// `url` with the stream key (the last path segment) and any password masked:
/// `rtmp://host:1935/live/****`.
pub fn mask_stream_key(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = match rest.split_once('@') {
        Some((_credentials, host)) => format!("****@{host}"),
        None => rest.to_owned(),
    };
    let masked = match rest.rsplit_once('/') {
        Some((path, key)) if !key.is_empty() => format!("{path}/****"),
        _ => rest,
    };
    if scheme.is_empty() { masked } else { format!("{scheme}://{masked}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_keys_and_credentials_are_masked() {
        assert_eq!(mask_stream_key("rtmp://127.0.0.1:1935/live/secret-key"), "rtmp://127.0.0.1:1935/live/****");
        assert_eq!(mask_stream_key("rtmps://user:pw@a.example/app/k"), "rtmps://****@a.example/app/****");
        assert_eq!(mask_stream_key("/tmp/show.mkv"), "/tmp/****");
    }

    #[test]
    fn going_live_after_retrying_counts_a_reconnect_and_events_it() {
        let events = EventSender::new();
        let status = SharedStatus::new("a", "rtmp://x/live/****".into(), events.clone());
        status.set_state(OutputState::Live);
        status.set_state(OutputState::Live);
        let retry = OutputState::Retrying { attempt: 1, last_error: "refused".into(), retry_in: Duration::from_millis(500) };
        assert_eq!(status.snapshot().reconnects, 0, "the first connection is not a reconnect");
        status.set_state(retry.clone());
        status.set_state(OutputState::Connecting);
        status.set_state(OutputState::Live);
        assert_eq!(status.snapshot().reconnects, 1);
        let got: Vec<OutputEvent> = events.drain();
        let id = "a".to_owned();
        assert_eq!(got.first(), Some(&OutputEvent::StateChanged { id: id.clone(), state: OutputState::Connecting }));
        assert_eq!(got.last(), Some(&OutputEvent::Reconnected { id, reconnects: 1 }));
        assert_eq!(got.len(), 6, "{got:?}");
    }
}
