//! showrunner's overlays against the same overlays as HTML pages in headless
//! Chromium, the way OBS, CasparCG and SPX browser sources run them today.
//!
//! Run: `cargo xtask build-scenes`, then
//! `cargo bench -p showrunner-benches --bench browser_overlays`. Without `--bench`
//! (e.g. under `cargo test --all-targets`) it measures nothing and exits 0.
//! The browser side needs Node.js ≥ 18 and Chromium (`apt-get install nodejs
//! chromium`); without them it says so, skips that side and still exits 0.
//!
//! For each overlay (lower third, ticker; 1920×1080, 30 fps), on the same machine,
//! one after the other:
//! - **showrunner**: this binary again, as a fresh child process
//!   ([`showrunner::child`]): a `Host` (no compile cache: a cold compile), a
//!   `Renderer` (lavapipe without a GPU), the scene's Wasm component in a
//!   `LayerRunner`, `play`, then frames ticked, rendered and read back as RGBA as fast
//!   as they go: the first one (startup), 2 s of video to settle, then 5 s of video
//!   (150 frames) timed. CPU is the process's utime+stime over those 150 frames.
//!   Then, to show where a frame's time goes, the tick alone and the render of an
//!   empty frame.
//! - **Chromium**: `benches/browser/measure.mjs` on `benches/browser/<overlay>.html`:
//!   `chromium --headless=new`, frames pulled by `Page.startScreencast` (PNG, alpha
//!   kept) at 30 fps; startup to the first frame after the load event, 2 s to settle,
//!   then a 5 s window of CPU over the whole process tree; and the same page with no
//!   frames pulled, the floor of what Chromium spends on it.
//! - Startup: spawn → first frame in hand. Memory: PSS (the process, or the sum over
//!   the browser's process tree) at the end of the window.
//!
//! Chromium draws only when the picture changes, so a lower third that has finished
//! sliding in costs it almost nothing and delivers no frames, while showrunner (as
//! measured here) renders every frame; compare `cores` there. Until the renderer
//! draws text, showrunner's frames have no text (the count is printed).

#[path = "browser_overlays/chromium.rs"]
mod chromium;
#[path = "browser_overlays/showrunner.rs"]
mod showrunner;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use showrunner_benches::{fmt_ratio, guest_dir, guest_file};

use chromium::{BrowserRun, Capture, Missing, Tools};
use showrunner::{CHILD_ARG, ShowrunnerRun};

pub const WIDTH: u32 = 1920;
pub const HEIGHT: u32 = 1080;
pub const FPS: u32 = 30;
/// Frames (2 s) between the first frame and the timed window, both sides.
pub const SETTLE_FRAMES: u64 = 60;
/// Frames (5 s of video) in the timed window.
pub const WINDOW_FRAMES: u64 = 150;

pub type Result<T> = std::result::Result<T, String>;

/// One overlay as a scene component and as an HTML page.
pub struct Overlay {
    pub name: &'static str,
    pub crate_name: &'static str,
    pub page: &'static str,
    /// Text props over the scene's defaults (the page has the same text built in).
    pub props: &'static [(&'static str, &'static str)],
}

const HEADLINE: &str = "Markets close higher as tech rallies — storms expected across the north tonight — \
                        tickets for Saturday's final on sale at 10:00";

const OVERLAYS: [Overlay; 2] = [
    Overlay { name: "lower-third", crate_name: "scene-lower-third", page: "lower-third.html", props: &[] },
    Overlay { name: "ticker", crate_name: "scene-ticker", page: "ticker.html", props: &[("text", HEADLINE)] },
];

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn component(overlay: &Overlay) -> PathBuf {
    guest_file(&guest_dir(&workspace_root()), overlay.crate_name)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
}

fn ratio(browser: Option<f64>, showrunner: f64) -> String {
    match browser.map(|b| b / showrunner) {
        Some(r) if r.is_finite() && r < 0.1 => format!("{r:.3}×"),
        Some(r) => fmt_ratio(r),
        None => "-".to_string(),
    }
}

struct Row {
    label: String,
    startup: String,
    pss: String,
    cpu_per_frame: String,
    frames: String,
    cores: String,
}

fn print_rows(rows: &[Row]) {
    println!("   {:<34} {:>10} {:>9} {:>11} {:>22} {:>13}", "", "startup ms", "PSS MiB", "CPU ms/frm", "frames in window", "cores");
    for r in rows {
        println!("   {:<34} {:>10} {:>9} {:>11} {:>22} {:>13}", r.label, r.startup, r.pss, r.cpu_per_frame, r.frames, r.cores);
    }
}

fn browser_row(label: &str, b: &BrowserRun) -> Row {
    let frames = b.frames.map_or_else(|| "not pulled".to_string(), |f| format!("{f} ({:.1} fps)", f as f64 / b.window_s));
    Row {
        label: label.to_string(),
        startup: opt(b.startup_ms, 0),
        pss: format!("{:.0}", b.pss_mib),
        cpu_per_frame: opt(b.cpu_ms_per_frame, 2),
        frames,
        cores: format!("{:.3}", b.cores),
    }
}

fn ratio_row(label: &str, b: &BrowserRun, s: &ShowrunnerRun) -> Row {
    Row {
        label: label.to_string(),
        startup: ratio(b.startup_ms, s.startup_ms),
        pss: ratio(Some(b.pss_mib), s.pss_mib),
        cpu_per_frame: ratio(b.cpu_ms_per_frame, s.cpu_ms_per_frame()),
        frames: String::new(),
        cores: ratio(Some(b.cores), s.cores_at_fps()),
    }
}

fn print_overlay(overlay: &Overlay, s: &ShowrunnerRun, screencast: Option<&BrowserRun>, floor: Option<&BrowserRun>) {
    println!("{} (1920x1080, {FPS} fps)", overlay.name);
    let mut rows = vec![Row {
        label: "showrunner (wasm + lavapipe)".into(),
        startup: format!("{:.0}", s.startup_ms),
        pss: format!("{:.0}", s.pss_mib),
        cpu_per_frame: format!("{:.2}", s.cpu_ms_per_frame()),
        frames: format!("{} ({:.0} fps max)", s.frames, s.frames as f64 / (s.wall_ms / 1e3)),
        cores: format!("{:.3} @{FPS}fps", s.cores_at_fps()),
    }];
    if let Some(b) = screencast {
        rows.push(browser_row("chromium, screencast png", b));
    }
    if let Some(b) = floor {
        rows.push(browser_row("chromium, no frames pulled", b));
    }
    if let Some(b) = screencast {
        rows.push(ratio_row("  screencast ÷ showrunner", b, s));
    }
    if let Some(b) = floor {
        rows.push(ratio_row("  no frames pulled ÷ showrunner", b, s));
    }
    print_rows(&rows);
    println!(
        "   showrunner startup in-process: Host {:.1} ms + Renderer {:.1} ms + module load (cold compile) {:.1} ms + layer/init/play {:.1} ms + first frame {:.1} ms",
        s.host_ms, s.renderer_ms, s.load_ms, s.layer_ms, s.first_frame_ms
    );
    println!(
        "   showrunner: {:.2} ms wall/frame; PSS grew {:.0} MiB from process start (RSS {:.0} MiB); {} ops drawn per frame",
        s.wall_ms / s.frames as f64,
        s.pss_delta_mib,
        s.rss_mib,
        s.drawn
    );
    println!(
        "   showrunner per frame: scene tick (Wasm) {:.1} µs; render + readback of an EMPTY 1920x1080 frame {:.2} ms CPU ({:.2} ms wall): the renderer's fixed cost",
        s.tick_us, s.empty_cpu_ms, s.empty_wall_ms
    );
    if s.reused_frames > 0 {
        println!("   showrunner reused {} of the window's frames unchanged (damage tracking: the draw list did not change)", s.reused_frames);
    }
    if s.skipped > 0 {
        println!("   NOTE: the renderer skipped {} ops per frame (see showrunner_render::Skipped)", s.skipped);
    }
    if let Some(b) = screencast {
        println!("   chromium ({}): {} processes, RSS summed {:.0} MiB (shared pages counted per process); {:.0} ms CPU in {:.2} s", b.browser, b.processes, b.rss_mib, b.cpu_ms, b.window_s);
    }
    println!();
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn run() -> Result<bool> {
    let root = workspace_root();
    let missing: Vec<String> = OVERLAYS.iter().map(component).filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        return Err(format!("missing guest components:\n  {}\nbuild them first with `cargo xtask build-scenes`", missing.join("\n  ")));
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("showrunner overlays vs the same overlays as HTML in headless Chromium ({cpus} CPUs)");
    let tools: std::result::Result<Tools, Missing> = chromium::find_tools();
    match &tools {
        Ok(t) => println!("browser side: {} with Node.js {}", t.chromium.display(), t.node_version),
        Err(Missing(why)) => println!("browser side SKIPPED: {why}. Only showrunner's numbers follow."),
    }
    if let Some(load) = load_average()
        && load > 0.5 * cpus as f64
    {
        println!("warning: 1-minute load average {load:.2} on {cpus} CPUs: other work competes, numbers are noisy");
    }
    println!();

    let script = root.join("benches/browser/measure.mjs");
    let settle_s = SETTLE_FRAMES as f64 / f64::from(FPS);
    let window_s = WINDOW_FRAMES as f64 / f64::from(FPS);
    let mut browser_failed = false;
    let mut adapter = None;
    for overlay in &OVERLAYS {
        let s = showrunner::run_in_child(overlay).map_err(|e| format!("{}: {e}", overlay.name))?;
        adapter.get_or_insert_with(|| s.adapter.clone());
        let (mut screencast, mut floor) = (None, None);
        if let Ok(tools) = &tools {
            let page = root.join("benches/browser").join(overlay.page);
            for (capture, slot) in [(Capture::ScreencastPng, &mut screencast), (Capture::None, &mut floor)] {
                match chromium::measure(tools, &script, &page, capture, settle_s, window_s) {
                    Ok(run) => *slot = Some(run),
                    Err(e) => {
                        eprintln!("error: {}: {e}", overlay.name);
                        browser_failed = true;
                    }
                }
            }
        }
        print_overlay(overlay, &s, screencast.as_ref(), floor.as_ref());
    }
    println!("showrunner renders on: {}", adapter.unwrap_or_default());
    println!("ratios are Chromium ÷ showrunner: above 1× the browser needs more.");
    println!("startup: spawn → first frame in hand. PSS: whole process (showrunner) or sum over the process tree (Chromium), end of window.");
    println!("cores: showrunner = CPU/frame × {FPS} (what real time needs; it rendered as fast as it could); Chromium = CPU ÷ wall time in the window.");
    println!("Chromium sends a screencast frame only when the picture changed; PNG encoding of each frame is its CPU too (browser sources copy raw pixels instead: see `no frames pulled` for the floor).");
    Ok(!browser_failed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == CHILD_ARG) {
        let name = args.get(i + 1).map_or("", String::as_str);
        let Some(overlay) = OVERLAYS.iter().find(|o| o.name == name) else {
            eprintln!("error: {CHILD_ARG} needs one of: {}", OVERLAYS.map(|o| o.name).join(", "));
            return ExitCode::FAILURE;
        };
        return match showrunner::child(overlay, &component(overlay)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: showrunner {}: {e}", overlay.name);
                ExitCode::FAILURE
            }
        };
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("browser_overlays measures nothing outside `cargo bench -p showrunner-benches --bench browser_overlays`");
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("error: a browser measurement failed (see above); its numbers are left out");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
