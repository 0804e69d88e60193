//! The real `showrunner serve` as a child process for end-to-end tests: a config file
//! at 320x180, 30 fps on a free loopback port, the token from `SHOWRUNNER_TOKEN`, its
//! own module cache, killed (SIGKILL) when dropped, also when a test fails; optionally
//! with extra config keys (a cluster member's `redis`, `node_id`) and its stderr kept.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ServeProcess {
    child: Child,
    pub port: u16,
    log: Option<PathBuf>,
}

impl ServeProcess {
    /// Starts serve with its data in `data_dir` and waits (up to 60 s) until
    /// `/api/v1/ready` answers 200.
    pub fn start(data_dir: &Path, token: &str) -> ServeProcess {
        Self::launch(data_dir, token, "", None)
    }

    /// Like [`ServeProcess::start`], with `extra_toml` (top-level keys such as
    /// `redis = "redis://..."`) written into the config file before its `[output]`
    /// table, and serve's stderr kept in `DATA_DIR/serve.log` (see [`ServeProcess::log`]).
    pub fn start_with(data_dir: &Path, token: &str, extra_toml: &str) -> ServeProcess {
        Self::launch(data_dir, token, extra_toml, Some(data_dir.join("serve.log")))
    }

    fn launch(data_dir: &Path, token: &str, extra_toml: &str, log: Option<PathBuf>) -> ServeProcess {
        let stderr = match &log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("serve.log created")),
            None => Stdio::null(),
        };
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
        let config = data_dir.join("serve.toml");
        std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\n{extra_toml}\n[output]\nwidth = 320\nheight = 180\nfps = 30\n")).expect("config written");
        let child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
            .args(["serve", "--config", &config.to_string_lossy(), "--data-dir", &data_dir.to_string_lossy()])
            .env("SHOWRUNNER_TOKEN", token)
            .env("SHOWRUNNER_CACHE_DIR", data_dir.join("cache"))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("showrunner serve starts");
        let mut server = ServeProcess { child, port, log };
        let ready = format!("{}/api/v1/ready", server.origin());
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(5))).build().into();
        let deadline = Instant::now() + Duration::from_secs(60);
        while agent.get(&ready).call().map(|r| r.status().as_u16()).ok() != Some(200) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("serve on {port} exited before it was ready ({status}); stderr:\n{}", server.log(8000));
            }
            assert!(Instant::now() < deadline, "serve was not ready on {port} within 60 s; stderr:\n{}", server.log(8000));
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The last `max_bytes` of what serve wrote to stderr (only with [`ServeProcess::start_with`]).
    pub fn log(&self, max_bytes: usize) -> String {
        let text = self.log.as_ref().and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
        let mut from = text.len().saturating_sub(max_bytes);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        text[from..].to_owned()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("serve killed");
        self.child.wait().expect("serve reaped");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
