//! Cluster propagation benchmark: how long a prop change made through one
//! `showrunner serve` node takes to be applied on another node of the same cluster, and
//! how many updates per second the pair sustains while both render (see "Benchmarks,
//! not timed tests" in DESIGN.md).
//!
//! Run: `cargo xtask build-scenes`, then `cargo bench -p showrunner-benches --bench
//! cluster_propagation` (about 40 s on 2 cores, lavapipe). Without `--bench` (e.g. under
//! `cargo test --all-targets`) it does a quick smoke run at 320×180 whose numbers mean
//! nothing. Prints `SKIPPED:` and exits 0 where `redis-server` is not installed.
//!
//! It starts a throwaway `redis-server` on a free loopback port and two nodes A and B
//! (1920×1080, 30 fps, separate data dirs, cluster `show` on that Redis), uploads
//! `scene-lower-third` to A only, adds it on A and plays it on both (events are per node).
//! B's `/api/v1/ws` gives the moment B's frame thread applied each change
//! (`layer_changed` with `change: props`). Then: (1) sequential `PATCH
//! /layers/name/props` on A, 20 ms apart, each timed from the request on A to its
//! `layer_changed` on B; (2) clients sending updates to A back to back for 10 s: updates
//! per second, how long B takes to converge on A's final props after the last one, and
//! frames late on both nodes from their stats. Target: propagation p99 < 50 ms on
//! loopback; a missed target prints FAIL and exits 0, a node that does not start or a
//! failed request exits non-zero. Owns its processes and data dirs; it must not time
//! anything but what a client of the two nodes sees.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use showrunner_benches::machine::{cpu_seconds, load_average, print_run_footer};
use showrunner_benches::{guest_dir, guest_file};

type Result<T> = std::result::Result<T, String>;

const TOKEN: &str = "cluster-bench-token";
/// Target: 99 % of changes applied on B within this after the request on A.
const TARGET_P99_MS: f64 = 50.0;
/// `layer_changed` events kept for the measuring thread; more are dropped (and show as misses).
const EVENT_QUEUE: usize = 4096;

#[derive(Clone, Copy)]
struct Plan {
    width: u32,
    height: u32,
    updates: usize,
    gap: Duration,
    sustained: Duration,
    clients: usize,
    settle: Duration,
}

const FULL: Plan = Plan { width: 1920, height: 1080, updates: 300, gap: Duration::from_millis(20), sustained: Duration::from_secs(10), clients: 2, settle: Duration::from_secs(3) };
const QUICK: Plan = Plan { width: 320, height: 180, updates: 5, gap: Duration::from_millis(20), sustained: Duration::from_secs(1), clients: 1, settle: Duration::from_millis(500) };

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| format!("no free port: {e}"))?.port())
}

/// A child process killed when dropped, with the temp dir it works in.
struct Process {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A memory-only `redis-server`; `None` when it is not installed.
fn start_redis() -> Result<Option<Process>> {
    let (port, dir) = (free_port()?, tempfile::tempdir().map_err(|e| e.to_string())?);
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot start redis-server: {e}")),
    };
    let redis = Process { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("redis-server did not listen on {port} within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Some(redis))
}

/// One `showrunner serve` node of the cluster.
struct Node {
    process: Process,
    agent: ureq::Agent,
}

impl Node {
    fn start(binary: &Path, plan: Plan, redis_port: u16, name: &str) -> Result<Node> {
        let (port, dir) = (free_port()?, tempfile::tempdir().map_err(|e| e.to_string())?);
        let config = dir.path().join("serve.toml");
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\nredis = \"redis://127.0.0.1:{redis_port}/\"\nnode_id = \"{name}\"\ncluster_name = \"show\"\n[output]\nwidth = {}\nheight = {}\nfps = 30\n",
            plan.width, plan.height
        );
        std::fs::write(&config, text).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let child = Command::new(binary)
            .args(["serve", "--config", &config.to_string_lossy(), "--data-dir", &dir.path().to_string_lossy()])
            .env("SHOWRUNNER_TOKEN", TOKEN)
            .env("SHOWRUNNER_CACHE_DIR", dir.path().join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
        let node = Node { process: Process { child, port, dir }, agent };
        let deadline = Instant::now() + Duration::from_secs(60);
        while node.call("GET", "/ready", None).map(|(status, _)| status).ok() != Some(200) {
            if Instant::now() > deadline {
                return Err(format!("node {name} was not ready on port {port} within 60 s (data in {})", node.process.dir.path().display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(node)
    }

    fn call(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Result<(u16, Value)> {
        call(&self.agent, self.process.port, method, path, body)
    }

    fn json(&self, method: &str, path: &str, body: Value, expected: u16) -> Result<Value> {
        let (status, reply) = self.call(method, path, Some(("application/json", body.to_string().into_bytes())))?;
        if status == expected { Ok(reply) } else { Err(format!("{method} {path} on port {} answered {status}: {reply}", self.process.port)) }
    }
}

/// One request to the node on `port`; (status, JSON body or `Null`).
fn call(agent: &ureq::Agent, port: u16, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Result<(u16, Value)> {
    let request = ureq::http::Request::builder().method(method).uri(format!("http://127.0.0.1:{port}/api/v1{path}")).header("Authorization", format!("Bearer {TOKEN}"));
    let sent = match body {
        Some((content_type, bytes)) => agent.run(request.header("Content-Type", content_type).body(bytes).map_err(|e| e.to_string())?),
        None => agent.run(request.body(()).map_err(|e| e.to_string())?),
    };
    let mut response = sent.map_err(|e| format!("{method} {path}: {e}"))?;
    let text = response.body_mut().read_to_string().map_err(|e| format!("{method} {path}: {e}"))?;
    Ok((response.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// A node's `/api/v1/ws`, read on a thread of its own: the arrival time of each
/// `layer_changed` props event, and the latest stats.
struct Feed {
    changes: Receiver<Instant>,
    stats: Arc<Mutex<Option<Value>>>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Feed {
    fn start(port: u16) -> Result<Feed> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("WebSocket connect: {e}"))?;
        let url = format!("ws://127.0.0.1:{port}/api/v1/ws?token={TOKEN}");
        let (mut socket, _) = tungstenite::client(url.as_str(), stream).map_err(|e| format!("WebSocket handshake: {e}"))?;
        socket.get_ref().set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
        let (sender, changes): (SyncSender<Instant>, Receiver<Instant>) = sync_channel(EVENT_QUEUE);
        let (stats, running) = (Arc::new(Mutex::new(None)), Arc::new(AtomicBool::new(true)));
        let (feed_stats, feed_running) = (stats.clone(), running.clone());
        let thread = std::thread::spawn(move || {
            while feed_running.load(Ordering::Relaxed) {
                match socket.read() {
                    Ok(tungstenite::Message::Text(text)) => {
                        let arrived = Instant::now();
                        let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                        let event = &message["event"];
                        if event["type"] == "layer_changed" && event["layer"] == "name" && event["change"] == "props" {
                            if let Err(TrySendError::Disconnected(_)) = sender.try_send(arrived) {
                                break;
                            }
                        } else if event["type"] == "stats"
                            && let Ok(mut slot) = feed_stats.lock()
                        {
                            *slot = Some(event.clone());
                        }
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => break,
                }
            }
        });
        Ok(Feed { changes, stats, running, thread: Some(thread) })
    }

    /// Forgets the changes seen so far.
    fn drain(&self) -> usize {
        self.changes.try_iter().count()
    }

    /// The latest stats (frame counter and frames late), waiting up to 5 s for the first.
    fn stats(&self) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(stats) = self.stats.lock().ok().and_then(|slot| slot.clone()) {
                return Ok(stats);
            }
            if Instant::now() > deadline {
                return Err("no stats on the WebSocket for 5 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Nearest-rank percentile.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or(f64::NAN)
}

fn row(label: &str, samples: &[f64]) {
    let max = samples.iter().copied().fold(f64::NAN, f64::max);
    println!("{label:<48} {:>8.2} {:>8.2} {:>8.2} {:>6}", percentile(samples, 0.5), percentile(samples, 0.99), max, samples.len());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (frames rendered, frames late) between two stats readings.
fn frames_between(from: &Value, to: &Value) -> (u64, u64) {
    let field = |stats: &Value, name: &str| stats[name].as_u64().unwrap_or(0);
    (field(to, "frame").saturating_sub(field(from, "frame")), field(to, "frames_late").saturating_sub(field(from, "frames_late")))
}

/// Phase (2): `plan.clients` threads sending prop updates to A back to back; answers
/// each update's client latency in ms.
fn sustained_updates(a: &Node, plan: Plan) -> Result<Vec<f64>> {
    let until = Instant::now() + plan.sustained;
    let clients: Vec<JoinHandle<Result<Vec<f64>>>> = (0..plan.clients)
        .map(|client| {
            let (agent, port) = (a.agent.clone(), a.process.port);
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let body = json!({ "title": format!("client {client} update {}", latencies.len()) }).to_string().into_bytes();
                    let sent = Instant::now();
                    let (status, reply) = call(&agent, port, "PATCH", "/layers/name/props", Some(("application/json", body)))?;
                    if status != 200 {
                        return Err(format!("PATCH props on A answered {status}: {reply}"));
                    }
                    latencies.push(ms(sent.elapsed()));
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.join().map_err(|_| "an update client panicked".to_string())??);
    }
    Ok(all)
}

fn run(full: bool) -> Result<()> {
    let plan = if full { FULL } else { QUICK };
    let status = Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "showrunner"]).status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("building showrunner failed".into());
    }
    let Some(redis) = start_redis()? else {
        println!("SKIPPED: cluster_propagation: redis-server is not installed (cargo xtask setup installs it)");
        return Ok(());
    };
    let (started, cpu_at_start) = (Instant::now(), cpu_seconds());
    println!("cluster_propagation: two nodes at {}x{} 30 fps on one redis-server; load average at start: {}", plan.width, plan.height, load_average());
    let binary = target_dir().join("release/showrunner");
    let (a, b) = (Node::start(&binary, plan, redis.port, "a")?, Node::start(&binary, plan, redis.port, "b")?);
    let module_file = guest_file(&guest_dir(&root()), "scene-lower-third");
    let bytes = std::fs::read(&module_file).map_err(|e| format!("{}: {e} (run `cargo xtask build-scenes`)", module_file.display()))?;
    let (status, reply) = a.call("POST", "/modules", Some(("application/wasm", bytes)))?;
    let module = reply["hash"].as_str().filter(|_| status == 200 || status == 201).ok_or_else(|| format!("upload to A answered {status}: {reply}"))?.to_string();
    a.json("POST", "/layers", json!({ "id": "name", "scene": "main", "module": module, "props": { "name": "Ada Lovelace" } }), 201)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.call("GET", "/layers/name", None)?.0 != 200 {
        if Instant::now() > deadline {
            return Err("the layer added on A did not reach B within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for node in [&a, &b] {
        node.json("POST", "/layers/name/events", json!({ "name": "play" }), 202)?;
    }
    let (feed_a, feed_b) = (Feed::start(a.process.port)?, Feed::start(b.process.port)?);
    std::thread::sleep(plan.settle);
    feed_b.drain();

    // (1) Sequential updates on A, each timed to its application on B.
    let (mut on_a, mut propagation, mut missed) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..plan.updates {
        let sent = Instant::now();
        a.json("PATCH", "/layers/name/props", json!({ "title": format!("update {i}") }), 200)?;
        on_a.push(ms(sent.elapsed()));
        match feed_b.changes.recv_timeout(Duration::from_secs(2)) {
            Ok(applied) => propagation.push(ms(applied.saturating_duration_since(sent))),
            Err(_) => missed += 1,
        }
        std::thread::sleep(plan.gap);
        feed_b.drain();
    }

    // (2) Sustained updates; then how long B takes to show A's final props.
    let (a_from, b_from) = (feed_a.stats()?, feed_b.stats()?);
    let sustained_started = Instant::now();
    let latencies = sustained_updates(&a, plan)?;
    let sustained_took = sustained_started.elapsed();
    let final_title = a.call("GET", "/layers/name", None)?.1["props"]["title"].clone();
    let converge_from = Instant::now();
    while b.call("GET", "/layers/name", None)?.1["props"]["title"] != final_title {
        if converge_from.elapsed() > Duration::from_secs(30) {
            return Err(format!("B did not show A's final title {final_title} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let converged = converge_from.elapsed();
    std::thread::sleep(Duration::from_millis(1100));
    let (a_to, b_to) = (feed_a.stats()?, feed_b.stats()?);

    println!();
    println!("{:<48} {:>8} {:>8} {:>8} {:>6}", "ms", "p50", "p99", "max", "n");
    row("(1) PATCH props on A: request → 200", &on_a);
    row("(1) propagation: request on A → applied on B", &propagation);
    println!("(1) updates not seen applied on B within 2 s: {missed} of {}", plan.updates);
    row("(2) PATCH props on A, back to back: request → 200", &latencies);
    let rate = latencies.len() as f64 / sustained_took.as_secs_f64();
    println!("(2) sustained: {} updates in {:.1} s = {rate:.0}/s from {} client(s); B showed A's final props {:.1} ms after the last", latencies.len(), sustained_took.as_secs_f64(), plan.clients, ms(converged));
    let ((a_frames, a_late), (b_frames, b_late)) = (frames_between(&a_from, &a_to), frames_between(&b_from, &b_to));
    println!("(2) frames late while sustained: A {a_late} of {a_frames} slots, B {b_late} of {b_frames} slots");
    let p99 = percentile(&propagation, 0.99);
    let verdict = if p99 < TARGET_P99_MS && missed == 0 { "PASS" } else { "FAIL" };
    println!("target propagation p99 < {TARGET_P99_MS} ms with none missed: {verdict} ({p99:.1} ms, {missed} missed)");
    if !full {
        println!("(quick smoke run: the numbers mean nothing; run with `cargo bench -p showrunner-benches --bench cluster_propagation`)");
    }
    print_run_footer(started, cpu_at_start, std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(())
}

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    match run(full) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster_propagation: {e}");
            ExitCode::FAILURE
        }
    }
}
