//! Frame-time benchmark: what one output frame costs from Wasm tick to RGBA pixels,
//! split by stage, against GStreamer's `compositor` measured in the same run (see
//! "Benchmarks, not timed tests" in DESIGN.md).
//!
//! Run: `cargo xtask build-scenes`, then
//! `cargo bench -p showrunner-benches --bench frame_time` (about 90 s on 2
//! cores). Without `--bench` (e.g. under `cargo test --all-targets`) it does a quick
//! smoke run whose numbers mean nothing.
//!
//! It prints:
//! 1. **Frame time by stage** (median and p95 over 90 consecutive frames at 30 fps,
//!    at 1280×720 and 1920×1080): *tick* (`Engine::frame`: every layer's Wasm tick
//!    on the worker pool), *tessellate*, *draw+composite*, *readback* and *total*
//!    (tick + `Compositor::compose`); how the stages inside `compose` are separated
//!    is described in `frame_time/stages.rs`. Scenarios, each on a fresh compositor:
//!    (0) the floor: one small cached layer moved by a pixel each frame, so only the
//!    composite pass and the readback run; (a) one lower third, `play` at frame 0; (b) eight overlays in one scene
//!    (lower third, scoreboard, ticker, clock, four alerts with their own props and
//!    places) from frame 0, then settled (only the ticker's crawl and the clock's
//!    seconds change), then static (the show clock held, so every layer draws the
//!    list it drew before: damage tracking's idle cost), then with every layer
//!    handed over as a new list each frame (the worst case: all eight re-rasterized);
//!    (c) 500 animated shapes (fills and strokes with alpha) as one layer whose
//!    paths change every frame, built natively.
//! 2. The target line for eight overlays at 1080p (median total, ≤ 16 ms on lavapipe).
//! 3. GStreamer's `compositor` blending the eight overlays of (b), pre-rendered as
//!    1920×1080 RGBA layers, and the ratio ours ÷ GStreamer.
//! 4. Offline render speed of `example-scenes/demo-show.toml` through engine,
//!    compositor and `FileEncoder` (H.264 veryfast, temporary MP4), and without the
//!    encoder, in multiples of realtime (target ≥ 3×).
//!
//! A failed target prints FAIL but exits 0; a missing component, a GPU or GStreamer
//! error exits non-zero. Guest ticks run with one-second deadlines so a tick
//! preempted on a busy machine is not reported as a fault; faults are counted and
//! printed.

#[path = "frame_time/gst_compositor.rs"]
mod gst_compositor;
#[path = "frame_time/offline.rs"]
mod offline;
#[path = "frame_time/scenarios.rs"]
mod scenarios;
#[path = "frame_time/stages.rs"]
mod stages;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_benches::machine::{cpu_seconds, load_average, print_run_footer};
use showrunner_benches::{fmt_ratio, guest_dir};
use showrunner_engine::ModuleFiles;
use showrunner_wasm::{Host, NoAssets, SandboxLimits};

use gst_compositor::Picture;
use scenarios::{Clock, FrameSource, NudgedSquare, ShapeSource, ShowSource};
use stages::{FrameSample, Row, StageMeter};

type Result<T> = std::result::Result<T, String>;

/// Target: eight overlays at 1080p, median ms per frame, tick to pixels.
const FRAME_TARGET_MS: f64 = 16.0;
/// Target: offline render with encoding, multiples of realtime.
const OFFLINE_TARGET: f64 = 3.0;
const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

#[derive(Clone, Copy)]
struct Plan {
    /// Frames in each measured window.
    frames: u64,
    /// First frame of the settled window (past every in-animation).
    settled_from: u64,
    gst_frames: u64,
    offline_frames: u64,
}

const FULL: Plan = Plan { frames: 90, settled_from: 90, gst_frames: 90, offline_frames: u64::MAX };
const QUICK: Plan = Plan { frames: 3, settled_from: 3, gst_frames: 3, offline_frames: 6 };

fn window(meter: &mut StageMeter, source: &mut dyn FrameSource, label: &str, size: (u32, u32), frames: std::ops::Range<u64>) -> Result<Row> {
    let faults_before = source.faults();
    let mut samples: Vec<FrameSample> = Vec::with_capacity((frames.end - frames.start) as usize);
    for n in frames {
        samples.push(meter.frame(source, n)?.0);
    }
    Ok(Row { label: label.to_string(), size, samples, faults: source.faults() - faults_before })
}

/// Rows (a), (b) and (c) at one size; at 1080p also the eight overlays as pictures.
fn measure_size(host: &Arc<Host>, modules: &mut ModuleFiles, guests: &Path, (w, h): (u32, u32), plan: Plan) -> Result<(Vec<Row>, Vec<Picture>)> {
    let mut rows = Vec::new();
    let n = plan.frames;

    let mut meter = StageMeter::new(w, h)?;
    rows.push(window(&mut meter, &mut NudgedSquare::new(w, h), "(0) floor: 1 cached layer, moved", (w, h), 0..n)?);

    let mut meter = StageMeter::new(w, h)?;
    let mut lower = scenarios::lower_third(host, modules, guests, w, h)?;
    rows.push(window(&mut meter, &mut lower, "(a) lower third, play at frame 0", (w, h), 0..n)?);
    drop(lower);

    let mut meter = StageMeter::new(w, h)?;
    let mut show: ShowSource = scenarios::eight_overlays(host, modules, guests, w, h)?;
    rows.push(window(&mut meter, &mut show, "(b) 8 overlays, play at frame 0", (w, h), 0..n)?);
    for i in n..plan.settled_from {
        meter.frame(&mut show, i)?;
    }
    let settled = plan.settled_from.max(n);
    rows.push(window(&mut meter, &mut show, "(b) settled: ticker + clock move", (w, h), settled..settled + n)?);
    show.clock = Clock::Held { at: settled + n - 1 };
    rows.push(window(&mut meter, &mut show, "(b) static: all 8 lists unchanged", (w, h), settled + n..settled + 2 * n)?);
    show.clock = Clock::ForceRedraw;
    rows.push(window(&mut meter, &mut show, "(b) every layer redrawn each frame", (w, h), settled + n..settled + 2 * n)?);

    // The eight overlays as they stand, each rendered alone: GStreamer's input.
    show.clock = Clock::Running;
    let (frame_plan, _) = show.plan(settled + 2 * n)?;
    let mut pictures = Vec::new();
    for layer in frame_plan.scenes.iter().flat_map(|s| &s.layers) {
        let frame = meter.compositor().renderer().render(&layer.ops, w, h).map_err(|e| format!("rendering layer {}: {e}", layer.id))?;
        pictures.push(Picture { pixels: frame.pixels.to_vec(), offset: (layer.transform.e.round() as i32, layer.transform.f.round() as i32) });
    }
    drop(show);

    let mut meter = StageMeter::new(w, h)?;
    rows.push(window(&mut meter, &mut ShapeSource::new(w, h), "(c) 500 shapes, all moving", (w, h), 0..n)?);
    Ok((rows, pictures))
}

fn cell((p50, p95): (f64, f64)) -> String {
    format!("{p50:>6.2} /{p95:>6.2}")
}

fn print_rows(rows: &[Row], plan: Plan) {
    println!("1. Frame time by stage, ms: median / p95 over {} consecutive frames at 30 fps", plan.frames);
    println!("   tick           = Engine::frame: every visible layer's Wasm tick on the worker pool (2 workers), validation, gather;");
    println!("                    for (c) building the 500-shape list natively + validating it (no Wasm)");
    println!("   tessellate     = text layout + flatten (lyon tessellation) of the layers compose re-rasterizes, repeated out of");
    println!("                    line on a cache of the same kind; 0 for layers the damage tracking reuses");
    println!("   readback       = Renderer::read_back_texture of a same-size texture holding the frame, GPU otherwise idle");
    println!("                    (copy + map + un-premultiply) of the whole frame; 0 on a frame compose returns unchanged.");
    println!("                    A repainted frame (few layers changed) reads back only its repainted rows: there readback");
    println!("                    is an upper bound and draw+composite a lower bound; their sum and total are measured");
    println!("   draw+composite = compose − tessellate − readback, per frame: recording, submitting and executing (lavapipe) the");
    println!("                    layer and composite passes; a reused frame shares the previous frame's pixels");
    println!("   total          = tick + compose (each percentile is taken per column, so columns do not add up exactly)");
    println!("   (0) floor      = one 64x64 layer, cached, moved by a pixel each frame: only the composite pass and the readback run");
    println!("   redrawn        = frames compose drew (the others it returned unchanged); layers = mean drawn / reused per frame");
    println!();
    println!(
        "   {:<36} {:>9} {:>7} {:>11}  {:>13}  {:>13}  {:>13}  {:>13}  {:>13}",
        "scenario", "size", "redrawn", "layers d/r", "tick", "tessellate", "draw+comp", "readback", "total"
    );
    for r in rows {
        let (drawn, reused) = r.layers();
        println!(
            "   {:<36} {:>9} {:>7} {:>11}  {}  {}  {}  {}  {}",
            r.label,
            format!("{}x{}", r.size.0, r.size.1),
            format!("{}/{}", r.redrawn_frames(), r.samples.len()),
            format!("{drawn:.1}/{reused:.1}"),
            cell(r.stage(|s| s.tick)),
            cell(r.stage(|s| s.tessellate)),
            cell(r.stage(FrameSample::draw_composite)),
            cell(r.stage(|s| s.readback)),
            cell(r.stage(FrameSample::total)),
        );
    }
    for r in rows {
        if r.faults > 0 {
            println!("   note: {} {}x{}: {} guest faults (see warnings above); faulted layers kept their last list", r.label, r.size.0, r.size.1, r.faults);
        }
        let mismatches = r.mirror_mismatches();
        if mismatches > 0 {
            println!("   note: {} {}x{}: on {mismatches} frames the tessellate repeat covered other layers than compose redrew", r.label, r.size.0, r.size.1);
        }
    }
    println!();
}

fn find<'a>(rows: &'a [Row], prefix: &str, size: (u32, u32)) -> Result<&'a Row> {
    rows.iter().find(|r| r.label.starts_with(prefix) && r.size == size).ok_or_else(|| format!("no row `{prefix}` at {}x{}", size.0, size.1))
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn run(plan: Plan, quick: bool) -> Result<()> {
    let root = workspace_root();
    let guests = guest_dir(&root);
    let needed = ["scene_lower_third", "scene_scoreboard", "scene_ticker", "scene_clock", "scene_alert", "transition_crossfade", "transition_wipe"];
    let missing: Vec<String> = needed.iter().map(|n| guests.join(format!("{n}.wasm"))).filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        return Err(format!("missing guest components:\n  {}\nbuild them first with `cargo xtask build-scenes`", missing.join("\n  ")));
    }
    let limits = SandboxLimits { tick_deadline: Duration::from_secs(1), event_deadline: Duration::from_secs(1), init_deadline: Duration::from_secs(5), ..SandboxLimits::default() };
    let host = Host::new(limits, None, Arc::new(NoAssets)).map_err(|e| e.to_string())?;
    let mut modules = ModuleFiles::new(host.clone());

    let adapter = showrunner_render::Renderer::new().map_err(|e| e.to_string())?.adapter().to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("showrunner frame-time benchmark: {cpus} CPUs, adapter {adapter}");
    println!("load average at start: {}", load_average());
    if quick {
        println!("QUICK SMOKE RUN (no --bench argument): too few samples for the numbers to mean anything");
    }
    println!();

    let started = Instant::now();
    let cpu_at_start = cpu_seconds();
    let mut rows = Vec::new();
    let mut pictures = Vec::new();
    for size in SIZES {
        let (r, p) = measure_size(&host, &mut modules, &guests, size, plan)?;
        rows.extend(r);
        pictures = p;
    }
    print_rows(&rows, plan);

    let full_hd = (1920, 1080);
    let played = find(&rows, "(b) 8 overlays", full_hd)?;
    let redrawn = find(&rows, "(b) every layer", full_hd)?;
    let (ours, ours_p95) = played.stage(FrameSample::total);
    let (worst, worst_p95) = redrawn.stage(FrameSample::total);
    let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
    println!("2. 8 overlays at 1080p: {ours:.2} ms/frame (target ≤ {FRAME_TARGET_MS:.0} ms on lavapipe): {}", verdict(ours <= FRAME_TARGET_MS));
    println!("   (median total from frame 0, p95 {ours_p95:.2} ms; with every layer re-rasterized each frame {worst:.2} ms, p95 {worst_p95:.2} ms)");
    println!();

    let transparent = gst_compositor::blend(&pictures, full_hd.0, full_hd.1, scenarios::FPS, plan.gst_frames, "transparent")?;
    let black = gst_compositor::blend(&pictures, full_hd.0, full_hd.1, scenarios::FPS, plan.gst_frames, "black")?;
    println!(
        "3. {} `compositor`: {} pre-rendered 1920x1080 RGBA layers with alpha (the overlays of (b)) → RGBA → fakesink sync=false, {} frames",
        transparent.version,
        pictures.len(),
        transparent.frames
    );
    for (gst, background) in [(&transparent, "transparent (alpha kept, like ours)"), (&black, "black (opaque, ready to encode)")] {
        println!(
            "   background={background}: {:.2} ms/frame (gap between output frames: median {:.2}, p95 {:.2} ms)",
            gst.per_frame_ms, gst.gap_p50_ms, gst.gap_p95_ms
        );
    }
    let gst_best = transparent.per_frame_ms.min(black.per_frame_ms);
    println!("   ours / GStreamer compositor = {} (8 overlays at 1080p from frame 0, {ours:.2} ms, vs GStreamer's faster run, {gst_best:.2} ms)", fmt_ratio(ours / gst_best));
    println!(
        "   every layer re-rendered from its draw list each frame: {} ({worst:.2} vs {gst_best:.2} ms); against background=transparent: {} from frame 0, {} every layer redrawn",
        fmt_ratio(worst / gst_best),
        fmt_ratio(ours / transparent.per_frame_ms),
        fmt_ratio(worst / transparent.per_frame_ms)
    );
    println!();

    let show = root.join("example-scenes/demo-show.toml");
    let encoded = offline::render(&show, &host, true, plan.offline_frames)?;
    let bare = offline::render(&show, &host, false, plan.offline_frames)?;
    let (w, h) = encoded.size;
    println!("4. Offline render of example-scenes/demo-show.toml ({w}x{h}, {} frames = {:.1} s of video)", encoded.frames, encoded.video.as_secs_f64());
    println!(
        "   with FileEncoder (H.264 veryfast → temp MP4, {} KiB): {:.2} s = {:.1}× realtime (target ≥ {OFFLINE_TARGET:.0}×): {}",
        encoded.file_bytes / 1024,
        encoded.wall.as_secs_f64(),
        encoded.realtime(),
        verdict(encoded.realtime() >= OFFLINE_TARGET)
    );
    println!("      per frame: tick {:.2} ms, compose {:.2} ms, push_frame {:.2} ms", encoded.tick_ms, encoded.compose_ms, encoded.push_ms);
    println!("   without the encoder: {:.2} s = {:.1}× realtime", bare.wall.as_secs_f64(), bare.realtime());
    println!("      per frame: tick {:.2} ms, compose {:.2} ms", bare.tick_ms, bare.compose_ms);
    if encoded.faults + bare.faults > 0 {
        println!("   note: {} guest faults or failed cues during the offline renders", encoded.faults + bare.faults);
    }
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
