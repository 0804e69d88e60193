//! One RTMP/RTMPS destination: a thread that takes the encoder's FLV tags from its own
//! feed and pushes them through `rtmp2sink`, forever. A refused or dropped connection
//! is retried with exponential backoff (0.5 s doubling to 10 s) while the show goes on;
//! each (re)connection starts with the stream headers and a keyframe. State, bytes,
//! bitrate and reconnects are published in its [`SharedStatus`].
//!
//! It must not block the encoder (the feed drops when this destination is slow) or
//! other destinations, and it must not log the stream key.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;

use super::fanout::{Feed, Next};
use super::output_thread::OutputThread;
use super::status::{OutputState, SharedStatus};
use super::tag_pipeline::{Push, TagPipeline, step};
use crate::MediaError;
use crate::elements::{make, set_property};

/// First retry delay; doubles per failed attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A connection that stayed live this long resets the backoff.
const STABLE_AFTER: Duration = Duration::from_secs(10);
/// How long a connection may wait for the encoder's first tag.
const CAPS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a removed destination may take to tell the server the stream ended.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the thread wakes with nothing to send, to notice a stop or an error.
const POLL: Duration = Duration::from_millis(50);
/// How often bytes and bitrate are read from `rtmp2sink`.
const STATS_EVERY: Duration = Duration::from_millis(500);

/// Checks that `url` is an RTMP(S) URL with a host, application and stream key.
pub(crate) fn validate_url(url: &str) -> Result<(), MediaError> {
    let invalid = |reason: &str| MediaError::InvalidOutput { target: super::mask_stream_key(url), reason: reason.into() };
    let rest = url
        .strip_prefix("rtmp://")
        .or_else(|| url.strip_prefix("rtmps://"))
        .ok_or_else(|| invalid("the URL must start with rtmp:// or rtmps://"))?;
    let mut parts = rest.splitn(2, '/');
    let host = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("the URL has no host"));
    }
    match path.rsplit_once('/') {
        Some((app, key)) if !app.is_empty() && !key.is_empty() => Ok(()),
        _ => Err(invalid("the URL needs an application and a stream key: rtmp://HOST[:PORT]/APP/KEY")),
    }
}

/// Starts the destination's thread.
pub(crate) fn spawn(url: String, feed: Feed, status: Arc<SharedStatus>) -> Result<OutputThread, MediaError> {
    let name = format!("rtmp-out:{}", status.snapshot().id);
    OutputThread::spawn(name, move |stop| run(&url, &feed, &status, stop))
}

/// How one connection ended.
enum Ended {
    /// Removed by the owner.
    Stopped,
    /// The encoder finished.
    EncoderFinished,
    Failed { error: String, live_for: Duration },
}

fn run(url: &str, feed: &Feed, status: &SharedStatus, stop: &AtomicBool) {
    let mut attempt = 0u32;
    while !stop.load(Ordering::Relaxed) {
        status.set_state(OutputState::Connecting);
        match connect_and_stream(url, feed, status, stop, attempt > 0) {
            Ended::Stopped | Ended::EncoderFinished => break,
            Ended::Failed { error, live_for } => {
                attempt = if live_for >= STABLE_AFTER { 1 } else { attempt.saturating_add(1) };
                let retry_in = backoff(attempt);
                tracing::warn!(output = %status.snapshot().id, target = %status.snapshot().target, %error, ?retry_in, "RTMP output failed; retrying");
                status.set_state(OutputState::Retrying { attempt, last_error: error, retry_in });
                if wait_out(retry_in, feed, stop) {
                    break;
                }
            }
        }
    }
    status.update(|s| s.bitrate_kbps = 0);
    status.set_state(OutputState::Stopped);
}

fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF.saturating_mul(1u32 << attempt.saturating_sub(1).min(8)).min(MAX_BACKOFF)
}

/// Sleeps `delay` unless stopped, discarding (and counting) what the feed delivers;
/// true when the stream ended meanwhile (there is nothing left to reconnect for).
fn wait_out(delay: Duration, feed: &Feed, stop: &AtomicBool) -> bool {
    let until = Instant::now() + delay;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        match feed.next(POLL) {
            Next::Tag(_) => {
                feed.counters().dropped.fetch_add(1, Ordering::Relaxed);
            }
            Next::Idle => {}
            Next::Ended => return true,
        }
    }
    false
}

/// One connection. A reconnection (`resync`) drops what queued while it was down and
/// starts again at a fresh keyframe; the first starts at the keyframe the feed began with.
fn connect_and_stream(url: &str, feed: &Feed, status: &SharedStatus, stop: &AtomicBool, resync: bool) -> Ended {
    let failed = |error: String| Ended::Failed { error, live_for: Duration::ZERO };
    let Some(caps) = feed.caps(CAPS_TIMEOUT) else {
        return if stop.load(Ordering::Relaxed) { Ended::Stopped } else { failed("the encoder produced no stream".into()) };
    };
    let label = format!("rtmp-output-{}", status.snapshot().id);
    let pipeline = match TagPipeline::build(&label, &caps, |pipeline, source| {
        let sink = make("rtmp2sink", "rtmp-sink")?;
        set_property(&sink, "location", url)?;
        set_property(&sink, "sync", false)?;
        pipeline.add(&sink).map_err(|e| step(&label, "assemble the pipeline", e))?;
        source.link(&sink).map_err(|e| step(&label, "link the pipeline", e))
    }) {
        Ok(pipeline) => pipeline,
        Err(err) => return failed(err.to_string()),
    };
    if resync {
        feed.resync();
    }
    if let Err(err) = pipeline.start() {
        return failed(err.to_string());
    }
    let sink = pipeline.element("rtmp-sink");
    let mut meter = Meter::new(status.snapshot().bytes_sent);
    let mut live_since: Option<Instant> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            let _ = pipeline.finish(GOODBYE_TIMEOUT);
            meter.read(sink.as_ref(), feed, status);
            return Ended::Stopped;
        }
        if let Some(failure) = pipeline.failure() {
            meter.read(sink.as_ref(), feed, status);
            return Ended::Failed { error: failure.message, live_for: live_since.map_or(Duration::ZERO, |t| t.elapsed()) };
        }
        if meter.due() && meter.read(sink.as_ref(), feed, status) && live_since.is_none() {
            live_since = Some(Instant::now());
            status.set_state(OutputState::Live);
        }
        match feed.next(POLL) {
            Next::Idle => {}
            Next::Ended => {
                let _ = pipeline.finish(GOODBYE_TIMEOUT);
                meter.read(sink.as_ref(), feed, status);
                return Ended::EncoderFinished;
            }
            Next::Tag(tag) => match pipeline.push(tag.buffer) {
                Ok(Push::Queued) => {}
                Ok(Push::Full) => {
                    feed.counters().dropped.fetch_add(1, Ordering::Relaxed);
                    feed.resync();
                }
                Err(err) => {
                    return Ended::Failed {
                        error: err.to_string(),
                        live_for: live_since.map_or(Duration::ZERO, |t| t.elapsed()),
                    };
                }
            },
        }
    }
}

/// Bytes and bitrate from `rtmp2sink`'s statistics, which count this connection only.
struct Meter {
    before: u64,
    last_total: u64,
    last_read: Instant,
}

impl Meter {
    fn new(before: u64) -> Meter {
        Meter { before, last_total: 0, last_read: Instant::now() }
    }

    fn due(&self) -> bool {
        self.last_read.elapsed() >= STATS_EVERY
    }

    /// Updates the status; true when this connection has sent anything.
    fn read(&mut self, sink: Option<&gst::Element>, feed: &Feed, status: &SharedStatus) -> bool {
        let dropped = feed.counters().dropped.load(Ordering::Relaxed);
        let total = sink
            .and_then(|s| s.property::<Option<gst::Structure>>("stats"))
            .and_then(|stats| stats.get::<u64>("out-bytes-total").ok())
            .unwrap_or(0)
            .max(self.last_total);
        let seconds = self.last_read.elapsed().as_secs_f64().max(1e-3);
        let kbps = ((total - self.last_total) as f64 * 8.0 / 1000.0 / seconds) as u32;
        self.last_total = total;
        self.last_read = Instant::now();
        let before = self.before;
        status.update(|s| {
            s.bytes_sent = before + total;
            s.bitrate_kbps = kbps;
            s.tags_dropped = dropped;
        });
        total > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_ceiling() {
        let delays: Vec<u64> = (1..=7).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn urls_need_a_scheme_host_app_and_key() {
        assert!(validate_url("rtmp://127.0.0.1:1935/live/key").is_ok());
        assert!(validate_url("rtmps://a.example/app/key").is_ok());
        for bad in ["http://a/live/key", "rtmp:///live/key", "rtmp://a/live", "rtmp://a/live/", "rtmp://a"] {
            let err = validate_url(bad).unwrap_err().to_string();
            assert!(err.contains("rtmp"), "{bad}: {err}");
        }
    }
}
