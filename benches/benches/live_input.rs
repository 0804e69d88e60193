//! Live-input benchmark: what drawing a live video input costs the render thread at
//! 1920×1080, against a slate that never changes, measured in one run (see
//! "Benchmarks, not timed tests" in DESIGN.md).
//!
//! Run: `cargo bench -p showrunner-benches --bench live_input` (under a minute on 2
//! cores, lavapipe). Without `--bench` (e.g. under `cargo test --all-targets`) it does
//! a quick smoke run whose numbers mean nothing.
//!
//! Each case runs on a fresh `Renderer` + `Compositor` with a `LiveInputs` registry,
//! composited over an opaque background as live output does, one frame at a time
//! (`submit` then `receive`), 20 warm-up frames then 150 measured:
//! (1) baseline: one layer filling the frame with a solid slate, nothing changing;
//! (1r) reference: the same slate handed over as a new list version every frame, so
//! it is redrawn, composited and read back whole (a full repaint without video);
//! (2) the slate layer plus a full-frame `video` op on an input whose 1920×1080 frame
//! never changes; (3) the same with a new 1920×1080 frame published before every
//! frame (four pre-built frames in turn, so publishing costs nothing; every publish
//! is a new frame id, so every frame uploads it and redraws the layer); (4) a moving
//! 1280×720 input scaled to the full frame, and a moving 640×360 input as a
//! picture-in-picture box a quarter of the frame.
//!
//! Printed per case: frames drawn, frame uploads (`Renderer::live_texture_counters`),
//! render passes drawn single-sample (`ComposeStats::single_sample_passes`),
//! median and p95 wall ms per frame (submit → receive), mean CPU ms per frame of the
//! render thread (`CLOCK_THREAD_CPUTIME_ID`) and of the whole process (lavapipe's
//! rasterizer threads included); then ratios against the baseline and the moving
//! 1080p input's share of the 33.3 ms frame at 30 fps (target < 25 %). A missed
//! target prints FAIL and exits 0; a GPU error, or a video op that drew nothing,
//! exits non-zero. Owns its draw lists and pictures; must not time the publishing of
//! frames (a decoder thread's work), only what the render thread does.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use showrunner_assets::LiveInputs;
use showrunner_benches::fmt_ratio;
use showrunner_benches::machine::{cpu_seconds, load_average, print_run_footer};
use showrunner_core::{
    Color, DrawListLimits, DrawOp, Fill, FillRule, FrameInfo, FramePlan, LayerPlan, Paint, Path, Rect, ScenePlan, SceneView, VideoDraw, validate, verb,
};
use showrunner_render::{Compositor, Frame, Renderer};

type Result<T> = std::result::Result<T, String>;

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const FPS: u32 = 30;
/// One frame at 30 fps, ms.
const BUDGET_MS: f64 = 1000.0 / FPS as f64;
/// Target: a moving 1080p input takes less than this share of the frame budget.
const TARGET_SHARE: f64 = 0.25;
/// The opaque background frames are composited over (what an encoder takes).
const BACKGROUND: [u8; 3] = [0, 0, 0];
/// The slate's colour, sRGB bytes.
const SLATE: [u8; 3] = [18, 22, 38];
const INPUT: &str = "camera";
/// Pre-built frames a moving input cycles through.
const PREBUILT: usize = 4;

#[derive(Clone, Copy)]
struct Plan {
    warmup: u64,
    frames: u64,
}

const FULL: Plan = Plan { warmup: 20, frames: 150 };
const QUICK: Plan = Plan { warmup: 2, frames: 3 };

/// A live input drawn by a case.
#[derive(Clone, Copy)]
struct Video {
    size: (u32, u32),
    dest: Rect,
    /// A new frame published before every output frame; otherwise one frame, once.
    moving: bool,
}

struct Case {
    label: &'static str,
    /// The layer starts with the full-frame slate fill.
    slate: bool,
    video: Option<Video>,
    /// Hand the layer over as a new list version every frame.
    redraw_every_frame: bool,
}

struct Row {
    label: &'static str,
    wall_ms: Vec<f64>,
    drawn: u64,
    uploads: u64,
    single_sample_passes: u64,
    thread_cpu_ms: f64,
    process_cpu_ms: f64,
}

impl Row {
    /// Median and p95 wall ms (nearest rank).
    fn wall(&self) -> (f64, f64) {
        let mut sorted = self.wall_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |p: f64| sorted.get(((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or(f64::NAN);
        (at(0.50), at(0.95))
    }
}

const FULL_FRAME: Rect = Rect { x: 0.0, y: 0.0, width: WIDTH as f32, height: HEIGHT as f32 };
/// A quarter of the frame (half each side), 48 px in from the bottom-right corner.
const PICTURE_IN_PICTURE: Rect = Rect { x: (WIDTH / 2 - 48) as f32, y: (HEIGHT / 2 - 48) as f32, width: (WIDTH / 2) as f32, height: (HEIGHT / 2) as f32 };

fn cases() -> Vec<Case> {
    let video = |size, dest, moving| Some(Video { size, dest, moving });
    vec![
        Case { label: "(1) baseline: slate, unchanged", slate: true, video: None, redraw_every_frame: false },
        Case { label: "(1r) slate redrawn every frame", slate: true, video: None, redraw_every_frame: true },
        Case { label: "(2) slate + static 1080p input", slate: true, video: video((1920, 1080), FULL_FRAME, false), redraw_every_frame: false },
        Case { label: "(3) slate + moving 1080p input", slate: true, video: video((1920, 1080), FULL_FRAME, true), redraw_every_frame: false },
        Case { label: "(3v) moving 1080p input, no slate", slate: false, video: video((1920, 1080), FULL_FRAME, true), redraw_every_frame: false },
        Case { label: "(4a) moving 720p input, full frame", slate: true, video: video((1280, 720), FULL_FRAME, true), redraw_every_frame: false },
        Case { label: "(4b) moving 360p input, PiP 1/4", slate: true, video: video((640, 360), PICTURE_IN_PICTURE, true), redraw_every_frame: false },
    ]
}

/// An opaque RGBA8 picture: a gradient (red across, green down, blue by `phase`) with
/// per-pixel noise, so no two pre-built frames are alike.
fn picture(width: u32, height: u32, phase: u32) -> Bytes {
    let mut state: u32 = 0x9E37_79B9 ^ phase.wrapping_mul(0x85EB_CA6B) | 1;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = state & 0x1f;
            let r = x * 224 / width + noise;
            let g = y * 224 / height + noise;
            let b = 40 + phase % PREBUILT as u32 * 48 + noise;
            pixels.extend([r as u8, g as u8, b as u8, 255]);
        }
    }
    Bytes::from(pixels)
}

fn slate() -> DrawOp {
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let path = Path { verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE], points: vec![0.0, 0.0, w, 0.0, w, h, 0.0, h] };
    let [r, g, b] = SLATE.map(|c| f32::from(c) / 255.0);
    DrawOp::Fill(Fill { path, paint: Paint::Solid(Color { r, g, b, a: 1.0 }), rule: FillRule::NonZero })
}

fn frame_plan(index: u64, ops: &Arc<Vec<DrawOp>>, version: u64) -> FramePlan {
    FramePlan {
        frame: FrameInfo::at(index, WIDTH, HEIGHT, FPS, 1),
        scenes: vec![ScenePlan { name: "live".into(), view: SceneView::IDENTITY, layers: vec![LayerPlan::full("slate", ops.clone(), version)] }],
        overlay: Arc::new(vec![]),
    }
}

/// CPU time of this thread or of the whole process.
fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the CPU-time clocks need nothing else.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

/// Errors out when the video's box shows the slate: the op drew nothing.
fn check_visible(frame: &Frame, video: &Video, label: &str) -> Result<()> {
    let (x, y) = ((video.dest.x + video.dest.width / 2.0) as u32, (video.dest.y + video.dest.height / 2.0) as u32);
    let pixel = frame.pixel(x, y).ok_or_else(|| format!("{label}: ({x},{y}) is outside the frame"))?;
    let distance: u32 = pixel.iter().zip(SLATE).map(|(&p, s)| u32::from(p.abs_diff(s))).sum();
    if distance < 60 {
        return Err(format!("{label}: the video's box shows {pixel:?}, the slate: the video op drew nothing (is the input published?)"));
    }
    Ok(())
}

fn measure(case: &Case, plan: Plan) -> Result<Row> {
    let inputs = LiveInputs::new();
    let mut renderer = Renderer::new().map_err(|e| e.to_string())?;
    renderer.set_live_inputs(inputs.clone());
    let mut compositor = Compositor::new(renderer).map_err(|e| e.to_string())?;
    compositor.set_background(Some(BACKGROUND));

    let mut ops = if case.slate { vec![slate()] } else { vec![] };
    let mut pictures = Vec::new();
    if let Some(video) = &case.video {
        ops.push(DrawOp::Video(VideoDraw { input: INPUT.into(), dest: video.dest, opacity: 1.0 }));
        let count = if video.moving { PREBUILT } else { 1 };
        pictures = (0..count as u32).map(|k| picture(video.size.0, video.size.1, k)).collect();
    }
    validate(&mut ops, &DrawListLimits::default()).map_err(|e| format!("{}: invalid draw list: {e}", case.label))?;
    let ops = Arc::new(ops);
    let publish = |k: usize| -> Result<()> {
        let (Some(video), Some(pixels)) = (&case.video, pictures.get(k % pictures.len().max(1))) else { return Ok(()) };
        inputs.publish(INPUT, video.size.0, video.size.1, pixels.clone()).map(|_| ()).map_err(|e| format!("{}: {e}", case.label))
    };
    publish(0)?;

    let mut row = Row { label: case.label, wall_ms: Vec::with_capacity(plan.frames as usize), drawn: 0, uploads: 0, single_sample_passes: 0, thread_cpu_ms: 0.0, process_cpu_ms: 0.0 };
    let (mut uploads_at_start, mut process_at_start) = (0, Duration::ZERO);
    let mut thread_cpu = Duration::ZERO;
    let mut last = None;
    for n in 0..plan.warmup + plan.frames {
        if n > 0 && case.video.is_some_and(|v| v.moving) {
            publish(n as usize)?;
        }
        let version = if case.redraw_every_frame { n + 1 } else { 1 };
        let frame_plan = frame_plan(n, &ops, version);
        if n == plan.warmup {
            uploads_at_start = compositor.renderer().live_texture_counters().1;
            process_at_start = cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID);
        }
        let (started, cpu_started) = (Instant::now(), cpu_time(libc::CLOCK_THREAD_CPUTIME_ID));
        compositor.submit(&frame_plan, WIDTH, HEIGHT).map_err(|e| format!("{} frame {n}: {e}", case.label))?;
        let drawn = !compositor.stats().frame_reused;
        let single_sample_passes = compositor.stats().single_sample_passes as u64;
        let frame = compositor.receive().map_err(|e| format!("{} frame {n}: {e}", case.label))?;
        let (wall, cpu) = (started.elapsed(), cpu_time(libc::CLOCK_THREAD_CPUTIME_ID).saturating_sub(cpu_started));
        if n >= plan.warmup {
            row.wall_ms.push(wall.as_secs_f64() * 1e3);
            thread_cpu += cpu;
            row.drawn += u64::from(drawn);
            row.single_sample_passes += single_sample_passes;
        }
        last = frame;
    }
    let frames = plan.frames.max(1) as f64;
    row.process_cpu_ms = cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID).saturating_sub(process_at_start).as_secs_f64() * 1e3 / frames;
    row.thread_cpu_ms = thread_cpu.as_secs_f64() * 1e3 / frames;
    row.uploads = compositor.renderer().live_texture_counters().1 - uploads_at_start;
    let last = last.ok_or_else(|| format!("{}: no frame was received", case.label))?;
    if let Some(video) = &case.video {
        check_visible(&last, video, case.label)?;
    }
    Ok(row)
}

fn find<'a>(rows: &'a [Row], prefix: &str) -> Result<&'a Row> {
    rows.iter().find(|r| r.label.starts_with(prefix)).ok_or_else(|| format!("no row `{prefix}`"))
}

fn print_rows(rows: &[Row], plan: Plan) {
    println!("1. Per output frame at {WIDTH}x{HEIGHT} over an opaque background: {} frames after {} warm-up, one at a time (submit → receive)", plan.frames, plan.warmup);
    println!("   drawn   = frames the compositor drew (the others repeat the previous frame's pixels)");
    println!("   uploads = live frames uploaded to textures during the measured frames");
    println!("   1-sample = render passes drawn single-sample (every edge on whole pixels, no 4x MSAA) during them");
    println!("   wall    = submit → receive, median / p95; thread CPU = the render thread (CLOCK_THREAD_CPUTIME_ID), mean;");
    println!("             process CPU = every thread of the process (lavapipe's rasterizer threads included), mean");
    println!();
    println!("   {:<36} {:>7} {:>7} {:>8}  {:>19}  {:>13}  {:>14}", "case", "drawn", "uploads", "1-sample", "wall ms p50 / p95", "thread CPU ms", "process CPU ms");
    for r in rows {
        let (p50, p95) = r.wall();
        println!(
            "   {:<36} {:>7} {:>7} {:>8}  {:>9.3} / {:>7.3}  {:>13.3}  {:>14.3}",
            r.label,
            format!("{}/{}", r.drawn, r.wall_ms.len()),
            r.uploads,
            r.single_sample_passes,
            p50,
            p95,
            r.thread_cpu_ms,
            r.process_cpu_ms
        );
    }
    println!();
}

fn print_verdict(rows: &[Row]) -> Result<()> {
    let baseline = find(rows, "(1) ")?;
    let redrawn = find(rows, "(1r)")?;
    let (base_wall, _) = baseline.wall();
    println!("2. Ratios against (1) baseline ({base_wall:.3} ms wall, {:.3} ms render-thread CPU per frame)", baseline.thread_cpu_ms);
    println!("   (1) and (2) repeat the previous frame's pixels (nothing is drawn), so a ratio against them is the whole cost of");
    println!("   drawing a frame; (3) ÷ (1r) separates the video op from the full repaint its new frames force");
    for prefix in ["(1r)", "(2) ", "(3) ", "(3v)", "(4a)", "(4b)"] {
        let row = find(rows, prefix)?;
        println!(
            "   {:<36} wall {:>8}   render-thread CPU {:>8}   process CPU {:>8}",
            row.label,
            fmt_ratio(row.wall().0 / base_wall),
            fmt_ratio(row.thread_cpu_ms / baseline.thread_cpu_ms),
            fmt_ratio(row.process_cpu_ms / baseline.process_cpu_ms)
        );
    }
    let moving = find(rows, "(3) ")?;
    let (moving_wall, moving_p95) = moving.wall();
    println!(
        "   (3) moving 1080p ÷ (1r) slate redrawn: wall {}, render-thread CPU {} ((3) − (1r): {:.2} ms wall, the upload and the video quad)",
        fmt_ratio(moving_wall / redrawn.wall().0),
        fmt_ratio(moving.thread_cpu_ms / redrawn.thread_cpu_ms),
        moving_wall - redrawn.wall().0
    );
    println!();
    let cost = moving_wall - base_wall;
    let share = cost / BUDGET_MS;
    let verdict = if share < TARGET_SHARE { "PASS" } else { "FAIL" };
    println!(
        "3. A moving 1080p input costs {cost:.2} ms of the frame (median wall of (3) − (1)) = {:.1}% of the {BUDGET_MS:.1} ms frame at {FPS} fps (target < {:.0}%): {verdict}",
        share * 100.0,
        TARGET_SHARE * 100.0
    );
    let cpu_cost = moving.thread_cpu_ms - baseline.thread_cpu_ms;
    println!(
        "   p95 {:.1}% of the frame; render-thread CPU {cpu_cost:.2} ms = {:.1}%; whole process CPU {:.2} ms = {:.0}% of one core's frame",
        (moving_p95 - base_wall) / BUDGET_MS * 100.0,
        cpu_cost / BUDGET_MS * 100.0,
        moving.process_cpu_ms - baseline.process_cpu_ms,
        (moving.process_cpu_ms - baseline.process_cpu_ms) / BUDGET_MS * 100.0
    );
    if moving.uploads < moving.wall_ms.len() as u64 {
        println!("   note: (3) uploaded {} frames in {} (each frame should upload one)", moving.uploads, moving.wall_ms.len());
    }
    Ok(())
}

fn run(plan: Plan, quick: bool) -> Result<()> {
    let adapter = Renderer::new().map_err(|e| e.to_string())?.adapter().to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("showrunner live-input benchmark: {cpus} CPUs, adapter {adapter}");
    println!("load average at start: {}", load_average());
    if quick {
        println!("QUICK SMOKE RUN (no --bench argument): too few samples for the numbers to mean anything");
    }
    println!();
    let started = Instant::now();
    let cpu_at_start = cpu_seconds();
    let mut rows = Vec::new();
    for case in cases() {
        rows.push(measure(&case, plan)?);
    }
    print_rows(&rows, plan);
    print_verdict(&rows)?;
    println!();
    print_run_footer(started, cpu_at_start, cpus);
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; anything else (cargo test --all-targets) is a smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    match run(if quick { QUICK } else { FULL }, quick) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
