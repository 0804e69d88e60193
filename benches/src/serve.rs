//! The real `showrunner serve` for the benches that drive it over loopback: building
//! the binary, starting a fresh server (free port, its own data dir and config, an API
//! token) and waiting until it is ready, its HTTP API ([`Api`]), its WebSockets read on
//! threads of their own ([`read_socket`], [`StatsFeed`]), and a bench's `main`
//! ([`bench_main`]).
//!
//! Owns: the processes it starts (killed when dropped), their data dirs, and the reader
//! threads (stopped and joined when dropped). Must not: time anything itself (each bench
//! times what a client sees), or put anything on air (what a show holds is the bench's).

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
pub use tungstenite::Message;

use crate::machine::print_run_footer;
use crate::{target_dir, workspace_root};

/// What failed, said for a person reading the bench's output.
pub type Result<T> = std::result::Result<T, String>;

/// How long a started server gets to answer `GET /ready` with 200.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long [`StatsFeed`] waits for a `stats` event (the show sends one a second).
const STATS_WITHIN: Duration = Duration::from_secs(5);
/// `stats` events a [`StatsFeed`] keeps: one a second, far more than a run lasts.
const MAX_STATS: usize = 4096;

/// Runs a bench's `run(full)`, `full` when cargo passed `--bench` (otherwise it is a
/// quick smoke run): exit 0, or the error after `name: ` and exit 1.
pub fn bench_main(name: &str, run: impl FnOnce(bool) -> Result<()>) -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    match run(full) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ends a bench's output: after a smoke run, that its numbers mean nothing; then how
/// long the run took and what else the machine did ([`print_run_footer`]).
pub fn print_run_end(bench: &str, full: bool, started: Instant, cpu_at_start: Option<(f64, f64)>) {
    if !full {
        println!("(quick smoke run: the numbers mean nothing; run with `cargo bench -p showrunner-benches --bench {bench}`)");
    }
    print_run_footer(started, cpu_at_start, std::thread::available_parallelism().map_or(1, |n| n.get()));
}

/// Builds `showrunner` in release (quietly) and answers the binary's path.
pub fn build_showrunner() -> Result<PathBuf> {
    let status = Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "showrunner"]).status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("building showrunner failed".into());
    }
    Ok(target_dir(&workspace_root()).join("release/showrunner"))
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| format!("no free port: {e}"))?.port())
}

/// A ureq agent that reports every status as a reply, not an error.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into()
}

/// A child process, killed and reaped when dropped.
pub struct KilledOnDrop(pub Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The HTTP API of the server on `port`, every request with the bearer token. Clones
/// share the agent's connections; [`Api::new`] makes one with connections of its own.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    port: u16,
    token: &'static str,
}

impl Api {
    pub fn new(port: u16, token: &'static str) -> Api {
        Api { agent: http_agent(), port, token }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `method` on `path` from the server's root (`/api/v1/…`, `/metrics`); (status, body text).
    fn send(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Result<(u16, String)> {
        let request = ureq::http::Request::builder().method(method).uri(format!("http://127.0.0.1:{}{path}", self.port)).header("Authorization", format!("Bearer {}", self.token));
        let sent = match body {
            Some((content_type, bytes)) => self.agent.run(request.header("Content-Type", content_type).body(bytes).map_err(|e| e.to_string())?),
            None => self.agent.run(request.body(()).map_err(|e| e.to_string())?),
        };
        let mut response = sent.map_err(|e| format!("{method} {path}: {e}"))?;
        let text = response.body_mut().read_to_string().map_err(|e| format!("{method} {path}: {e}"))?;
        Ok((response.status().as_u16(), text))
    }

    /// One request to `/api/v1{path}`; (status, JSON body or `Null`).
    pub fn call(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Result<(u16, Value)> {
        let (status, text) = self.send(method, &format!("/api/v1{path}"), body)?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// `method path` with a JSON body; the reply's JSON, or an error unless `expected`.
    pub fn json(&self, method: &str, path: &str, body: Value, expected: u16) -> Result<Value> {
        let (status, reply) = self.call(method, path, Some(("application/json", body.to_string().into_bytes())))?;
        if status == expected { Ok(reply) } else { Err(format!("{method} {path} on port {} answered {status}: {reply}", self.port)) }
    }

    /// `GET /api/v1{path}`; the status (the body is read, as a browser does, and dropped).
    pub fn status(&self, path: &str) -> Result<u16> {
        Ok(self.send("GET", &format!("/api/v1{path}"), None)?.0)
    }

    /// `GET path` from the server's root (e.g. `/metrics`); the body, whatever the status.
    pub fn text(&self, path: &str) -> Result<String> {
        Ok(self.send("GET", path, None)?.1)
    }

    /// Uploads the component in `file`; its hash.
    pub fn upload(&self, file: &Path) -> Result<String> {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e} (run `cargo xtask build-scenes`)", file.display()))?;
        let (status, reply) = self.call("POST", "/modules", Some(("application/wasm", bytes)))?;
        match (status, reply["hash"].as_str()) {
            (200 | 201, Some(hash)) => Ok(hash.to_string()),
            _ => Err(format!("uploading {} to port {} answered {status}: {reply}", file.display(), self.port)),
        }
    }
}

/// How a [`Server`] is configured.
pub struct ServeConfig {
    pub width: u32,
    pub height: u32,
    /// `SHOWRUNNER_TOKEN`: the token its API wants.
    pub token: &'static str,
    /// TOML lines put before `[output]` (e.g. `redis = "…"`), each ending in a newline.
    pub extra: String,
}

/// `showrunner serve` at 30 fps on a free loopback port with a fresh data dir (and its
/// cache in there), output to nowhere; killed when dropped, then its data dir removed.
pub struct Server {
    process: KilledOnDrop,
    pub api: Api,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts `binary serve` and waits until `GET /ready` answers 200.
    pub fn start(binary: &Path, config: &ServeConfig) -> Result<Server> {
        let (port, dir) = (free_port()?, tempfile::tempdir().map_err(|e| format!("no temp dir for the server's data: {e}"))?);
        let file = dir.path().join("serve.toml");
        let text = format!("listen = \"127.0.0.1:{port}\"\n{}[output]\nwidth = {}\nheight = {}\nfps = 30\n", config.extra, config.width, config.height);
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let child = Command::new(binary)
            .args(["serve", "--config", &file.to_string_lossy(), "--data-dir", &dir.path().to_string_lossy()])
            .env("SHOWRUNNER_TOKEN", config.token)
            .env("SHOWRUNNER_CACHE_DIR", dir.path().join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = Server { process: KilledOnDrop(child), api: Api::new(port, config.token), dir };
        let deadline = Instant::now() + READY_WITHIN;
        while server.api.status("/ready").ok() != Some(200) {
            if Instant::now() > deadline {
                return Err(format!("showrunner serve was not ready on port {port} within {} s", READY_WITHIN.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.api.port
    }

    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A thread that runs until dropped: its body watches the `running` flag it is given
/// and answers whether it ended cleanly. Dropping it clears the flag and joins it.
pub struct Worker {
    running: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(body: impl FnOnce(&AtomicBool) -> bool + Send + 'static) -> Worker {
        let (running, failed) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(false)));
        let (thread_running, thread_failed) = (running.clone(), failed.clone());
        let thread = std::thread::spawn(move || {
            if !body(&thread_running) {
                thread_failed.store(true, Ordering::Relaxed);
            }
        });
        Worker { running, failed, thread: Some(thread) }
    }

    /// Whether the body ended on a failure (a socket that broke).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads WebSocket `/api/v1{path}` (with the token) on a thread of its own until dropped
/// or `on_message` breaks, giving it each message with the moment it arrived. A blocked
/// read looks at the stop flag every `read_timeout`. The worker [`failed`](Worker::failed)
/// when the socket closed or broke while still wanted.
pub fn read_socket<F>(api: &Api, path: &str, read_timeout: Duration, mut on_message: F) -> Result<Worker>
where
    F: FnMut(Instant, Message) -> ControlFlow<()> + Send + 'static,
{
    let port = api.port;
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("WebSocket {path}: connect: {e}"))?;
    let url = format!("ws://127.0.0.1:{port}/api/v1{path}?token={}", api.token);
    let (mut socket, _) = tungstenite::client(url.as_str(), stream).map_err(|e| format!("WebSocket {path}: handshake: {e}"))?;
    socket.get_ref().set_read_timeout(Some(read_timeout)).map_err(|e| format!("WebSocket {path}: {e}"))?;
    Ok(Worker::spawn(move |running| {
        let mut clean = true;
        while running.load(Ordering::Relaxed) {
            match socket.read() {
                Ok(message) => {
                    if on_message(Instant::now(), message).is_break() {
                        break;
                    }
                }
                Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => {
                    clean = false;
                    break;
                }
            }
        }
        let _ = socket.close(None);
        let _ = socket.flush();
        clean
    }))
}

/// The event in a text message `{"type": "event", "event": {…}}` from `/api/v1/ws`.
pub fn event_of(message: &Message) -> Option<Value> {
    let Message::Text(text) = message else { return None };
    let mut message = serde_json::from_str::<Value>(text.as_str()).ok()?;
    if message["type"] == "event" { Some(message["event"].take()) } else { None }
}

type StatsLog = Arc<Mutex<VecDeque<(Instant, Value)>>>;

/// The show's `stats` events from `/api/v1/ws` with the moment each arrived (the last
/// [`MAX_STATS`]), read on a thread of its own; other events go to a callback.
pub struct StatsFeed {
    log: StatsLog,
    _reader: Worker,
}

impl StatsFeed {
    /// Starts reading; `on_other_event` gets every event that is not `stats` and may stop the reader.
    pub fn start<F>(api: &Api, read_timeout: Duration, mut on_other_event: F) -> Result<StatsFeed>
    where
        F: FnMut(Instant, &Value) -> ControlFlow<()> + Send + 'static,
    {
        let log = StatsLog::default();
        let thread_log = log.clone();
        let reader = read_socket(api, "/ws", read_timeout, move |arrived, message| {
            let Some(event) = event_of(&message) else { return ControlFlow::Continue(()) };
            if event["type"] != "stats" {
                return on_other_event(arrived, &event);
            }
            if let Ok(mut log) = thread_log.lock() {
                if log.len() == MAX_STATS {
                    log.pop_front();
                }
                log.push_back((arrived, event));
            }
            ControlFlow::Continue(())
        })?;
        Ok(StatsFeed { log, _reader: reader })
    }

    /// The first stats that satisfy `pick` on the log, waiting up to [`STATS_WITHIN`].
    fn wait_for(&self, pick: impl Fn(&VecDeque<(Instant, Value)>) -> Option<Value>) -> Result<Value> {
        let deadline = Instant::now() + STATS_WITHIN;
        loop {
            if let Some(stats) = self.log.lock().ok().and_then(|log| pick(&log)) {
                return Ok(stats);
            }
            if Instant::now() > deadline {
                return Err(format!("no stats on the WebSocket for {} s", STATS_WITHIN.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The first stats that arrived after `after`, waiting for them.
    pub fn after(&self, after: Instant) -> Result<Value> {
        self.wait_for(|log| log.iter().find(|(at, _)| *at > after).map(|(_, stats)| stats.clone()))
    }

    /// The latest stats, waiting for the first.
    pub fn latest(&self) -> Result<Value> {
        self.wait_for(|log| log.back().map(|(_, stats)| stats.clone()))
    }

    /// The stats that arrived between `from` and `to`, and the last one before `from`.
    pub fn between(&self, from: Instant, to: Instant) -> (Option<Value>, Vec<Value>) {
        let Ok(log) = self.log.lock() else { return (None, Vec::new()) };
        let before = log.iter().rev().find(|(at, _)| *at <= from).map(|(_, s)| s.clone());
        (before, log.iter().filter(|(at, _)| *at > from && *at <= to).map(|(_, s)| s.clone()).collect())
    }
}

/// (frames rendered, frames late) between two stats events.
pub fn frames_between(from: &Value, to: &Value) -> (u64, u64) {
    let field = |stats: &Value, name: &str| stats[name].as_u64().unwrap_or(0);
    (field(to, "frame").saturating_sub(field(from, "frame")), field(to, "frames_late").saturating_sub(field(from, "frames_late")))
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
