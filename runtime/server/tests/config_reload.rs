//! Live config reload with the real `showrunner serve`: a changed file applies the
//! settings a running server can take (the size limits here, the log level, the
//! encoder bitrate) and reports the others as needing a restart; a broken file is
//! refused and the settings in force stay. Outcomes arrive as WebSocket events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::serve_process::ServeProcess;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::stream::MaybeTlsStream;
use tokio_tungstenite::tungstenite::{Message, WebSocket};

const TOKEN: &str = "config-reload-token-for-tests";

fn post_scene(origin: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
    let mut response = agent
        .post(format!("{origin}/api/v1/scenes"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("the server answers");
    let json = serde_json::from_slice(&response.body_mut().read_to_vec().unwrap()).unwrap_or(Value::Null);
    (response.status().as_u16(), json)
}

/// The next event of `kind` on the socket (other messages skipped), within 20 s.
fn next_event(socket: &mut WebSocket<MaybeTlsStream<TcpStream>>, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match socket.read() {
            Ok(Message::Text(text)) => {
                let message: Value = serde_json::from_str(text.as_str()).unwrap();
                if message["event"]["type"] == kind {
                    return message["event"].clone();
                }
            }
            Ok(_) => {}
            Err(tokio_tungstenite::tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("the socket failed: {e}"),
        }
    }
    panic!("no {kind} event within 20 s")
}

#[test]
fn a_changed_config_applies_live_settings_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), TOKEN);
    let config = dir.path().join("serve.toml");
    let origin = server.origin();
    let (mut socket, _) = tokio_tungstenite::tungstenite::connect(format!("ws://127.0.0.1:{}/api/v1/ws?token={TOKEN}", server.port)).expect("the WebSocket opens");
    if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    }

    // 3000 bytes: under the default body limit, over the smallest one.
    let padded = json!({ "name": "wide", "note": "x".repeat(3000) });
    let (status, reply) = post_scene(&origin, &padded);
    assert_ne!(status, 413, "under the default limit: {reply}");

    let listen = format!("listen = \"127.0.0.1:{}\"\n", server.port);
    std::fs::write(&config, format!("{listen}log_level = \"info\"\nmax_body_bytes = 1024\n[output]\nwidth = 320\nheight = 180\nfps = 25\nbitrate_kbps = 2500\n")).unwrap();
    let reloaded = next_event(&mut socket, "config_reloaded");
    assert_eq!(reloaded["applied"], json!(["max_body_bytes", "log_level", "output.bitrate_kbps"]), "{reloaded}");
    assert_eq!(reloaded["needs_restart"], json!(["output.fps"]), "{reloaded}");
    let (status, reply) = post_scene(&origin, &padded);
    assert_eq!((status, reply["code"].as_str()), (413, Some("payload_too_large")), "{reply}");
    assert_eq!(reply["details"]["limit_bytes"], 1024);
    let (status, reply) = post_scene(&origin, &json!({ "name": "small" }));
    assert_eq!(status, 201, "a small body still passes: {reply}");

    std::fs::write(&config, format!("{listen}max_body_bytes = 1024\n[output]\nwidth = 320\nheight = 180\nfps = \"fast\"\n")).unwrap();
    let rejected = next_event(&mut socket, "config_rejected");
    assert!(rejected["reason"].as_str().unwrap().contains("output.fps"), "the reason names the key: {rejected}");
    let (status, _) = post_scene(&origin, &padded);
    assert_eq!(status, 413, "a refused file changes nothing");

    // Back to the defaults: the limit rises again without a restart.
    std::fs::write(&config, format!("{listen}[output]\nwidth = 320\nheight = 180\nfps = 30\n")).unwrap();
    let reloaded = next_event(&mut socket, "config_reloaded");
    assert_eq!(reloaded["needs_restart"], json!([]), "{reloaded}");
    let (status, reply) = post_scene(&origin, &padded);
    assert_ne!(status, 413, "{reply}");
}
