//! The decode pipeline of one publish: the RTMP video (and, when the input feeds the
//! programme audio, audio) messages rewritten as an FLV stream (a file header, then one
//! tag per message with the RTMP timestamp and the message body as received) and
//! decoded by `appsrc ! flvdemux ! decodebin ! FrameSink` into [`LiveInputs`], and
//! `flvdemux ! decodebin ! audio branch` into an [`AudioFeed`].
//!
//! Pushing never blocks the connection thread: the `appsrc` queue is bounded and, when
//! the decoder falls behind, tags are dropped (counted) until the next keyframe so the
//! picture never shows a broken frame. It must not read sockets or know stream keys.

use std::sync::Arc;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use showrunner_assets::LiveInputs;

use crate::MediaError;
use crate::live::flv::{TAG_AUDIO, TAG_VIDEO, starts_keyframe, write_tag};
use crate::error::PipelineFailure;
use crate::input::audio_branch::link_audio_feed;
use crate::input::{AudioFeed, FrameCounters, FrameSink};
use crate::pipeline::{BusWatch, install_bus_handler};

/// Bytes of FLV queued for the decoder before tags are dropped: seconds of video at
/// any sane ingest bitrate, so only a stalled decoder loses frames.
const MAX_QUEUED_BYTES: u64 = 4 * 1024 * 1024;
/// FLV file header (flags byte 4: video only), followed by the first previous-tag-size (0).
const FLV_HEADER: [u8; 13] = [b'F', b'L', b'V', 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0];
/// FLV header flags: audio and video.
const FLV_AUDIO_VIDEO: u8 = 0x05;

/// The largest body an FLV tag can declare (24-bit size).
const MAX_TAG_BODY: usize = 0xFF_FFFF;

/// What happened to one video message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// Dropped: the decoder is behind, or waiting for a keyframe after that.
    Dropped,
}

/// A running decode pipeline for one input.
pub(crate) struct Decoder {
    pipeline: gst::Pipeline,
    source: gst_app::AppSrc,
    watch: Arc<BusWatch>,
    counters: Arc<FrameCounters>,
    waiting_for_keyframe: bool,
    /// Whether audio messages are decoded (the input feeds the programme audio).
    audio: bool,
    label: String,
}

impl Decoder {
    /// Builds and starts the pipeline publishing to `input`; with `audio`, the feed's
    /// audio is decoded into it too.
    pub(crate) fn start(input: &str, inputs: LiveInputs, audio: Option<AudioFeed>) -> Result<Decoder, MediaError> {
        let label = format!("ingest-{input}");
        let setup = |reason: String| MediaError::InputSetup { input: input.to_owned(), reason };
        let caps = gst::Caps::builder("video/x-flv").build();
        let source = gst_app::AppSrc::builder()
            .caps(&caps)
            .is_live(true)
            .format(gst::Format::Time)
            .do_timestamp(false)
            .stream_type(gst_app::AppStreamType::Stream)
            .block(false)
            .max_bytes(MAX_QUEUED_BYTES * 2)
            .build();
        let make = |factory: &str| {
            gst::ElementFactory::make(factory).build().map_err(|e| setup(format!("cannot make {factory}: {e}")))
        };
        let demuxer = make("flvdemux")?;
        let decodebin = make("decodebin")?;
        let sink = FrameSink::new(input, inputs, false)?;
        let counters = Arc::clone(&sink.counters);

        let pipeline = gst::Pipeline::with_name(&label);
        pipeline
            .add_many([source.upcast_ref::<gst::Element>(), &demuxer, &decodebin])
            .map_err(|e| setup(format!("cannot assemble the decode pipeline: {e}")))?;
        sink.add_to(pipeline.upcast_ref())?;
        source.link(&demuxer).map_err(|e| setup(format!("cannot link appsrc to flvdemux: {e}")))?;

        let decoder_sink = decodebin.static_pad("sink");
        let with_audio = audio.is_some();
        let pipeline_weak = pipeline.downgrade();
        demuxer.connect_pad_added(move |_, pad| {
            if pad.name().starts_with("video")
                && let Some(target) = decoder_sink.as_ref().filter(|p| !p.is_linked())
                && let Err(err) = pad.link(target)
            {
                tracing::warn!(?err, "cannot link the FLV video pad to the decoder");
            }
            if pad.name().starts_with("audio")
                && let (Some(feed), Some(pipeline)) = (audio.clone(), pipeline_weak.upgrade())
                && let Err(err) = decode_audio(&pipeline, pad, feed)
            {
                tracing::warn!(%err, "cannot decode the ingest audio; the programme audio stays silent");
            }
        });
        let frames_in = sink.first().static_pad("sink");
        decodebin.connect_pad_added(move |_, pad| {
            let is_video = pad
                .current_caps()
                .or_else(|| Some(pad.query_caps(None)))
                .is_some_and(|caps| caps.structure(0).is_some_and(|s| s.name().starts_with("video/")));
            if is_video
                && let Some(target) = frames_in.as_ref().filter(|p| !p.is_linked())
                && let Err(err) = pad.link(target)
            {
                tracing::warn!(?err, "cannot link the decoded video to the frame sink");
            }
        });

        let watch = Arc::new(BusWatch::default());
        install_bus_handler(&pipeline, Arc::clone(&watch));
        let decoder = Decoder { pipeline, source, watch, counters, waiting_for_keyframe: true, audio: with_audio, label };
        decoder.pipeline.set_state(gst::State::Playing).map_err(|e| {
            setup(decoder.failure().map_or_else(|| format!("cannot start decoding: {e}"), |f| f.to_string()))
        })?;
        decoder
            .source
            .push_buffer(gst::Buffer::from_slice(flv_header(with_audio)))
            .map_err(|flow| setup(format!("the decoder refused the FLV header: {flow:?}")))?;
        Ok(decoder)
    }

    /// Frames this decoder has published.
    pub(crate) fn counters(&self) -> Arc<FrameCounters> {
        Arc::clone(&self.counters)
    }

    /// The first error the pipeline reported (a corrupt stream, a missing decoder).
    pub(crate) fn failure(&self) -> Option<PipelineFailure> {
        self.watch.failure()
    }

    /// Queues one RTMP video message (`data` starts with the FLV video tag body) with
    /// its RTMP timestamp in milliseconds.
    pub(crate) fn push_video(&mut self, timestamp_ms: u32, data: &[u8]) -> Result<Pushed, PipelineFailure> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        let Some(&first) = data.first() else { return Ok(Pushed::Dropped) };
        if data.len() > MAX_TAG_BODY {
            return Ok(Pushed::Dropped);
        }
        let keyframe = starts_keyframe(first);
        if self.source.current_level_bytes() >= MAX_QUEUED_BYTES {
            self.waiting_for_keyframe = true;
            return Ok(Pushed::Dropped);
        }
        if self.waiting_for_keyframe && !keyframe {
            return Ok(Pushed::Dropped);
        }
        self.waiting_for_keyframe = false;
        self.push_tag(TAG_VIDEO, timestamp_ms, data)
    }

    /// Queues one RTMP audio message (the FLV audio tag body) when this publish's audio
    /// is decoded; dropped otherwise, and while the decoder is behind.
    pub(crate) fn push_audio(&mut self, timestamp_ms: u32, data: &[u8]) -> Result<Pushed, PipelineFailure> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        if !self.audio || data.is_empty() || data.len() > MAX_TAG_BODY || self.waiting_for_keyframe {
            return Ok(Pushed::Dropped);
        }
        if self.source.current_level_bytes() >= MAX_QUEUED_BYTES {
            return Ok(Pushed::Dropped);
        }
        self.push_tag(TAG_AUDIO, timestamp_ms, data)
    }

    fn push_tag(&self, kind: u8, timestamp_ms: u32, body: &[u8]) -> Result<Pushed, PipelineFailure> {
        match self.source.push_buffer(gst::Buffer::from_mut_slice(write_tag(kind, timestamp_ms, body))) {
            Ok(_) => Ok(Pushed::Queued),
            Err(flow) => Err(self.failure().unwrap_or_else(|| PipelineFailure {
                element: format!("{} (appsrc)", self.label),
                message: format!("the decoder stopped accepting data: {flow:?}"),
                debug: String::new(),
            })),
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        if let Err(err) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(pipeline = %self.label, ?err, "ingest decode pipeline did not stop cleanly");
        }
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}

/// The FLV file header: video only, or audio and video.
fn flv_header(audio: bool) -> [u8; 13] {
    let mut header = FLV_HEADER;
    if audio {
        header[4] = FLV_AUDIO_VIDEO;
    }
    header
}

/// Decodes the demuxer's audio pad (`decodebin`, added while playing) into `feed`.
fn decode_audio(pipeline: &gst::Pipeline, pad: &gst::Pad, feed: AudioFeed) -> Result<(), String> {
    let decodebin = gst::ElementFactory::make("decodebin").build().map_err(|e| format!("cannot make decodebin: {e}"))?;
    pipeline.add(&decodebin).map_err(|e| format!("cannot add the audio decoder: {e}"))?;
    decodebin.sync_state_with_parent().map_err(|e| format!("cannot start the audio decoder: {e}"))?;
    let weak = pipeline.downgrade();
    decodebin.connect_pad_added(move |_, decoded| {
        if let Some(pipeline) = weak.upgrade()
            && let Err(err) = link_audio_feed(&pipeline, decoded, feed.clone(), false)
        {
            tracing::warn!(%err, "cannot feed the ingest audio to the programme");
        }
    });
    let sink = decodebin.static_pad("sink").ok_or("decodebin has no sink pad")?;
    pad.link(&sink).map_err(|e| format!("cannot link the FLV audio pad: {e:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flv_header_says_whether_audio_follows() {
        assert_eq!(&flv_header(false)[..3], b"FLV");
        assert_eq!(flv_header(false)[4], 0x01);
        assert_eq!(flv_header(true)[4], 0x05);
    }
}
