//! `showrunner dev SCENE_DIR`: the author's loop. Builds a scene project, uploads the
//! module to a running `showrunner serve`, puts it on a layer (adds the layer to the
//! program scene, or hot-swaps it when it exists), then watches the sources and does it
//! again after every change, one line per cycle.
//!
//! It owns the loop, the watcher and the HTTP client calls; building belongs to
//! [`build`] (`dev_build.rs`). It must not change the show beyond its one layer, print
//! the token, or stop watching because one build, upload or swap failed.

#[path = "dev_build.rs"]
mod build;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant};

use anyhow::Context;
use build::{BuildError, Built, Project};
use clap::Args;
use serde_json::{Value, json};

use super::EXIT_USAGE;

/// Quiet time after the last change before a rebuild starts.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// A stream of changes that never goes quiet still rebuilds this often.
const MAX_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the watch loop looks at the Ctrl-C flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// Changed paths waiting for the loop; when full, more changes add nothing (a rebuild is due anyway).
const CHANGE_QUEUE: usize = 256;
/// Longest the server may take to answer one request (an upload is validated and compiled).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Args, Debug)]
pub struct DevArgs {
    /// The scene project, as `showrunner new` makes it (a Rust crate or an AssemblyScript package).
    #[arg(value_name = "SCENE_DIR")]
    pub scene_dir: PathBuf,
    /// The `showrunner serve` to upload to (http only).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The server's API token, sent as `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN", env = "SHOWRUNNER_TOKEN", hide_env_values = true)]
    pub token: Option<Token>,
    /// The layer that runs the module [default: the project's name].
    #[arg(long, value_name = "ID")]
    pub layer: Option<String>,
    /// The scene a new layer goes into [default: the show's program scene].
    #[arg(long, value_name = "NAME")]
    pub scene: Option<String>,
    /// Build, upload and swap once, then exit: 0 if the module is live, 1 if not.
    #[arg(long)]
    pub once: bool,
}

/// An API token; its `Debug` form does not show it.
#[derive(Clone)]
pub struct Token(String);

impl std::str::FromStr for Token {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Token(s.to_string()))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Why a request to the server did not do what was asked.
#[derive(Debug, thiserror::Error)]
enum ServerError {
    #[error("cannot reach the showrunner server at {url}: {reason}; is `showrunner serve` running there? (pass --server URL)")]
    Unreachable { url: String, reason: String },
    #[error("the server at {url} refused the token: {message}; pass --token TOKEN or set SHOWRUNNER_TOKEN")]
    Unauthorized { url: String, message: String },
    /// Any other error answer; `message` is the server's own.
    #[error("{message} ({status} {code})")]
    Refused { status: u16, code: String, message: String },
}

impl ServerError {
    /// Whether watching on can help: not for a refused token.
    fn is_fatal(&self) -> bool {
        matches!(self, ServerError::Unauthorized { .. })
    }
}

/// The HTTP API of one `showrunner serve`.
struct Server {
    agent: ureq::Agent,
    /// `http://host:port`, no trailing slash.
    base: String,
    authorization: Option<String>,
}

impl Server {
    fn new(base: &str, token: Option<&Token>) -> Server {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        Server { agent: config.into(), base: base.to_string(), authorization: token.map(|t| format!("Bearer {}", t.0)) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Sends one request, a GET without a body, a POST with one; a 2xx answer's JSON
    /// body with its status, or why not.
    fn call(&self, path: &str, body: Option<(&str, Vec<u8>)>) -> Result<(u16, Value), ServerError> {
        let url = self.url(path);
        let method = if body.is_some() { "POST" } else { "GET" };
        let sent = match body {
            None => self.with_auth(self.agent.get(&url)).call(),
            Some((content_type, bytes)) => self.with_auth(self.agent.post(&url)).header("Content-Type", content_type).send(bytes),
        };
        let mut response = sent.map_err(|e| ServerError::Unreachable { url: self.base.clone(), reason: transport_reason(&e) })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok((status, value));
        }
        let message = value["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("{method} {url} answered {status}: {}", text.chars().take(200).collect::<String>()));
        if status == 401 {
            return Err(ServerError::Unauthorized { url: self.base.clone(), message });
        }
        Err(ServerError::Refused { status, code: value["code"].as_str().unwrap_or("unknown").to_string(), message })
    }

    fn with_auth<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.authorization {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }

    /// The module hash the layer runs (empty if the server does not say), or `None`
    /// when there is no such layer.
    fn layer_module(&self, layer: &str) -> Result<Option<String>, ServerError> {
        match self.call(&format!("/layers/{}", path_segment(layer)), None) {
            Ok((_, layer)) => Ok(Some(layer["module"].as_str().unwrap_or_default().to_string())),
            Err(ServerError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn program_scene(&self) -> Result<String, ServerError> {
        let (status, show) = self.call("/show", None)?;
        show["program"].as_str().map(str::to_string).ok_or_else(|| ServerError::Refused {
            status,
            code: "unexpected_answer".into(),
            message: "GET /api/v1/show named no program scene; pass --scene NAME".into(),
        })
    }

    /// Uploads a module; its content hash.
    fn upload(&self, bytes: Vec<u8>) -> Result<String, ServerError> {
        let (status, module) = self.call("/modules", Some(("application/wasm", bytes)))?;
        module["hash"].as_str().map(str::to_string).ok_or_else(|| ServerError::Refused {
            status,
            code: "unexpected_answer".into(),
            message: "the upload was accepted but the answer has no module hash".into(),
        })
    }

    fn add_layer(&self, layer: &str, scene: &str, module: &str) -> Result<(), ServerError> {
        let body = json!({ "id": layer, "scene": scene, "module": module });
        self.call("/layers", Some(("application/json", body.to_string().into_bytes()))).map(|_| ())
    }

    /// Hot-swaps the layer to `module`; the server's swap report.
    fn swap(&self, layer: &str, module: &str) -> Result<Value, ServerError> {
        let body = json!({ "module": module });
        self.call(&format!("/layers/{}/swap", path_segment(layer)), Some(("application/json", body.to_string().into_bytes()))).map(|(_, report)| report)
    }
}

/// What one build-upload-place cycle came to.
enum Cycle {
    /// The module is live on the layer.
    Live,
    /// Something failed; the layer runs what it ran before.
    Failed,
    /// The token was refused or Ctrl-C arrived: stop.
    Stop,
}

struct Session {
    project: Project,
    server: Server,
    layer: String,
    scene: Option<String>,
    stop: Arc<AtomicBool>,
}

pub fn run(args: &DevArgs) -> anyhow::Result<ExitCode> {
    let Some(base) = server_base(&args.server) else {
        eprintln!("error: --server {}: give an http:// URL such as http://127.0.0.1:8080", args.server);
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let project = Project::open(&args.scene_dir)?;
    let layer = args.layer.clone().unwrap_or_else(|| project.name.clone());
    let server = Server::new(&base, args.token.as_ref());
    // Reachable, token accepted: checked before a build that may take minutes.
    if let Err(e) = server.layer_module(&layer) {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(1));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut session = Session { project, server, layer, scene: args.scene.clone(), stop: stop.clone() };
    if args.once {
        return Ok(match session.cycle() {
            Cycle::Live => ExitCode::SUCCESS,
            Cycle::Failed | Cycle::Stop => ExitCode::from(1),
        });
    }

    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot catch Ctrl-C")?;
    let (changes, _watcher) = watch(&session.project)?;
    eprintln!(
        "dev: {} ({} scene) → layer {} on {}; watching {} for changes. Ctrl-C stops.",
        session.project.name,
        session.project.kind,
        session.layer,
        base,
        session.project.dir.display()
    );
    let mut outcome = session.cycle();
    while !matches!(outcome, Cycle::Stop) {
        let Some(changed) = next_change(&changes, &stop) else { break };
        tracing::debug!(path = %changed.display(), "source changed");
        outcome = session.cycle();
    }
    // Stopped by Ctrl-C, or by a refused token (already reported).
    Ok(if stop.load(Ordering::Relaxed) || !matches!(outcome, Cycle::Stop) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

impl Session {
    /// Build, upload, put on the layer; prints one line saying how it went.
    fn cycle(&mut self) -> Cycle {
        let built = match self.project.build() {
            Ok(built) => built,
            Err(e) => {
                if self.stop.load(Ordering::Relaxed) {
                    return Cycle::Stop;
                }
                report_build_error(&e);
                return Cycle::Failed;
            }
        };
        let Built { path, bytes, took } = built;
        let size = bytes.len();
        let hash = match self.server.upload(bytes) {
            Ok(hash) => hash,
            Err(e) => return self.failed(&format!("built {}; upload failed", path.display()), e),
        };
        let done = format!("built in {:.1}s, uploaded {} ({})", took.as_secs_f64(), short(&hash), kib(size));
        let placed = match self.server.layer_module(&self.layer) {
            Ok(Some(running)) if running == hash => Ok(format!("layer {} already runs it", self.layer)),
            Ok(Some(_)) => match self.server.swap(&self.layer, &hash) {
                Ok(report) => Ok(swapped(&self.layer, &report)),
                Err(ServerError::Refused { status: 404, .. }) => self.add(&hash),
                Err(e) => Err(e),
            },
            Ok(None) => self.add(&hash),
            Err(e) => Err(e),
        };
        match placed {
            Ok(placed) => {
                out!("{done}, {placed}");
                Cycle::Live
            }
            Err(e) => self.failed(&format!("{done}; putting it on layer {} failed", self.layer), e),
        }
    }

    /// Adds the layer to the scene; says so.
    fn add(&self, hash: &str) -> Result<String, ServerError> {
        let scene = match &self.scene {
            Some(scene) => scene.clone(),
            None => self.server.program_scene()?,
        };
        self.server.add_layer(&self.layer, &scene, hash)?;
        Ok(format!("added layer {} to scene {scene}", self.layer))
    }

    fn failed(&self, what: &str, e: ServerError) -> Cycle {
        eprintln!("{what}: {e}");
        if e.is_fatal() {
            return Cycle::Stop;
        }
        eprintln!("the live module is unchanged");
        Cycle::Failed
    }
}

fn report_build_error(e: &BuildError) {
    if let BuildError::Failed { output, .. } = e {
        eprint!("{output}");
        if !output.ends_with('\n') && !output.is_empty() {
            eprintln!();
        }
    }
    eprintln!("{e}");
    eprintln!("build failed; the live module is unchanged");
}

/// `swapped layer score in 14 ms (state carried)`.
fn swapped(layer: &str, report: &Value) -> String {
    let ms = report["swap_ms"].as_f64().unwrap_or(f64::NAN);
    let ms = if ms < 10.0 { format!("{ms:.1}") } else { format!("{ms:.0}") };
    let state = if report["state_carried"].as_bool() == Some(true) { "state carried" } else { "state not carried" };
    format!("swapped layer {layer} in {ms} ms ({state})")
}

/// Starts watching the project's sources. Changed source paths arrive on the receiver;
/// the watcher stops when the returned handle is dropped.
fn watch(project: &Project) -> anyhow::Result<(Receiver<PathBuf>, notify::RecommendedWatcher)> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let (tx, rx) = sync_channel(CHANGE_QUEUE);
    let dir = project.dir.clone();
    let filter = project.source_filter();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) if !matches!(event.kind, EventKind::Access(_)) => {
            for path in event.paths.into_iter().filter(|p| filter.is_source(p)) {
                // Full: a rebuild is already due, this change is part of it.
                let _ = tx.try_send(path);
            }
        }
        Ok(_) => {}
        Err(e) => eprintln!("warning: watching {} failed: {e}", dir.display()),
    })
    .context("cannot start watching files")?;
    for (root, recursive) in project.watch_roots() {
        let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        watcher.watch(&root, mode).with_context(|| format!("cannot watch {}", root.display()))?;
    }
    Ok((rx, watcher))
}

/// Waits for a change, then until no more arrive for [`DEBOUNCE`]; the last changed
/// path, or `None` on Ctrl-C.
fn next_change(changes: &Receiver<PathBuf>, stop: &AtomicBool) -> Option<PathBuf> {
    let mut last = loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match changes.recv_timeout(STOP_POLL) {
            Ok(path) => break path,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    };
    let first = Instant::now();
    while first.elapsed() < MAX_DEBOUNCE {
        match changes.recv_timeout(DEBOUNCE) {
            Ok(path) => last = path,
            Err(_) => break,
        }
    }
    (!stop.load(Ordering::Relaxed)).then_some(last)
}

/// `http://host:port` from the --server value, or `None` if it is not an http URL.
fn server_base(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix("/api/v1").unwrap_or(rest);
    (!rest.is_empty() && !rest.contains(['/', '?', '#', ' '])).then(|| format!("http://{rest}"))
}

/// `s` percent-encoded for use as one URL path segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn transport_reason(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(t) => format!("no answer in time ({t})"),
        ureq::Error::HostNotFound => "host not found".into(),
        other => other.to_string(),
    }
}

/// The first 8 characters of a hash.
fn short(hash: &str) -> &str {
    hash.get(..8).unwrap_or(hash)
}

/// `12 KiB`, `3.4 KiB`.
fn kib(bytes: usize) -> String {
    let k = bytes as f64 / 1024.0;
    if k < 10.0 { format!("{k:.1} KiB") } else { format!("{k:.0} KiB") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalised_and_non_http_ones_refused() {
        assert_eq!(server_base("http://127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(server_base("http://127.0.0.1:8080/").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(server_base("http://box:9000/api/v1/").as_deref(), Some("http://box:9000"));
        for bad in ["https://127.0.0.1:8080", "127.0.0.1:8080", "http://", "http://a/b"] {
            assert_eq!(server_base(bad), None, "{bad}");
        }
    }

    #[test]
    fn layer_ids_are_percent_encoded_in_paths() {
        assert_eq!(path_segment("lower-third_2"), "lower-third_2");
        assert_eq!(path_segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn a_cycle_line_says_size_hash_time_and_state() {
        assert_eq!(kib(12 * 1024 + 100), "12 KiB");
        assert_eq!(kib(3482), "3.4 KiB");
        assert_eq!(short("abcd1234ffff"), "abcd1234");
        let report = json!({ "swap_ms": 14.2, "state_carried": true });
        assert_eq!(swapped("score", &report), "swapped layer score in 14 ms (state carried)");
        let report = json!({ "swap_ms": 2.24, "state_carried": false });
        assert_eq!(swapped("score", &report), "swapped layer score in 2.2 ms (state not carried)");
    }

    #[test]
    fn the_token_is_not_in_debug_output() {
        let args = DevArgs { scene_dir: ".".into(), server: String::new(), token: Some(Token("s3cret".into())), layer: None, scene: None, once: true };
        assert!(!format!("{args:?}").contains("s3cret"));
    }
}
