//! The H.264 encoder pipeline shared by every output: `appsrc` (RGBx frames) →
//! `videoconvert` → I420 BT.709 → `x264enc` → `h264parse` → muxer → sink. The caller
//! picks the muxer and sink (mp4mux/matroskamux + filesink for files; flvmux +
//! rtmp2sink for live output later), so this module owns the encoding chain and the bus,
//! never containers, paths or URLs.
//!
//! Bus messages are handled synchronously on the thread that posts them and then dropped,
//! so nothing piles up on the bus. The first error is recorded and the pipeline is set to
//! NULL from GStreamer's thread pool, which wakes a producer blocked in `appsrc`.
//!
//! This pipeline is tuned for offline rendering: `appsrc` blocks when its bounded queue
//! is full, so no frame is ever dropped and the producer waits for the encoder. A live
//! pipeline must not block the render thread: it will set `appsrc` live and leaky and
//! `x264enc` `tune=zerolatency` here instead.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

use crate::elements::{element_label, make, set_property, set_property_from_nick};
use crate::error::PipelineFailure;
use crate::{EncoderSettings, MediaError};

/// Frames `appsrc` holds before `push` blocks: enough to keep the encoder busy while the
/// next frame is composited, few enough to bound memory (4 × 8 MB at 1080p).
const QUEUED_FRAMES: u64 = 4;
/// How long to wait for the bus to explain a failed push or state change.
const ERROR_GRACE: Duration = Duration::from_secs(2);

/// Builds an [`EncoderPipeline`] for frames of `settings` into a caller-chosen muxer
/// and sink.
pub(crate) struct EncoderPipelineBuilder<'a> {
    settings: &'a EncoderSettings,
    target: String,
}

impl<'a> EncoderPipelineBuilder<'a> {
    /// `target` names the output (a path, later a URL) in error messages.
    pub(crate) fn new(settings: &'a EncoderSettings, target: impl Into<String>) -> Self {
        EncoderPipelineBuilder { settings, target: target.into() }
    }

    /// Links appsrc → videoconvert → capsfilter → x264enc → h264parse → `muxer` → `sink`.
    /// The pipeline is left in NULL; call [`EncoderPipeline::start`].
    pub(crate) fn build(self, muxer: gst::Element, sink: gst::Element) -> Result<EncoderPipeline, MediaError> {
        let s = self.settings;
        s.validate()?;
        let frame_caps = frame_caps(s).map_err(|e| self.step_error("describe the frame format", e))?;
        let appsrc = gst_app::AppSrc::builder()
            .name("frame-source")
            .caps(&frame_caps)
            .format(gst::Format::Time)
            .stream_type(gst_app::AppStreamType::Stream)
            .is_live(false)
            .block(true)
            .max_bytes(QUEUED_FRAMES * s.frame_bytes() as u64)
            .build();
        let [convert, encoder_format, encoder, parser] = h264_chain(s, Latency::Offline)?;

        let pipeline = gst::Pipeline::with_name("showrunner-encoder");
        let chain = [appsrc.upcast_ref::<gst::Element>(), &convert, &encoder_format, &encoder, &parser, &muxer, &sink];
        pipeline.add_many(chain).map_err(|e| self.step_error("assemble the pipeline", e))?;
        gst::Element::link_many(chain).map_err(|e| self.step_error("link the pipeline", e))?;

        let watch = Arc::new(BusWatch::default());
        install_bus_handler(&pipeline, Arc::clone(&watch));
        Ok(EncoderPipeline { pipeline, appsrc, watch, target: self.target })
    }

    fn step_error(&self, action: &'static str, error: impl std::fmt::Display) -> MediaError {
        MediaError::PipelineStep { target: self.target.clone(), action, reason: error.to_string() }
    }
}

/// Whether an H.264 chain may buffer frames to compress better (offline) or must emit
/// each frame as soon as it is encoded (live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Latency {
    Offline,
    Live,
}

/// Caps of the frames pushed: RGBx (the fourth byte ignored) at the settings' size and rate.
pub(crate) fn frame_caps(s: &EncoderSettings) -> Result<gst::Caps, gst::glib::BoolError> {
    gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgbx, s.width, s.height)
        .fps(gst::Fraction::new(fps_i32(s.fps_num), fps_i32(s.fps_den)))
        .build()
        .and_then(|info| info.to_caps())
}

/// videoconvert → I420 BT.709 → x264enc (preset, bitrate, keyframe interval; zero
/// latency when live) → h264parse, unlinked.
pub(crate) fn h264_chain(s: &EncoderSettings, latency: Latency) -> Result<[gst::Element; 4], MediaError> {
    let convert = make("videoconvert", "color-convert")?;
    let encoder_format = make("capsfilter", "encoder-format")?;
    let i420 = gst::Caps::builder("video/x-raw").field("format", "I420").field("colorimetry", "bt709").build();
    set_property(&encoder_format, "caps", &i420)?;
    let encoder = make("x264enc", "video-encoder")?;
    set_property_from_nick(&encoder, "speed-preset", s.preset.gst_nick())?;
    set_property(&encoder, "bitrate", s.bitrate_kbps)?;
    set_property(&encoder, "key-int-max", s.keyframe_interval_frames())?;
    if latency == Latency::Live {
        set_property_from_nick(&encoder, "tune", "zerolatency")?;
    }
    let parser = make("h264parse", "h264-parser")?;
    Ok([convert, encoder_format, encoder, parser])
}

/// Validated frame rates are at most 240 × den, so both fit an i32 for GStreamer.
fn fps_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A built encoder pipeline. Dropping it sets it to NULL (an MP4 is then invalid unless
/// [`EncoderPipeline::finish`] ran first).
pub(crate) struct EncoderPipeline {
    pipeline: gst::Pipeline,
    appsrc: gst_app::AppSrc,
    watch: Arc<BusWatch>,
    target: String,
}

impl EncoderPipeline {
    /// Sets the pipeline to PLAYING. Sinks open their output here, so an unwritable path
    /// fails now with the sink's own error.
    pub(crate) fn start(&self) -> Result<(), MediaError> {
        if let Err(err) = self.pipeline.set_state(gst::State::Playing) {
            return Err(self.explain("start", err));
        }
        Ok(())
    }

    /// Queues one timestamped frame, blocking while the queue is full.
    pub(crate) fn push(&self, frame: gst::Buffer) -> Result<(), MediaError> {
        if let Some(failure) = self.watch.failure() {
            return Err(MediaError::Pipeline(failure));
        }
        self.appsrc.push_buffer(frame).map(drop).map_err(|flow| self.explain("accept a frame", flow))
    }

    /// Sends end-of-stream, waits up to `timeout` for it to reach the sink (the muxer
    /// writes its index then) or for an error, and sets the pipeline to NULL.
    pub(crate) fn finish(&self, timeout: Duration) -> Result<(), MediaError> {
        let drained = self.drain(timeout);
        let stopped = self.stop();
        drained.and(stopped)
    }

    fn drain(&self, timeout: Duration) -> Result<(), MediaError> {
        if let Some(failure) = self.watch.failure() {
            return Err(MediaError::Pipeline(failure));
        }
        if let Err(flow) = self.appsrc.end_of_stream() {
            return Err(self.explain("accept end-of-stream", flow));
        }
        let state = self.watch.wait_until(timeout, |s| s.eos || s.failure.is_some());
        match (state.failure.clone(), state.eos) {
            (Some(failure), _) => Err(MediaError::Pipeline(failure)),
            (None, true) => Ok(()),
            (None, false) => Err(MediaError::FinishTimeout { target: self.target.clone(), timeout }),
        }
    }

    /// Sets the pipeline to NULL without end-of-stream: the sink closes its output as is.
    pub(crate) fn stop(&self) -> Result<(), MediaError> {
        match self.pipeline.set_state(gst::State::Null) {
            Ok(_) => Ok(()),
            Err(err) => Err(self.explain("stop", err)),
        }
    }

    /// The bus error behind a failed step if one arrives within [`ERROR_GRACE`],
    /// otherwise the step and GStreamer's return value.
    fn explain(&self, action: &'static str, reason: impl std::fmt::Debug) -> MediaError {
        let state = self.watch.wait_until(ERROR_GRACE, |s| s.failure.is_some());
        match state.failure.clone() {
            Some(failure) => MediaError::Pipeline(failure),
            None => MediaError::PipelineStep { target: self.target.clone(), action, reason: format!("{reason:?}") },
        }
    }
}

impl Drop for EncoderPipeline {
    fn drop(&mut self) {
        if let Err(err) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(target = %self.target, ?err, "encoder pipeline did not stop cleanly");
        }
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}

/// What the bus has reported so far.
#[derive(Debug, Default)]
pub(crate) struct BusState {
    pub(crate) eos: bool,
    pub(crate) failure: Option<PipelineFailure>,
}

#[derive(Debug, Default)]
pub(crate) struct BusWatch {
    state: Mutex<BusState>,
    changed: Condvar,
}

impl BusWatch {
    fn lock(&self) -> MutexGuard<'_, BusState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut BusState)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    pub(crate) fn failure(&self) -> Option<PipelineFailure> {
        self.lock().failure.clone()
    }

    /// Waits up to `timeout` for `done`; returns the state either way.
    pub(crate) fn wait_until(&self, timeout: Duration, done: impl Fn(&BusState) -> bool) -> MutexGuard<'_, BusState> {
        let guard = self.lock();
        match self.changed.wait_timeout_while(guard, timeout, |s| !done(s)) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }
}

pub(crate) fn install_bus_handler(pipeline: &gst::Pipeline, watch: Arc<BusWatch>) {
    let Some(bus) = pipeline.bus() else { return };
    let weak_pipeline = pipeline.downgrade();
    bus.set_sync_handler(move |_, message| {
        use gst::MessageView;
        match message.view() {
            MessageView::Eos(_) => watch.update(|s| s.eos = true),
            MessageView::Error(err) => {
                let failure = PipelineFailure {
                    element: message.src().map_or_else(|| "pipeline".to_owned(), element_label),
                    message: err.error().to_string(),
                    debug: err.debug().map(|d| d.to_string()).unwrap_or_default(),
                };
                tracing::error!(element = %failure.element, message = %failure.message, debug = %failure.debug, "encoder pipeline error");
                watch.update(|s| {
                    s.failure.get_or_insert(failure);
                });
                // Setting NULL from a streaming thread could deadlock; the thread pool
                // may, and it unblocks a producer waiting in appsrc.
                if let Some(pipeline) = weak_pipeline.upgrade() {
                    pipeline.call_async(|pipeline| {
                        let _ = pipeline.set_state(gst::State::Null);
                    });
                }
            }
            MessageView::Warning(warning) => {
                let element = message.src().map_or_else(|| "pipeline".to_owned(), element_label);
                tracing::warn!(%element, message = %warning.error(), debug = ?warning.debug(), "encoder pipeline warning");
            }
            _ => {}
        }
        gst::BusSyncReply::Drop
    });
}
