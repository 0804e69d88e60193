//! `showrunner live` with live inputs drawn by the video-box scene: ffmpeg publishes a
//! test pattern of a known colour with a tone to the embedded RTMP ingest server (after
//! garbage on the same port), and a looping media file plays; the programme recording
//! shows the colours where the scene draws the inputs (sampled pixels), the slate
//! before and after, and carries the chosen input's audio (`--audio-from`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
/// The video-box scene's default slate (0.05, 0.06, 0.09) in 8-bit sRGB.
const SLATE: [u8; 3] = [13, 15, 23];

fn tools_present() -> bool {
    let present = |tool: &str| Command::new(tool).arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    let ok = present("ffmpeg") && present("ffprobe");
    if !ok {
        eprintln!("skipped: ffmpeg/ffprobe not installed (run `cargo xtask setup`)");
    }
    ok
}

fn video_box() -> String {
    common::guest("scene-video-box").to_string_lossy().into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Mean RGB of the programme frame at `seconds` into the recording.
fn colour_at(recording: &Path, seconds: f64) -> [f64; 3] {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &format!("{seconds:.2}"), "-i"])
        .arg(recording)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), (WIDTH * HEIGHT * 3) as usize, "one {WIDTH}x{HEIGHT} frame at {seconds} s");
    let mut sum = [0f64; 3];
    for pixel in out.stdout.chunks_exact(3) {
        for c in 0..3 {
            sum[c] += f64::from(pixel[c]);
        }
    }
    sum.map(|s| s / f64::from(WIDTH * HEIGHT))
}

fn assert_near(actual: [f64; 3], expected: [u8; 3], what: &str) {
    for c in 0..3 {
        assert!((actual[c] - f64::from(expected[c])).abs() <= 14.0, "{what}: got {actual:?}, expected {expected:?}");
    }
}

/// Mean volume in dB of the recording's audio from `start` to `end` seconds.
fn mean_volume(recording: &Path, start: f64, end: f64) -> f64 {
    let volume = Command::new("ffmpeg")
        .args(["-v", "info", "-nostats", "-i"])
        .arg(recording)
        .args(["-map", "0:a", "-af", &format!("atrim={start}:{end},volumedetect"), "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&volume.stderr);
    log.lines()
        .find_map(|l| l.split("mean_volume:").nth(1))
        .and_then(|v| v.trim().trim_end_matches("dB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no mean volume in {log}"))
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn an_ingested_feed_is_drawn_and_garbage_on_the_port_costs_nothing() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("programme.mkv");
    let summary_path = dir.path().join("summary.json");
    let port = free_port();
    let cache = tempfile::tempdir().unwrap();
    let show = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["live", &video_box(), "--size", "640x360", "--duration", "14s", "--bitrate", "1500", "--status-every", "2s"])
        .args(["--ingest-key", "cam=s3cret-key", "--ingest-listen", &format!("127.0.0.1:{port}"), "--audio-from", "cam"])
        .args(["--record", recording.to_str().unwrap(), "--summary-json", summary_path.to_str().unwrap()])
        .env("SHOWRUNNER_CACHE_DIR", cache.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("showrunner starts");

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut garbage = loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            break stream;
        }
        assert!(Instant::now() < deadline, "the ingest server never listened on {port}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let noise: Vec<u8> = (0..65_536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let _ = garbage.write_all(&noise);
    drop(garbage);
    drop(TcpStream::connect(("127.0.0.1", port)).unwrap());

    std::thread::sleep(Duration::from_secs(2));
    let publish = Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-f", "lavfi", "-i", "color=c=0x20C040:s=320x240:r=30"])
        .args(["-re", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100", "-t", "6"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "30"])
        .args(["-c:a", "aac"])
        .args(["-f", "flv", &format!("rtmp://127.0.0.1:{port}/live/s3cret-key")])
        .output()
        .expect("ffmpeg runs");
    assert!(publish.status.success(), "ffmpeg published to the ingest server: {}", String::from_utf8_lossy(&publish.stderr));

    let out = show.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("input cam: publisher") && stderr.contains("is live"), "publish evented: {stderr}");
    assert!(stderr.contains("input cam: publisher gone"), "unpublish evented: {stderr}");
    assert!(stderr.contains("ingest: refused"), "the garbage client was refused: {stderr}");
    assert!(!stderr.contains("s3cret-key"), "the stream key is never printed: {stderr}");

    let summary = summary(&summary_path);
    let count = |key: &str| summary[key].as_u64().unwrap();
    assert_eq!(count("frames_rendered") + count("frames_repeated") + count("frames_skipped"), 14 * 30, "every slot filled: {summary}");
    let cam = &summary["inputs"][0];
    assert_eq!((cam["name"].as_str(), cam["sessions"].as_u64()), (Some("cam"), Some(1)), "{summary}");
    assert!(cam["frames"].as_u64().unwrap() >= 60, "{summary}");

    assert_near(colour_at(&recording, 0.5), SLATE, "before the publish: the slate");
    assert_near(colour_at(&recording, 6.0), [0x20, 0xC0, 0x40], "while published: the feed's colour");
    assert_near(colour_at(&recording, 13.5), SLATE, "after the publisher left: the slate again");
    let (before, during, after) = (mean_volume(&recording, 0.2, 1.5), mean_volume(&recording, 5.0, 7.0), mean_volume(&recording, 12.0, 13.8));
    assert!(during > -30.0, "the publisher's tone is the programme audio: {during} dB");
    assert!(before < -80.0 && after < -80.0, "silence without a publisher: {before} dB before, {after} dB after");
}

#[test]
fn a_looping_media_file_is_drawn_for_the_whole_show() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "color=c=0xE04020:s=320x180:r=30:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(made.success());
    let recording = dir.path().join("programme.mkv");
    let summary_path = dir.path().join("summary.json");
    let out = common::showrunner(&[
        "live",
        &video_box(),
        "--size",
        "640x360",
        "--duration",
        "4s",
        "--bitrate",
        "1500",
        "--input",
        &format!("cam={},loop", clip.display()),
        "--record",
        recording.to_str().unwrap(),
        "--summary-json",
        summary_path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("input: cam ← ") && stderr.contains("(loop)"), "{stderr}");
    let summary = summary(&summary_path);
    let cam = &summary["inputs"][0];
    assert!(cam["loops"].as_u64().unwrap() >= 2, "a 1 s clip looped during a 4 s show: {summary}");
    assert_eq!((cam["width"].as_u64(), cam["height"].as_u64()), (Some(320), Some(180)), "{summary}");
    assert_near(colour_at(&recording, 1.5), [0xE0, 0x40, 0x20], "the clip after its first loop");
    assert_near(colour_at(&recording, 3.5), [0xE0, 0x40, 0x20], "the clip near the end");
}

#[test]
fn inputs_that_cannot_start_stop_the_show_before_it_starts() {
    let missing = common::showrunner(&["live", &video_box(), "--record", "/tmp/never.mkv", "--input", "cam=/nonexistent/clip.mp4"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(stderr.contains("cam") && stderr.contains("/nonexistent/clip.mp4"), "{stderr}");
    let twice = common::showrunner(&["live", &video_box(), "--record", "/tmp/never.mkv", "--input", "cam=a.mp4", "--ingest-key", "cam=k"]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("two live inputs are named `cam`"));
    let malformed = common::showrunner(&["live", &video_box(), "--record", "/tmp/never.mkv", "--ingest-key", "cam"]);
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("NAME=KEY"));
    assert!(!Path::new("/tmp/never.mkv").exists(), "nothing was recorded");
}

#[test]
fn audio_from_an_input_is_the_programme_audio_and_an_unknown_name_is_refused() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip_with_tone.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "color=c=0xE04020:s=320x180:r=30:d=1"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100:duration=1"])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(made.success());
    let input = format!("cam={},loop", clip.display());
    let unknown = common::showrunner(&["live", &video_box(), "--record", "/tmp/never.mkv", "--input", &input, "--audio-from", "nosuch"]);
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success(), "{stderr}");
    assert!(stderr.contains("--audio-from `nosuch`") && stderr.contains("cam"), "{stderr}");

    let recording = dir.path().join("programme.mkv");
    let args = ["--duration", "4s", "--bitrate", "1500", "--input", &input, "--audio-from", "cam", "--record"];
    let out = common::showrunner(&[&["live", &video_box(), "--size", "640x360"][..], &args, &[recording.to_str().unwrap()]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("audio: from input cam"), "{stderr}");
    // The 1 kHz tone of a 1 s clip looping through a 4 s show (ffmpeg's sine is about
    // -21 dB mean volume; silence is -91 dB).
    let mean = mean_volume(&recording, 1.0, 3.5);
    assert!(mean > -30.0, "the programme audio is the clip's tone: mean volume {mean} dB");
}
