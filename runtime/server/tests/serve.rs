//! `showrunner serve` end to end: the real binary on a free loopback port with its own
//! data dir; a module uploaded with the generated token survives `kill -9` and a
//! restart; requests without the token are refused; `showrunner config` prints the
//! effective settings and names a bad one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `showrunner serve`, killed (SIGKILL) when dropped, also when a test fails.
struct Server(Child);

impl Server {
    fn kill_9(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `showrunner serve` and waits until it answers /health.
fn serve(port: u16, data_dir: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", data_dir.to_str().unwrap()])
        .env("SHOWRUNNER_CACHE_DIR", data_dir.join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("showrunner serve starts");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", "/api/v1/health", None, None).is_err() {
        assert!(Instant::now() < deadline, "serve never answered /api/v1/health on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// One HTTP/1.1 request; returns (status, body).
fn request(port: u16, method: &str, path: &str, token: Option<&str>, wasm: Option<&[u8]>) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = wasm.unwrap_or_default();
    if wasm.is_some() {
        head.push_str("Content-Type: application/wasm\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

#[test]
fn an_uploaded_module_survives_kill_9_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = serve(port, dir.path());
    let token = std::fs::read_to_string(dir.path().join("token")).expect("serve generated a token in the data dir");
    let token = token.trim();
    let module = std::fs::read(common::guest("scene-lower-third")).unwrap();

    // Refused before the body is read, so the probe sends none.
    let (status, body) = request(port, "POST", "/api/v1/modules", None, Some(&[])).unwrap();
    assert_eq!(status, 401, "no token: {body}");
    let (status, body) = request(port, "POST", "/api/v1/modules", Some(token), Some(&module)).unwrap();
    assert_eq!(status, 201, "{body}");
    let uploaded: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hash = uploaded["hash"].as_str().unwrap().to_string();
    assert_eq!(uploaded["name"], "Lower third");

    server.kill_9();
    let server = serve(port, dir.path());
    let (status, body) = request(port, "GET", "/api/v1/modules", Some(token), None).unwrap();
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["modules"][0]["hash"], hash.as_str(), "the acknowledged upload is there after kill -9: {list}");
    let (status, _) = request(port, "GET", "/api/v1/openapi.json", None, None).unwrap();
    assert_eq!(status, 200);
    server.kill_9();
}

#[test]
fn config_prints_the_effective_settings_and_names_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("serve.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9999\"\ntoken = \"do-not-print-me\"\n[output]\nfps = 25\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["config", "--config", file.to_str().unwrap(), "--data-dir", dir.path().to_str().unwrap()])
        .env("SHOWRUNNER_OUTPUT_WIDTH", "1280")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("listen = \"127.0.0.1:9999\"") && stdout.contains("fps = 25") && stdout.contains("width = 1280"), "{stdout}");
    assert!(!stdout.contains("do-not-print-me"), "the token is masked: {stdout}");

    let bad = Command::new(env!("CARGO_BIN_EXE_showrunner")).args(["config"]).env("SHOWRUNNER_OUTPUT_FPS", "0").output().unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(stderr.contains("SHOWRUNNER_OUTPUT_FPS") && stderr.contains("1 to 120"), "{stderr}");
}
