//! FileEncoder failure paths: each ends in a typed error that names what is wrong, and
//! none hangs. Run: `cargo test --release -p showrunner-media`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use showrunner_media::{EncoderSettings, FileEncoder, MediaError, probe_elements};
use support::*;

const NO_HANG: Duration = Duration::from_secs(60);

#[test]
fn every_needed_element_is_installed() {
    probe_elements().unwrap();
}

#[test]
fn wrong_buffer_length_is_rejected_and_the_encoder_keeps_working() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.mp4");
    let settings = EncoderSettings::new(320, 180, 30, 1);
    let mut encoder = FileEncoder::create(&path, &settings).unwrap();
    let frame = solid_frame(&settings, [10, 20, 30, 255]);
    encoder.push_frame(&frame).unwrap();
    let err = encoder.push_frame(&frame[..frame.len() - 4]).unwrap_err();
    match &err {
        MediaError::FrameSize { expected, actual, .. } => {
            assert_eq!((*expected, *actual), (320 * 180 * 4, 320 * 180 * 4 - 4));
        }
        other => panic!("expected FrameSize, got {other}"),
    }
    assert!(err.to_string().contains("320x180"), "{err}");
    for _ in 0..29 {
        encoder.push_frame(&frame).unwrap();
    }
    assert_eq!(encoder.frames_written(), 30);
    assert_eq!(encoder.finish().unwrap().frames_written, 30);
    assert_eq!(video_stream(&ffprobe(&path))["nb_read_frames"], "30");
}

#[test]
fn invalid_settings_name_the_field_and_create_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.mp4");
    let settings = EncoderSettings::new(321, 180, 30, 1);
    let err = FileEncoder::create(&path, &settings).err().expect("odd width must fail");
    assert!(matches!(err, MediaError::InvalidSettings { field: "width", .. }), "{err}");
    assert!(err.to_string().contains("even"), "{err}");
    let err = FileEncoder::create(&path, &EncoderSettings::new(320, 180, 0, 1)).err().unwrap();
    assert!(err.to_string().contains("fps_num"), "{err}");
    assert!(!path.exists());
}

#[test]
fn unsupported_extension_is_refused() {
    let settings = EncoderSettings::new(320, 180, 30, 1);
    let err = FileEncoder::create(Path::new("/tmp/out.avi"), &settings).err().unwrap();
    assert!(matches!(err, MediaError::UnsupportedContainer { .. }), "{err}");
    assert!(err.to_string().contains(".mp4 or .mkv"), "{err}");
}

fn assert_sink_open_error(path: &'static str) {
    let settings = EncoderSettings::new(320, 180, 30, 1);
    let err = within(NO_HANG, move || FileEncoder::create(Path::new(path), &settings).err())
        .expect("creating an encoder on an unwritable path must fail");
    match &err {
        MediaError::Pipeline(failure) => {
            assert!(failure.element.contains("filesink"), "{err}");
            assert!(failure.message.contains(path), "{err}");
        }
        other => panic!("expected a filesink error, got {other}"),
    }
}

#[test]
fn unwritable_path_fails_at_create_with_the_sink_error() {
    assert_sink_open_error("/proc/showrunner-test.mp4");
}

#[test]
fn missing_directory_fails_at_create_with_the_sink_error() {
    assert_sink_open_error("/nonexistent-showrunner-dir/out.mkv");
}

#[test]
fn finishing_with_zero_frames_returns_no_frames_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.mp4", "empty.mkv"] {
        let path = dir.path().join(name);
        let settings = EncoderSettings::new(320, 180, 30, 1);
        let encoder = FileEncoder::create(&path, &settings).unwrap();
        let result = within(NO_HANG, move || encoder.finish());
        assert!(matches!(result, Err(MediaError::NoFrames { .. })), "{result:?}");
        assert!(!path.exists(), "{name} left behind");
    }
}

/// A sink that fails mid-stream (writes to /dev/full) must surface as an error from
/// push_frame or finish, naming the sink, and must not leave the producer blocked.
#[test]
fn write_failure_mid_stream_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.mkv");
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    let err = within(NO_HANG, move || {
        let settings = EncoderSettings::new(640, 360, 30, 1);
        let mut encoder = FileEncoder::create(&path, &settings).ok()?;
        for n in 0..300 {
            if let Err(err) = encoder.push_frame(&noise_frame(&settings, n)) {
                return Some(err);
            }
        }
        encoder.finish().err()
    })
    .expect("writing to /dev/full must fail");
    match &err {
        MediaError::Pipeline(failure) => assert!(failure.element.contains("filesink"), "{err}"),
        other => panic!("expected a filesink error, got {other}"),
    }
}
