//! Offline render speed: a show file through the engine and the compositor, as
//! `showrunner render SHOW.toml --out out.mp4` runs it, with the frames encoded by
//! `FileEncoder` (H.264, veryfast) into a temporary MP4 or dropped: composited over
//! the encoder's black background (opaque pixels go to the encoder without a copy),
//! with frame n+1 ticked and recorded while frame n is drawn and read back.
//!
//! The clock runs from the first frame to the end of `FileEncoder::finish` (the file
//! complete on disk), as the CLI reports it; loading the show and opening the
//! renderer are left out. Must not: write anywhere but a temporary folder.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_engine::{EngineEvent, EngineOptions, LoadedShow, PoolConfig, Priority};
use showrunner_media::{EncoderSettings, FileEncoder};
use showrunner_render::compose::MAX_IN_FLIGHT;
use showrunner_render::{Compositor, Renderer};
use showrunner_wasm::Host;

use crate::Result;

pub struct OfflineRun {
    pub frames: u64,
    pub size: (u32, u32),
    pub video: Duration,
    pub wall: Duration,
    /// Mean per frame, ms: engine.frame, compose (submit, and receive of the frame
    /// before), FileEncoder::push_opaque_frame.
    pub tick_ms: f64,
    pub compose_ms: f64,
    pub push_ms: f64,
    /// Bytes of the finished MP4 (0 without the encoder).
    pub file_bytes: u64,
    pub faults: usize,
}

impl OfflineRun {
    /// Seconds of video per second of wall time.
    pub fn realtime(&self) -> f64 {
        self.video.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Hands a frame to the encoder without copying its pixels, or drops it.
fn push_frame(encoder: Option<&mut FileEncoder>, frame: showrunner_render::Frame) -> Result<()> {
    match encoder {
        Some(encoder) => encoder.push_opaque_frame(frame.pixels).map_err(|e| e.to_string()),
        None => {
            black_box(&frame.pixels);
            Ok(())
        }
    }
}

/// Renders `show` (at most `max_frames` frames), encoding when `encode` is set.
pub fn render(show: &Path, host: &Arc<Host>, encode: bool, max_frames: u64) -> Result<OfflineRun> {
    let options = EngineOptions { pool: PoolConfig { workers: PoolConfig::default_workers(), ..PoolConfig::default() }, priority: Priority::Offline, ..EngineOptions::default() };
    let mut loaded = LoadedShow::open(show, host, options).map_err(|e| e.to_string())?;
    let frames = loaded.frames().min(max_frames);
    let spec = loaded.engine.spec().clone();
    let (width, height) = (spec.width, spec.height);
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let settings = EncoderSettings::new(width, height, spec.fps_num, spec.fps_den);
    let mut encoder = if encode {
        showrunner_media::probe_elements().map_err(|e| e.to_string())?;
        Some(FileEncoder::create(&dir.path().join("demo-show.mp4"), &settings).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let mut compositor = Compositor::new(Renderer::new().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    // As `showrunner render` to a video file: composited over the encoder's background
    // (opaque pixels go to the encoder as they are), one frame in flight.
    compositor.set_background(Some(settings.background));

    let (mut tick, mut compose, mut push) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut faults = 0;
    let started = Instant::now();
    for n in 0..frames {
        let t0 = Instant::now();
        loaded.timeline.apply_due(&mut loaded.engine, n);
        let plan = loaded.engine.frame(n).map_err(|e| format!("frame {n}: {e}"))?;
        faults += loaded
            .engine
            .drain_events()
            .iter()
            .filter(|e| matches!(e, EngineEvent::LayerFault { .. } | EngineEvent::CueFailed { .. } | EngineEvent::TransitionFinished { fault: Some(_), .. }))
            .count();
        let t1 = Instant::now();
        compositor.submit(&plan, width, height).map_err(|e| format!("compose frame {n}: {e}"))?;
        let ready = if compositor.in_flight() >= MAX_IN_FLIGHT { compositor.receive().map_err(|e| format!("compose frame {n}: {e}"))? } else { None };
        let t2 = Instant::now();
        if let Some(frame) = ready {
            push_frame(encoder.as_mut(), frame)?;
        }
        let t3 = Instant::now();
        (tick, compose, push) = (tick + (t1 - t0), compose + (t2 - t1), push + (t3 - t2));
    }
    let t2 = Instant::now();
    while let Some(frame) = compositor.receive().map_err(|e| format!("compose: {e}"))? {
        push_frame(encoder.as_mut(), frame)?;
    }
    push += t2.elapsed();
    let file_bytes = match encoder {
        Some(encoder) => encoder.finish().map_err(|e| e.to_string())?.file_size_bytes,
        None => 0,
    };
    let wall = started.elapsed();
    let per_frame = |d: Duration| d.as_secs_f64() * 1e3 / frames.max(1) as f64;
    Ok(OfflineRun {
        frames,
        size: (width, height),
        video: Duration::from_secs_f64(frames as f64 * f64::from(spec.fps_den) / f64::from(spec.fps_num.max(1))),
        wall,
        tick_ms: per_frame(tick),
        compose_ms: per_frame(compose),
        push_ms: per_frame(push),
        file_bytes,
        faults,
    })
}
