//! The live encoder: program frames in, FLV tags out to the [`Fanout`]. One GStreamer
//! pipeline:
//!
//! ```text
//! video-source (appsrc, RGBx) → videoconvert → I420 → x264enc (zerolatency) → h264parse ─┐
//! audio-source (appsrc, S16LE: feed or silence) → voaacenc → aacparse ─────────────────┤
//!                                                              flvmux (streamable) → appsink → fan-out
//! ```
//!
//! It never blocks the render thread: the frame queue in front of x264 holds a few
//! frames, and a frame that finds it full is dropped and counted. Frame `n` is stamped
//! pts = n·den/num whatever the wall clock says, and audio is stamped to cover every
//! frame slot up to the last frame pushed, skipped slots included, so audio and video
//! never drift apart. That audio is taken from the programme's [`AudioFeed`] (an input's
//! decoded audio) as far as it has samples and padded with silence where it has not
//! (no feed, a stalled or ended input), so the track never has a gap and never waits.
//! It must not know destinations: those subscribe to the fan-out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use super::fanout::Fanout;
use super::outputs::LiveOutputs;
use super::quality::{QualityController, QualityPolicy};
use super::status::OutputEvent;
use super::flv::TagKind;
use crate::elements::{init, make, set_property};
use crate::error::PipelineFailure;
use crate::input::{AUDIO_FRAME_BYTES, AudioFeed};
use crate::pipeline::{BusWatch, Latency, frame_caps, h264_chain, install_bus_handler};
use crate::{EncoderSettings, MediaError};

/// Audio sample rate: FLV's highest for AAC.
pub const AUDIO_RATE: u32 = 44_100;
const AUDIO_CHANNELS: u32 = 2;
const AUDIO_BYTES_PER_SAMPLE: usize = AUDIO_FRAME_BYTES;
/// AAC bitrate of the audio track, bits per second.
const AUDIO_BITRATE: i32 = 128_000;
/// Zeros the silent audio buffers borrow (no allocation per frame).
static SILENCE: [u8; 16 * 1024] = [0; 16 * 1024];

/// Live encoder options beyond [`EncoderSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    /// Frames that may wait for x264; a frame pushed when this many are queued is
    /// dropped and counted (default 6: 200 ms at 30 fps, enough to ride out a slow
    /// frame on a busy machine; 48 MB at 1080p).
    pub queue_frames: u32,
    /// Step the bitrate down while the encoder falls behind and back up when it keeps
    /// up (`None`: a fixed bitrate). Default: on, [`QualityPolicy::default`].
    pub adapt: Option<QualityPolicy>,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings { queue_frames: 6, adapt: Some(QualityPolicy::default()) }
    }
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// The encoder is behind: the frame was dropped (counted in [`EncoderStats`]).
    Dropped,
}

/// Counters of the live encoder, all since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncoderStats {
    pub frames_queued: u64,
    pub frames_dropped: u64,
    /// Frames waiting for x264 now.
    pub queue_depth: u64,
    /// Video tags the muxer emitted (encoded frames).
    pub frames_encoded: u64,
    pub bytes_out: u64,
    pub bitrate_kbps: u32,
    /// Audio sample frames taken from the programme's [`AudioFeed`] (the rest of the
    /// track is silence).
    pub audio_samples_fed: u64,
    /// Audio sample frames of silence in the track (no feed, or the feed ran short).
    pub audio_samples_silent: u64,
    /// The pipeline error that stopped the encoder, if any.
    pub failure: Option<PipelineFailure>,
}

#[derive(Debug, Default)]
struct OutputCounters {
    frames_encoded: AtomicU64,
    bytes_out: AtomicU64,
}

/// A running live encoder. Dropping it stops the pipeline and ends every feed.
pub struct LiveEncoder {
    pipeline: gst::Pipeline,
    video: gst_app::AppSrc,
    audio: gst_app::AppSrc,
    encoder: gst::Element,
    watch: Arc<BusWatch>,
    fanout: Arc<Fanout>,
    outputs: LiveOutputs,
    counters: Arc<OutputCounters>,
    settings: EncoderSettings,
    live: LiveSettings,
    quality: Option<QualityController>,
    last_index: Option<u64>,
    audio_samples: u64,
    audio_feed: Option<AudioFeed>,
    audio_samples_fed: u64,
    frames_queued: u64,
    frames_dropped: u64,
}

impl LiveEncoder {
    /// Builds and starts the pipeline; frames may be pushed at once.
    pub fn start(settings: &EncoderSettings, live: LiveSettings) -> Result<LiveEncoder, MediaError> {
        init()?;
        settings.validate()?;
        let step = |action: &'static str| {
            move |e: gst::glib::BoolError| MediaError::PipelineStep {
                target: "live encoder".into(),
                action,
                reason: e.to_string(),
            }
        };
        let video = gst_app::AppSrc::builder()
            .name("video-source")
            .caps(&frame_caps(settings).map_err(step("describe the frame format"))?)
            .format(gst::Format::Time)
            .stream_type(gst_app::AppStreamType::Stream)
            .is_live(false)
            .block(false)
            .build();
        let audio_caps = gst::Caps::builder("audio/x-raw")
            .field("format", "S16LE")
            .field("layout", "interleaved")
            .field("rate", AUDIO_RATE as i32)
            .field("channels", AUDIO_CHANNELS as i32)
            .field("channel-mask", gst::Bitmask::new(0x3))
            .build();
        let audio = gst_app::AppSrc::builder()
            .name("audio-source")
            .caps(&audio_caps)
            .format(gst::Format::Time)
            .stream_type(gst_app::AppStreamType::Stream)
            .is_live(false)
            .block(false)
            .build();
        let [convert, encoder_format, encoder, parser] = h264_chain(settings, Latency::Live)?;
        let aac = make("voaacenc", "audio-encoder")?;
        set_property(&aac, "bitrate", AUDIO_BITRATE)?;
        let aac_parser = make("aacparse", "aac-parser")?;
        let muxer = make("flvmux", "flv-muxer")?;
        set_property(&muxer, "streamable", true)?;
        let sink = gst_app::AppSink::builder().name("flv-sink").sync(false).build();

        let pipeline = gst::Pipeline::with_name("showrunner-live-encoder");
        let video_chain = [video.upcast_ref::<gst::Element>(), &convert, &encoder_format, &encoder, &parser, &muxer];
        let audio_chain = [audio.upcast_ref::<gst::Element>(), &aac, &aac_parser, &muxer];
        pipeline
            .add_many([&video_chain[..5], &audio_chain[..3], &[&muxer, sink.upcast_ref()]].concat())
            .map_err(step("assemble the pipeline"))?;
        gst::Element::link_many(video_chain).map_err(step("link the video chain"))?;
        gst::Element::link_many(audio_chain).map_err(step("link the audio chain"))?;
        muxer.link(&sink).map_err(step("link the muxer to its sink"))?;

        let fanout = Arc::new(Fanout::default());
        fanout.set_keyframe_request(keyframe_request(&encoder));
        let counters = Arc::new(OutputCounters::default());
        sink.set_callbacks(muxed_tag_callbacks(Arc::clone(&fanout), Arc::clone(&counters)));
        let watch = Arc::new(BusWatch::default());
        install_bus_handler(&pipeline, Arc::clone(&watch));
        let encoder_ = LiveEncoder {
            pipeline,
            video,
            audio,
            encoder,
            watch,
            outputs: LiveOutputs::new(Arc::clone(&fanout)),
            fanout,
            counters,
            settings: settings.clone(),
            quality: live.adapt.map(|policy| QualityController::new(policy, settings.bitrate_kbps)),
            live,
            last_index: None,
            audio_samples: 0,
            audio_feed: None,
            audio_samples_fed: 0,
            frames_queued: 0,
            frames_dropped: 0,
        };
        if let Err(err) = encoder_.pipeline.set_state(gst::State::Playing) {
            return Err(encoder_.failure_or(MediaError::PipelineStep {
                target: "live encoder".into(),
                action: "start",
                reason: err.to_string(),
            }));
        }
        Ok(encoder_)
    }

    pub fn settings(&self) -> &EncoderSettings {
        &self.settings
    }

    /// Queues frame `index` (opaque RGBx, `width * 4` bytes a row) without copying it,
    /// or drops it when the encoder is behind. Indices must increase; gaps are allowed
    /// (a skipped slot). Never blocks.
    pub fn push_frame<T: AsRef<[u8]> + Send + 'static>(&mut self, index: u64, rgbx: T) -> Result<Pushed, MediaError> {
        if let Some(failure) = self.watch.failure() {
            return Err(MediaError::Pipeline(failure));
        }
        let expected = self.settings.frame_bytes();
        if rgbx.as_ref().len() != expected {
            let (width, height) = (self.settings.width, self.settings.height);
            return Err(MediaError::FrameSize { expected, actual: rgbx.as_ref().len(), width, height });
        }
        if let Some(last) = self.last_index
            && index <= last
        {
            return Err(MediaError::FrameOrder { index, last });
        }
        let overflow = || MediaError::TimestampOverflow { frame: index };
        let pts = self.settings.frame_pts_nanos(index).ok_or_else(overflow)?;
        let next_pts = self.settings.frame_pts_nanos(index.checked_add(1).ok_or_else(overflow)?).ok_or_else(overflow)?;
        self.last_index = Some(index);
        self.push_audio_until(next_pts)?;
        let depth = self.queue_depth();
        let limit = u64::from(self.live.queue_frames.max(1));
        self.adapt(depth + 1 >= limit);
        if depth >= limit {
            self.frames_dropped += 1;
            return Ok(Pushed::Dropped);
        }
        let mut buffer = gst::Buffer::from_slice(rgbx);
        if let Some(b) = buffer.get_mut() {
            b.set_pts(gst::ClockTime::from_nseconds(pts));
            b.set_duration(gst::ClockTime::from_nseconds(next_pts - pts));
        }
        self.video.push_buffer(buffer).map_err(|flow| self.flow_error("accept a frame", flow))?;
        self.frames_queued += 1;
        Ok(Pushed::Queued)
    }

    /// Lets the quality controller see this frame; applies and reports its step.
    fn adapt(&mut self, behind: bool) {
        let Some(change) = self.quality.as_mut().and_then(|q| q.on_frame(behind, std::time::Instant::now())) else { return };
        match set_property(&self.encoder, "bitrate", change.to_kbps) {
            Ok(()) => {
                tracing::warn!(from_kbps = change.from_kbps, to_kbps = change.to_kbps, reason = change.reason, "video bitrate changed");
                self.settings.bitrate_kbps = change.to_kbps;
                self.outputs.send_event(OutputEvent::QualityChanged(change));
            }
            Err(err) => tracing::error!(%err, "cannot change the video bitrate"),
        }
    }

    /// Takes the programme audio from `feed` from the next frame on (an input's
    /// decoded audio), or goes back to silence with `None`. The track's timing does
    /// not change: only what its samples hold.
    pub fn set_audio_source(&mut self, feed: Option<AudioFeed>) {
        self.audio_feed = feed;
    }

    /// Pushes audio from where the track ends up to `until_nanos`: the feed's samples
    /// as far as it has them, then silence.
    fn push_audio_until(&mut self, until_nanos: u64) -> Result<(), MediaError> {
        let until = samples_at(until_nanos);
        if let Some(feed) = &self.audio_feed
            && self.audio_samples < until
        {
            let wanted = (until - self.audio_samples) as usize;
            let mut samples = Vec::with_capacity(wanted * AUDIO_BYTES_PER_SAMPLE);
            let count = feed.take(wanted, &mut samples) as u64;
            if count > 0 {
                self.push_audio_buffer(gst::Buffer::from_mut_slice(samples), count)?;
                self.audio_samples_fed += count;
            }
        }
        while self.audio_samples < until {
            let max_chunk = (SILENCE.len() / AUDIO_BYTES_PER_SAMPLE) as u64;
            let count = (until - self.audio_samples).min(max_chunk);
            let bytes = count as usize * AUDIO_BYTES_PER_SAMPLE;
            self.push_audio_buffer(gst::Buffer::from_slice(&SILENCE[..bytes]), count)?;
        }
        Ok(())
    }

    /// Stamps `count` samples at the end of the track and pushes them.
    fn push_audio_buffer(&mut self, mut buffer: gst::Buffer, count: u64) -> Result<(), MediaError> {
        if let Some(b) = buffer.get_mut() {
            let start = nanos_at(self.audio_samples);
            b.set_pts(gst::ClockTime::from_nseconds(start));
            b.set_duration(gst::ClockTime::from_nseconds(nanos_at(self.audio_samples + count) - start));
        }
        self.audio.push_buffer(buffer).map_err(|flow| self.flow_error("accept audio", flow))?;
        self.audio_samples += count;
        Ok(())
    }

    /// The outputs (RTMP destinations, recordings) of this encoder: a shareable handle.
    pub fn outputs(&self) -> LiveOutputs {
        self.outputs.clone()
    }

    /// Changes the video bitrate while live (x264 applies it from the next frame); it
    /// becomes the target quality adaptation steps down from and back up to.
    pub fn set_bitrate(&mut self, kbps: u32) -> Result<(), MediaError> {
        let mut checked = self.settings.clone();
        checked.bitrate_kbps = kbps;
        checked.validate()?;
        set_property(&self.encoder, "bitrate", kbps)?;
        self.settings.bitrate_kbps = kbps;
        if let Some(quality) = &mut self.quality {
            quality.retarget(kbps);
        }
        Ok(())
    }

    /// Frames waiting for x264.
    fn queue_depth(&self) -> u64 {
        self.video.current_level_bytes() / (self.settings.frame_bytes() as u64).max(1)
    }

    pub fn stats(&self) -> EncoderStats {
        EncoderStats {
            frames_queued: self.frames_queued,
            frames_dropped: self.frames_dropped,
            queue_depth: self.queue_depth(),
            frames_encoded: self.counters.frames_encoded.load(Ordering::Relaxed),
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
            bitrate_kbps: self.settings.bitrate_kbps,
            audio_samples_fed: self.audio_samples_fed,
            audio_samples_silent: self.audio_samples - self.audio_samples_fed,
            failure: self.watch.failure(),
        }
    }

    /// Ends the stream: every queued frame is encoded and delivered to the feeds (a
    /// recorder then closes its file), waiting at most `timeout`.
    pub fn finish(self, timeout: Duration) -> Result<EncoderStats, MediaError> {
        let _ = self.video.end_of_stream();
        let _ = self.audio.end_of_stream();
        let state = self.watch.wait_until(timeout, |s| s.eos || s.failure.is_some());
        let outcome = match (state.failure.clone(), state.eos) {
            (Some(failure), _) => Err(MediaError::Pipeline(failure)),
            (None, true) => Ok(()),
            (None, false) => Err(MediaError::FinishTimeout { target: "live encoder".into(), timeout }),
        };
        drop(state);
        let stats = self.stats();
        outcome.map(|()| stats)
    }

    fn flow_error(&self, action: &'static str, flow: gst::FlowError) -> MediaError {
        self.failure_or(MediaError::PipelineStep { target: "live encoder".into(), action, reason: format!("{flow:?}") })
    }

    fn failure_or(&self, fallback: MediaError) -> MediaError {
        let state = self.watch.wait_until(Duration::from_millis(500), |s| s.failure.is_some());
        state.failure.clone().map_or(fallback, MediaError::Pipeline)
    }
}

impl Drop for LiveEncoder {
    fn drop(&mut self) {
        if let Err(err) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(?err, "live encoder pipeline did not stop cleanly");
        }
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
        self.fanout.end();
    }
}

/// Asks x264 for a keyframe (with SPS/PPS) on its next frame, through an upstream
/// force-key-unit event on its source pad.
fn keyframe_request(encoder: &gst::Element) -> super::fanout::KeyframeRequest {
    let pad = encoder.static_pad("src");
    Arc::new(move || {
        let event = gstreamer_video::UpstreamForceKeyUnitEvent::builder().all_headers(true).build();
        if !pad.as_ref().is_some_and(|pad| pad.send_event(event)) {
            tracing::debug!("the video encoder did not take a keyframe request");
        }
    })
}

/// Audio samples in the first `nanos` of the stream.
fn samples_at(nanos: u64) -> u64 {
    (u128::from(nanos) * u128::from(AUDIO_RATE) / 1_000_000_000) as u64
}

/// Time of audio sample `samples`.
fn nanos_at(samples: u64) -> u64 {
    (u128::from(samples) * 1_000_000_000 / u128::from(AUDIO_RATE)) as u64
}

/// Hands each muxed tag to the fan-out; header tags travel in the caps' `streamheader`
/// instead, so they are not repeated mid-stream.
fn muxed_tag_callbacks(fanout: Arc<Fanout>, counters: Arc<OutputCounters>) -> gst_app::AppSinkCallbacks {
    let ending = Arc::clone(&fanout);
    gst_app::AppSinkCallbacks::builder()
        .new_sample(move |sink| {
            let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
            let Some(buffer) = sample.buffer_owned() else { return Ok(gst::FlowSuccess::Ok) };
            if let Some(caps) = sample.caps_owned() {
                fanout.set_caps_once(caps);
            }
            if buffer.flags().contains(gst::BufferFlags::HEADER) {
                return Ok(gst::FlowSuccess::Ok);
            }
            counters.bytes_out.fetch_add(buffer.size() as u64, Ordering::Relaxed);
            if buffer.map_readable().is_ok_and(|m| matches!(TagKind::of(m.as_slice()), TagKind::Video { .. })) {
                counters.frames_encoded.fetch_add(1, Ordering::Relaxed);
            }
            fanout.publish(&buffer);
            Ok(gst::FlowSuccess::Ok)
        })
        .eos(move |_| ending.end())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_time_and_samples_round_trip_without_drift() {
        // A day at 30000/1001: the audio covering frame n ends exactly where frame n+1 starts.
        let settings = EncoderSettings::new(64, 64, 30_000, 1001);
        let day = 30 * 3600 * 24;
        let end = settings.frame_pts_nanos(day).unwrap();
        let samples = samples_at(end);
        assert!(nanos_at(samples) <= end && end - nanos_at(samples) < 1_000_000_000 / u64::from(AUDIO_RATE) + 1);
        assert_eq!(samples, (u128::from(day) * 1001 * 44_100 / 30_000) as u64);
    }
}
