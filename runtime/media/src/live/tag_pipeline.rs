//! The small pipeline behind each live output: `appsrc` fed with the encoder's FLV tags
//! → whatever the output needs (`rtmp2sink`, or a demuxer, muxer and file for the
//! recorder). It owns pushing without blocking (a bounded byte queue: a full one
//! refuses the tag and the output resyncs at the next keyframe), noticing the first
//! bus error, and ending the stream cleanly. It must not retry: the output's thread
//! decides that.

use std::sync::Arc;
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use crate::MediaError;
use crate::pipeline::{BusWatch, install_bus_handler};

/// Bytes an output may have queued inside GStreamer before it refuses tags: about 4 s
/// at 6 Mbit/s, so a brief stall on the network loses nothing.
const MAX_QUEUED_BYTES: u64 = 3 * 1024 * 1024;

/// What happened to a pushed tag.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Push {
    Queued,
    /// The queue is full: the output is slower than the stream.
    Full,
}

pub(crate) struct TagPipeline {
    pipeline: gst::Pipeline,
    source: gst_app::AppSrc,
    watch: Arc<BusWatch>,
    label: String,
}

impl TagPipeline {
    /// `appsrc` with `caps`, linked by `link_downstream` (which adds and links the rest
    /// to the source element it is given). Left in NULL.
    pub(crate) fn build(
        label: &str,
        caps: &gst::Caps,
        link_downstream: impl FnOnce(&gst::Pipeline, &gst::Element) -> Result<(), MediaError>,
    ) -> Result<TagPipeline, MediaError> {
        let source = gst_app::AppSrc::builder()
            .name("tag-source")
            .caps(caps)
            .format(gst::Format::Time)
            .stream_type(gst_app::AppStreamType::Stream)
            .is_live(false)
            .block(false)
            .max_bytes(MAX_QUEUED_BYTES * 2)
            .build();
        let pipeline = gst::Pipeline::with_name(label);
        pipeline.add(&source).map_err(|e| step(label, "assemble the pipeline", e))?;
        link_downstream(&pipeline, source.upcast_ref())?;
        let watch = Arc::new(BusWatch::default());
        install_bus_handler(&pipeline, Arc::clone(&watch));
        Ok(TagPipeline { pipeline, source, watch, label: label.to_owned() })
    }

    pub(crate) fn start(&self) -> Result<(), MediaError> {
        match self.pipeline.set_state(gst::State::Playing) {
            Ok(_) => Ok(()),
            Err(err) => Err(self.failure().map_or_else(|| step(&self.label, "start", err), MediaError::Pipeline)),
        }
    }

    pub(crate) fn push(&self, buffer: gst::Buffer) -> Result<Push, MediaError> {
        if let Some(failure) = self.failure() {
            return Err(MediaError::Pipeline(failure));
        }
        if self.source.current_level_bytes() >= MAX_QUEUED_BYTES {
            return Ok(Push::Full);
        }
        self.source.push_buffer(buffer).map(|_| Push::Queued).map_err(|flow| {
            self.failure().map_or_else(|| step(&self.label, "accept a tag", format!("{flow:?}")), MediaError::Pipeline)
        })
    }

    pub(crate) fn failure(&self) -> Option<crate::PipelineFailure> {
        self.watch.failure()
    }

    /// An element by name, to read its properties (e.g. `rtmp2sink` statistics).
    pub(crate) fn element(&self, name: &str) -> Option<gst::Element> {
        self.pipeline.by_name(name)
    }

    /// Sends end-of-stream and waits up to `timeout` for it to reach the sink (the
    /// server is told the stream ended; a file gets its index).
    pub(crate) fn finish(&self, timeout: Duration) -> Result<(), MediaError> {
        if self.failure().is_none() {
            let _ = self.source.end_of_stream();
        }
        let state = self.watch.wait_until(timeout, |s| s.eos || s.failure.is_some());
        match (state.failure.clone(), state.eos) {
            (Some(failure), _) => Err(MediaError::Pipeline(failure)),
            (None, true) => Ok(()),
            (None, false) => Err(MediaError::FinishTimeout { target: self.label.clone(), timeout }),
        }
    }
}

impl Drop for TagPipeline {
    fn drop(&mut self) {
        if let Err(err) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(output = %self.label, ?err, "output pipeline did not stop cleanly");
        }
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}

pub(crate) fn step(label: &str, action: &'static str, reason: impl std::fmt::Display) -> MediaError {
    MediaError::PipelineStep { target: label.to_owned(), action, reason: reason.to_string() }
}

/// The buffers of a caps' `streamheader` field (FLV header, metadata, codec set-up).
pub(crate) fn stream_headers(caps: &gst::Caps) -> Vec<gst::Buffer> {
    let Some(structure) = caps.structure(0) else { return Vec::new() };
    match structure.get::<gst::Array>("streamheader") {
        Ok(array) => array.iter().filter_map(|v| v.get::<gst::Buffer>().ok()).collect(),
        Err(_) => Vec::new(),
    }
}
