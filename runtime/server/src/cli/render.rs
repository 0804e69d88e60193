//! `showrunner render MODULE.wasm|SHOW.toml --out out.png|frames/%05d.png|out.mp4`:
//! renders a module or a show file offline, as fast as the machine allows, through
//! the same engine, compositor and clock as a live show, so the pixels are the same.

// Module-file errors carry the loader's full reason (path, what failed); they travel
// only on the failure path.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use showrunner_core::{Event, LayerSpec, SceneSpec, ShowSpec};
use showrunner_engine::{Cue, CueAction, Engine, EngineEvent, EngineOptions, LoadedShow, ModuleFiles, Priority, Timeline};
use showrunner_media::{EncoderSettings, X264Preset};
use showrunner_render::{Compositor, Renderer};
use showrunner_wasm::Host;

use super::EXIT_FAULTED;
use super::args::{parse_fps, parse_size};
use super::render_out::FrameSink;

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// A scene module (.wasm) or a show file (.toml).
    pub input: PathBuf,
    /// Where to write: out.png (the last frame), frames/%05d.png (every frame), out.mp4 or out.mkv.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Length of the render, e.g. 10s or 1m30s (default: 5s for a module; for a show
    /// file its `length`, or its last cue plus 2 s).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Frame rate for a module: 30, 59.94 or NUM/DEN (a show file sets its own).
    #[arg(long, value_parser = parse_fps)]
    pub fps: Option<(u32, u32)>,
    /// Frame size for a module, WIDTHxHEIGHT (a show file sets its own).
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Set a prop of the module, NAME=VALUE (colours as #RRGGBB[AA]). Repeatable.
    #[arg(long = "props", value_name = "NAME=VALUE")]
    pub props: Vec<String>,
    /// Send an event to the module at a time, TIME:NAME[:PAYLOAD], e.g. 1s:play. Repeatable.
    #[arg(long = "event", value_name = "TIME:NAME[:PAYLOAD]", value_parser = parse_timed_event)]
    pub events: Vec<(Duration, Event)>,
    /// Video bitrate in kbit/s for .mp4/.mkv.
    #[arg(long, default_value_t = 6000)]
    pub bitrate: u32,
    /// x264 speed preset for .mp4/.mkv: ultrafast, superfast, veryfast, faster, fast, medium.
    #[arg(long, default_value = "veryfast", value_parser = parse_preset)]
    pub preset: X264Preset,
    /// Images the scenes may draw: every PNG/JPEG/WebP/GIF in this folder, named by file stem.
    #[arg(long)]
    pub assets: Option<PathBuf>,
}

/// Default length of a module render.
const MODULE_DEFAULT: Duration = Duration::from_secs(5);

fn parse_timed_event(s: &str) -> Result<(Duration, Event), String> {
    let mut parts = s.splitn(3, ':');
    let at = parts.next().unwrap_or_default();
    let at = humantime::parse_duration(at).map_err(|e| format!("`{at}` is not a time like 1s or 1500ms: {e}"))?;
    let name = parts.next().filter(|n| !n.is_empty()).ok_or("expected TIME:NAME[:PAYLOAD], e.g. 1s:play")?;
    Ok((at, Event { name: name.to_string(), payload: parts.next().unwrap_or_default().to_string() }))
}

fn parse_preset(s: &str) -> Result<X264Preset, String> {
    use X264Preset::*;
    [Ultrafast, Superfast, Veryfast, Faster, Fast, Medium]
        .into_iter()
        .find(|p| p.gst_nick() == s)
        .ok_or_else(|| format!("`{s}` is not an x264 preset: use ultrafast, superfast, veryfast, faster, fast or medium"))
}

/// The engine and timeline of what is being rendered.
struct Job {
    engine: Engine,
    timeline: Timeline,
    frames: u64,
}

pub fn run(args: &RenderArgs, host: Arc<Host>, services: &super::services::RenderServices) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.assets {
        let loaded = services.assets.load_dir(dir).with_context(|| format!("loading assets from {}", dir.display()))?;
        eprintln!("loaded {} assets from {}", loaded.loaded.len(), dir.display());
        for skipped in &loaded.skipped {
            eprintln!("  skipped {}: {}", skipped.path.display(), skipped.error);
        }
    }
    let options = EngineOptions { priority: Priority::Offline, ..EngineOptions::default() };
    let mut job = if is_show_file(&args.input) { open_show(args, &host, options)? } else { open_module(args, &host, options)? };
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
        args.input.display(),
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

fn is_show_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

fn open_show(args: &RenderArgs, host: &Arc<Host>, options: EngineOptions) -> anyhow::Result<Job> {
    if args.size.is_some() || args.fps.is_some() || !args.props.is_empty() || !args.events.is_empty() {
        bail!("--size, --fps, --props and --event are for a single module; a show file sets them itself (size, fps, layer props, [[cue]])");
    }
    let show = LoadedShow::open(&args.input, host, options)?;
    let spec = show.engine.spec();
    let frames = match args.duration {
        Some(d) => showrunner_engine::cue::frame_at(d, spec.fps_num, spec.fps_den),
        None => show.frames(),
    };
    Ok(Job { engine: show.engine, timeline: show.timeline, frames })
}

fn open_module(args: &RenderArgs, host: &Arc<Host>, options: EngineOptions) -> anyhow::Result<Job> {
    let (width, height) = args.size.unwrap_or((1920, 1080));
    let (fps_num, fps_den) = args.fps.unwrap_or((30, 1));
    let reference = args.input.to_string_lossy().to_string();
    let mut modules = ModuleFiles::new(host.clone());
    let module = modules.load(&reference)?;
    let props = args.props.iter().map(|a| module.info.parse_assignment(a)).collect::<Result<Vec<_>, _>>()?;
    let id = args.input.file_stem().map_or_else(|| "layer".to_string(), |s| s.to_string_lossy().to_string());
    let mut spec = ShowSpec::new(width, height, fps_num, fps_den, "main");
    spec.scenes = vec![SceneSpec { name: "main".into(), layers: vec![LayerSpec { props, ..LayerSpec::new(&id, &reference) }] }];
    let engine = Engine::new(host.clone(), spec, options, |r| modules.load(r))?;
    let cues: Vec<Cue> =
        args.events.iter().map(|(at, event)| Cue { at: *at, action: CueAction::Event { layer: id.clone(), event: event.clone() } }).collect();
    let timeline = Timeline::new(&cues, engine.spec(), |r| modules.load(r))?;
    let frames = showrunner_engine::cue::frame_at(args.duration.unwrap_or(MODULE_DEFAULT), fps_num, fps_den);
    Ok(Job { engine, timeline, frames })
}

/// Prints an engine event above the progress bar; returns 1 for a fault.
fn report(bar: &ProgressBar, event: &EngineEvent) -> usize {
    let say = |line: String| say_on(bar, line);
    match event {
        EngineEvent::LayerFault { layer, fault } => {
            say(format!("fault: layer `{layer}`: {fault}"));
            1
        }
        EngineEvent::Quarantined { layer, fault } => {
            say(format!("quarantined: layer `{layer}` after repeated faults; last: {fault}"));
            0
        }
        EngineEvent::TransitionFinished { to, fault: Some(fault), .. } => {
            say(format!("transition to `{to}` faulted and finished as a cut: {fault}"));
            1
        }
        EngineEvent::CueFailed { cue, error, .. } => {
            say(format!("cue failed: {cue}: {error}"));
            1
        }
        EngineEvent::WorkerRespawned { worker, reason, .. } => {
            say(format!("worker {worker} was replaced: {reason}"));
            0
        }
        _ => 0,
    }
}

/// Prints a line above the progress bar, or plainly when the bar is hidden (stderr
/// is not a terminal).
fn say_on(bar: &ProgressBar, line: String) {
    if bar.is_hidden() { eprintln!("{line}") } else { bar.println(line) }
}

fn fps_label(num: u32, den: u32) -> String {
    if den == 1 { format!("{num} fps") } else { format!("{:.3} fps", f64::from(num) / f64::from(den)) }
}
