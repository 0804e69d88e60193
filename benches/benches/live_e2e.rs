//! End-to-end live benchmark: `showrunner live` plays the demo show at 1920×1080, 30 fps,
//! paced by the frame clock, encodes it (x264 veryfast, 4500 kbit/s, AAC) and streams it
//! to a real nginx-rtmp on a loopback port for two minutes. It prints what the operator
//! cares about, from the run's own summary: CPU time per frame (render thread and whole
//! process), late, repeated and dropped frames (target 0), and pts drift against the
//! wall clock (target: under one frame). As a reference measured in the same run,
//! GStreamer alone encodes and streams black 1080p30 (the show is overlays on black)
//! with the same encoder settings (`videotestsrc ! x264enc ! flvmux ! rtmp2sink`), and the ratio of CPU per
//! frame, ours ÷ that, says what rendering the show adds to encoding it.
//!
//! Run: `cargo xtask build-scenes`, then `cargo bench -p showrunner-benches --bench live_e2e`
//! (about 2.5 minutes; `LIVE_BENCH_SECONDS=30` for a shorter run). Without `--bench`
//! (under `cargo test --all-targets`) it streams 3 s as a smoke run. A missed target
//! prints FAIL and exits 0; a missing tool or a failed run exits non-zero.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../runtime/media/tests/support/rtmp_server.rs"]
mod rtmp_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// CPU time (user + system) of every child process waited for so far.
fn children_cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_CHILDREN needs nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec * 1000) as u32);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The demo show at 1080p, with module paths made absolute, written into `dir`.
fn show_1080p(dir: &Path) -> PathBuf {
    let scenes = root().join("example-scenes");
    let text = std::fs::read_to_string(scenes.join("demo-show.toml")).expect("example-scenes/demo-show.toml");
    let text = text.replace("size = \"1280x720\"", "size = \"1920x1080\"").replace("\"../target/", &format!("\"{}/", target_dir().display()));
    assert!(text.contains("1920x1080"), "demo-show.toml no longer says size = \"1280x720\"");
    let path = dir.join("demo-show-1080p.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds: u64 = if full { std::env::var("LIVE_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(120) } else { 3 };
    let Some(server) = rtmp_server::RtmpServer::start() else {
        eprintln!("live_e2e needs nginx with the RTMP module (`cargo xtask setup` installs it)");
        std::process::exit(1);
    };
    let status = Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "showrunner"]).status().unwrap();
    assert!(status.success(), "building showrunner failed");
    let dir = tempfile::tempdir().unwrap();
    let show = show_1080p(dir.path());
    let summary_path = dir.path().join("summary.json");

    println!("live end to end: demo show at 1920x1080 30 fps, x264 veryfast 4500 kbit/s + AAC → nginx-rtmp, {seconds} s");
    let before = children_cpu();
    let started = Instant::now();
    let status = Command::new(target_dir().join("release/showrunner"))
        .arg("live")
        .arg(&show)
        .args(["--loop", "--bitrate", "4500", "--status-every", "30s", "--duration", &format!("{seconds}s")])
        .args(["--rtmp", &server.url("bench"), "--summary-json"])
        .arg(&summary_path)
        .status()
        .unwrap();
    assert!(status.success(), "showrunner live failed: {status}");
    let ours_cpu = children_cpu() - before;
    let ours_wall = started.elapsed();
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    let n = |key: &str| s[key].as_f64().unwrap_or(f64::NAN);
    let frame_ms = 1000.0 / n("fps");
    let slots = n("frames_rendered") + n("frames_repeated") + n("frames_skipped");
    let ours_per_frame = ours_cpu.as_secs_f64() * 1000.0 / slots.max(1.0);
    println!(
        "  {} frames rendered, {} late, {} repeated, {} skipped, {} dropped by the encoder; pts drift {:+.1} ms",
        n("frames_rendered"),
        n("frames_late"),
        n("frames_repeated"),
        n("frames_skipped"),
        n("encoder_frames_dropped"),
        n("pts_drift_ms")
    );
    println!(
        "  CPU per frame: render thread {:.1} ms, whole process {:.1} ms ({:.0}% of one core at 30 fps; the frame interval is {frame_ms:.1} ms); wall {:.1} s",
        n("render_thread_cpu_ms_per_frame"),
        ours_per_frame,
        ours_per_frame / frame_ms * 100.0,
        ours_wall.as_secs_f64()
    );
    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    let lost = n("frames_late") + n("frames_repeated") + n("frames_skipped") + n("encoder_frames_dropped");
    println!("  target: no late, repeated, skipped or dropped frames: {} ({lost})", pass(lost == 0.0));
    println!("  target: |pts drift| under one frame: {} ({:+.1} ms)", pass(n("pts_drift_ms").abs() < frame_ms), n("pts_drift_ms"));

    // Reference: GStreamer encoding and streaming black 1080p30 with the same settings:
    // the floor of encoding and streaming, since the show is overlays on black.
    let reference_seconds = seconds.min(30);
    let frames = reference_seconds * 30;
    let pipeline = format!(
        "videotestsrc is-live=true num-buffers={frames} pattern=black ! video/x-raw,width=1920,height=1080,framerate=30/1 ! \
         videoconvert ! x264enc tune=zerolatency speed-preset=veryfast bitrate=4500 key-int-max=60 ! h264parse ! queue ! mux. \
         audiotestsrc is-live=true wave=silence samplesperbuffer=1470 num-buffers={frames} ! audio/x-raw,rate=44100,channels=2 ! voaacenc bitrate=128000 ! aacparse ! queue ! mux. \
         flvmux name=mux streamable=true ! rtmp2sink location={}",
        server.url("reference")
    );
    let before = children_cpu();
    let status = Command::new("gst-launch-1.0").arg("-q").args(pipeline.split_whitespace()).status().unwrap();
    assert!(status.success(), "the GStreamer reference pipeline failed");
    let reference_per_frame = (children_cpu() - before).as_secs_f64() * 1000.0 / frames as f64;
    println!("  GStreamer alone (black 1080p, same encoder, {reference_seconds} s): {reference_per_frame:.1} ms CPU per frame");
    println!("  ratio ours ÷ GStreamer alone: {:.2}x (what rendering the show adds to encoding it)", ours_per_frame / reference_per_frame);
}
