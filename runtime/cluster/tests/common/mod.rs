//! Test harness: a throwaway `redis-server` on a free loopback port in a temp dir, killed on
//! drop, and helpers to connect nodes to it. It must not be used outside tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use showrunner_cluster::{Cluster, ClusterOptions};

/// A redis-server child process.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// Memory only: `--save "" --appendonly no`.
    pub fn start() -> Self {
        Self::launch(false)
    }

    /// With an append-only file fsynced on every write, so a `kill -9` loses nothing
    /// acknowledged.
    pub fn start_persistent() -> Self {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir for redis-server");
        let mut server = Self {
            child: None,
            port,
            dir,
            persistent,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log_path());
        if self.persistent {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server must be installed (cargo xtask setup installs it)");
        self.child = Some(child);
        self.wait_until_ready();
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        panic!(
            "redis-server on port {} did not answer within 10 s; log:\n{log}",
            self.port
        );
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// `kill -9` and wait for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory (the append-only file is reloaded).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// A plain client for setting up situations the crate's API does not create.
    pub fn raw_client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// Options with short intervals so tests see transitions quickly.
pub fn test_options() -> ClusterOptions {
    ClusterOptions {
        cluster_name: "test".to_owned(),
        health_interval: Duration::from_millis(50),
        command_timeout: Duration::from_millis(1000),
        connect_timeout: Duration::from_millis(500),
        feed_block: Duration::from_millis(200),
        ..ClusterOptions::default()
    }
}

pub async fn node(server: &RedisServer, node_id: &str) -> Cluster {
    node_with(server, node_id, test_options()).await
}

pub async fn node_with(server: &RedisServer, node_id: &str, options: ClusterOptions) -> Cluster {
    Cluster::connect(&server.url(), node_id, options)
        .await
        .expect("connect to the test redis-server")
}
