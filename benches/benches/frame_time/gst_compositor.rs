//! The reference: GStreamer's own `compositor` element blending pre-rendered RGBA
//! layers with alpha, as a GStreamer-based playout would.
//!
//! Pipeline: one `appsrc` per layer (non-live, each pushing the same pre-rendered
//! straight-alpha RGBA frame with fresh timestamps; the pixels are shared, not
//! copied) → `compositor` (given background, layer placed by `xpos`/`ypos`)
//! → `video/x-raw,format=RGBA` → `fakesink sync=false`. A probe on the sink's pad
//! stamps each output frame; the time per frame is taken from the first output
//! frame to the last, so start-up and negotiation are left out.
//!
//! Must not: time anything of showrunner's.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app::{AppSrc, AppSrcCallbacks};

use crate::Result;

/// One pre-rendered layer: straight-alpha RGBA8 pixels and where it goes.
pub struct Picture {
    pub pixels: Vec<u8>,
    pub offset: (i32, i32),
}

pub struct GstTiming {
    pub frames: usize,
    /// Mean per output frame from the first to the last, ms.
    pub per_frame_ms: f64,
    /// Median and p95 of the gaps between output frames, ms.
    pub gap_p50_ms: f64,
    pub gap_p95_ms: f64,
    pub version: String,
}

fn element(factory: &str) -> Result<gst::Element> {
    gst::ElementFactory::make(factory).build().map_err(|e| format!("GStreamer element `{factory}` is missing ({e}): install gstreamer1.0-plugins-base"))
}

/// Blends `layers` (each `width`×`height`) `frames` times over `background` (a
/// value of the compositor's `background` property: `transparent` keeps the alpha
/// as ours does, `black` gives an opaque frame ready for an encoder); `frames` ≥ 2.
pub fn blend(layers: &[Picture], width: u32, height: u32, fps: u32, frames: u64, background: &str) -> Result<GstTiming> {
    gst::init().map_err(|e| format!("GStreamer does not start: {e}"))?;
    let caps = gst::Caps::builder("video/x-raw")
        .field("format", "RGBA")
        .field("width", width as i32)
        .field("height", height as i32)
        .field("framerate", gst::Fraction::new(fps as i32, 1))
        .build();
    let pipeline = gst::Pipeline::new();
    let compositor = element("compositor")?;
    compositor.set_property_from_str("background", background);
    let filter = element("capsfilter")?;
    filter.set_property("caps", &caps);
    let sink = element("fakesink")?;
    sink.set_property("sync", false);
    pipeline.add_many([&compositor, &filter, &sink]).map_err(|e| e.to_string())?;
    gst::Element::link_many([&compositor, &filter, &sink]).map_err(|e| format!("linking compositor → fakesink: {e}"))?;

    let frame_ns = 1_000_000_000 / u64::from(fps.max(1));
    for (i, layer) in layers.iter().enumerate() {
        let template = gst::Buffer::from_slice(layer.pixels.clone());
        let mut pushed = 0u64;
        let callbacks = AppSrcCallbacks::builder()
            .need_data(move |src, _| {
                if pushed == frames {
                    let _ = src.end_of_stream();
                    return;
                }
                let mut buffer = template.copy();
                let meta = buffer.make_mut();
                meta.set_pts(gst::ClockTime::from_nseconds(pushed * frame_ns));
                meta.set_duration(gst::ClockTime::from_nseconds(frame_ns));
                pushed += 1;
                let _ = src.push_buffer(buffer);
            })
            .build();
        let src = AppSrc::builder().caps(&caps).format(gst::Format::Time).is_live(false).max_bytes(2 * layer.pixels.len() as u64).callbacks(callbacks).build();
        pipeline.add(&src).map_err(|e| e.to_string())?;
        let pad = compositor.request_pad_simple("sink_%u").ok_or("compositor gave no sink pad")?;
        pad.set_property("xpos", layer.offset.0);
        pad.set_property("ypos", layer.offset.1);
        let src_pad = src.static_pad("src").ok_or("appsrc has no src pad")?;
        src_pad.link(&pad).map_err(|e| format!("linking appsrc {i} → compositor: {e:?}"))?;
    }

    let stamps: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::with_capacity(frames as usize)));
    let sink_pad = sink.static_pad("sink").ok_or("fakesink has no sink pad")?;
    let probe_stamps = stamps.clone();
    sink_pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        probe_stamps.lock().unwrap_or_else(PoisonError::into_inner).push(Instant::now());
        gst::PadProbeReturn::Ok
    });

    pipeline.set_state(gst::State::Playing).map_err(|e| format!("GStreamer pipeline does not start: {e}"))?;
    let bus = pipeline.bus().ok_or("pipeline has no bus")?;
    let timeout = gst::ClockTime::from_seconds(120);
    let message = bus.timed_pop_filtered(timeout, &[gst::MessageType::Eos, gst::MessageType::Error]);
    let _ = pipeline.set_state(gst::State::Null);
    match message.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => {}
        Some(gst::MessageView::Error(e)) => return Err(format!("GStreamer compositor pipeline failed: {} ({:?})", e.error(), e.debug())),
        _ => return Err("GStreamer compositor pipeline did not finish within 120 s".into()),
    }

    let stamps = stamps.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if stamps.len() < 2 {
        return Err(format!("GStreamer compositor put out {} frames, expected {frames}", stamps.len()));
    }
    let gaps: Vec<f64> = stamps.windows(2).map(|w| ms(w[1] - w[0])).collect();
    let span = stamps[stamps.len() - 1] - stamps[0];
    Ok(GstTiming {
        frames: stamps.len(),
        per_frame_ms: ms(span) / (stamps.len() - 1) as f64,
        gap_p50_ms: crate::stages::percentile(&gaps, 0.50),
        gap_p95_ms: crate::stages::percentile(&gaps, 0.95),
        version: gst::version_string().to_string(),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
