//! Tests of the serve helpers against a real WebSocket server on loopback (tungstenite's
//! own), standing in for `showrunner serve`'s `/api/v1/ws`.

use std::net::TcpListener;
use std::sync::mpsc::sync_channel;

use serde_json::json;

use super::*;

/// A one-client WebSocket server on a free port: checks the request's path and
/// token, then sends `messages`; keeps the socket open until `hold` has passed.
#[expect(clippy::result_large_err, reason = "tungstenite's handshake callback answers its own error type")]
fn one_client_server(messages: Vec<Message>, hold: Duration) -> (u16, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut uri = String::new();
        let mut socket = tungstenite::accept_hdr(stream, |request: &tungstenite::handshake::server::Request, response| {
            uri = request.uri().to_string();
            Ok(response)
        })
        .unwrap();
        for message in messages {
            socket.send(message).unwrap();
        }
        std::thread::sleep(hold);
        uri
    });
    (port, thread)
}

fn text(value: Value) -> Message {
    Message::text(value.to_string())
}

#[test]
fn stats_feed_keeps_stats_and_hands_on_other_events() {
    let messages = vec![
        text(json!({ "type": "hello" })),
        text(json!({ "type": "event", "event": { "type": "stats", "frame": 30, "frames_late": 1 } })),
        text(json!({ "type": "event", "event": { "type": "layer_changed", "layer": "name" } })),
        Message::binary(vec![1, 2, 3]),
        text(json!({ "type": "event", "event": { "type": "stats", "frame": 60, "frames_late": 4 } })),
    ];
    let (port, server) = one_client_server(messages, Duration::from_millis(500));
    let started = Instant::now();
    let (sender, others) = sync_channel(8);
    let feed = StatsFeed::start(&Api::new(port, "secret"), Duration::from_millis(50), move |_, event| {
        let _ = sender.try_send(event["type"].as_str().unwrap_or_default().to_string());
        ControlFlow::Continue(())
    })
    .unwrap();
    let first = feed.after(started).unwrap();
    assert_eq!(first["frame"], 30);
    assert_eq!(others.recv_timeout(Duration::from_secs(5)).unwrap(), "layer_changed");
    std::thread::sleep(Duration::from_millis(200));
    let latest = feed.latest().unwrap();
    assert_eq!(frames_between(&first, &latest), (30, 3));
    let (before, during) = feed.between(started, Instant::now());
    assert!(before.is_none());
    assert_eq!(during.len(), 2);
    assert_eq!(server.join().unwrap(), "/api/v1/ws?token=secret");
}

#[test]
fn a_socket_closed_under_the_reader_marks_it_failed() {
    let (port, server) = one_client_server(vec![Message::binary(vec![0; 16])], Duration::ZERO);
    let (sender, sizes) = sync_channel(8);
    let reader = read_socket(&Api::new(port, "t"), "/monitors/program/ws", Duration::from_millis(50), move |_, message| {
        let _ = sender.try_send(message.len());
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(server.join().unwrap(), "/api/v1/monitors/program/ws?token=t");
    assert_eq!(sizes.recv_timeout(Duration::from_secs(5)).unwrap(), 16);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !reader.failed() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(reader.failed());
}

#[test]
fn a_dropped_worker_stops_and_was_not_failed() {
    let worker = Worker::spawn(|running| {
        while running.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    });
    assert!(!worker.failed());
    let dropped = Instant::now();
    drop(worker);
    assert!(dropped.elapsed() < Duration::from_secs(1));
}

#[test]
fn stats_wait_gives_up_when_none_arrive() {
    let (port, server) = one_client_server(vec![text(json!({ "type": "event", "event": { "type": "log" } }))], Duration::from_secs(6));
    let feed = StatsFeed::start(&Api::new(port, "t"), Duration::from_millis(50), |_, _| ControlFlow::Break(())).unwrap();
    let asked = Instant::now();
    assert_eq!(feed.latest().unwrap_err(), "no stats on the WebSocket for 5 s");
    assert!(asked.elapsed() >= STATS_WITHIN);
    drop(feed);
    server.join().unwrap();
}

#[test]
fn only_event_messages_are_events() {
    assert_eq!(event_of(&text(json!({ "type": "event", "event": { "type": "stats" } }))), Some(json!({ "type": "stats" })));
    assert_eq!(event_of(&text(json!({ "type": "reply", "event": { "type": "stats" } }))), None);
    assert_eq!(event_of(&Message::text("not json")), None);
    assert_eq!(event_of(&Message::binary(vec![b'{', b'}'])), None);
}

#[test]
fn a_missing_binary_is_an_error_not_a_hang() {
    let config = ServeConfig { width: 32, height: 18, token: "t", extra: String::new() };
    let error = Server::start(Path::new("/nonexistent/showrunner"), &config).err().unwrap();
    assert!(error.starts_with("cannot start /nonexistent/showrunner"), "{error}");
}
