//! The show under test: `showrunner serve` on a free loopback port with a fresh data
//! dir, set up with three playing layers on program and a clock on preview, and the
//! CPU time of processes read from `/proc`.
//!
//! Owns: the server process (killed when dropped) and its HTTP calls. Must not: time
//! anything itself, or turn an output on (the encoder's cost is not the dashboard's).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use showrunner_benches::guest_file;

use crate::Result;

/// The API token the bench's server accepts.
pub const TOKEN: &str = "dashboard-cost-bench-token";

/// `showrunner serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A ureq agent that reports every status as a reply, not an error.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into()
}

impl Server {
    /// Starts `binary serve` at `width`×`height`, 30 fps, and waits until it is ready.
    pub fn start(binary: &Path, dir: &Path, width: u32, height: u32) -> Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| format!("no free port: {e}"))?.port();
        let config = dir.join("serve.toml");
        let text = format!("listen = \"127.0.0.1:{port}\"\n[output]\nwidth = {width}\nheight = {height}\nfps = 30\n");
        std::fs::write(&config, text).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let child = Command::new(binary)
            .args(["serve", "--config", &config.to_string_lossy(), "--data-dir", &dir.to_string_lossy()])
            .env("SHOWRUNNER_TOKEN", TOKEN)
            .env("SHOWRUNNER_CACHE_DIR", dir.join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = Server { child, port, agent: http_agent() };
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(&server.agent, port, "/ready").ok() != Some(200) {
            if Instant::now() > deadline {
                return Err(format!("showrunner serve was not ready on port {port} within 60 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One request with an optional body; (status, JSON body or `Null`).
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

    /// `method path` with a JSON body; an error unless the reply is `expected`.
    fn send(&self, method: &str, path: &str, body: Value, expected: u16) -> Result<Value> {
        let (status, reply) = self.call(method, path, Some(("application/json", body.to_string().into_bytes())))?;
        if status == expected { Ok(reply) } else { Err(format!("{method} {path} answered {status}: {reply}")) }
    }

    fn upload(&self, guests: &Path, crate_name: &str) -> Result<String> {
        let file = guest_file(guests, crate_name);
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e} (run `cargo xtask build-scenes`)", file.display()))?;
        let (status, reply) = self.call("POST", "/modules", Some(("application/wasm", bytes)))?;
        match (status, reply["hash"].as_str()) {
            (200 | 201, Some(hash)) => Ok(hash.to_string()),
            _ => Err(format!("uploading {} answered {status}: {reply}", file.display())),
        }
    }

    /// Program `main`: lower third, scoreboard and ticker, all played. Scene `next`: a
    /// running clock, put on preview.
    pub fn set_up_show(&self, guests: &Path) -> Result<()> {
        let program = [
            ("lower", "scene-lower-third", json!({ "name": "Ada Lovelace", "title": "Engine designer" })),
            ("score", "scene-scoreboard", json!({ "home-name": "LOVELACE", "away-name": "BABBAGE" })),
            ("ticker", "scene-ticker", json!({ "text": "Analytical Engine hits 1000 operations — Difference Engine No. 2 finished at last", "speed": 240 })),
        ];
        for (id, crate_name, props) in program {
            let module = self.upload(guests, crate_name)?;
            self.send("POST", "/layers", json!({ "id": id, "scene": "main", "module": module, "props": props }), 201)?;
            self.send("POST", &format!("/layers/{id}/events"), json!({ "name": "play", "payload": "" }), 202)?;
        }
        let clock = self.upload(guests, "scene-clock")?;
        self.send("POST", "/scenes", json!({ "name": "next" }), 201)?;
        self.send("POST", "/layers", json!({ "id": "next-clock", "scene": "next", "module": clock, "props": { "mode": "up", "start": 0, "label": "NEXT" } }), 201)?;
        let show = self.send("PUT", "/preview", json!({ "scene": "next" }), 200)?;
        if show["preview"] != "next" {
            return Err(format!("the preview scene did not become `next`: {show}"));
        }
        Ok(())
    }

    /// Seconds summed and frames counted so far per frame-loop stage `tick`,
    /// `compose_submit` and `frame` (`showrunner_frame_seconds` on `/metrics`).
    pub fn frame_stages(&self) -> Result<[(f64, f64); 3]> {
        let request = ureq::http::Request::builder().uri(format!("http://127.0.0.1:{}/metrics", self.port)).header("Authorization", format!("Bearer {TOKEN}")).body(()).map_err(|e| e.to_string())?;
        let text = self.agent.run(request).map_err(|e| format!("GET /metrics: {e}"))?.body_mut().read_to_string().map_err(|e| format!("GET /metrics: {e}"))?;
        let value = |series: &str, stage: &str| {
            let name = format!("showrunner_frame_seconds_{series}{{stage=\"{stage}\"}}");
            text.lines().find_map(|l| l.strip_prefix(name.as_str())?.trim().parse::<f64>().ok()).ok_or_else(|| format!("/metrics has no {name}"))
        };
        let stage = |stage: &str| Ok::<_, String>((value("sum", stage)?, value("count", stage)?));
        Ok([stage("tick")?, stage("compose_submit")?, stage("frame")?])
    }
}

/// `GET /api/v1{path}` with the token; the status.
pub fn get(agent: &ureq::Agent, port: u16, path: &str) -> Result<u16> {
    let request = ureq::http::Request::builder().uri(format!("http://127.0.0.1:{port}/api/v1{path}")).header("Authorization", format!("Bearer {TOKEN}")).body(()).map_err(|e| e.to_string())?;
    let mut response = agent.run(request).map_err(|e| format!("GET {path}: {e}"))?;
    // Read the body as a browser does; its size does not matter here.
    let _ = response.body_mut().read_to_vec();
    Ok(response.status().as_u16())
}

/// (parent pid, utime + stime in seconds, reaped children's cutime + cstime in seconds)
/// of process `pid`, from `/proc/PID/stat` at 100 ticks per second (Linux's USER_HZ).
fn proc_stat(pid: u32) -> Option<(u32, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the name come field 3 (state) onwards: ppid is field 4, utime..cstime 14..17.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    Some((fields.get(1)?.parse().ok()?, (field(14)? + field(15)?) / 100.0, (field(16)? + field(17)?) / 100.0))
}

/// CPU seconds process `pid` used (all its threads), or `None` when it is gone.
pub fn process_cpu(pid: u32) -> Option<f64> {
    proc_stat(pid).map(|(_, own, _)| own)
}

/// Process `pid` and all its descendants, found through the parent links in `/proc`.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|dir| dir.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).filter_map(|p| Some((p, proc_stat(p)?.0))).collect())
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut next = 0;
    while let Some(&parent) = tree.get(next) {
        tree.extend(all.iter().filter(|(_, ppid)| *ppid == parent).map(|(p, _)| *p));
        next += 1;
    }
    tree
}

/// CPU seconds of process `pid` and its descendants (reaped ones included).
pub fn tree_cpu(pid: u32) -> f64 {
    process_tree(pid).into_iter().filter_map(proc_stat).map(|(_, own, reaped)| own + reaped).sum()
}
