//! The RTMP ingest server against real publishers (ffmpeg) and hostile clients on
//! 127.0.0.1: decoded pixels reach `LiveInputs`, a killed publisher frees its key,
//! wrong and busy keys are refused without revealing the key, garbage never stops the
//! server, and removing a key or stopping the server disconnects promptly. Skips (with
//! a notice) when ffmpeg is missing.
//! Run: `cargo test --release -p showrunner-media --test ingest`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/ingest_clients.rs"]
mod ingest_clients;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ingest_clients::{
    FIRST_STREAM_ID, Publisher, RawClient, closed_within, command_chunks, handshake, nested_connect, noise,
};
use rml_rtmp::messages::RtmpMessage;
use rml_rtmp::rml_amf0::Amf0Value;
use showrunner_assets::{LiveFrame, LiveInputs};
use showrunner_media::{
    INGEST_IDLE_TIMEOUT, IngestKey, IngestServer, IngestSettings, InputEvent, InputEvents, InputState, InputStatus,
    MediaError,
};

const KEY: &str = "cam-secret-7f3a";
/// The publisher's colour, 0x20C040.
const GREEN: [f64; 3] = [32.0, 192.0, 64.0];
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(15);

macro_rules! require_ffmpeg {
    () => {
        if !Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success()) {
            eprintln!("SKIPPED: ffmpeg is not installed (`cargo xtask setup` installs it)");
            return;
        }
    };
}

struct Harness {
    server: Option<IngestServer>,
    inputs: LiveInputs,
    events: InputEvents,
    seen: Vec<InputEvent>,
    addr: SocketAddr,
}

impl Harness {
    fn start(keys: &[(&str, &str)], max_connections: usize) -> Harness {
        let settings = IngestSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            keys: keys.iter().map(|(input, key)| IngestKey { input: (*input).into(), key: (*key).into() }).collect(),
            max_connections,
            ..IngestSettings::default()
        };
        let (inputs, events) = (LiveInputs::new(), InputEvents::default());
        let server = IngestServer::start(settings, inputs.clone(), events.clone()).expect("start the ingest server");
        let addr = server.local_addr();
        Harness { server: Some(server), inputs, events, seen: Vec::new(), addr }
    }

    fn server(&self) -> &IngestServer {
        self.server.as_ref().unwrap()
    }

    fn url(&self, key: &str) -> String {
        format!("rtmp://{}/live/{key}", self.addr)
    }

    fn status(&self, input: &str) -> InputStatus {
        self.server().statuses().into_iter().find(|s| s.name == input).expect("a status for the input")
    }

    /// Waits for an event matching `wanted` (among all seen so far) and returns it.
    fn wait_event(&mut self, timeout: Duration, wanted: impl Fn(&InputEvent) -> bool) -> InputEvent {
        let deadline = Instant::now() + timeout;
        loop {
            self.seen.extend(self.events.drain());
            if let Some(position) = self.seen.iter().position(&wanted) {
                return self.seen.remove(position);
            }
            assert!(Instant::now() < deadline, "expected event not seen; events: {:#?}", self.seen);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_frame(&self, input: &str) -> Arc<LiveFrame> {
        let deadline = Instant::now() + FIRST_FRAME_TIMEOUT;
        loop {
            if let Some(frame) = self.inputs.get(input) {
                return frame;
            }
            assert!(Instant::now() < deadline, "no frame on `{input}`; statuses: {:#?}", self.server().statuses());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn mean_rgb(frame: &LiveFrame) -> [f64; 3] {
    let mut sum = [0f64; 3];
    for pixel in frame.pixels.chunks_exact(4) {
        for (total, value) in sum.iter_mut().zip(pixel) {
            *total += f64::from(*value);
        }
    }
    let count = (frame.width * frame.height) as f64;
    sum.map(|s| s / count)
}

fn assert_green_320x240(frame: &LiveFrame) {
    assert_eq!((frame.width, frame.height), (320, 240));
    let mean = mean_rgb(frame);
    for (channel, (got, want)) in mean.iter().zip(GREEN).enumerate() {
        assert!((got - want).abs() < 10.0, "channel {channel}: mean {got:.1}, expected {want} ± 10 (mean {mean:?})");
    }
}

fn is_live(status: &InputStatus) -> bool {
    matches!(status.state, InputState::Live { .. })
}

#[test]
fn a_publish_shows_its_frames_and_a_killed_publisher_frees_the_key() {
    require_ffmpeg!();
    let mut h = Harness::start(&[("cam", KEY)], 16);
    assert_eq!(h.status("cam").state, InputState::Waiting);

    let launched = Instant::now();
    let mut first = Publisher::start(&h.url(KEY), false);
    assert_green_320x240(&h.wait_frame("cam"));
    eprintln!("ffmpeg launch to first decoded frame: {:?}", launched.elapsed());
    let published =
        h.wait_event(Duration::from_secs(1), |e| matches!(e, InputEvent::Published { name, .. } if name == "cam"));
    let InputEvent::Published { peer, .. } = published else { unreachable!() };
    assert!(peer.starts_with("127.0.0.1:"), "peer {peer}");
    let status = h.status("cam");
    assert_eq!(status.state, InputState::Live { peer: peer.clone() });
    assert_eq!((status.size, status.sessions), (Some((320, 240)), 1));
    std::thread::sleep(Duration::from_secs(1));
    let later = h.status("cam");
    assert!(later.frames >= status.frames + 15, "frames {} then {} a second later", status.frames, later.frames);

    first.0.kill().unwrap();
    let gone =
        h.wait_event(Duration::from_secs(5), |e| matches!(e, InputEvent::Unpublished { name, .. } if name == "cam"));
    eprintln!("after kill -9: {gone:?}");
    assert_eq!(h.status("cam").state, InputState::Waiting);
    assert!(h.inputs.get("cam").is_none(), "a gone publisher's last frame must not be shown");

    let _second = Publisher::start(&h.url(KEY), true);
    assert_green_320x240(&h.wait_frame("cam"));
    let status = h.status("cam");
    assert!(is_live(&status), "{status:?}");
    assert_eq!(status.sessions, 2);
    assert!(status.frames > later.frames, "frames count across sessions");
}

#[test]
fn a_publisher_that_finishes_cleanly_unpublishes() {
    require_ffmpeg!();
    let mut h = Harness::start(&[("cam", KEY)], 16);
    let mut publisher = Publisher::start_for(&h.url(KEY), true, 2);
    h.wait_frame("cam");
    let status = publisher.exit_within(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "ffmpeg must finish cleanly: {status:?}");
    let gone = h.wait_event(Duration::from_secs(2), |e| matches!(e, InputEvent::Unpublished { .. }));
    assert!(
        matches!(&gone, InputEvent::Unpublished { reason, .. } if reason.contains("stopped publishing")),
        "{gone:?}"
    );
    let status = h.status("cam");
    assert_eq!((status.state, status.sessions), (InputState::Waiting, 1));
    assert!(status.frames >= 30, "two seconds at 30 fps, got {} frames", status.frames);
    assert!(h.inputs.get("cam").is_none());
}

#[test]
fn wrong_keys_wrong_apps_and_players_are_refused_without_revealing_keys() {
    require_ffmpeg!();
    let mut h = Harness::start(&[("cam", KEY)], 16);
    let wrong = "wrong-key-d41d8cd9";
    let status = Publisher::start(&h.url(wrong), false).exit_within(Duration::from_secs(15));
    assert!(status.is_some_and(|s| !s.success()), "ffmpeg must fail on a wrong key: {status:?}");
    let rejected = h.wait_event(Duration::from_secs(2), |e| matches!(e, InputEvent::Rejected { .. }));
    let InputEvent::Rejected { reason, .. } = &rejected else { unreachable!() };
    assert!(reason.contains("unknown stream key") && !reason.contains(wrong) && !reason.contains(KEY), "{reason}");

    let other_app = format!("rtmp://{}/other/{KEY}", h.addr);
    let status = Publisher::start(&other_app, false).exit_within(Duration::from_secs(15));
    assert!(status.is_some_and(|s| !s.success()), "ffmpeg must fail on a wrong application: {status:?}");
    h.wait_event(
        Duration::from_secs(2),
        |e| matches!(e, InputEvent::Rejected { reason, .. } if reason.contains("unknown application `other`")),
    );

    let player = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-rw_timeout",
            "5000000",
            "-i",
            &h.url(KEY),
            "-t",
            "1",
            "-f",
            "null",
            "-",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!player.status.success(), "playing must be refused");
    h.wait_event(
        Duration::from_secs(2),
        |e| matches!(e, InputEvent::Rejected { reason, .. } if reason.contains("play requests are refused")),
    );

    let status = h.status("cam");
    assert_eq!((status.state, status.sessions, status.frames), (InputState::Waiting, 0, 0));
    assert!(h.inputs.get("cam").is_none());
    assert!(!h.events.drain().iter().any(|e| matches!(e, InputEvent::Published { .. })));
}

#[test]
fn a_second_publisher_on_a_busy_key_is_refused_while_the_first_goes_on() {
    require_ffmpeg!();
    let mut h = Harness::start(&[("cam", KEY)], 16);
    let _first = Publisher::start(&h.url(KEY), false);
    h.wait_frame("cam");
    let InputEvent::Published { peer, .. } =
        h.wait_event(Duration::from_secs(1), |e| matches!(e, InputEvent::Published { .. }))
    else {
        unreachable!()
    };
    let status = Publisher::start(&h.url(KEY), false).exit_within(Duration::from_secs(15));
    assert!(status.is_some_and(|s| !s.success()), "the second publisher must be refused: {status:?}");
    let rejected = h.wait_event(Duration::from_secs(2), |e| matches!(e, InputEvent::Rejected { .. }));
    let InputEvent::Rejected { reason, .. } = &rejected else { unreachable!() };
    assert!(reason.contains("already has a publisher") && !reason.contains(KEY), "{reason}");

    let before = h.status("cam");
    std::thread::sleep(Duration::from_millis(700));
    let after = h.status("cam");
    assert_eq!(after.state, InputState::Live { peer });
    assert!(
        after.frames > before.frames + 10,
        "the first publisher keeps going: {} then {}",
        before.frames,
        after.frames
    );
    assert_eq!(after.sessions, 1);
    assert!(!h.events.drain().iter().any(|e| matches!(e, InputEvent::Unpublished { .. })));
}

#[test]
fn garbage_and_hostile_clients_never_stop_the_server() {
    require_ffmpeg!();
    let mut h = Harness::start(&[("cam", KEY)], 16);
    let started = Instant::now();
    let mut silent = TcpStream::connect(h.addr).unwrap();
    silent.write_all(&[3]).unwrap();
    silent.write_all(&noise(1)[..700]).unwrap();

    let mut random = TcpStream::connect(h.addr).unwrap();
    let _ = random.write_all(&noise(2));
    assert!(closed_within(&mut random, Duration::from_secs(5)), "random bytes must close the connection");

    drop(TcpStream::connect(h.addr).unwrap());

    let (mut after_handshake, _) = handshake(h.addr);
    let _ = after_handshake.write_all(&noise(3));
    assert!(closed_within(&mut after_handshake, Duration::from_secs(5)), "garbage chunks must close the connection");

    // Deeply nested AMF0 just under the server's 8 KiB command cap: rml_rtmp parses it
    // recursively (on a default 2 MiB thread stack, 16 KiB of it overflows the stack).
    let (mut bomb, _) = handshake(h.addr);
    bomb.write_all(&command_chunks(&nested_connect(8 * 1024 / 4 - 8))).unwrap();
    assert!(closed_within(&mut bomb, Duration::from_secs(5)), "a nested AMF0 bomb must close the connection");

    let (mut oversized, _) = handshake(h.addr);
    let _ = oversized.write_all(&command_chunks(&nested_connect(100_000)));
    assert!(closed_within(&mut oversized, Duration::from_secs(5)), "an oversized command must close the connection");

    // `@setDataFrame` with no metadata object makes rml_rtmp 0.8 index out of bounds.
    let mut crasher = RawClient::publish(h.addr, "live", KEY);
    h.wait_event(Duration::from_secs(2), |e| matches!(e, InputEvent::Published { .. }));
    let values = vec![Amf0Value::Utf8String("@setDataFrame".into()), Amf0Value::Utf8String("onMetaData".into())];
    crasher.send_message(RtmpMessage::Amf0Data { values }, FIRST_STREAM_ID);
    assert!(crasher.closed_within(Duration::from_secs(5)), "a message rml_rtmp panics on must close the connection");
    let gone = h.wait_event(Duration::from_secs(2), |e| matches!(e, InputEvent::Unpublished { .. }));
    assert!(matches!(&gone, InputEvent::Unpublished { reason, .. } if reason.contains("malformed RTMP")), "{gone:?}");

    let _publisher = Publisher::start(&h.url(KEY), false);
    assert_green_320x240(&h.wait_frame("cam"));
    assert_eq!(h.status("cam").sessions, 2);

    let rejected = |h: &mut Harness| {
        h.seen.extend(h.events.drain());
        h.seen.iter().filter(|e| matches!(e, InputEvent::Rejected { .. })).count()
    };
    // random, connect-and-close, garbage chunks, the bomb, the oversized command.
    assert!(rejected(&mut h) >= 5, "{:#?}", h.seen);
    let silent_closed = closed_within(&mut silent, INGEST_IDLE_TIMEOUT + Duration::from_secs(3) - started.elapsed());
    let after = started.elapsed();
    assert!(silent_closed, "a silent client must be dropped after {INGEST_IDLE_TIMEOUT:?}");
    assert!(after >= INGEST_IDLE_TIMEOUT - Duration::from_millis(500), "dropped too early: {after:?}");
    h.wait_event(
        Duration::from_secs(1),
        |e| matches!(e, InputEvent::Rejected { reason, .. } if reason.contains("sent nothing")),
    );
    for event in &h.seen {
        assert!(!format!("{event:?}").contains(KEY), "an event shows the key: {event:?}");
    }
}

#[test]
fn a_feed_nothing_can_decode_ends_that_publish_and_frees_the_key() {
    let mut h = Harness::start(&[("cam", KEY)], 16);
    let mut client = RawClient::publish(h.addr, "live", KEY);
    // FLV video tags of codec id 15, which no FLV demuxer or decoder knows.
    for _ in 0..30 {
        client.send_message(
            RtmpMessage::VideoData { data: vec![0x1F, 0, 0, 0x84, 0, 0x81, 0x20].into() },
            FIRST_STREAM_ID,
        );
    }
    let gone = h.wait_event(Duration::from_secs(5), |e| matches!(e, InputEvent::Unpublished { .. }));
    eprintln!("undecodable feed: {gone:?}");
    assert!(matches!(&gone, InputEvent::Unpublished { reason, .. } if reason.contains("decoding failed")), "{gone:?}");
    assert!(client.closed_within(Duration::from_secs(2)));
    assert_eq!(h.status("cam").state, InputState::Waiting);
    assert!(h.inputs.get("cam").is_none());
}

#[test]
fn extra_connections_over_the_limit_are_refused() {
    let mut h = Harness::start(&[("cam", KEY)], 2);
    let first = TcpStream::connect(h.addr).unwrap();
    let _second = TcpStream::connect(h.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(h.addr).unwrap();
    assert!(closed_within(&mut third, Duration::from_secs(2)), "the third connection must be closed");
    h.wait_event(
        Duration::from_secs(1),
        |e| matches!(e, InputEvent::Rejected { reason, .. } if reason.contains("too many connections")),
    );
    drop(first);
    std::thread::sleep(Duration::from_millis(500));
    let mut fourth = TcpStream::connect(h.addr).unwrap();
    assert!(!closed_within(&mut fourth, Duration::from_millis(500)), "a freed slot takes a new connection");
}

#[test]
fn removing_a_live_key_disconnects_and_stop_returns_promptly() {
    require_ffmpeg!();
    let mut h = Harness::start(&[("cam", KEY), ("other", "other-key-1")], 16);
    let mut publisher = Publisher::start(&h.url(KEY), false);
    h.wait_frame("cam");

    let removing = Instant::now();
    h.server().remove_key("cam").unwrap();
    let remove_took = removing.elapsed();
    assert!(remove_took < Duration::from_secs(1), "remove_key took {remove_took:?}");
    assert!(h.inputs.get("cam").is_none());
    h.wait_event(
        Duration::from_secs(1),
        |e| matches!(e, InputEvent::Unpublished { reason, .. } if reason.contains("removed")),
    );
    assert_eq!(h.server().statuses().iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["other"]);
    assert!(
        publisher.exit_within(Duration::from_secs(10)).is_some_and(|s| !s.success()),
        "ffmpeg must be disconnected"
    );
    assert!(matches!(h.server().remove_key("cam"), Err(MediaError::UnknownInput { .. })));

    let new_key = "cam-secret-rotated";
    h.server().add_key(IngestKey { input: "cam".into(), key: new_key.into() }).unwrap();
    assert!(Publisher::start(&h.url(KEY), false).exit_within(Duration::from_secs(15)).is_some_and(|s| !s.success()));
    let _publisher = Publisher::start(&h.url(new_key), false);
    h.wait_frame("cam");
    assert_eq!(h.status("cam").sessions, 1);

    let stopping = Instant::now();
    h.server.take().unwrap().stop();
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(1), "stop took {took:?}");
    eprintln!("remove_key with a publisher: {remove_took:?}; stop with a publisher: {took:?}");
    assert!(h.inputs.get("cam").is_none());
    h.wait_event(
        Duration::from_millis(100),
        |e| matches!(e, InputEvent::Unpublished { reason, .. } if reason.contains("stopped")),
    );
    assert!(TcpStream::connect(h.addr).is_err(), "the listener is closed");
}

#[test]
fn bad_settings_and_keys_are_refused() {
    let start = |settings: IngestSettings| IngestServer::start(settings, LiveInputs::new(), InputEvents::default());
    let key = |input: &str, key: &str| IngestKey { input: input.into(), key: key.into() };
    let local = || IngestSettings { listen: "127.0.0.1:0".parse().unwrap(), ..IngestSettings::default() };
    let invalid = |result: Result<IngestServer, MediaError>| matches!(result, Err(MediaError::InvalidInput { .. }));

    assert!(invalid(start(IngestSettings { keys: vec![key("a", "k1"), key("b", "k1")], ..local() })));
    assert!(invalid(start(IngestSettings { keys: vec![key("a", "k1"), key("a", "k2")], ..local() })));
    assert!(invalid(start(IngestSettings { keys: vec![key("a", "")], ..local() })));
    assert!(invalid(start(IngestSettings { keys: vec![key("", "k")], ..local() })));
    assert!(invalid(start(IngestSettings { keys: vec![key("a", "has/slash")], ..local() })));
    assert!(invalid(start(IngestSettings { app: String::new(), ..local() })));
    assert!(invalid(start(IngestSettings { max_connections: 0, ..local() })));
    let error =
        start(IngestSettings { keys: vec![key("a", "topsecret"), key("b", "topsecret")], ..local() }).err().unwrap();
    assert!(!error.to_string().contains("topsecret"), "{error}");
    assert!(!format!("{:?}", key("a", "topsecret")).contains("topsecret"));

    let running = start(IngestSettings { keys: vec![key("a", "k1")], ..local() }).unwrap();
    assert!(matches!(running.add_key(key("b", "k1")), Err(MediaError::InvalidInput { .. })));
    assert!(matches!(running.add_key(key("a", "k2")), Err(MediaError::InvalidInput { .. })));
    running.add_key(key("b", "k2")).unwrap();
    assert_eq!(running.statuses().len(), 2);
    let taken = start(IngestSettings { listen: running.local_addr(), ..IngestSettings::default() });
    assert!(matches!(taken, Err(MediaError::Io { .. })), "a port in use is an I/O error");
}
