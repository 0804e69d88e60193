//! The real dashboard page in headless Chromium on the same machine: started with a
//! DevTools port, driven over the DevTools protocol (CDP) on a WebSocket, logged in
//! with the bench's token, and ended with its whole process tree.
//!
//! Owns: the browser's processes (started here, ended here by pid) and its profile
//! dir. Must not: leave a Chromium process behind, or count the browser's CPU as the
//! show's (it is reported on its own).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use showrunner_benches::serve::http_agent;
use tungstenite::WebSocket;

use crate::Result;
use crate::server::{TOKEN, process_tree, tree_cpu};

/// How long Chromium may take to open its DevTools port, and a page to load.
const START_WAIT: Duration = Duration::from_secs(20);
/// How long one DevTools command may take.
const COMMAND_WAIT: Duration = Duration::from_secs(10);

/// Chromium: `$CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|n| dir.join(n))).find(|p| p.is_file())
}

/// A headless Chromium with the dashboard open and logged in.
pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium`, opens `http://127.0.0.1:{server_port}/dashboard/` and logs in.
    pub fn open(chromium: &Path, server_port: u16) -> Result<Browser> {
        let profile = tempfile::tempdir().map_err(|e| format!("Chromium profile dir: {e}"))?;
        let mut args = vec![
            "--headless=new".to_string(),
            "--remote-debugging-port=0".into(),
            format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1920,1080".into(),
            "--mute-audio".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
        ];
        // SAFETY: getuid has no preconditions and cannot fail.
        if unsafe { libc::getuid() } == 0 {
            args.push("--no-sandbox".into()); // Chromium refuses to run as root otherwise
        }
        args.push("about:blank".into());
        let child = Command::new(chromium).args(&args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
        let socket = match page_socket(profile.path()) {
            Ok(socket) => socket,
            Err(e) => {
                end_tree(child);
                return Err(e);
            }
        };
        let mut browser = Browser { child, socket, next_id: 0, _profile: profile };
        browser.command("Page.navigate", json!({ "url": format!("http://127.0.0.1:{server_port}/dashboard/") }))?;
        let deadline = Instant::now() + START_WAIT;
        while browser.evaluate("document.readyState === 'complete' && typeof login === 'function'")? != Value::Bool(true) {
            if Instant::now() > deadline {
                return Err("the dashboard page did not load in Chromium within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        browser.evaluate(&format!("login({})", Value::from(TOKEN)))?;
        Ok(browser)
    }

    /// The pictures the page has drawn on monitor `which` (`program` or `preview`).
    pub fn pictures_drawn(&mut self, which: &str) -> Result<u64> {
        let value = self.evaluate(&format!("Number(document.getElementById('{which}-monitor').dataset.pictures || 0)"))?;
        value.as_u64().or_else(|| value.as_f64().map(|v| v as u64)).ok_or_else(|| format!("the page's {which} picture count is not a number: {value}"))
    }

    /// CPU seconds of the browser and all its processes so far.
    pub fn cpu_seconds(&self) -> f64 {
        tree_cpu(self.child.id())
    }

    /// Evaluates `expression` in the page; its value.
    fn evaluate(&mut self, expression: &str) -> Result<Value> {
        let reply = self.command("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true, "awaitPromise": false }))?;
        if let Some(exception) = reply.get("exceptionDetails") {
            return Err(format!("the page threw on `{expression}`: {exception}"));
        }
        Ok(reply["result"]["value"].clone())
    }

    /// Sends one DevTools command and waits for its answer, skipping events.
    fn command(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(tungstenite::Message::Text(message.into())).map_err(|e| format!("DevTools {method}: {e}"))?;
        let deadline = Instant::now() + COMMAND_WAIT;
        while Instant::now() < deadline {
            let text = match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => text,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
                Err(e) => return Err(format!("DevTools {method}: {e}")),
            };
            let Ok(reply) = serde_json::from_str::<Value>(text.as_str()) else { continue };
            if reply["id"] == id {
                return match reply.get("error") {
                    Some(error) => Err(format!("DevTools {method} failed: {error}")),
                    None => Ok(reply["result"].clone()),
                };
            }
        }
        Err(format!("DevTools {method}: no answer within {} s", COMMAND_WAIT.as_secs()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        let pid = self.child.id();
        let tree = process_tree(pid);
        // SIGTERM lets Chromium end its own helpers; what is left after 5 s is killed.
        // SAFETY: kill has no memory preconditions; the pid is our own child's.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        kill_leftovers(&tree[1..]);
    }
}

/// SIGKILLs those of `pids` (helpers of a Chromium this module started) still alive.
fn kill_leftovers(pids: &[u32]) {
    for &pid in pids {
        if Path::new(&format!("/proc/{pid}")).exists() {
            // SAFETY: kill has no memory preconditions; the pid was in our browser's tree.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// Ends a browser whose DevTools socket never opened.
fn end_tree(mut child: Child) {
    let tree = process_tree(child.id());
    let _ = child.kill();
    let _ = child.wait();
    kill_leftovers(&tree[1..]);
}

/// The DevTools WebSocket of the browser's first page, once Chromium has written its
/// port to `DevToolsActivePort` in the profile dir.
fn page_socket(profile: &Path) -> Result<WebSocket<TcpStream>> {
    let deadline = Instant::now() + START_WAIT;
    let port = loop {
        let text = std::fs::read_to_string(profile.join("DevToolsActivePort")).unwrap_or_default();
        if let Some(port) = text.lines().next().and_then(|l| l.trim().parse::<u16>().ok()) {
            break port;
        }
        if Instant::now() > deadline {
            return Err("Chromium did not open its DevTools port within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let agent = http_agent();
    let pages: Value = loop {
        let listed = agent.get(format!("http://127.0.0.1:{port}/json/list")).call().map_err(|e| e.to_string()).and_then(|mut r| r.body_mut().read_to_string().map_err(|e| e.to_string()));
        if let Ok(text) = listed
            && let Ok(pages) = serde_json::from_str::<Value>(&text)
            && pages.as_array().is_some_and(|p| p.iter().any(|t| t["type"] == "page"))
        {
            break pages;
        }
        if Instant::now() > deadline {
            return Err(format!("Chromium listed no page on DevTools port {port} within 20 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let url = pages.as_array().and_then(|p| p.iter().find(|t| t["type"] == "page")).and_then(|t| t["webSocketDebuggerUrl"].as_str()).ok_or("Chromium's page has no DevTools WebSocket URL")?;
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("DevTools connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_millis(500))).map_err(|e| e.to_string())?;
    let (socket, _) = tungstenite::client(url, stream).map_err(|e| format!("DevTools handshake: {e}"))?;
    Ok(socket)
}
