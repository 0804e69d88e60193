//! `showrunner render MODULE.wasm|SHOW.toml --out out.png|frames/%05d.png|out.mp4`:
//! renders a module or a show file offline, as fast as the machine allows, through
//! the same engine, compositor and clock as a live show, so the pixels are the same.

// Module-file errors carry the loader's full reason (path, what failed); they travel
// only on the failure path.
#![allow(clippy::result_large_err)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use showrunner_engine::{EngineOptions, Priority};
use showrunner_media::{EncoderSettings, X264Preset};
use showrunner_render::{Compositor, Renderer};
use showrunner_wasm::Host;

use super::EXIT_FAULTED;
use super::render_out::FrameSink;
use super::source::{self, SourceArgs, fps_label, load_assets, parse_preset, report, say_on};

#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Where to write: out.png (the last frame), frames/%05d.png (every frame), out.mp4 or out.mkv.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Video bitrate in kbit/s for .mp4/.mkv.
    #[arg(long, default_value_t = 6000)]
    pub bitrate: u32,
    /// x264 speed preset for .mp4/.mkv: ultrafast, superfast, veryfast, faster, fast, medium.
    #[arg(long, default_value = "veryfast", value_parser = parse_preset)]
    pub preset: X264Preset,
}

pub fn run(args: &RenderArgs, host: Arc<Host>, services: &super::services::RenderServices) -> anyhow::Result<ExitCode> {
    load_assets(&args.source, services)?;
    let options = EngineOptions { priority: Priority::Offline, ..EngineOptions::default() };
    let mut job = source::open(&args.source, &host, options)?;
    let spec = job.engine.spec().clone();
    let (width, height) = (spec.width, spec.height);
    let settings = EncoderSettings {
        bitrate_kbps: args.bitrate,
        preset: args.preset,
        ..EncoderSettings::new(width, height, spec.fps_num, spec.fps_den)
    };
    let mut sink = FrameSink::open(&args.out, &settings)?;
    let mut renderer = Renderer::new()?;
    renderer.set_assets(services.assets.clone());
    let mut compositor = Compositor::new(renderer)?;
    compositor.set_background(sink.background());
    eprintln!(
        "rendering {} ({width}x{height} @ {}) on {}: {} frames",
        args.source.input.display(),
        fps_label(spec.fps_num, spec.fps_den),
        compositor.renderer().adapter(),
        job.frames
    );

    let bar = ProgressBar::new(job.frames);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {per_sec}  elapsed {elapsed}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut faults = 0usize;
    for n in 0..job.frames {
        job.timeline.apply_due(&mut job.engine, n);
        let plan = job.engine.frame(n)?;
        for event in job.engine.drain_events() {
            faults += report(&bar, &event);
        }
        // One frame stays in flight: the GPU draws frame n while frame n+1 is ticked.
        compositor.submit(&plan, width, height)?;
        let stats = compositor.stats();
        for name in &stats.newly_missing_assets {
            say_on(&bar, format!("warning: asset `{name}` is missing: it draws nothing (load images with --assets DIR)"));
        }
        for family in &stats.missing_families {
            say_on(&bar, format!("warning: font family `{family}` is not bundled: drawn with Inter"));
        }
        if compositor.in_flight() >= showrunner_render::compose::MAX_IN_FLIGHT
            && let Some(frame) = compositor.receive()?
        {
            sink.push(&frame)?;
            bar.inc(1);
        }
    }
    while let Some(frame) = compositor.receive()? {
        sink.push(&frame)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let written = sink.finish()?;
    let took = started.elapsed();
    let video = Duration::from_secs_f64(job.frames as f64 * f64::from(spec.fps_den) / f64::from(spec.fps_num));
    eprintln!(
        "rendered {} frames ({:.2} s of video) in {:.2} s, {:.1}x realtime -> {}",
        job.frames,
        video.as_secs_f64(),
        took.as_secs_f64(),
        video.as_secs_f64() / took.as_secs_f64().max(1e-9),
        written.description
    );
    if faults > 0 {
        eprintln!("{faults} module faults while rendering (see above); their layers showed their last good frame");
        return Ok(ExitCode::from(EXIT_FAULTED));
    }
    Ok(ExitCode::SUCCESS)
}
