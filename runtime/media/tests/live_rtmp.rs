//! Live output against a real nginx-rtmp on a loopback port: what arrives is read back
//! with ffprobe/ffmpeg from nginx's own recording of each publish session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
#[path = "support/rtmp_server.rs"]
mod rtmp_server;

use std::time::{Duration, Instant};

use rtmp_server::{RtmpServer, find_stream, largest_gap, probe_duration, probe_streams, video_packet_times};
use showrunner_media::{EncoderSettings, LiveEncoder, LiveSettings, OutputEvent, OutputState, Pushed};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;

fn settings() -> EncoderSettings {
    EncoderSettings { bitrate_kbps: 1500, ..EncoderSettings::new(WIDTH, HEIGHT, 30, 1) }
}

/// Pushes frames `first..first + count` of one opaque colour at their real-time deadlines
/// (from `start`); returns how many were dropped. Every push must succeed.
fn stream(encoder: &mut LiveEncoder, start: Instant, first: u64, count: u64, rgb: [u8; 3]) -> u64 {
    let frame: Vec<u8> = [rgb[0], rgb[1], rgb[2], 255].repeat((WIDTH * HEIGHT) as usize);
    let mut dropped = 0;
    for n in first..first + count {
        let due = start + Duration::from_nanos(encoder.settings().frame_pts_nanos(n).unwrap());
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if encoder.push_frame(n, frame.clone()).expect("a live push never fails while the encoder runs") == Pushed::Dropped {
            dropped += 1;
        }
    }
    dropped
}

/// Keeps streaming (blue) until `done` or for `limit`; true when `done` came first.
fn stream_until(
    encoder: &mut LiveEncoder,
    start: Instant,
    next: &mut u64,
    limit: Duration,
    done: impl Fn() -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        stream(encoder, start, *next, 3, [0, 0, 255]);
        *next += 3;
        if done() {
            return true;
        }
    }
    false
}

#[test]
fn five_seconds_reach_nginx_as_h264_and_aac_at_the_configured_size_and_rate() {
    require_ffprobe!();
    let Some(server) = RtmpServer::start() else { return };
    let mut encoder = LiveEncoder::start(&settings(), LiveSettings::default()).unwrap();
    let outputs = encoder.outputs();
    outputs.add_rtmp("main", &server.url("five")).unwrap();
    let start = Instant::now();
    let dropped = stream(&mut encoder, start, 0, 150, [200, 30, 30]);
    let status = outputs.status("main").unwrap();
    assert_eq!(status.state, OutputState::Live, "{status:?}");
    // A solid colour compresses to a few kbit/s of video; the silent AAC adds ~10.
    assert!(status.bytes_sent > 20_000 && status.bitrate_kbps > 10, "{status:?}");
    assert_eq!(status.target, format!("rtmp://127.0.0.1:{}/live/****", server.port()), "the key is masked");
    let last = outputs.remove("main").unwrap();
    assert_eq!(last.state, OutputState::Stopped);
    let stats = encoder.finish(Duration::from_secs(10)).unwrap();
    assert_eq!(dropped, 0, "a 640x360 stream on an idle encoder drops nothing: {stats:?}");
    assert_eq!(stats.frames_dropped, 0);
    assert!(stats.frames_encoded >= 145, "{stats:?}");

    let files = server.wait_for_recordings("five", 1);
    let file = &files[0];
    let streams = probe_streams(&file.to_string_lossy());
    let video = find_stream(&streams, "video").expect("a video stream");
    assert_eq!((video.codec_name.as_str(), video.width, video.height), ("h264", Some(WIDTH), Some(HEIGHT)), "{video:?}");
    let rate = video.frame_rate().unwrap_or_default();
    assert!((rate - 30.0).abs() < 0.5, "frame rate {rate}: {video:?}");
    let audio = find_stream(&streams, "audio").expect("an audio stream");
    assert_eq!((audio.codec_name.as_str(), audio.sample_rate), ("aac", Some(44_100)), "{audio:?}");
    // The feed starts at the first keyframe, so a few frames may be missing at the start.
    let duration = probe_duration(file).unwrap();
    assert!((4.3..=5.3).contains(&duration), "recorded {duration} s of 5 s");
    let gap = largest_gap(&video_packet_times(file));
    assert!(gap < 0.1, "largest gap between video frames {gap} s");
    let frames = support::decode_rgb_frames(file, WIDTH, HEIGHT);
    let middle = &frames[frames.len() / 2];
    support::assert_colour_near(support::mean_rgb(middle), [200, 30, 30], 12.0, "the streamed colour");
}

#[test]
fn a_killed_server_is_reconnected_while_frames_keep_flowing() {
    require_ffprobe!();
    let Some(mut server) = RtmpServer::start() else { return };
    let mut encoder = LiveEncoder::start(&settings(), LiveSettings::default()).unwrap();
    let outputs = encoder.outputs();
    outputs.add_rtmp("main", &server.url("flaky")).unwrap();
    let start = Instant::now();
    let mut next = 0;
    let live = stream_until(&mut encoder, start, &mut next, Duration::from_secs(10), || {
        outputs.status("main").is_some_and(|s| s.state == OutputState::Live)
    });
    assert!(live, "never went live: {:?}", outputs.status("main"));
    stream(&mut encoder, start, next, 45, [0, 0, 255]);
    next += 45;

    server.kill();
    let retrying = stream_until(&mut encoder, start, &mut next, Duration::from_secs(15), || {
        outputs.status("main").is_some_and(|s| matches!(s.state, OutputState::Retrying { .. }))
    });
    let status = outputs.status("main").unwrap();
    assert!(retrying, "the dropped connection was not noticed: {status:?}");
    let OutputState::Retrying { last_error, .. } = &status.state else { unreachable!() };
    assert!(!last_error.is_empty());
    // Keep rendering while the server is down, then bring it back.
    stream(&mut encoder, start, next, 30, [0, 0, 255]);
    next += 30;
    server.restart();
    let back = stream_until(&mut encoder, start, &mut next, Duration::from_secs(20), || {
        outputs.status("main").is_some_and(|s| s.state == OutputState::Live)
    });
    let status = outputs.status("main").unwrap();
    assert!(back, "did not reconnect: {status:?}");
    assert_eq!(status.reconnects, 1, "{status:?}");
    stream(&mut encoder, start, next, 60, [0, 0, 255]);
    next += 60;

    let stats = encoder.stats();
    assert!(stats.frames_queued + stats.frames_dropped == next, "every frame was pushed: {stats:?}");
    assert!(stats.frames_encoded >= next - 10, "the encoder never stopped: {stats:?}");
    let events = outputs.drain_events();
    assert!(
        events.iter().any(|e| matches!(e, OutputEvent::Reconnected { id, reconnects: 1 } if id == "main")),
        "{events:?}"
    );
    let states: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            OutputEvent::StateChanged { state, .. } => Some(state.name()),
            _ => None,
        })
        .collect();
    assert!(states.windows(2).any(|w| w == ["live", "retrying"]), "{states:?}");
    outputs.remove("main").unwrap();
    drop(encoder);

    let files = server.wait_for_recordings("flaky", 2);
    let second = files.last().unwrap();
    let streams = probe_streams(&second.to_string_lossy());
    assert!(find_stream(&streams, "video").is_some_and(|v| v.codec_name == "h264"), "{streams:?}");
    let duration = probe_duration(second).unwrap_or_default();
    assert!(duration > 1.0, "the second session holds {duration} s");
}

#[test]
fn a_dead_destination_costs_the_live_one_nothing() {
    require_ffprobe!();
    let Some(server) = RtmpServer::start() else { return };
    let dead_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut encoder = LiveEncoder::start(&settings(), LiveSettings::default()).unwrap();
    let outputs = encoder.outputs();
    outputs.add_rtmp("dead", &format!("rtmp://127.0.0.1:{dead_port}/live/nobody")).unwrap();
    outputs.add_rtmp("live", &server.url("both")).unwrap();
    let start = Instant::now();
    let dropped = stream(&mut encoder, start, 0, 120, [30, 200, 30]);
    let dead = outputs.status("dead").unwrap();
    let OutputState::Retrying { attempt, last_error, .. } = &dead.state else { panic!("{dead:?}") };
    assert!(*attempt >= 2, "retried with backoff: {dead:?}");
    assert!(!last_error.is_empty());
    assert_eq!(dead.bytes_sent, 0);
    assert_eq!(outputs.status("live").unwrap().state, OutputState::Live);
    assert_eq!(outputs.statuses().len(), 2);
    outputs.remove_all();
    drop(encoder);
    assert_eq!(dropped, 0);

    let files = server.wait_for_recordings("both", 1);
    let duration = probe_duration(&files[0]).unwrap();
    assert!((3.3..=4.3).contains(&duration), "recorded {duration} s of 4 s");
    let gap = largest_gap(&video_packet_times(&files[0]));
    assert!(gap < 0.1, "largest gap {gap} s");
}
