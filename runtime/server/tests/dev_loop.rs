//! `showrunner dev` end to end: a real `showrunner serve` on a free loopback port, a
//! Rust project made by `showrunner new`, built by `dev` with cargo. `--once` puts the
//! module on a new layer, swaps it after a source change and leaves it alone after a
//! syntax error; the watch mode swaps after an edit; a server that is not there ends
//! `dev` with exit 1 and its URL.
//!
//! Projects build with `CARGO_TARGET_DIR=<target>/scaffold`, shared with the tests of
//! `showrunner new`, so the SDK and its dependencies compile once. Tests that build
//! take turns (one lock) so a build never waits on another test's build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Held by every test that runs cargo.
static BUILDS: Mutex<()> = Mutex::new(());

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn scaffold_target() -> PathBuf {
    let dir = target_dir().join("scaffold");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when dropped, also when a test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `showrunner serve` with its own data dir, and its token.
struct Server {
    _process: Killed,
    port: u16,
    token: String,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", data.path().to_str().unwrap()])
            .env("SHOWRUNNER_CACHE_DIR", data.path().join("cache"))
            .env_remove("SHOWRUNNER_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("showrunner serve starts");
        let process = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while request(port, "/api/v1/health", None).is_err() {
            assert!(Instant::now() < deadline, "serve never answered /api/v1/health on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let token = std::fs::read_to_string(data.path().join("token")).expect("serve generated a token").trim().to_string();
        Server { _process: process, port, token, _data: data }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The module hash layer `id` runs, or `None` if the server has no such layer.
    fn layer_module(&self, id: &str) -> Option<String> {
        let (status, body) = request(self.port, &format!("/api/v1/layers/{id}"), Some(&self.token)).unwrap();
        match status {
            200 => {
                let layer: serde_json::Value = serde_json::from_str(&body).unwrap();
                Some(layer["module"].as_str().unwrap_or_else(|| panic!("layer without a module hash: {layer}")).to_string())
            }
            404 => None,
            other => panic!("GET /api/v1/layers/{id} answered {other}: {body}"),
        }
    }
}

/// One HTTP/1.1 GET; (status, body).
fn request(port: u16, path: &str, token: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

/// `showrunner new NAME` (Rust) in a fresh folder under the scaffold target dir.
fn new_rust_project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let parent = tempfile::tempdir_in(scaffold_target()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_showrunner")).args(["new", name, "--dir", parent.path().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let project = parent.path().join(name);
    (parent, project)
}

/// `showrunner dev ARGS` with the shared scaffold target dir and no token from the environment.
fn dev(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_showrunner"));
    cmd.arg("dev").args(args).env("CARGO_TARGET_DIR", scaffold_target()).env_remove("SHOWRUNNER_TOKEN");
    cmd
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// blake3 hex of the module cargo built for `crate_name`: the hash the server gives it.
fn built_hash(crate_name: &str) -> String {
    let module = std::fs::read(scaffold_target().join("wasm32-wasip2/release").join(format!("{crate_name}.wasm"))).unwrap();
    blake3::hash(&module).to_hex().to_string()
}

fn edit(file: &Path, from: &str, to: &str) {
    let source = std::fs::read_to_string(file).unwrap();
    assert!(source.contains(from), "{} has no {from:?}", file.display());
    std::fs::write(file, source.replace(from, to)).unwrap();
}

#[test]
fn once_adds_the_layer_swaps_after_a_change_and_keeps_it_after_a_syntax_error() {
    let _turn = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let (_parent, project) = new_rust_project("dev-once-card");
    let dir = project.to_str().unwrap();
    let lib = project.join("src/lib.rs");

    let out = dev(&[dir, "--once", "--server", &server.url(), "--token", &server.token]).output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let first = built_hash("dev_once_card");
    assert!(all.contains(&format!("uploaded {}", &first[..8])) && all.contains("layer dev-once-card"), "{all}");
    assert!(!all.contains(&server.token), "the token is never printed: {all}");
    assert_eq!(server.layer_module("dev-once-card").as_deref(), Some(first.as_str()), "the layer runs the built module");

    // A new colour; the token comes from the environment this time.
    edit(&lib, "0x2D_6C_DF", "0xE0_40_40");
    let out = dev(&[dir, "--once", "--server", &server.url()]).env("SHOWRUNNER_TOKEN", &server.token).output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let second = built_hash("dev_once_card");
    assert_ne!(first, second, "the colour change changed the module");
    assert!(all.contains("swapped layer dev-once-card in "), "{all}");
    assert_eq!(server.layer_module("dev-once-card").as_deref(), Some(second.as_str()), "the layer runs the new module");

    // A syntax error: the compiler's message, exit 1, the layer untouched.
    edit(&lib, "export_scene!(TitleCard);", "export_scene!(TitleCard);\nfn broken( {\n");
    let out = dev(&[dir, "--once", "--server", &server.url(), "--token", &server.token]).output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("error") && all.contains("src/lib.rs") && all.contains("unclosed delimiter"), "the compiler's error: {all}");
    assert!(all.contains("build failed; the live module is unchanged"), "{all}");
    assert_eq!(server.layer_module("dev-once-card").as_deref(), Some(second.as_str()), "the layer still runs the last good module");
}

/// Lines of a child's stdout, read on a thread.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line containing `needle` within `limit`; fails the test with the lines seen.
fn wait_for_line(lines: &Receiver<String>, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?} within {limit:?}; saw {seen:?}");
}

#[test]
fn watch_mode_swaps_the_layer_after_an_edit() {
    let _turn = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let (_parent, project) = new_rust_project("dev-watch-card");
    let mut child = dev(&[project.to_str().unwrap(), "--server", &server.url(), "--token", &server.token])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut child);
    let dev_process = Killed(child);

    // The first build may compile the SDK's dependencies into a cold target dir.
    let added = wait_for_line(&lines, "added layer dev-watch-card", Duration::from_secs(600));
    let first = built_hash("dev_watch_card");
    assert!(added.contains(&first[..8]), "{added}");
    assert_eq!(server.layer_module("dev-watch-card").as_deref(), Some(first.as_str()));

    edit(&project.join("src/lib.rs"), "const TEXT_SIZE: f32 = 64.0;", "const TEXT_SIZE: f32 = 72.0;");
    let swapped = wait_for_line(&lines, "swapped layer dev-watch-card", Duration::from_secs(60));
    let second = built_hash("dev_watch_card");
    assert_ne!(first, second);
    assert!(swapped.contains(&second[..8]), "{swapped}");
    assert_eq!(server.layer_module("dev-watch-card").as_deref(), Some(second.as_str()));
    drop(dev_process);
}

#[test]
fn a_server_that_is_not_there_ends_dev_with_exit_1_naming_its_url() {
    let (_parent, project) = new_rust_project("dev-nowhere-card");
    let url = format!("http://127.0.0.1:{}", free_port());
    for once in [true, false] {
        let mut args = vec![project.to_str().unwrap(), "--server", &url];
        if once {
            args.push("--once");
        }
        let started = Instant::now();
        let out = dev(&args).output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "--once {once}: {all}");
        assert!(all.contains(&format!("cannot reach the showrunner server at {url}")), "{all}");
        assert!(started.elapsed() < Duration::from_secs(20), "it gives up before building: took {:?}", started.elapsed());
    }
    assert!(!project.join("target").exists() && !scaffold_target().join("wasm32-wasip2/release/dev_nowhere_card.wasm").exists(), "nothing was built");
}

#[test]
fn a_folder_that_is_not_a_scene_project_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dev(&[dir.path().to_str().unwrap(), "--once"]).output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("is not a scene project") && all.contains("showrunner new"), "{all}");

    let out = dev(&[dir.path().to_str().unwrap(), "--server", "https://127.0.0.1:8080"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
