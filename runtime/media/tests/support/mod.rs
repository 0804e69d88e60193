//! Helpers shared by the media integration tests: synthetic frames, encoding a clip,
//! and reading files back with ffprobe/ffmpeg (the real tools, not our code).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use showrunner_media::{EncodeSummary, EncoderSettings, FileEncoder};

/// Skips the calling test, with the reason printed, when ffprobe is not installed.
#[macro_export]
macro_rules! require_ffprobe {
    () => {
        if !$crate::support::ffprobe_installed() {
            eprintln!("SKIPPED: ffprobe is not installed (`cargo xtask setup` installs ffmpeg)");
            return;
        }
    };
}

pub fn ffprobe_installed() -> bool {
    Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success())
}

/// A frame of one RGBA colour.
pub fn solid_frame(settings: &EncoderSettings, rgba: [u8; 4]) -> Vec<u8> {
    rgba.repeat(settings.width as usize * settings.height as usize)
}

/// An opaque frame of pseudo-random noise (hard to compress), different per `seed`.
pub fn noise_frame(settings: &EncoderSettings, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut frame = vec![255u8; settings.frame_bytes()];
    for pixel in frame.chunks_exact_mut(4) {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let bytes = (state >> 32).to_le_bytes();
        pixel[..3].copy_from_slice(&bytes[..3]);
    }
    frame
}

/// Encodes `count` frames made by `frame(n)` to `path`.
pub fn encode(path: &Path, settings: &EncoderSettings, count: u64, frame: impl Fn(u64) -> Vec<u8>) -> EncodeSummary {
    let mut encoder = FileEncoder::create(path, settings).expect("create encoder");
    for n in 0..count {
        encoder.push_frame(&frame(n)).expect("push frame");
    }
    let summary = encoder.finish().expect("finish");
    assert_eq!(summary.frames_written, count);
    summary
}

/// `ffprobe -show_streams -show_format -count_frames` as JSON.
pub fn ffprobe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_streams", "-show_format", "-count_frames"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(out.status.success(), "ffprobe failed on {path:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// The first (only) video stream of an ffprobe result.
pub fn video_stream(probe: &serde_json::Value) -> &serde_json::Value {
    let streams = probe["streams"].as_array().expect("streams array");
    assert_eq!(streams.len(), 1, "expected one stream: {probe}");
    &streams[0]
}

pub fn json_f64(value: &serde_json::Value) -> f64 {
    value.as_str().expect("JSON string").parse().expect("number in string")
}

/// Indices (in presentation order) of the key frames of `path`'s video stream.
pub fn keyframe_indices(path: &Path) -> Vec<usize> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "frame=key_frame", "-of", "json"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(out.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    let probe: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe JSON");
    let frames = probe["frames"].as_array().expect("frames array");
    frames.iter().enumerate().filter(|(_, frame)| frame["key_frame"] == 1).map(|(i, _)| i).collect()
}

/// Every frame of `path` decoded by ffmpeg to RGB24, one Vec per frame.
pub fn decode_rgb_frames(path: &Path, width: u32, height: u32) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    let frame_len = width as usize * height as usize * 3;
    assert_eq!(out.stdout.len() % frame_len, 0, "decoded size is not whole frames");
    out.stdout.chunks_exact(frame_len).map(<[u8]>::to_vec).collect()
}

/// Mean R, G, B of an RGB24 frame.
pub fn mean_rgb(frame: &[u8]) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for pixel in frame.chunks_exact(3) {
        for c in 0..3 {
            sum[c] += f64::from(pixel[c]);
        }
    }
    let pixels = (frame.len() / 3) as f64;
    sum.map(|s| s / pixels)
}

/// Asserts each channel of `actual` is within `tolerance` of `expected`.
pub fn assert_colour_near(actual: [f64; 3], expected: [u8; 3], tolerance: f64, what: &str) {
    for c in 0..3 {
        let diff = (actual[c] - f64::from(expected[c])).abs();
        assert!(diff <= tolerance, "{what}: got {actual:?}, expected {expected:?} ± {tolerance}");
    }
}

/// Runs `f` on another thread and fails the test if it takes longer than `limit`
/// (so a hang is a failure, not a stuck test run).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("did not return within {limit:?}"))
}
