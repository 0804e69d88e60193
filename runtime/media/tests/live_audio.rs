//! Programme audio: a live encoder whose [`AudioFeed`] is fed by a media input playing
//! a clip with a 1 kHz tone records that tone; without a feed, or after the input
//! stops, it records silence; either way the audio lasts exactly as long as the video
//! (no gap, no drift). Recordings are read back with ffmpeg/ffprobe.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use showrunner_assets::LiveInputs;
use showrunner_media::{AudioFeed, EncoderSettings, InputEvents, LiveEncoder, LiveSettings, MediaInput, MediaInputSettings};

const FPS: u32 = 30;

/// A 2 s clip: flat colour video and a 1 kHz sine (ffmpeg's default amplitude, about
/// -21 dB mean volume), AAC in MP4.
fn tone_clip(dir: &Path) -> PathBuf {
    let path = dir.join("tone.mp4");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x2080E0:s=160x90:r=30:d=2"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100:duration=2"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
        .arg(&path)
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    path
}

/// Starts the looping clip and waits until its audio reaches the feed, so a busy
/// machine's slow start-up does not read as missing audio at the start of a recording.
fn start_input(clip: &Path, feed: &AudioFeed) -> MediaInput {
    let settings = MediaInputSettings { name: "cam".into(), uri: clip.to_str().unwrap().into(), looping: true };
    let input = MediaInput::start_with_audio(settings, LiveInputs::new(), InputEvents::default(), Some(feed.clone())).unwrap();
    let primed = 44_100 / 5; // 200 ms of sample frames
    let deadline = Instant::now() + Duration::from_secs(20);
    while feed.stats().received < primed {
        assert!(Instant::now() < deadline, "the clip's audio never reached the feed: {:?}", feed.stats());
        std::thread::sleep(Duration::from_millis(10));
    }
    input
}

/// Records `frames` frames pushed in real time (frame n at n/30 s after the start);
/// `at_frame(n)` runs before frame n is pushed.
fn record(path: &Path, feed: Option<AudioFeed>, frames: u64, mut at_frame: impl FnMut(u64)) -> showrunner_media::EncoderStats {
    let settings = EncoderSettings::new(320, 180, FPS, 1);
    let mut encoder = LiveEncoder::start(&settings, LiveSettings::default()).unwrap();
    encoder.set_audio_source(feed);
    let outputs = encoder.outputs();
    outputs.start_recording("rec", path).unwrap();
    let frame = support::solid_frame(&settings, [20, 180, 40, 255]);
    let start = Instant::now();
    for n in 0..frames {
        at_frame(n);
        let due = start + Duration::from_secs_f64(n as f64 / f64::from(FPS));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        encoder.push_frame(n, frame.clone()).unwrap();
    }
    let stats = encoder.finish(Duration::from_secs(10)).unwrap();
    outputs.wait_stopped(Duration::from_secs(5));
    outputs.remove_all();
    stats
}

/// ffmpeg's `volumedetect` mean volume (dB) of the recording's audio between `from`
/// and `to` seconds.
fn mean_volume(path: &Path, from: f64, to: f64) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-nostats", "-i"])
        .arg(path)
        .args(["-map", "0:a", "-af", &format!("atrim={from}:{to},volumedetect"), "-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg failed: {log}");
    let line = log.lines().find(|l| l.contains("mean_volume:")).unwrap_or_else(|| panic!("no mean_volume in {log}"));
    let value = line.split("mean_volume:").nth(1).unwrap().trim().trim_end_matches("dB").trim();
    if value == "-inf" { f64::NEG_INFINITY } else { value.parse().unwrap() }
}

/// Seconds of decoded audio and of decoded video in the recording.
fn durations(path: &Path) -> (f64, f64) {
    let audio = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "44100", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(audio.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&audio.stderr));
    let video_frames = support::decode_rgb_frames(path, 320, 180).len();
    (audio.stdout.len() as f64 / 2.0 / 44_100.0, video_frames as f64 / f64::from(FPS))
}

fn assert_no_gap(path: &Path) {
    let (audio, video) = durations(path);
    assert!((audio - video).abs() < 0.2, "audio lasts {audio:.3} s, video {video:.3} s");
}

#[test]
fn an_inputs_tone_is_the_programme_audio_and_silence_without_a_feed() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let clip = tone_clip(dir.path());

    let feed = AudioFeed::new();
    let input = start_input(&clip, &feed);
    let with_feed = dir.path().join("with-feed.mkv");
    // 3 s over a 2 s clip: the tone carries on across the loop.
    let stats = record(&with_feed, Some(feed.clone()), 3 * u64::from(FPS), |_| {});
    input.stop();
    // Every quarter second from 0.5 s on (the loop at 2 s included) holds the tone.
    for quarter in 2..12 {
        let from = f64::from(quarter) / 4.0;
        let loud = mean_volume(&with_feed, from, from + 0.25);
        assert!(loud > -30.0, "the tone is recorded at {from} s: mean volume {loud} dB ({:?})", feed.stats());
    }
    assert!(stats.audio_samples_fed > 2 * 44_100, "{stats:?}");
    assert_no_gap(&with_feed);

    let without = dir.path().join("without-feed.mkv");
    let stats = record(&without, None, 2 * u64::from(FPS), |_| {});
    let silent = mean_volume(&without, 0.0, 2.0);
    assert!(silent < -80.0, "no feed records silence: mean volume {silent} dB");
    assert_eq!(stats.audio_samples_fed, 0, "{stats:?}");
    assert_no_gap(&without);
}

#[test]
fn an_input_that_stops_mid_recording_leaves_silence_and_no_gap() {
    require_ffprobe!();
    let dir = tempfile::tempdir().unwrap();
    let clip = tone_clip(dir.path());
    let feed = AudioFeed::new();
    let mut input = Some(start_input(&clip, &feed));
    let path = dir.path().join("stopped.mkv");
    let stop_frame = 45; // 1.5 s
    let stats = record(&path, Some(feed.clone()), 3 * u64::from(FPS), |n| {
        if n == stop_frame {
            input.take().unwrap().stop();
        }
    });
    assert!(stats.audio_samples_fed > 0 && stats.audio_samples_silent > 44_100, "{stats:?}");
    let before = mean_volume(&path, 0.6, 1.4);
    assert!(before > -30.0, "the tone before the stop: {before} dB");
    let after = mean_volume(&path, 1.8, 3.0);
    assert!(after < -80.0, "silence after the input stopped: {after} dB");
    assert_no_gap(&path);
}
