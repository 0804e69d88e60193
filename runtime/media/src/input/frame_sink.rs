//! The end of every input's decode pipeline: converts decoded video to RGBA8 no larger
//! than a bound and publishes each frame to [`LiveInputs`] under the input's name.
//!
//! It runs on GStreamer's streaming threads, never on the render thread, and never
//! blocks them on the renderer: a published frame replaces the previous one. Frames are
//! handed over without a copy (the mapped GStreamer buffer backs the `Bytes`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use showrunner_assets::LiveInputs;

use crate::error::MediaError;

/// Largest width and height an input frame is scaled into (aspect kept), so a 4K feed
/// costs the renderer no more than a 1080p one.
pub const MAX_INPUT_WIDTH: u32 = 1920;
pub const MAX_INPUT_HEIGHT: u32 = 1080;

/// Frames a sink has published and refused (wrong size or stride).
#[derive(Default, Debug)]
pub struct FrameCounters {
    pub published: AtomicU64,
    pub refused: AtomicU64,
}

impl FrameCounters {
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// The elements of a video branch: `videoconvert ! videoscale ! capsfilter ! appsink`.
/// Link a decoder's raw video pad to `.first()`. `sync` paces frames to the pipeline
/// clock (files play at their own speed); a live feed uses `false` (show when decoded).
pub struct FrameSink {
    pub elements: [gst::Element; 4],
    pub counters: Arc<FrameCounters>,
    input: String,
}

impl FrameSink {
    pub fn new(name: &str, inputs: LiveInputs, sync: bool) -> Result<FrameSink, MediaError> {
        let make = |factory: &str| {
            gst::ElementFactory::make(factory).build().map_err(|e| MediaError::InputSetup { input: name.to_string(), reason: format!("cannot make {factory}: {e}") })
        };
        let convert = make("videoconvert")?;
        let scale = make("videoscale")?;
        let caps = gst::Caps::builder("video/x-raw")
            .field("format", "RGBA")
            .field("width", gst::IntRange::new(1, MAX_INPUT_WIDTH as i32))
            .field("height", gst::IntRange::new(1, MAX_INPUT_HEIGHT as i32))
            .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
            .build();
        let filter = gst::ElementFactory::make("capsfilter")
            .property("caps", &caps)
            .build()
            .map_err(|e| MediaError::InputSetup { input: name.to_string(), reason: format!("cannot make capsfilter: {e}") })?;
        let sink = gst_app::AppSink::builder().sync(sync).max_buffers(1).drop(true).enable_last_sample(false).build();
        let counters = Arc::new(FrameCounters::default());
        let seen = counters.clone();
        let input = name.to_string();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if publish(&input, &inputs, &sample).is_some() {
                        seen.published.fetch_add(1, Ordering::Relaxed);
                    } else {
                        seen.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        Ok(FrameSink { elements: [convert, scale, filter, sink.upcast()], counters, input: name.to_string() })
    }

    /// The element a decoder's video pad links to.
    pub fn first(&self) -> &gst::Element {
        &self.elements[0]
    }

    /// Adds the branch to `bin` and links it.
    pub fn add_to(&self, bin: &gst::Bin) -> Result<(), MediaError> {
        bin.add_many(&self.elements).map_err(|e| self.setup_error(format!("cannot add the video branch: {e}")))?;
        gst::Element::link_many(&self.elements).map_err(|e| self.setup_error(format!("cannot link the video branch: {e}")))?;
        Ok(())
    }

    /// Brings a branch added to a running pipeline to its state.
    pub fn sync_state(&self) -> Result<(), MediaError> {
        for element in &self.elements {
            element.sync_state_with_parent().map_err(|e| self.setup_error(format!("cannot start the video branch: {e}")))?;
        }
        Ok(())
    }

    fn setup_error(&self, reason: String) -> MediaError {
        MediaError::InputSetup { input: self.input.clone(), reason }
    }
}

/// Publishes one RGBA sample; `None` when its layout is not tightly packed RGBA.
fn publish(name: &str, inputs: &LiveInputs, sample: &gst::Sample) -> Option<u64> {
    let info = gst_video::VideoInfo::from_caps(sample.caps()?).ok()?;
    let (width, height) = (info.width(), info.height());
    if info.stride()[0] != (width * 4) as i32 {
        return None;
    }
    let buffer = sample.buffer_owned()?;
    let mapped = buffer.into_mapped_buffer_readable().ok()?;
    let bytes = Bytes::from_owner(mapped);
    let len = width as usize * height as usize * 4;
    if bytes.len() < len {
        return None;
    }
    inputs.publish(name, width, height, bytes.slice(..len)).ok()
}
