//! The programme recorder: a thread that takes the encoder's FLV tags from its own feed
//! and remuxes them (no re-encoding) into Matroska:
//! `appsrc → flvdemux → h264parse / aacparse → matroskamux → filesink`.
//! Matroska is written cluster by cluster, so a file cut short (the process killed, the
//! machine losing power) stays playable up to its last cluster; a clean stop writes
//! its duration and index.
//!
//! It must not overwrite an existing file, block the encoder (a full queue drops tags,
//! counted, and the recording resumes at the next keyframe), or retry a failed disk
//! write: the error is its final state.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gstreamer::prelude::*;

use super::fanout::{Feed, Next};
use super::output_thread::OutputThread;
use super::status::{OutputState, SharedStatus};
use super::tag_pipeline::{Push, TagPipeline, step, stream_headers};
use crate::MediaError;
use crate::elements::{make, set_property};

const CAPS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopped recording may take to write its index.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
/// How often the file size is read into the status.
const SIZE_EVERY: Duration = Duration::from_millis(500);

/// Checks `path` before recording: it ends in .mkv, its folder exists, and it does not
/// exist yet (a recording never replaces a file).
pub(crate) fn validate_path(path: &Path) -> Result<(), MediaError> {
    let invalid = |reason: String| MediaError::InvalidOutput { target: path.display().to_string(), reason };
    if path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some("mkv") {
        return Err(invalid("recordings are Matroska files: the name must end in .mkv".into()));
    }
    if path.to_str().is_none() {
        return Err(MediaError::NonUtf8Path { path: path.to_owned() });
    }
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(invalid(format!("folder {} does not exist", folder.display())));
    }
    if path.exists() {
        return Err(invalid("the file exists; a recording never replaces a file, pick another name".into()));
    }
    Ok(())
}

/// Checks `path` and starts the recorder's thread.
pub(crate) fn spawn(path: PathBuf, feed: Feed, status: Arc<SharedStatus>) -> Result<OutputThread, MediaError> {
    validate_path(&path)?;
    OutputThread::spawn("recorder".into(), move |stop| {
        let outcome = record(&path, &feed, &status, stop);
        update_size(&path, &feed, &status, None);
        match outcome {
            Ok(()) => status.set_state(OutputState::Stopped),
            Err(err) => {
                tracing::error!(path = %path.display(), %err, "recording failed");
                status.set_state(OutputState::Failed { error: err.to_string() });
            }
        }
    })
}

fn record(path: &Path, feed: &Feed, status: &SharedStatus, stop: &AtomicBool) -> Result<(), MediaError> {
    let label = "recorder";
    let caps = feed.caps(CAPS_TIMEOUT).ok_or_else(|| step(label, "start", "the encoder produced no stream"))?;
    let location = path.to_str().ok_or_else(|| MediaError::NonUtf8Path { path: path.to_owned() })?.to_owned();
    let pipeline = TagPipeline::build(label, &caps, |pipeline, source| {
        let demuxer = make("flvdemux", "flv-demuxer")?;
        // Both parsers and muxer pads exist before any data flows: matroskamux writes
        // its header once, so it must know every stream before the first buffer. The
        // queues let the demuxer's one thread deliver video while the muxer still
        // waits for the first audio.
        let video_parser = make("h264parse", "recorder-h264-parser")?;
        let audio_parser = make("aacparse", "recorder-aac-parser")?;
        let video_queue = make("queue", "recorder-video-queue")?;
        let audio_queue = make("queue", "recorder-audio-queue")?;
        let muxer = make("matroskamux", "mkv-muxer")?;
        let sink = make("filesink", "file-sink")?;
        set_property(&sink, "location", &location)?;
        set_property(&sink, "sync", false)?;
        pipeline
            .add_many([&demuxer, &video_parser, &audio_parser, &video_queue, &audio_queue, &muxer, &sink])
            .map_err(|e| step(label, "assemble the pipeline", e))?;
        source.link(&demuxer).map_err(|e| step(label, "link the demuxer", e))?;
        for (parser, queue, pads) in [(&video_parser, &video_queue, "video_%u"), (&audio_parser, &audio_queue, "audio_%u")] {
            parser.link(queue).map_err(|e| step(label, "link a parser", e))?;
            queue.link_pads(None, &muxer, Some(pads)).map_err(|e| step(label, "link a stream to the muxer", e))?;
        }
        muxer.link(&sink).map_err(|e| step(label, "link the file sink", e))?;
        demuxer.connect_pad_added(move |_, pad| {
            let parser = match pad.name().as_str() {
                "video" => &video_parser,
                "audio" => &audio_parser,
                _ => return,
            };
            let linked = parser.static_pad("sink").map(|sink| pad.link(&sink));
            if !matches!(linked, Some(Ok(_))) {
                tracing::error!(pad = %pad.name(), ?linked, "recorder could not link a stream");
            }
        });
        Ok(())
    })?;
    pipeline.start()?;
    for header in stream_headers(&caps) {
        pipeline.push(header)?;
    }
    let mut live = false;
    let mut measured = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return pipeline.finish(CLOSE_TIMEOUT);
        }
        if let Some(failure) = pipeline.failure() {
            return Err(MediaError::Pipeline(failure));
        }
        match feed.next(POLL) {
            Next::Idle => {}
            Next::Ended => return pipeline.finish(CLOSE_TIMEOUT),
            Next::Tag(tag) => {
                if pipeline.push(tag.buffer)? == Push::Full {
                    feed.counters().dropped.fetch_add(1, Ordering::Relaxed);
                    feed.resync();
                }
                if !live {
                    live = true;
                    status.set_state(OutputState::Live);
                }
            }
        }
        if measured.elapsed() >= SIZE_EVERY {
            update_size(path, feed, status, Some(measured.elapsed()));
            measured = Instant::now();
        }
    }
}

/// Reads the file's size into the status, with the write rate over `since` (the time
/// since the last reading; `None` when the recording has ended: rate 0).
fn update_size(path: &Path, feed: &Feed, status: &SharedStatus, since: Option<Duration>) {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let dropped = feed.counters().dropped.load(Ordering::Relaxed);
    status.update(|s| {
        let grown = size.saturating_sub(s.bytes_sent) as f64;
        s.bitrate_kbps = since.map_or(0, |d| (grown * 8.0 / 1000.0 / d.as_secs_f64().max(1e-3)) as u32);
        s.bytes_sent = size;
        s.tags_dropped = dropped;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_needs_mkv_an_existing_folder_and_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(validate_path(&dir.path().join("show.mkv")).is_ok());
        let err = |p: PathBuf| validate_path(&p).unwrap_err().to_string();
        assert!(err(dir.path().join("show.mp4")).contains(".mkv"));
        assert!(err(dir.path().join("missing/show.mkv")).contains("does not exist"));
        std::fs::write(dir.path().join("taken.mkv"), b"keep me").unwrap();
        assert!(err(dir.path().join("taken.mkv")).contains("never replaces"));
        assert_eq!(std::fs::read(dir.path().join("taken.mkv")).unwrap(), b"keep me");
    }
}
