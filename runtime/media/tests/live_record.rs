//! The programme recorder: started and stopped while the encoder runs, read back with
//! ffprobe/ffmpeg. (Killing the process mid-recording is tested through the CLI.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use showrunner_media::{EncoderSettings, LiveEncoder, LiveSettings, OutputState};

#[test]
fn a_recording_started_mid_stream_begins_at_a_keyframe_and_closes_cleanly() {
    require_ffprobe!();
    let settings = EncoderSettings::new(320, 180, 30, 1);
    let mut encoder = LiveEncoder::start(&settings, LiveSettings::default()).unwrap();
    let outputs = encoder.outputs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("programme.mkv");
    let green: Vec<u8> = [20u8, 180, 40, 255].repeat(320 * 180);
    // Paced at 100 fps, three times real time: the recorder keeps up with that too.
    let pace = Duration::from_millis(10);
    for n in 0..30 {
        encoder.push_frame(n, green.clone()).unwrap();
        std::thread::sleep(pace);
    }
    outputs.start_recording("rec", &path).unwrap();
    let err = outputs.start_recording("rec", &dir.path().join("other.mkv")).unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    for n in 30..150 {
        encoder.push_frame(n, green.clone()).unwrap();
        std::thread::sleep(pace);
    }
    let stats = encoder.finish(Duration::from_secs(10)).unwrap();
    assert_eq!(stats.frames_dropped, 0, "{stats:?}");
    let last = outputs.remove("rec").unwrap();
    assert_eq!(last.state, OutputState::Stopped, "{last:?}");
    assert_eq!(last.tags_dropped, 0, "{last:?}");
    assert!(last.bytes_sent > 0 && last.bytes_sent == std::fs::metadata(&path).unwrap().len(), "{last:?}");

    let probe = support::ffprobe(&path);
    let stream = |kind: &str| probe["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == kind).cloned();
    let video = stream("video").expect("a video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!((video["width"].as_u64(), video["height"].as_u64()), (Some(320), Some(180)));
    let audio = stream("audio").expect("an audio stream");
    assert_eq!(audio["codec_name"], "aac");
    // The recorder asks the encoder for a keyframe when it starts, so it does not wait
    // for the next scheduled one (frame 60): it holds about frames 31..=149.
    let keyframes = support::keyframe_indices(&path);
    assert_eq!(keyframes.first(), Some(&0), "the first recorded frame is a keyframe: {keyframes:?}");
    let frames = support::decode_rgb_frames(&path, 320, 180);
    assert!((105..=120).contains(&frames.len()), "{} frames recorded", frames.len());
    let duration = support::json_f64(&probe["format"]["duration"]);
    let expected = frames.len() as f64 / 30.0;
    assert!((duration - expected).abs() < 0.1, "the recording starts at 0 and lasts {duration} s, not {expected}");
    support::assert_colour_near(support::mean_rgb(&frames[frames.len() / 2]), [20, 180, 40], 12.0, "recorded colour");
}
