//! Media inputs against real GStreamer and real files made by ffmpeg: frames reach
//! `LiveInputs` with the right size and colour at the media's own pace, inputs end,
//! loop, fail with a message and stop promptly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use showrunner_assets::{LiveFrame, LiveInputs};
use showrunner_media::{
    InputEvent, InputEvents, InputSource, InputState, MediaError, MediaInput, MediaInputSettings,
};

/// The clips' colour, 0x2080E0.
const CLIP_RGB: [u8; 3] = [0x20, 0x80, 0xE0];
/// YUV 4:2:0 round trips move a flat colour by a few levels.
const COLOUR_TOLERANCE: f64 = 8.0;

macro_rules! require_ffmpeg {
    () => {
        if !ffmpeg_installed() {
            eprintln!("SKIPPED: ffmpeg is not installed (`cargo xtask setup` installs it)");
            return;
        }
    };
}

fn ffmpeg_installed() -> bool {
    Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success())
}

/// Runs ffmpeg with `args` to make `dir/file`.
fn ffmpeg(dir: &Path, file: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(file);
    let out = Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).arg(&path).output().expect("run ffmpeg");
    assert!(out.status.success(), "ffmpeg failed making {file}: {}", String::from_utf8_lossy(&out.stderr));
    path
}

/// A flat 0x2080E0 H.264 clip, 30 fps.
fn colour_clip(dir: &Path, file: &str, size: &str, seconds: &str) -> PathBuf {
    let source = format!("color=c=0x2080E0:s={size}:r=30:d={seconds}");
    ffmpeg(dir, file, &["-f", "lavfi", "-i", &source, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
}

fn settings(name: &str, path: &Path, looping: bool) -> MediaInputSettings {
    MediaInputSettings { name: name.to_owned(), uri: path.to_str().expect("UTF-8 temp path").to_owned(), looping }
}

fn start(name: &str, path: &Path, looping: bool) -> (MediaInput, LiveInputs, InputEvents) {
    let (inputs, events) = (LiveInputs::new(), InputEvents::default());
    let input = MediaInput::start(settings(name, path, looping), inputs.clone(), events.clone()).expect("start input");
    (input, inputs, events)
}

/// Polls `done` every 5 ms; fails the test after `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_for_frame(inputs: &LiveInputs, name: &str) -> std::sync::Arc<LiveFrame> {
    wait_for(Duration::from_secs(5), "the first frame", || inputs.get(name).is_some());
    inputs.get(name).expect("frame")
}

fn mean_rgb(frame: &LiveFrame) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for pixel in frame.pixels.chunks_exact(4) {
        for c in 0..3 {
            sum[c] += f64::from(pixel[c]);
        }
    }
    sum.map(|s| s / f64::from(frame.width * frame.height))
}

fn states(events: &[InputEvent]) -> Vec<&'static str> {
    events.iter().filter_map(|e| if let InputEvent::StateChanged { state, .. } = e { Some(state.name()) } else { None }).collect()
}

#[test]
fn a_clip_plays_at_its_own_pace_then_ends_and_leaves_the_screen() {
    require_ffmpeg!();
    let dir = tempfile::tempdir().unwrap();
    let clip = colour_clip(dir.path(), "clip.mp4", "320x240", "1");
    let (input, inputs, events) = start("clip", &clip, false);
    assert_eq!(input.name(), "clip");

    let frame = wait_for_frame(&inputs, "clip");
    let first_frame_at = Instant::now();
    let frames_at_first = input.status().frames;
    assert_eq!((frame.width, frame.height), (320, 240));
    support::assert_colour_near(mean_rgb(&frame), CLIP_RGB, COLOUR_TOLERANCE, "decoded frame");
    std::thread::sleep(Duration::from_millis(100));
    let status = input.status();
    assert_eq!(status.state, InputState::Live { peer: String::new() });
    assert_eq!(status.size, Some((320, 240)));
    assert!(
        status.frames - frames_at_first <= 8,
        "{} frames in 100 ms: a 30 fps clip is not paced",
        status.frames - frames_at_first
    );
    match &status.source {
        InputSource::Media { uri, looping } => assert!(uri.starts_with("file:///") && uri.ends_with("clip.mp4") && !looping),
        other => panic!("unexpected source {other:?}"),
    }

    wait_for(Duration::from_secs(4), "the end of the clip", || input.status().state == InputState::Ended);
    let played_for = first_frame_at.elapsed();
    let status = input.status();
    assert!((20..=30).contains(&status.frames), "{} frames of a 30-frame clip", status.frames);
    assert!(played_for >= Duration::from_millis(800), "a 1 s clip ended after {played_for:?}");
    assert_eq!(status.size, Some((320, 240)), "the size of the last frame is kept");
    assert!(inputs.get("clip").is_none(), "an ended input is still on screen");
    assert_eq!(states(&events.drain()), ["starting", "live", "ended"]);
    println!("1 s clip: {} frames, first frame to end {played_for:?}", status.frames);
}

/// Loops a 0.5 s clip; `with_audio` adds an AAC track, so both streams must end and
/// restart together.
fn loops_back_to_the_start(file: &str, with_audio: bool) {
    let dir = tempfile::tempdir().unwrap();
    let clip = if with_audio {
        let args = [
            "-f", "lavfi", "-i", "color=c=0x2080E0:s=320x240:r=30:d=0.5", "-f", "lavfi", "-i", "sine=duration=0.5",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        ];
        ffmpeg(dir.path(), file, &args)
    } else {
        colour_clip(dir.path(), file, "320x240", "0.5")
    };
    let (input, inputs, events) = start("loop", &clip, true);
    wait_for_frame(&inputs, "loop");
    let first_frame_at = Instant::now();
    wait_for(Duration::from_secs(5), "two loops", || input.status().loops >= 2);
    let two_plays = first_frame_at.elapsed();
    assert!(two_plays >= Duration::from_millis(850), "two plays of a 0.5 s clip took {two_plays:?}: not paced");
    let status = input.status();
    assert_eq!(status.state, InputState::Live { peer: String::new() });
    assert!(status.frames >= 25, "{} frames after two plays of a 15-frame clip", status.frames);
    std::thread::sleep(Duration::from_millis(300));
    let later = input.status();
    assert!(later.frames > status.frames, "frames stopped at {} after looping", later.frames);
    assert!(inputs.get("loop").is_some());

    let events = events.drain();
    let loops: Vec<u32> =
        events.iter().filter_map(|e| if let InputEvent::Looped { loops, .. } = e { Some(*loops) } else { None }).collect();
    assert!(loops.len() >= 2 && loops.windows(2).all(|w| w[1] == w[0] + 1) && loops[0] == 1, "Looped events {loops:?}");
    assert_eq!(states(&events), ["starting", "live"]);
    println!("{file}: two plays in {two_plays:?}; {} loops, {} frames", later.loops, later.frames);
}

#[test]
fn a_looping_mp4_starts_again_from_the_beginning() {
    require_ffmpeg!();
    loops_back_to_the_start("short.mp4", false);
}

#[test]
fn a_looping_mkv_with_audio_starts_again_from_the_beginning() {
    require_ffmpeg!();
    loops_back_to_the_start("short-with-audio.mkv", true);
}

#[test]
fn a_4k_clip_is_scaled_to_fit_1080p() {
    require_ffmpeg!();
    let dir = tempfile::tempdir().unwrap();
    let clip = colour_clip(dir.path(), "uhd.mp4", "3840x2160", "0.2");
    let (input, inputs, _events) = start("uhd", &clip, false);
    let frame = wait_for_frame(&inputs, "uhd");
    assert_eq!((frame.width, frame.height), (1920, 1080));
    assert_eq!(frame.pixels.len(), 1920 * 1080 * 4);
    assert_eq!(input.status().size, Some((1920, 1080)));
}

#[test]
fn a_clip_with_an_audio_track_still_plays_its_video() {
    require_ffmpeg!();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "-f", "lavfi", "-i", "color=c=0x2080E0:s=320x240:r=30:d=1", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
    ];
    let clip = ffmpeg(dir.path(), "with-audio.mp4", &args);
    let (input, inputs, events) = start("av", &clip, false);
    let frame = wait_for_frame(&inputs, "av");
    support::assert_colour_near(mean_rgb(&frame), CLIP_RGB, COLOUR_TOLERANCE, "frame of a clip with audio");
    wait_for(Duration::from_secs(4), "the end of the clip", || input.status().state == InputState::Ended);
    assert!(input.status().frames >= 20, "{} frames", input.status().frames);
    assert_eq!(states(&events.drain()), ["starting", "live", "ended"]);
}

#[test]
fn a_missing_file_is_refused_at_start_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-here.mp4");
    let inputs = LiveInputs::new();
    let result = MediaInput::start(settings("gone", &missing, false), inputs.clone(), InputEvents::default());
    match result {
        Err(err @ MediaError::InvalidInput { .. }) => assert!(err.to_string().contains("not-here.mp4"), "{err}"),
        Err(other) => panic!("expected InvalidInput, got {other}"),
        Ok(_) => panic!("a missing file was accepted"),
    }
    let bad_name = MediaInput::start(settings("no spaces", &missing, false), inputs, InputEvents::default());
    assert!(matches!(bad_name, Err(MediaError::InvalidInput { .. })));
}

fn wait_for_failure(input: &MediaInput) -> String {
    wait_for(Duration::from_secs(5), "the input to fail", || matches!(input.status().state, InputState::Failed { .. }));
    match input.status().state {
        InputState::Failed { error } => error,
        other => panic!("state {other:?}"),
    }
}

#[test]
fn a_text_file_named_mp4_fails_with_gstreamers_message() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("notes.mp4");
    std::fs::write(&fake, "these are meeting notes, not a video\n".repeat(200)).unwrap();
    let (input, inputs, events) = start("fake", &fake, true);
    let error = wait_for_failure(&input);
    assert!(!error.is_empty());
    assert!(inputs.get("fake").is_none());
    assert_eq!(states(&events.drain()), ["starting", "failed"]);
    println!("not media: {error}");
}

#[test]
fn media_without_video_fails_saying_so() {
    require_ffmpeg!();
    let dir = tempfile::tempdir().unwrap();
    let clip = ffmpeg(dir.path(), "audio.mkv", &["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "pcm_s16le"]);
    let (input, _inputs, _events) = start("radio", &clip, true);
    let error = wait_for_failure(&input);
    assert!(error.contains("no video stream"), "{error}");
}

#[test]
fn an_unreachable_url_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (inputs, events) = (LiveInputs::new(), InputEvents::default());
    let settings =
        MediaInputSettings { name: "web".into(), uri: format!("http://127.0.0.1:{port}/clip.mp4"), looping: false };
    let input = MediaInput::start(settings, inputs, events).expect("an http URI is accepted at start");
    let error = wait_for_failure(&input);
    println!("unreachable URL: {error}");
}

#[test]
fn stop_takes_a_live_input_off_screen_promptly() {
    require_ffmpeg!();
    let dir = tempfile::tempdir().unwrap();
    let clip = colour_clip(dir.path(), "clip.mkv", "320x240", "1");
    let (input, inputs, events) = start("stage", &clip, true);
    wait_for_frame(&inputs, "stage");
    let started = Instant::now();
    support::within(Duration::from_secs(1), move || input.stop());
    let took = started.elapsed();
    assert!(inputs.get("stage").is_none(), "a stopped input is still on screen");
    let published = inputs.published("stage");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(inputs.published("stage"), published, "frames arrived after stop");
    assert_eq!(states(&events.drain()), ["starting", "live", "stopped"]);
    println!("stop took {took:?}");

    let (dropped, inputs, events) = start("dropped", &clip, false);
    wait_for_frame(&inputs, "dropped");
    drop(dropped);
    assert!(inputs.get("dropped").is_none());
    assert_eq!(states(&events.drain()).last(), Some(&"stopped"));
}
