//! Chrome-trace recording through the real binary. `serve --trace-out FILE
//! --trace-seconds N`: the file holds the frame stages and a span per layer tick naming
//! the layer, it is closed after N seconds while the show keeps running, and a missing
//! folder is refused before the show starts. `live --trace-out` records the same spans.
//! `POST /api/v1/trace`: answers with the trace of the next N seconds as a download, one
//! recording at a time (`--trace-out` included), checks its seconds and the token, removes
//! its temp file, and reopens after a client that hung up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TOKEN: &str = "trace-test-token";
const TRACE_SECONDS: u64 = 4;

/// A running `showrunner serve` whose stderr lines arrive on `stderr`; killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
    stderr: Mutex<mpsc::Receiver<String>>,
}

impl Server {
    /// `serve` with `extra` flags on a free port, 320x180 at 30 fps, data in `dir`.
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.join("serve.toml");
        std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n[output]\nwidth = 320\nheight = 180\nfps = 30\n")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
            .args(["serve", "--config", config.to_str().unwrap(), "--data-dir", dir.to_str().unwrap()])
            .args(extra)
            .env("SHOWRUNNER_TOKEN", TOKEN)
            .env("SHOWRUNNER_CACHE_DIR", dir.join("cache"))
            .env_remove("SHOWRUNNER_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("showrunner serve starts");
        let (lines, stderr) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
        let server = Server { child, base: format!("http://127.0.0.1:{port}/api/v1"), agent, stderr: Mutex::new(stderr) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.call("GET", "/ready", None).map(|(status, _)| status) != Some(200) {
            assert!(Instant::now() < deadline, "serve was not ready on {port} within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn call(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Option<(u16, Value)> {
        let request = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base)).header("Authorization", format!("Bearer {TOKEN}"));
        let sent = match body {
            Some((content_type, bytes)) => self.agent.run(request.header("Content-Type", content_type).body(bytes).unwrap()),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = sent.ok()?;
        let body = response.body_mut().read_to_vec().ok()?;
        Some((response.status().as_u16(), serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    /// `POST /trace` with `body`: the status, the content type and disposition, the body.
    fn post_trace(&self, body: &str, token: Option<&str>) -> (u16, String, String, Vec<u8>) {
        let mut request = ureq::http::Request::builder().method("POST").uri(format!("{}/trace", self.base)).header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = self.agent.run(request.body(body.as_bytes().to_vec()).unwrap()).expect("the server answers");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (content_type, disposition) = (header("content-type"), header("content-disposition"));
        let bytes = response.body_mut().with_config().limit(128 * 1024 * 1024).read_to_vec().unwrap();
        (response.status().as_u16(), content_type, disposition, bytes)
    }

    /// Uploads the scoreboard module and puts it on layer `score`.
    fn add_scoreboard_layer(&self) {
        let scoreboard = common::guest("scene-scoreboard");
        let (status, uploaded) = self.call("POST", "/modules", Some(("application/wasm", std::fs::read(&scoreboard).unwrap()))).unwrap();
        assert!(status == 201 || status == 200, "upload: {uploaded}");
        let layer = json!({ "id": "score", "scene": "main", "module": uploaded["hash"] });
        let (status, reply) = self.call("POST", "/layers", Some(("application/json", layer.to_string().into_bytes()))).unwrap();
        assert_eq!(status, 201, "add layer: {reply}");
    }

    fn frame(&self) -> u64 {
        let (status, show) = self.call("GET", "/show", None).expect("the server answers");
        assert_eq!(status, 200);
        show["frame"].as_u64().unwrap()
    }

    /// Waits for a stderr line containing `needle`; answers it.
    fn wait_for_line(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.lock().unwrap().recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no stderr line with `{needle}` within {within:?}"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Compiles the scoreboard module into `dir/cache`, so uploading it later is quick.
fn warm_cache(dir: &Path) {
    let scoreboard = common::guest("scene-scoreboard");
    let warm = Command::new(env!("CARGO_BIN_EXE_showrunner")).args(["check", scoreboard.to_str().unwrap()]).env("SHOWRUNNER_CACHE_DIR", dir.join("cache")).output().unwrap();
    assert!(warm.status.success(), "check: {}", String::from_utf8_lossy(&warm.stderr));
}

/// The events of a Chrome trace file.
fn trace_events(path: &Path) -> Vec<Value> {
    parse_trace(&std::fs::read(path).unwrap())
}

/// The events of a Chrome trace: a JSON array, or an object with `traceEvents`.
fn parse_trace(bytes: &[u8]) -> Vec<Value> {
    match serde_json::from_slice::<Value>(bytes).expect("the trace is valid JSON") {
        Value::Array(events) => events,
        Value::Object(mut object) => object.remove("traceEvents").and_then(|e| e.as_array().cloned()).expect("traceEvents is an array"),
        other => panic!("not a Chrome trace: {other}"),
    }
}

/// How many span starts (`B`, or complete `X`) named `name` the trace holds.
fn span_starts<'a>(events: &'a [Value], name: &'a str) -> impl Iterator<Item = &'a Value> {
    events.iter().filter(move |e| e["name"] == name && (e["ph"] == "B" || e["ph"] == "X"))
}

#[test]
fn serve_records_frame_stages_and_layer_ticks_then_closes_the_file_and_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    warm_cache(dir.path());
    let trace = dir.path().join("frames.json");
    let started = Instant::now();
    let server = Server::start(dir.path(), &["--trace-out", trace.to_str().unwrap(), "--trace-seconds", &TRACE_SECONDS.to_string()]);
    server.add_scoreboard_layer();
    // The --trace-out recording holds the recorder: the API waits its turn.
    let (status, _, _, body) = server.post_trace(r#"{"seconds": 1}"#, Some(TOKEN));
    let refused: Value = serde_json::from_slice(&body).unwrap();
    assert!(started.elapsed() < Duration::from_secs(TRACE_SECONDS), "the layer was added after the trace window ({:?})", started.elapsed());
    assert_eq!((status, refused["code"].as_str()), (409, Some("trace_running")), "{refused}");
    assert_eq!(refused["details"]["started_by"], "command_line", "{refused}");

    let line = server.wait_for_line("trace:", Duration::from_secs(TRACE_SECONDS + 30));
    assert_eq!(line, format!("trace: {TRACE_SECONDS} s written to {} (open it in https://ui.perfetto.dev or chrome://tracing)", trace.display()));
    assert!(started.elapsed() >= Duration::from_secs(TRACE_SECONDS), "the window closed early: {:?}", started.elapsed());

    let events = trace_events(&trace);
    let frames = span_starts(&events, "frame").count();
    // 30 fps for most of the window; a slow software renderer may miss some frames.
    assert!(frames >= 10, "only {frames} frame spans in {TRACE_SECONDS} s");
    for stage in ["pool_tick", "compose_submit", "compose_receive"] {
        assert!(span_starts(&events, stage).count() >= 10, "too few `{stage}` spans");
    }
    for end in ["frame", "pool_tick"] {
        assert!(events.iter().any(|e| e["name"] == end && e["ph"] == "E"), "no end of a `{end}` span");
    }
    let ticks: Vec<&Value> = span_starts(&events, "layer_tick").collect();
    assert!(ticks.len() >= 5, "only {} layer_tick spans", ticks.len());
    assert!(ticks.iter().all(|t| t["args"]["layer"] == "score"), "a layer tick without the layer id: {}", ticks[0]);
    assert!(ticks.iter().all(|t| t["args"]["module"].as_str().is_some_and(|m| !m.is_empty())), "a layer tick without the module: {}", ticks[0]);
    assert!(events.iter().all(|e| e["ph"] == "M" || e["ts"].as_f64().is_some()), "an event without a timestamp");

    // The file is closed and the show goes on.
    let size = std::fs::metadata(&trace).unwrap().len();
    let frame = server.frame();
    std::thread::sleep(Duration::from_millis(700));
    assert!(server.frame() > frame, "the show stopped after the trace window");
    assert_eq!(std::fs::metadata(&trace).unwrap().len(), size, "the trace file grew after its window");
}

#[test]
fn a_trace_in_a_missing_folder_is_refused_before_the_show_starts() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("no-such-folder").join("frames.json");
    let output = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().to_str().unwrap(), "--trace-out", trace.to_str().unwrap()])
        .env("SHOWRUNNER_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("no-such-folder") && stderr.contains("does not exist"), "stderr: {stderr}");
    assert!(!stderr.contains("show:"), "the show started: {stderr}");
    assert!(!trace.exists());
}

/// The `ts` of the first and last start of a span named `name`, in seconds.
fn span_range(events: &[Value], name: &str) -> (f64, f64) {
    let times: Vec<f64> = span_starts(events, name).map(|e| e["ts"].as_f64().unwrap() / 1e6).collect();
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let last = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (first, last)
}

#[test]
fn live_records_frame_stages_and_layer_ticks_to_the_trace_file() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("live.json");
    let recording = dir.path().join("programme.mkv");
    let clock = common::guest("scene-clock");
    // The window (10 s) outlasts the show (3 s): the file is completed when `live` ends.
    let out = common::showrunner(&[
        "live", clock.to_str().unwrap(), "--size", "320x180", "--duration", "3s", "--record", recording.to_str().unwrap(),
        "--trace-out", trace.to_str().unwrap(), "--trace-seconds", "10",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("trace: ")).unwrap_or_else(|| panic!("no trace line: {stderr}"));
    assert!(line.ends_with(&format!(" s written to {} (open it in https://ui.perfetto.dev or chrome://tracing)", trace.display())), "{line}");
    let seconds: f64 = line["trace: ".len()..].split(' ').next().unwrap().parse().unwrap();
    assert!((3.0..10.0).contains(&seconds), "{line}");

    let events = trace_events(&trace);
    let frames = span_starts(&events, "frame").count();
    assert!((45..=91).contains(&frames), "{frames} frame spans in a 3 s show at 30 fps");
    let ticks: Vec<&Value> = span_starts(&events, "layer_tick").collect();
    assert!(ticks.len() >= 45, "only {} layer_tick spans", ticks.len());
    assert!(ticks.iter().all(|t| t["args"]["layer"] == "scene_clock"), "a layer tick of another layer: {}", ticks[0]);
    assert!(span_starts(&events, "compose_submit").count() >= 45, "too few compose_submit spans");
    let (first, last) = span_range(&events, "frame");
    assert!((2.5..=3.2).contains(&(last - first)), "frames from {first:.2} s to {last:.2} s in a 3 s show");
}

#[test]
fn the_trace_route_answers_with_the_next_seconds_one_recording_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    warm_cache(dir.path());
    let server = Server::start(dir.path(), &[]);
    server.add_scoreboard_layer();

    let (status, _, _, body) = server.post_trace(r#"{"seconds": 2}"#, None);
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    let (_, openapi) = server.call("GET", "/openapi.json", None).unwrap();
    let route = &openapi["paths"]["/api/v1/trace"]["post"];
    assert!(route["responses"]["409"].is_object() && route["security"][0]["bearer"].is_array(), "POST /trace in the OpenAPI document: {route}");
    for (body, expected) in [(r#"{"seconds": 0}"#, 422), (r#"{"seconds": 61}"#, 422), (r#"{"seconds": "two"}"#, 400), (r#"{"seconds": 2.5}"#, 400)] {
        let (status, _, _, reply) = server.post_trace(body, Some(TOKEN));
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(status, expected, "{body}: {reply}");
        assert!(reply["message"].as_str().unwrap().contains("seconds") && reply["message"].as_str().unwrap().contains("60"), "{body}: {reply}");
    }

    std::thread::scope(|scope| {
        let started = Instant::now();
        let first = scope.spawn(|| server.post_trace(r#"{"seconds": 2}"#, Some(TOKEN)));
        std::thread::sleep(Duration::from_millis(500));
        let (status, _, _, refused) = server.post_trace(r#"{"seconds": 1}"#, Some(TOKEN));
        let refused: Value = serde_json::from_slice(&refused).unwrap();
        assert_eq!((status, refused["code"].as_str()), (409, Some("trace_running")), "{refused}");
        assert_eq!(refused["details"]["started_by"], "api", "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("already being recorded"), "{refused}");

        let (status, content_type, disposition, trace) = first.join().unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&trace));
        assert!(started.elapsed() >= Duration::from_secs(2), "answered after {:?}", started.elapsed());
        assert_eq!(content_type, "application/json");
        assert!(disposition.starts_with("attachment; filename=\"showrunner-trace-") && disposition.ends_with(".json\""), "{disposition}");
        let events = parse_trace(&trace);
        assert!(span_starts(&events, "frame").count() >= 30, "too few frame spans in 2 s");
        let ticks: Vec<&Value> = span_starts(&events, "layer_tick").collect();
        assert!(ticks.len() >= 30 && ticks.iter().all(|t| t["args"]["layer"] == "score"), "{} layer ticks", ticks.len());
        let (first, last) = span_range(&events, "frame");
        assert!((1.7..=2.3).contains(&(last - first)), "frames from {first:.2} s to {last:.2} s in a 2 s window");
    });
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains("trace")).collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // The window reopens.
    let (status, _, _, trace) = server.post_trace(r#"{"seconds": 1}"#, Some(TOKEN));
    assert_eq!(status, 200);
    assert!(span_starts(&parse_trace(&trace), "frame").count() >= 10);
}

#[test]
fn a_client_that_hangs_up_does_not_keep_the_trace_recording() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let address = server.base.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let mut client = TcpStream::connect(&address).unwrap();
    let body = r#"{"seconds": 60}"#;
    write!(client, "POST /api/v1/trace HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    client.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (status, _, _, _) = server.post_trace(r#"{"seconds": 1}"#, Some(TOKEN));
    assert_eq!(status, 409, "the first recording was not running");
    drop(client);

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, _, reply) = server.post_trace(r#"{"seconds": 1}"#, Some(TOKEN));
        if status == 200 {
            assert!(!parse_trace(&reply).is_empty());
            break;
        }
        assert!(Instant::now() < deadline, "the recording stayed open after its client left: {status} {}", String::from_utf8_lossy(&reply));
        std::thread::sleep(Duration::from_millis(200));
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains("trace")).collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}
