//! The live outputs of one encoder, by id: RTMP/RTMPS destinations and recordings,
//! added and removed while the show runs, each on its own thread with its own feed.
//! A handle is cheap to clone and shareable (the API, the render loop and the metrics
//! all hold one). It must not touch frames or the encoder's pipeline.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::fanout::Fanout;
use super::output_thread::OutputThread;
use super::rtmp::validate_url;
use super::{recorder, rtmp};
use super::status::{EventSender, OutputEvent, OutputState, OutputStatus, SharedStatus, mask_stream_key};
use crate::MediaError;

/// Tags an output may have waiting (about 7 s at 30 fps with audio) before it drops
/// and resyncs at the next keyframe.
const FEED_CAPACITY: usize = 512;
/// Longest output id.
const MAX_ID_LEN: usize = 64;

struct Output {
    id: String,
    status: Arc<SharedStatus>,
    thread: OutputThread,
}

struct Inner {
    fanout: Arc<Fanout>,
    outputs: Mutex<Vec<Output>>,
    events: EventSender,
}

/// The live outputs of a [`super::LiveEncoder`]; get one with
/// [`super::LiveEncoder::outputs`].
#[derive(Clone)]
pub struct LiveOutputs {
    inner: Arc<Inner>,
}

impl LiveOutputs {
    pub(crate) fn new(fanout: Arc<Fanout>) -> LiveOutputs {
        let events = EventSender::new();
        LiveOutputs {
            inner: Arc::new(Inner {
                fanout,
                outputs: Mutex::new(Vec::new()),
                events,
            }),
        }
    }

    fn outputs(&self) -> MutexGuard<'_, Vec<Output>> {
        self.inner.outputs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts streaming to `url` (rtmp:// or rtmps://HOST[:PORT]/APP/KEY) as output
    /// `id`. Returns at once: the connection is made (and retried) on its own thread;
    /// watch [`LiveOutputs::status`].
    pub fn add_rtmp(&self, id: &str, url: &str) -> Result<(), MediaError> {
        validate_url(url)?;
        self.add(id, mask_stream_key(url), |feed, status| rtmp::spawn(url.to_owned(), feed, status))
    }

    /// Starts recording the programme to `path` (.mkv, a new file) as output `id`.
    pub fn start_recording(&self, id: &str, path: &Path) -> Result<(), MediaError> {
        self.add(id, path.display().to_string(), |feed, status| recorder::spawn(path.to_owned(), feed, status))
    }

    fn add(
        &self,
        id: &str,
        target: String,
        spawn: impl FnOnce(super::fanout::Feed, Arc<SharedStatus>) -> Result<OutputThread, MediaError>,
    ) -> Result<(), MediaError> {
        validate_id(id)?;
        let mut outputs = self.outputs();
        if outputs.iter().any(|o| o.id == id) {
            return Err(MediaError::InvalidOutput { target, reason: format!("an output named `{id}` exists already") });
        }
        let status = SharedStatus::new(id, target, self.inner.events.clone());
        let thread = spawn(self.inner.fanout.subscribe(FEED_CAPACITY), Arc::clone(&status))?;
        outputs.push(Output { id: id.to_owned(), status, thread });
        Ok(())
    }

    /// Stops output `id` (the server is told the stream ended; a recording is closed)
    /// and returns its last status.
    pub fn remove(&self, id: &str) -> Result<OutputStatus, MediaError> {
        let output = {
            let mut outputs = self.outputs();
            let index = outputs.iter().position(|o| o.id == id).ok_or_else(|| MediaError::UnknownOutput { id: id.to_owned() })?;
            outputs.remove(index)
        };
        output.thread.stop();
        Ok(output.status.snapshot())
    }

    /// Waits up to `timeout` for every output to stop by itself, as they do once the
    /// encoder finished and they sent what it encoded; true if all did.
    pub fn wait_stopped(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let done = self.outputs().iter().all(|o| matches!(o.status.snapshot().state, OutputState::Stopped | OutputState::Failed { .. }));
            if done || Instant::now() >= deadline {
                return done;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops every output, as [`LiveOutputs::remove`] does.
    pub fn remove_all(&self) -> Vec<OutputStatus> {
        let ids: Vec<String> = self.outputs().iter().map(|o| o.id.clone()).collect();
        ids.iter().filter_map(|id| self.remove(id).ok()).collect()
    }

    pub fn status(&self, id: &str) -> Option<OutputStatus> {
        self.outputs().iter().find(|o| o.id == id).map(|o| o.status.snapshot())
    }

    /// Every output, in the order they were added.
    pub fn statuses(&self) -> Vec<OutputStatus> {
        self.outputs().iter().map(|o| o.status.snapshot()).collect()
    }

    /// Events since the last call, oldest first.
    pub fn drain_events(&self) -> Vec<OutputEvent> {
        self.inner.events.drain()
    }

    pub(crate) fn send_event(&self, event: OutputEvent) {
        self.inner.events.send(event);
    }

    /// Events lost because nobody drained them (the queue holds 1024).
    pub fn events_dropped(&self) -> u64 {
        self.inner.events.dropped()
    }
}

fn validate_id(id: &str) -> Result<(), MediaError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(MediaError::InvalidOutput {
            target: format!("{id:?}"),
            reason: format!("an output id is 1 to {MAX_ID_LEN} letters, digits, '-', '_' or '.'"),
        })
    }
}
