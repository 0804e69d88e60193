//! What `render` and `live` both play: a module or a show file, opened into an engine
//! and a cue timeline, with the arguments that choose it (size, rate, props, timed
//! events, assets) and the console reporting of engine events. It must not know where
//! frames go.

// Module-file errors carry the loader's full reason (path, what failed); they travel
// only on the failure path.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::ProgressBar;
use showrunner_core::{Event, LayerSpec, SceneSpec, ShowSpec};
use showrunner_engine::{Cue, CueAction, Engine, EngineEvent, EngineOptions, LoadedShow, ModuleFiles, Timeline};
use showrunner_media::X264Preset;
use showrunner_wasm::Host;

use super::args::{parse_fps, parse_size};

/// The module or show to play and how.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// A scene module (.wasm) or a show file (.toml).
    pub input: PathBuf,
    /// Length, e.g. 10s or 1m30s (render default: 5s for a module; for a show file its
    /// `length`, or its last cue plus 2 s. Live default: until Ctrl-C).
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

pub fn parse_preset(s: &str) -> Result<X264Preset, String> {
    use X264Preset::*;
    [Ultrafast, Superfast, Veryfast, Faster, Fast, Medium]
        .into_iter()
        .find(|p| p.gst_nick() == s)
        .ok_or_else(|| format!("`{s}` is not an x264 preset: use ultrafast, superfast, veryfast, faster, fast or medium"))
}

/// The engine and timeline of what is played.
pub struct Job {
    pub engine: Engine,
    pub timeline: Timeline,
    /// Frames in the requested duration, or else in the show's length.
    pub frames: u64,
    /// Frames in the show's own length (its `length`, or last cue plus 2 s) whatever
    /// the requested duration: one pass of a looped show.
    pub show_frames: u64,
}

/// Loads `--assets` into the shared store, printing what was skipped.
pub fn load_assets(args: &SourceArgs, services: &super::services::RenderServices) -> anyhow::Result<()> {
    if let Some(dir) = &args.assets {
        let loaded = services.assets.load_dir(dir).with_context(|| format!("loading assets from {}", dir.display()))?;
        eprintln!("loaded {} assets from {}", loaded.loaded.len(), dir.display());
        for skipped in &loaded.skipped {
            eprintln!("  skipped {}: {}", skipped.path.display(), skipped.error);
        }
    }
    Ok(())
}

/// Opens the module or show file of `args`.
pub fn open(args: &SourceArgs, host: &Arc<Host>, options: EngineOptions) -> anyhow::Result<Job> {
    if is_show_file(&args.input) { open_show(args, host, options) } else { open_module(args, host, options) }
}

fn is_show_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

fn open_show(args: &SourceArgs, host: &Arc<Host>, options: EngineOptions) -> anyhow::Result<Job> {
    if args.size.is_some() || args.fps.is_some() || !args.props.is_empty() || !args.events.is_empty() {
        bail!("--size, --fps, --props and --event are for a single module; a show file sets them itself (size, fps, layer props, [[cue]])");
    }
    let show = LoadedShow::open(&args.input, host, options)?;
    let spec = show.engine.spec();
    let show_frames = show.frames();
    let frames = match args.duration {
        Some(d) => showrunner_engine::cue::frame_at(d, spec.fps_num, spec.fps_den),
        None => show_frames,
    };
    Ok(Job { engine: show.engine, timeline: show.timeline, frames, show_frames })
}

fn open_module(args: &SourceArgs, host: &Arc<Host>, options: EngineOptions) -> anyhow::Result<Job> {
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
    Ok(Job { engine, timeline, frames, show_frames: frames })
}

/// Prints an engine event above the progress bar; returns 1 for a fault.
pub fn report(bar: &ProgressBar, event: &EngineEvent) -> usize {
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
pub fn say_on(bar: &ProgressBar, line: String) {
    if bar.is_hidden() { eprintln!("{line}") } else { bar.println(line) }
}

pub fn fps_label(num: u32, den: u32) -> String {
    if den == 1 { format!("{num} fps") } else { format!("{:.3} fps", f64::from(num) / f64::from(den)) }
}
