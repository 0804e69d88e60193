//! A `showrunner serve` node of a test cluster: started on an empty data dir of its own as
//! node `name` of cluster `show` on a test Redis, with calls to its API that name the
//! node and show its log when something is not as expected.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::Value;

use super::redis::RedisServer;
use super::serve_process::ServeProcess;

/// The API token of every test cluster node.
pub const TOKEN: &str = "cluster-test-token";

pub struct Node {
    pub name: &'static str,
    pub process: ServeProcess,
    /// `http://127.0.0.1:PORT/api/v1`.
    pub base: String,
    pub agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// An answer: status, the `x-frame-index` header, the body, and the body as JSON (`Null` if not JSON).
pub struct Reply {
    pub status: u16,
    pub frame_index: Option<u64>,
    pub body: Vec<u8>,
    pub json: Value,
}

impl Reply {
    /// The error `code` of an error reply.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }
}

impl Node {
    /// Starts node `name` on an empty data dir of its own, a member of cluster `show` on `redis`.
    pub fn start(name: &'static str, redis: &RedisServer) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let extra = format!("redis = \"{}\"\nnode_id = \"{name}\"\ncluster_name = \"show\"\n", redis.url());
        let process = ServeProcess::start_with(dir.path(), TOKEN, &extra);
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
        Node { name, base: format!("{}/api/v1", process.origin()), process, agent, _dir: dir }
    }

    /// The node's data dir (its recordings are in `recordings/`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// `method path` with an optional JSON body and `If-Match` value.
    pub fn call(&self, method: &str, path: &str, json: Option<&Value>, if_match: Option<&str>) -> Reply {
        let mut request = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base)).header("Authorization", format!("Bearer {TOKEN}"));
        if let Some(version) = if_match {
            request = request.header("If-Match", version);
        }
        let sent = match json {
            Some(json) => self.agent.run(request.header("Content-Type", "application/json").body(json.to_string().into_bytes()).unwrap()),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = sent.unwrap_or_else(|e| panic!("node {}: {method} {path} got no answer: {e}\nlog:\n{}", self.name, self.process.log(4000)));
        let frame_index = response.headers().get("x-frame-index").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let body = response.body_mut().read_to_vec().unwrap();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Reply { status: response.status().as_u16(), frame_index, body, json }
    }

    /// `method path` with `json`, asserting `status`; answers the JSON reply.
    pub fn expect(&self, method: &str, path: &str, json: Option<Value>, status: u16) -> Value {
        let reply = self.call(method, path, json.as_ref(), None);
        assert_eq!(reply.status, status, "node {}: {method} {path}: {}\nlog:\n{}", self.name, reply.json, self.process.log(4000));
        reply.json
    }

    /// Uploads a built guest to this node only; answers its hash.
    pub fn upload(&self, guest_crate: &str) -> String {
        let bytes = std::fs::read(super::guest(guest_crate)).unwrap();
        let request = ureq::http::Request::builder().method("POST").uri(format!("{}/modules", self.base)).header("Authorization", format!("Bearer {TOKEN}")).header("Content-Type", "application/wasm");
        let mut response = self.agent.run(request.body(bytes).unwrap()).unwrap_or_else(|e| panic!("node {}: upload {guest_crate} got no answer: {e}", self.name));
        let json: Value = serde_json::from_slice(&response.body_mut().read_to_vec().unwrap()).unwrap_or(Value::Null);
        assert!(response.status().is_success(), "node {}: upload {guest_crate}: {json}", self.name);
        json["hash"].as_str().unwrap().to_string()
    }

    /// The layer as `GET /layers/{id}` shows it, or `None` while it does not exist here.
    pub fn layer(&self, id: &str) -> Option<Value> {
        let reply = self.call("GET", &format!("/layers/{id}"), None, None);
        (reply.status == 200).then_some(reply.json)
    }

    /// `GET /show` without the frame counter (which moves on its own).
    pub fn show(&self) -> Value {
        let mut show = self.expect("GET", "/show", None, 200);
        show.as_object_mut().unwrap().remove("frame");
        show
    }
}

/// Polls `probe` every 20 ms until it answers `Some`, for at most `limit`; answers the
/// value and how long it took.
pub fn within<T>(limit: Duration, what: &str, node: &Node, mut probe: impl FnMut() -> Option<T>) -> (T, Duration) {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return (value, start.elapsed());
        }
        assert!(start.elapsed() < limit, "node {}: {what} not within {limit:?}\nlog:\n{}", node.name, node.process.log(4000));
        std::thread::sleep(Duration::from_millis(20));
    }
}
