//! `showrunner serve --trace-out FILE --trace-seconds N` through the real binary: the
//! file is a Chrome trace with the frame stages and a span per layer tick naming the
//! layer, it is closed after N seconds while the show keeps running, and a missing
//! folder is refused before the show starts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TOKEN: &str = "trace-test-token";
const TRACE_SECONDS: u64 = 4;

/// A running `showrunner serve` whose stderr lines arrive on `stderr`; killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    fn start(dir: &Path, trace: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.join("serve.toml");
        std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n[output]\nwidth = 320\nheight = 180\nfps = 30\n")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
            .args(["serve", "--config", config.to_str().unwrap(), "--data-dir", dir.to_str().unwrap()])
            .args(["--trace-out", trace.to_str().unwrap(), "--trace-seconds", &TRACE_SECONDS.to_string()])
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
        let server = Server { child, base: format!("http://127.0.0.1:{port}/api/v1"), agent, stderr };
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
            match self.stderr.recv_timeout(left) {
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

/// The events of a Chrome trace file: a JSON array, or an object with `traceEvents`.
fn trace_events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str::<Value>(&text).expect("the trace is valid JSON") {
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
    let scoreboard = common::guest("scene-scoreboard");
    // Compile the module into the cache first, so uploading it inside the window is quick.
    let warm = Command::new(env!("CARGO_BIN_EXE_showrunner")).args(["check", scoreboard.to_str().unwrap()]).env("SHOWRUNNER_CACHE_DIR", dir.path().join("cache")).output().unwrap();
    assert!(warm.status.success(), "check: {}", String::from_utf8_lossy(&warm.stderr));
    let trace = dir.path().join("frames.json");
    let started = Instant::now();
    let server = Server::start(dir.path(), &trace);

    let (status, uploaded) = server.call("POST", "/modules", Some(("application/wasm", std::fs::read(&scoreboard).unwrap()))).unwrap();
    assert!(status == 201 || status == 200, "upload: {uploaded}");
    let layer = json!({ "id": "score", "scene": "main", "module": uploaded["hash"] });
    let (status, reply) = server.call("POST", "/layers", Some(("application/json", layer.to_string().into_bytes()))).unwrap();
    assert_eq!(status, 201, "add layer: {reply}");
    assert!(started.elapsed() < Duration::from_secs(TRACE_SECONDS), "the layer was added after the trace window ({:?})", started.elapsed());

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
