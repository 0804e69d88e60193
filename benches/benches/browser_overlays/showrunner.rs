//! The showrunner side of the browser comparison: one overlay run in a fresh process
//! of this bench binary (the "child"), measured the way `measure.mjs` measures
//! Chromium, plus the parent's half that spawns it and times its startup.
//!
//! Owns: the child's timeline (Host + Renderer + module load + first frame, then
//! settle and window frames rendered as fast as possible) and its /proc readings.
//! Must not: print anything on stdout but the two protocol lines (`first-frame`,
//! `result {json}`), or reuse state across overlays (each runs in its own process).

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_core as core;
use showrunner_render::{Compositor, Renderer};
use showrunner_wasm::{FaultPolicy, Host, LayerRunner, NoAssets, SandboxLimits};

use crate::{FPS, HEIGHT, Overlay, Result, SETTLE_FRAMES, WIDTH, WINDOW_FRAMES};

/// Empty frames rendered to find the renderer's fixed cost per frame.
const EMPTY_FRAMES: u64 = 30;

/// The argument that makes the bench binary run one overlay as the child.
pub const CHILD_ARG: &str = "--showrunner-child";

/// What the child reports, in the units printed.
#[derive(Clone, Debug)]
pub struct ShowrunnerRun {
    /// Spawn of the child process → its first rendered frame, as the parent saw it.
    pub startup_ms: f64,
    /// In-process parts of the startup.
    pub host_ms: f64,
    pub renderer_ms: f64,
    pub load_ms: f64,
    pub layer_ms: f64,
    pub first_frame_ms: f64,
    pub adapter: String,
    /// Process PSS / RSS at the end of the window, and PSS grown since `main` began.
    pub pss_mib: f64,
    pub rss_mib: f64,
    pub pss_delta_mib: f64,
    /// CPU (all threads) and wall time of the window's frames.
    pub cpu_ms: f64,
    pub wall_ms: f64,
    pub frames: u64,
    /// Most ops drawn and ops the renderer skipped in one frame, and how many frames of
    /// the window were unchanged and reused without drawing.
    pub drawn: usize,
    pub skipped: usize,
    pub reused_frames: usize,
    /// The scene's tick alone, µs of wall time per frame.
    pub tick_us: f64,
    /// Rendering and reading back an empty frame: CPU and wall ms per frame.
    pub empty_cpu_ms: f64,
    pub empty_wall_ms: f64,
}

impl ShowrunnerRun {
    pub fn cpu_ms_per_frame(&self) -> f64 {
        self.cpu_ms / self.frames as f64
    }
    /// Cores needed to deliver `FPS` in real time at the measured CPU per frame.
    pub fn cores_at_fps(&self) -> f64 {
        self.cpu_ms_per_frame() * f64::from(FPS) / 1000.0
    }
}

// ---------------------------------------------------------------------------------
// /proc readings (Linux), the same ones measure.mjs takes for Chromium's tree.

/// `field:` of /proc/self/smaps_rollup, in MiB.
fn smaps_rollup_mib(field: &str) -> Result<f64> {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").map_err(|e| format!("cannot read /proc/self/smaps_rollup (Linux only): {e}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .ok_or_else(|| format!("no {field} line in /proc/self/smaps_rollup"))
}

/// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, else Linux's 100).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|hz| *hz > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime of this process (all threads), in clock ticks.
fn cpu_ticks() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").map_err(|e| format!("cannot read /proc/self/stat (Linux only): {e}"))?;
    let after_comm = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or("malformed /proc/self/stat")?;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After "(comm)": state(3) ppid(4) ... utime(14) stime(15).
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).ok_or("malformed /proc/self/stat");
    Ok(field(11)? + field(12)?)
}

// ---------------------------------------------------------------------------------
// The child

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `overlay` from `wasm` (the component file) and prints `first-frame` at its
/// first rendered frame, then `result {json}`.
pub fn child(overlay: &Overlay, wasm: &Path) -> Result<()> {
    let pss_at_start = smaps_rollup_mib("Pss")?;
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;

    // Deadlines loosened so a call preempted on a busy machine is not a fault.
    let limits = SandboxLimits {
        tick_deadline: Duration::from_secs(1),
        event_deadline: Duration::from_secs(1),
        init_deadline: Duration::from_secs(1),
        ..SandboxLimits::default()
    };
    let started = Instant::now();
    let host = Host::new(limits, None, Arc::new(NoAssets)).map_err(|e| e.to_string())?;
    let host_done = Instant::now();
    let renderer = Renderer::new().map_err(|e| format!("cannot open the renderer: {e}"))?;
    // The compositor, as `showrunner render` and live output use it: a frame whose draw
    // list did not change is not drawn again (damage tracking), as a browser skips
    // painting an unchanged page.
    let mut compositor = Compositor::new(renderer).map_err(|e| format!("cannot open the compositor: {e}"))?;
    let renderer_done = Instant::now();
    let module = host.load(&bytes).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let load_done = Instant::now();
    let props: Vec<core::Prop> =
        overlay.props.iter().map(|(name, text)| core::Prop { name: (*name).to_string(), value: core::PropValue::Text((*text).to_string()) }).collect();
    let mut layer = LayerRunner::new("bench", module, &props, FaultPolicy::default()).map_err(|e| e.to_string())?;
    layer.on_event(core::Event { name: "play".into(), payload: String::new() }).map_err(|f| f.to_string())?;
    let layer_done = Instant::now();

    let (mut shown, mut version) = (std::sync::Arc::new(Vec::new()), 0u64);
    let mut render = |index: u64| -> Result<showrunner_render::ComposeStats> {
        let frame_info = core::FrameInfo::at(index, WIDTH, HEIGHT, FPS, 1);
        let outcome = layer.tick(&frame_info);
        if let Some(fault) = outcome.fault {
            return Err(format!("frame {index}: the scene faulted: {fault}"));
        }
        if *outcome.ops != *shown {
            shown = outcome.ops;
            version += 1;
        }
        let plan = core::FramePlan {
            frame: frame_info,
            scenes: vec![core::ScenePlan { name: "bench".into(), view: core::SceneView::IDENTITY, layers: vec![core::LayerPlan::full("bench", shown.clone(), version)] }],
            overlay: std::sync::Arc::new(Vec::new()),
        };
        let frame = compositor.compose(&plan, WIDTH, HEIGHT).map_err(|e| format!("frame {index}: {e}"))?;
        black_box(frame.pixels);
        Ok(compositor.stats().clone())
    };
    render(0)?;
    let first_frame_done = Instant::now();
    let mut out = std::io::stdout().lock();
    writeln!(out, "first-frame").and_then(|()| out.flush()).map_err(|e| format!("cannot write to the parent: {e}"))?;

    // As measure.mjs lets Chromium settle for SETTLE_FRAMES / FPS seconds after its
    // first frame, the window covers the same span of the overlay's timeline.
    for index in 1..=SETTLE_FRAMES {
        render(index)?;
    }
    let hz = clock_ticks_per_second();
    let (cpu_start, window_start) = (cpu_ticks()?, Instant::now());
    let (mut drawn, mut skipped, mut reused) = (0, 0, 0);
    for index in SETTLE_FRAMES + 1..=SETTLE_FRAMES + WINDOW_FRAMES {
        let stats = render(index)?;
        drawn = drawn.max(stats.ops_drawn);
        skipped = skipped.max(stats.ops_skipped);
        reused += usize::from(stats.frame_reused);
    }
    let (cpu_end, wall) = (cpu_ticks()?, window_start.elapsed());
    let pss = smaps_rollup_mib("Pss")?;

    // Where a frame's time goes: the scene's tick alone (µs, wall: one thread), and
    // rendering + reading back an empty frame (the renderer's fixed cost per frame).
    let next = SETTLE_FRAMES + WINDOW_FRAMES + 1;
    let ticks_start = Instant::now();
    for index in next..next + WINDOW_FRAMES {
        black_box(layer.tick(&core::FrameInfo::at(index, WIDTH, HEIGHT, FPS, 1)));
    }
    let tick_us = ticks_start.elapsed().as_secs_f64() * 1e6 / WINDOW_FRAMES as f64;
    let (empty_cpu_start, empty_start) = (cpu_ticks()?, Instant::now());
    for _ in 0..EMPTY_FRAMES {
        black_box(compositor.renderer().render(&[], WIDTH, HEIGHT).map_err(|e| format!("empty frame: {e}"))?.pixels);
    }
    let empty_wall_ms = ms(empty_start.elapsed()) / EMPTY_FRAMES as f64;
    let empty_cpu_ms = (cpu_ticks()? - empty_cpu_start) as f64 / hz * 1e3 / EMPTY_FRAMES as f64;
    let result = serde_json::json!({
        "host_ms": ms(host_done - started),
        "renderer_ms": ms(renderer_done - host_done),
        "load_ms": ms(load_done - renderer_done),
        "layer_ms": ms(layer_done - load_done),
        "first_frame_ms": ms(first_frame_done - layer_done),
        "adapter": compositor.renderer().adapter().to_string(),
        "pss_mib": pss,
        "rss_mib": smaps_rollup_mib("Rss")?,
        "pss_delta_mib": pss - pss_at_start,
        "cpu_ms": (cpu_end - cpu_start) as f64 / hz * 1e3,
        "wall_ms": ms(wall),
        "frames": WINDOW_FRAMES,
        "drawn": drawn,
        "skipped": skipped,
        "reused_frames": reused,
        "tick_us": tick_us,
        "empty_cpu_ms": empty_cpu_ms,
        "empty_wall_ms": empty_wall_ms,
    });
    writeln!(out, "result {result}").and_then(|()| out.flush()).map_err(|e| format!("cannot write to the parent: {e}"))
}

// ---------------------------------------------------------------------------------
// The parent's half

/// Spawns this binary as the child for `overlay` and times spawn → `first-frame`.
pub fn run_in_child(overlay: &Overlay) -> Result<ShowrunnerRun> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this bench binary: {e}"))?;
    let spawned = Instant::now();
    let mut child = Command::new(exe)
        .args([CHILD_ARG, overlay.name])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the showrunner child: {e}"))?;
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    let mut startup = None;
    let mut result = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the child: {e}"))?;
        if line == "first-frame" {
            startup = Some(ms(spawned.elapsed()));
        } else if let Some(json) = line.strip_prefix("result ") {
            result = Some(json.to_string());
        }
    }
    let output = child.wait_with_output().map_err(|e| format!("waiting for the child: {e}"))?;
    if !output.status.success() {
        return Err(format!("the showrunner child failed ({}); its error is printed above", output.status));
    }
    let (Some(startup_ms), Some(json)) = (startup, result) else {
        return Err("the showrunner child exited without reporting a frame".into());
    };
    let v: serde_json::Value = serde_json::from_str(&json).map_err(|e| format!("the child's result is not JSON: {e}"))?;
    let num = |key: &str| v.get(key).and_then(serde_json::Value::as_f64).ok_or_else(|| format!("the child's result lacks {key}"));
    Ok(ShowrunnerRun {
        startup_ms,
        host_ms: num("host_ms")?,
        renderer_ms: num("renderer_ms")?,
        load_ms: num("load_ms")?,
        layer_ms: num("layer_ms")?,
        first_frame_ms: num("first_frame_ms")?,
        adapter: v.get("adapter").and_then(serde_json::Value::as_str).unwrap_or("?").to_string(),
        pss_mib: num("pss_mib")?,
        rss_mib: num("rss_mib")?,
        pss_delta_mib: num("pss_delta_mib")?,
        cpu_ms: num("cpu_ms")?,
        wall_ms: num("wall_ms")?,
        frames: num("frames")? as u64,
        drawn: num("drawn")? as usize,
        skipped: num("skipped")? as usize,
        reused_frames: num("reused_frames")? as usize,
        tick_us: num("tick_us")?,
        empty_cpu_ms: num("empty_cpu_ms")?,
        empty_wall_ms: num("empty_wall_ms")?,
    })
}
