//! A throwaway `redis-server` for cluster tests: memory only ([`RedisServer::start`]) or
//! durable with an fsynced append-only file ([`RedisServer::start_persistent`]), on a free
//! loopback port, its files in a temp dir, restartable on the same port and dir after a
//! SIGKILL, killed (SIGKILL) when dropped, also when a test fails.
//! It must not be used outside tests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` child process.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// Whether `redis-server` can be run here (`cargo xtask setup` installs it).
    pub fn installed() -> bool {
        Command::new("redis-server").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    }

    /// Starts one and waits (up to 10 s) until it answers `PING`; `None` (after printing
    /// `SKIPPED: ...` for `test`) when `redis-server` is not installed.
    pub fn start_or_skip(test: &str) -> Option<RedisServer> {
        if !Self::installed() {
            println!("SKIPPED: {test}: redis-server is not installed (cargo xtask setup installs it)");
            return None;
        }
        Some(Self::start())
    }

    /// Starts one and waits (up to 10 s) until it answers `PING`.
    pub fn start() -> RedisServer {
        Self::launch(false)
    }

    /// Like [`RedisServer::start`], durable: `--appendonly yes --appendfsync always` in
    /// its temp dir, so every acknowledged write survives a SIGKILL and a [`RedisServer::restart`].
    pub fn start_persistent() -> RedisServer {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
        let dir = tempfile::tempdir().expect("temp dir for redis-server");
        let mut server = RedisServer { child: None, port, dir, persistent };
        server.spawn_and_wait();
        server
    }

    /// Runs redis-server on `self.port` and `self.dir` and waits (up to 10 s) for `PING`.
    fn spawn_and_wait(&mut self) {
        let port = self.port.to_string();
        let durability: &[&str] = if self.persistent { &["--appendonly", "yes", "--appendfsync", "always"] } else { &["--appendonly", "no"] };
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(durability)
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(Instant::now() < deadline, "redis-server on {port} did not answer within 10 s; log:\n{}", std::fs::read_to_string(self.log_path()).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts redis-server again on the same port and dir (after [`RedisServer::kill`]) and
    /// waits (up to 10 s) until it answers `PING`: a persistent one comes back with every
    /// acknowledged write, a memory-only one comes back empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn_and_wait();
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Whether it answers `PING` with `+PONG` within half a second.
    pub fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
