//! FileEncoder writes files that ffprobe and ffmpeg read back with the right codec,
//! size, frame count, duration, frame rate and colours. Run: `cargo test --release -p showrunner-media`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use showrunner_media::{EncoderSettings, FileEncoder, X264Preset};
use support::*;

fn check_clip(path: &Path, fps: (u32, u32), frames: u64, format_name: &str) {
    let settings = EncoderSettings::new(320, 180, fps.0, fps.1);
    let summary = encode(path, &settings, frames, |n| noise_frame(&settings, n % 4));
    let on_disk = std::fs::metadata(path).unwrap().len();
    assert_eq!(summary.file_size_bytes, on_disk);
    assert!(on_disk > 1000, "suspiciously small file: {on_disk} bytes");

    let probe = ffprobe(path);
    let stream = video_stream(&probe);
    assert_eq!(stream["codec_name"], "h264");
    assert_eq!(stream["width"], 320);
    assert_eq!(stream["height"], 180);
    assert_eq!(stream["nb_read_frames"], frames.to_string());
    assert_eq!(stream["r_frame_rate"], format!("{}/{}", fps.0, fps.1));
    assert!(probe["format"]["format_name"].as_str().unwrap().contains(format_name), "{probe}");

    assert!(json_f64(&stream["start_time"]).abs() < 1e-3, "video must start at 0: {stream}");

    let frame_secs = f64::from(fps.1) / f64::from(fps.0);
    let expected = frames as f64 * frame_secs;
    let duration = json_f64(&probe["format"]["duration"]);
    assert!((duration - expected).abs() <= frame_secs, "duration {duration}, expected {expected}");
    assert!((summary.duration.as_secs_f64() - expected).abs() < 1e-6);
}

#[test]
fn mp4_60_frames_at_30fps_reads_back_as_h264_320x180_2s() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    check_clip(&dir.path().join("out.mp4"), (30, 1), 60, "mp4");
}

#[test]
fn mkv_60_frames_at_30fps_reads_back_as_h264_320x180_2s() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    check_clip(&dir.path().join("out.mkv"), (30, 1), 60, "matroska");
}

#[test]
fn ntsc_rate_30000_over_1001_is_kept_exactly() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    check_clip(&dir.path().join("ntsc.mp4"), (30000, 1001), 60, "mp4");
}

/// 20 frames each of: opaque red, fully transparent (with a green colour that must not
/// show), and 50% white; over a blue-ish background.
#[test]
fn colours_survive_encoding_and_transparent_pixels_show_the_background() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colours.mp4");
    let background = [0, 90, 200];
    let settings = EncoderSettings { background, ..EncoderSettings::new(320, 180, 30, 1) };
    let red = solid_frame(&settings, [255, 0, 0, 255]);
    let transparent = solid_frame(&settings, [0, 255, 0, 0]);
    let half_white = solid_frame(&settings, [255, 255, 255, 128]);
    encode(&path, &settings, 60, |n| match n / 20 {
        0 => red.clone(),
        1 => transparent.clone(),
        _ => half_white.clone(),
    });

    let frames = decode_rgb_frames(&path, 320, 180);
    assert_eq!(frames.len(), 60);
    // Limited-range BT.709 4:2:0 rounding moves flat colours by a few levels.
    assert_colour_near(mean_rgb(&frames[10]), [255, 0, 0], 8.0, "opaque red");
    assert_colour_near(mean_rgb(&frames[30]), background, 8.0, "transparent over background");
    // 255*128/255 + bg*(127/255)
    let half = background.map(|b| ((255.0 * 128.0 + f64::from(b) * 127.0) / 255.0).round() as u8);
    assert_colour_near(mean_rgb(&frames[50]), half, 8.0, "50% white over background");
}

/// Frames already composited over a background go in as they are (their fourth byte
/// ignored), interleaved with straight-alpha frames: timestamps stay continuous.
#[test]
fn opaque_frames_are_encoded_as_they_are() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opaque.mp4");
    let settings = EncoderSettings { background: [0, 255, 0], ..EncoderSettings::new(320, 180, 30, 1) };
    let mut encoder = FileEncoder::create(&path, &settings).unwrap();
    // Alpha 0 here would show the green background through push_frame; as an opaque
    // frame the colour is taken as it is.
    let magenta = solid_frame(&settings, [200, 40, 160, 0]);
    let short = magenta[..magenta.len() - 4].to_vec();
    assert!(encoder.push_opaque_frame(short).is_err(), "a short opaque frame is refused");
    for _ in 0..15 {
        encoder.push_opaque_frame(magenta.clone()).unwrap();
    }
    for _ in 0..15 {
        encoder.push_frame(&solid_frame(&settings, [200, 40, 160, 255])).unwrap();
    }
    assert_eq!(encoder.finish().unwrap().frames_written, 30);
    let frames = decode_rgb_frames(&path, 320, 180);
    assert_eq!(frames.len(), 30);
    assert_colour_near(mean_rgb(&frames[7]), [200, 40, 160], 8.0, "opaque frame");
    assert_colour_near(mean_rgb(&frames[22]), [200, 40, 160], 8.0, "composited frame");
    let duration = json_f64(&video_stream(&ffprobe(&path))["duration"]);
    assert!((duration - 1.0).abs() < 0.05, "30 frames at 30 fps last {duration} s");
}

#[test]
fn ultrafast_and_bitrate_settings_encode() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fast.mkv");
    let settings =
        EncoderSettings { preset: X264Preset::Ultrafast, bitrate_kbps: 300, ..EncoderSettings::new(640, 360, 25, 1) };
    encode(&path, &settings, 25, |n| noise_frame(&settings, n));
    let probe = ffprobe(&path);
    assert_eq!(video_stream(&probe)["nb_read_frames"], "25");
    assert_eq!(video_stream(&probe)["width"], 640);
}

/// keyframe_interval 0.5 s at 30 fps: no run of more than 15 frames without a key frame.
#[test]
fn keyframes_come_at_least_every_keyframe_interval() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gop.mp4");
    let settings = EncoderSettings {
        keyframe_interval: std::time::Duration::from_millis(500),
        ..EncoderSettings::new(320, 180, 30, 1)
    };
    assert_eq!(settings.keyframe_interval_frames(), 15);
    // A slowly brightening grey: no scene cuts, so x264 adds key frames only when forced.
    encode(&path, &settings, 90, |n| solid_frame(&settings, [n as u8 * 2, n as u8 * 2, n as u8 * 2, 255]));
    let keys = keyframe_indices(&path);
    assert_eq!(keys.first(), Some(&0), "{keys:?}");
    let mut bounds = keys.clone();
    bounds.push(90);
    assert!(bounds.windows(2).all(|w| w[1] - w[0] <= 15), "key frames {keys:?}");
    assert!(keys.len() < 90 / 2, "nearly every frame is a key frame: {keys:?}");
}

/// Dropping an encoder without `finish` still drains it, so even an MP4 is playable.
#[test]
fn dropped_mp4_encoder_still_leaves_a_playable_file() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dropped.mp4");
    let settings = EncoderSettings::new(320, 180, 30, 1);
    {
        let mut encoder = FileEncoder::create(&path, &settings).unwrap();
        for n in 0..15 {
            encoder.push_frame(&noise_frame(&settings, n)).unwrap();
        }
    }
    let probe = ffprobe(&path);
    assert_eq!(video_stream(&probe)["nb_read_frames"], "15");
}
