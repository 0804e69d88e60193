//! The nginx-rtmp test harness (tests/support/rtmp_server.rs) receives and records what
//! ffmpeg publishes, refuses connections after `kill`, comes back on the same port after
//! `restart`, and leaves no nginx behind. Skips when nginx, its RTMP module or ffmpeg is
//! missing. Run: `cargo test --release -p showrunner-media --test rtmp_server_harness`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/rtmp_server.rs"]
mod rtmp_server;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rtmp_server::*;

/// A started server, or `None` (test skipped) when nginx-rtmp, ffmpeg or ffprobe is missing.
fn server_and_tools() -> Option<RtmpServer> {
    for tool in ["ffmpeg", "ffprobe"] {
        if !tool_installed(tool) {
            eprintln!("SKIPPED: {tool} is not installed (`cargo xtask setup` installs ffmpeg)");
            return None;
        }
    }
    RtmpServer::start()
}

/// ffmpeg publishing a 320x240 30 fps test pattern with a sine tone to `url`, in real time.
fn publisher(url: &str, seconds: f64) -> Child {
    publisher_command(url, seconds, true).spawn().expect("spawn ffmpeg")
}

/// `b_frames: false` makes decode order presentation order, so a cut stream has no hole.
fn publisher_command(url: &str, seconds: f64, b_frames: bool) -> Command {
    let mut command = Command::new("ffmpeg");
    command
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args(["-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p"])
        .args(["-bf", if b_frames { "3" } else { "0" }])
        .args(["-c:a", "aac", "-f", "flv", url])
        .stdin(Stdio::null());
    command
}

/// Publishes for `seconds` and asserts ffmpeg finished cleanly.
fn publish(url: &str, seconds: f64) {
    let status = publisher(url, seconds).wait().expect("wait for ffmpeg");
    assert!(status.success(), "ffmpeg publishing to {url} failed: {status}");
}

fn connect(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port))
}

fn assert_h264_320x240(path: &std::path::Path) {
    let streams = probe_streams(&path.to_string_lossy());
    let video = find_stream(&streams, "video").unwrap_or_else(|| panic!("no video in {path:?}: {streams:?}"));
    assert_eq!((video.codec_name.as_str(), video.width, video.height), ("h264", Some(320), Some(240)));
}

#[test]
fn records_one_publish_session_with_its_codecs_duration_and_no_gaps() {
    let Some(server) = server_and_tools() else { return };
    let url = server.url("cam");
    let mut live = publisher(&url, 3.0);
    // ffprobe can read the stream live, as a player would.
    let live_streams = probe_streams(&url);
    assert!(live.wait().expect("wait for ffmpeg").success(), "ffmpeg failed\n{}", server.logs());

    let files = server.wait_for_recordings("cam", 1);
    assert_eq!(files.len(), 1, "one session, one recording: {files:?}");
    let streams = probe_streams(&files[0].to_string_lossy());
    for (streams, what) in [(&streams, "recording"), (&live_streams, "live URL")] {
        let video = find_stream(streams, "video").unwrap_or_else(|| panic!("no video in {what}: {streams:?}"));
        assert_eq!((video.codec_name.as_str(), video.width, video.height), ("h264", Some(320), Some(240)), "{what}");
        let audio = find_stream(streams, "audio").unwrap_or_else(|| panic!("no audio in {what}: {streams:?}"));
        assert_eq!((audio.codec_name.as_str(), audio.sample_rate), ("aac", Some(44100)), "{what}");
    }
    let fps = find_stream(&streams, "video").and_then(ProbedStream::frame_rate);
    assert!(fps.is_some_and(|f| (f - 30.0).abs() < 0.5), "frame rate {fps:?}");

    let duration = probe_duration(&files[0]).expect("recording has a duration");
    assert!((2.5..3.6).contains(&duration), "duration {duration} s, published 3 s");
    let times = video_packet_times(&files[0]);
    assert!((80..=95).contains(&times.len()), "{} video packets, published 90", times.len());
    let gap = largest_gap(&times);
    eprintln!("recorded {duration:.3} s, {} video packets, largest video gap {gap:.3} s", times.len());
    assert!(gap < 0.1, "largest video gap {gap} s");
    assert!(server.recording("other").is_empty());
}

#[test]
fn kill_refuses_connections_and_restart_records_a_second_session_on_the_same_port() {
    let Some(mut server) = server_and_tools() else { return };
    let port = server.port();
    publish(&server.url("show"), 1.5);

    server.kill();
    assert_eq!(server.pid(), None);
    let refused = connect(port).expect_err("a killed server must refuse connections");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);

    server.restart();
    assert_eq!(server.port(), port);
    connect(port).expect("a restarted server accepts connections");
    publish(&server.url("show"), 1.5);

    let files = server.wait_for_recordings("show", 2);
    assert_eq!(files.len(), 2, "two sessions, two recordings: {files:?}");
    assert_ne!(files[0], files[1]);
    for file in &files {
        assert_h264_320x240(file);
        let duration = probe_duration(file).expect("recording has a duration");
        assert!((1.0..2.1).contains(&duration), "{file:?}: duration {duration} s, published 1.5 s");
    }
}

#[test]
fn kill_during_a_publish_leaves_a_readable_partial_recording() {
    let Some(mut server) = server_and_tools() else { return };
    // ffmpeg's complaints about the broken connection are expected here.
    let mut live = publisher_command(&server.url("cut"), 10.0, false).stderr(Stdio::null()).spawn().expect("spawn ffmpeg");
    // Let about a second of media arrive.
    let deadline = Instant::now() + Duration::from_secs(8);
    while server.recording("cut").first().is_none_or(|f| video_packet_times(f).len() < 30) {
        assert!(Instant::now() < deadline, "nothing recorded\n{}", server.logs());
        thread::sleep(Duration::from_millis(100));
    }
    server.kill();
    let ffmpeg_deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = live.try_wait().expect("poll ffmpeg") {
            break status;
        }
        if Instant::now() >= ffmpeg_deadline {
            let _ = live.kill();
            panic!("ffmpeg kept running for 5 s after the server was killed");
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "the publisher must see the server go away");

    let files = server.wait_for_recordings("cut", 1);
    assert_h264_320x240(&files[0]);
    let duration = probe_duration(&files[0]).expect("partial recording has a duration");
    eprintln!("partial recording after SIGKILL: {duration:.3} s");
    assert!((0.9..5.0).contains(&duration), "partial duration {duration} s");
    let times = video_packet_times(&files[0]);
    let gap = largest_gap(&times);
    assert!(gap < 0.1, "largest video gap {gap} s in {times:?}");
}

#[test]
fn dropping_the_server_ends_nginx() {
    let Some(server) = RtmpServer::start() else { return };
    let pid = server.pid().expect("nginx runs after start");
    let port = server.port();
    let proc_dir = format!("/proc/{pid}");
    let comm = std::fs::read_to_string(format!("{proc_dir}/comm")).expect("nginx is in /proc");
    assert_eq!(comm.trim(), "nginx");
    connect(port).expect("the server accepts before the drop");

    drop(server);
    assert!(!std::path::Path::new(&proc_dir).exists(), "nginx {pid} still exists after drop");
    assert_eq!(connect(port).expect_err("port closed").kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn largest_gap_ignores_reordering() {
    assert_eq!(largest_gap(&[]), 0.0);
    assert_eq!(largest_gap(&[1.0]), 0.0);
    let gap = largest_gap(&[0.0, 0.1, 0.033, 0.066, 0.5, 0.133]);
    assert!((gap - 0.367).abs() < 1e-9, "gap {gap}");
}
