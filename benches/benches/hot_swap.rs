//! Hot-swap benchmark: how long a live module swap takes as a client sees it, and
//! whether the show misses frames while it happens, on the real `showrunner serve`
//! (see "Benchmarks, not timed tests" in DESIGN.md).
//!
//! Run: `cargo xtask build-scenes`, then `cargo bench -p showrunner-benches --bench hot_swap`
//! (about 30 s on 2 cores, lavapipe). Without `--bench` (e.g. under `cargo test
//! --all-targets`) it does a quick smoke run at 320×180 whose numbers mean nothing.
//!
//! It builds and starts `showrunner serve` (1920×1080, 30 fps) on a free loopback port
//! with a fresh data dir, uploads `scene-scoreboard` and `guest-scoreboard-v2` (same
//! props and state, drawn differently), puts the scoreboard on air at 3-1 and listens
//! to the show's stats on `/api/v1/ws`. Then, measured in the same run:
//! (1) baseline: 50 `GET /show` round trips (HTTP plus one trip through the frame
//! thread) and the frames the show was late on while idle for as long as the swaps take;
//! (2) 50 `POST /layers/score/swap`, alternating the two modules, 50 ms apart; each
//! answers once the first frame with the new module is composited.
//!
//! Printed: client-side request → reply latency p50/p95/max of both, the server's own
//! `swap_ms` and `instantiate_ms` p50/p95, the ratio swap ÷ baseline, and frames late
//! (`frames_late` from the stats) idle and during the swaps. Targets: swap p95 < 100 ms
//! and no more frames late during the swaps than idle. A missed target prints FAIL and
//! exits 0; a failed swap (not 200, or the score not carried) or a server that does not
//! start exits non-zero. Owns its server process and data dir; must not time anything
//! but requests a client would make.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use showrunner_benches::machine::{cpu_seconds, load_average, print_run_footer};
use showrunner_benches::{fmt_ratio, guest_dir, guest_file};

type Result<T> = std::result::Result<T, String>;

const TOKEN: &str = "hot-swap-bench-token";
/// Target: 95 % of swaps answer within this, client side.
const TARGET_P95_MS: f64 = 100.0;

#[derive(Clone, Copy)]
struct Plan {
    width: u32,
    height: u32,
    swaps: usize,
    gap: Duration,
    /// Idle time before measuring, for the show and the stats to settle.
    settle: Duration,
}

const FULL: Plan = Plan { width: 1920, height: 1080, swaps: 50, gap: Duration::from_millis(50), settle: Duration::from_secs(3) };
const QUICK: Plan = Plan { width: 320, height: 180, swaps: 4, gap: Duration::from_millis(50), settle: Duration::from_millis(1200) };

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

/// `showrunner serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(binary: &Path, dir: &Path, plan: Plan) -> Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| format!("no free port: {e}"))?.port();
        let config = dir.join("serve.toml");
        let text = format!("listen = \"127.0.0.1:{port}\"\n[output]\nwidth = {}\nheight = {}\nfps = 30\n", plan.width, plan.height);
        std::fs::write(&config, text).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let child = Command::new(binary)
            .args(["serve", "--config", &config.to_string_lossy(), "--data-dir", &dir.to_string_lossy()])
            .env("SHOWRUNNER_TOKEN", TOKEN)
            .env("SHOWRUNNER_CACHE_DIR", dir.join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
        let server = Server { child, port, agent };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.call("GET", "/ready", None).map(|(status, _)| status).ok() != Some(200) {
            if Instant::now() > deadline {
                return Err(format!("showrunner serve was not ready on port {port} within 60 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// One request; (status, JSON body or `Null`).
    fn call(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Result<(u16, Value)> {
        let request = ureq::http::Request::builder().method(method).uri(format!("http://127.0.0.1:{}/api/v1{path}", self.port)).header("Authorization", format!("Bearer {TOKEN}"));
        let sent = match body {
            Some((content_type, bytes)) => self.agent.run(request.header("Content-Type", content_type).body(bytes).map_err(|e| e.to_string())?),
            None => self.agent.run(request.body(()).map_err(|e| e.to_string())?),
        };
        let mut response = sent.map_err(|e| format!("{method} {path}: {e}"))?;
        let text = response.body_mut().read_to_string().map_err(|e| format!("{method} {path}: {e}"))?;
        Ok((response.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// `method path` with a JSON body; the reply's JSON, or an error unless `expected`.
    fn json(&self, method: &str, path: &str, body: Value, expected: u16) -> Result<Value> {
        let (status, reply) = self.call(method, path, Some(("application/json", body.to_string().into_bytes())))?;
        if status == expected { Ok(reply) } else { Err(format!("{method} {path} answered {status}: {reply}")) }
    }

    fn upload(&self, file: &Path) -> Result<String> {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e} (run `cargo xtask build-scenes`)", file.display()))?;
        let (status, reply) = self.call("POST", "/modules", Some(("application/wasm", bytes)))?;
        match (status, reply["hash"].as_str()) {
            (200 | 201, Some(hash)) => Ok(hash.to_string()),
            _ => Err(format!("uploading {} answered {status}: {reply}", file.display())),
        }
    }
}

/// The show's `stats` events from `/api/v1/ws`, read on a thread of its own.
struct StatsFeed {
    latest: Arc<Mutex<Option<(Instant, Value)>>>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StatsFeed {
    fn start(port: u16) -> Result<StatsFeed> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("WebSocket connect: {e}"))?;
        let url = format!("ws://127.0.0.1:{port}/api/v1/ws?token={TOKEN}");
        let (mut socket, _) = tungstenite::client(url.as_str(), stream).map_err(|e| format!("WebSocket handshake: {e}"))?;
        socket.get_ref().set_read_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
        let (latest, running) = (Arc::new(Mutex::new(None)), Arc::new(AtomicBool::new(true)));
        let (feed_latest, feed_running) = (latest.clone(), running.clone());
        let thread = std::thread::spawn(move || {
            while feed_running.load(Ordering::Relaxed) {
                match socket.read() {
                    Ok(tungstenite::Message::Text(text)) => {
                        let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                        if message["type"] == "event" && message["event"]["type"] == "stats"
                            && let Ok(mut slot) = feed_latest.lock()
                        {
                            *slot = Some((Instant::now(), message["event"].clone()));
                        }
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => break,
                }
            }
        });
        Ok(StatsFeed { latest, running, thread: Some(thread) })
    }

    /// The first stats received after `after`, waiting up to 5 s for them.
    fn after(&self, after: Instant) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(slot) = self.latest.lock()
                && let Some((at, stats)) = slot.as_ref()
                && *at > after
            {
                return Ok(stats.clone());
            }
            if Instant::now() > deadline {
                return Err("no stats on the WebSocket for 5 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for StatsFeed {
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

fn late(stats: &Value) -> u64 {
    stats["frames_late"].as_u64().unwrap_or(0)
}

fn row(label: &str, samples: &[f64]) {
    let max = samples.iter().copied().fold(f64::NAN, f64::max);
    println!("{label:<44} {:>8.2} {:>8.2} {:>8.2} {:>6}", percentile(samples, 0.5), percentile(samples, 0.95), max, samples.len());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(full: bool) -> Result<()> {
    let plan = if full { FULL } else { QUICK };
    let status = Command::new(env!("CARGO")).args(["build", "--release", "--quiet", "-p", "showrunner"]).status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("building showrunner failed".into());
    }
    let guests = guest_dir(&root());
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (started, cpu_at_start) = (Instant::now(), cpu_seconds());
    println!("hot_swap: showrunner serve at {}x{} 30 fps; {} swaps {} ms apart; load average at start: {}", plan.width, plan.height, plan.swaps, plan.gap.as_millis(), load_average());
    let server = Server::start(&target_dir().join("release/showrunner"), dir.path(), plan)?;
    let modules = [server.upload(&guest_file(&guests, "scene-scoreboard"))?, server.upload(&guest_file(&guests, "guest-scoreboard-v2"))?];
    server.json("POST", "/layers", json!({ "id": "score", "scene": "main", "module": modules[0] }), 201)?;
    for (name, payload) in [("play", ""), ("home-score", "+3"), ("away-score", "+1")] {
        server.json("POST", "/layers/score/events", json!({ "name": name, "payload": payload }), 202)?;
    }
    let stats = StatsFeed::start(server.port)?;
    std::thread::sleep(plan.settle);

    // (1) Baseline: GET /show round trips, and lateness while idle over as long as the swaps take.
    let idle_from = stats.after(Instant::now())?;
    let mut baseline = Vec::with_capacity(plan.swaps);
    for _ in 0..plan.swaps {
        let sent = Instant::now();
        let (status, _) = server.call("GET", "/show", None)?;
        baseline.push(ms(sent.elapsed()));
        if status != 200 {
            return Err(format!("GET /show answered {status}"));
        }
        std::thread::sleep(plan.gap);
    }
    let idle_to = stats.after(Instant::now())?;

    // (2) Swaps, alternating the modules.
    let swaps_from = stats.after(Instant::now())?;
    let (mut client, mut swap_ms, mut instantiate_ms) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..plan.swaps {
        let module = &modules[(i + 1) % 2];
        let sent = Instant::now();
        let reply = server.json("POST", "/layers/score/swap", json!({ "module": module }), 200)?;
        client.push(ms(sent.elapsed()));
        if reply["state_carried"] != true || reply["state_bytes"].as_u64().unwrap_or(0) == 0 {
            return Err(format!("swap {i} did not carry the score: {reply}"));
        }
        swap_ms.push(reply["swap_ms"].as_f64().unwrap_or(f64::NAN));
        instantiate_ms.push(reply["instantiate_ms"].as_f64().unwrap_or(f64::NAN));
        std::thread::sleep(plan.gap);
    }
    let swaps_to = stats.after(Instant::now())?;
    let (_, layer) = server.call("GET", "/layers/score", None)?;
    if layer["module"] != modules[plan.swaps % 2].as_str() {
        return Err(format!("after {} swaps the layer runs {}, not the last module swapped to", plan.swaps, layer["module"]));
    }

    println!();
    println!("{:<44} {:>8} {:>8} {:>8} {:>6}", "ms", "p50", "p95", "max", "n");
    row("(1) GET /show, client (baseline)", &baseline);
    row("(2) POST swap, client: request → reply", &client);
    row("(2) POST swap, server: swap_ms (to screen)", &swap_ms);
    row("(2) POST swap, server: instantiate_ms", &instantiate_ms);
    let (p50, p95) = (percentile(&client, 0.5), percentile(&client, 0.95));
    println!("swap ÷ baseline (p50): {}", fmt_ratio(p50 / percentile(&baseline, 0.5)));
    let (idle_late, swap_late) = (late(&idle_to).saturating_sub(late(&idle_from)), late(&swaps_to).saturating_sub(late(&swaps_from)));
    let (idle_frames, swap_frames) = (idle_to["frame"].as_u64().unwrap_or(0).saturating_sub(idle_from["frame"].as_u64().unwrap_or(0)), swaps_to["frame"].as_u64().unwrap_or(0).saturating_sub(swaps_from["frame"].as_u64().unwrap_or(0)));
    println!("frames late: idle {idle_late} of {idle_frames} slots; during the swaps {swap_late} of {swap_frames} slots");
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!("target swap p95 < {TARGET_P95_MS} ms: {} ({p95:.1} ms)", verdict(p95 < TARGET_P95_MS));
    println!("target no more frames late during the swaps than idle: {} ({swap_late} vs {idle_late})", verdict(swap_late <= idle_late));
    if !full {
        println!("(quick smoke run: the numbers mean nothing; run with `cargo bench -p showrunner-benches --bench hot_swap`)");
    }
    print_run_footer(started, cpu_at_start, std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(())
}

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    match run(full) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hot_swap: {e}");
            ExitCode::FAILURE
        }
    }
}
