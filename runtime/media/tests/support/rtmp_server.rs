//! A throwaway nginx with the RTMP module on a free loopback port, for live-output tests,
//! and ffprobe helpers that read back what it received. It owns the nginx process, its
//! config, logs and recordings (all in one temp dir); it must never leave an nginx running
//! or touch anything outside that dir.
//!
//! Use from a test file of this crate with `#[path = "support/rtmp_server.rs"] mod rtmp_server;`
//! or from another crate's tests with `#[path = "../../media/tests/support/rtmp_server.rs"]`.
//! Depends on std plus the dev-dependencies `tempfile` and `serde_json` (an including crate
//! needs both). Needs `nginx` and `libnginx-mod-rtmp` (`cargo xtask setup` installs them);
//! without them [`RtmpServer::start`] prints a SKIPPED reason and returns `None`.
//!
//! nginx runs in the foreground as one process (`master_process off`), as the current
//! user, so it needs no `user` directive even as root and [`RtmpServer::kill`] is one
//! SIGKILL. The config (see [`RtmpServer::config`]) records every stream published to
//! application `live` as `rec/KEY-UNIXSECONDS.flv` (`record all; record_unique on`): one
//! file per publish session. nginx writes each FLV tag straight to the file with no
//! user-space buffer, so a recording is readable while it grows, and after a SIGKILL it
//! holds every tag nginx had received (ffprobe skips a last tag cut short). Closing a
//! session cleanly only rewrites the header's audio/video flags byte. Two sessions of one
//! key that start within the same wall-clock second get the same name, and the later one
//! truncates the earlier.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Where distributions put the nginx RTMP module.
const MODULE_PATHS: &[&str] = &[
    "/usr/lib/nginx/modules/ngx_rtmp_module.so",
    "/usr/lib64/nginx/modules/ngx_rtmp_module.so",
    "/usr/local/nginx/modules/ngx_rtmp_module.so",
];
/// Searched for `nginx` after `PATH` (a non-root `PATH` often lacks the sbin dirs).
const SBIN_DIRS: &[&str] = &["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin", "/sbin"];
/// How long nginx gets to accept TCP after it is spawned.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `restart` keeps trying to bind the old port.
const REBIND_TIMEOUT: Duration = Duration::from_secs(8);
/// ffprobe is killed after this long.
const FFPROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// `-rw_timeout` for ffprobe, in microseconds: a URL that stops sending fails after this.
const FFPROBE_RW_TIMEOUT_US: &str = "10000000";

/// A running nginx-rtmp on `127.0.0.1:port`, killed when dropped.
pub struct RtmpServer {
    dir: tempfile::TempDir,
    nginx: PathBuf,
    module: PathBuf,
    port: u16,
    child: Option<Child>,
}

enum LaunchError {
    PortInUse,
    Failed(String),
}

impl RtmpServer {
    /// Starts nginx on a free loopback port and waits until the port accepts TCP.
    /// `None` (with a printed SKIPPED reason) when nginx or its RTMP module is missing.
    /// Panics with nginx's logs when it does not come up within 10 s.
    pub fn start() -> Option<RtmpServer> {
        let Some(nginx) = find_nginx() else {
            eprintln!("SKIPPED: nginx is not installed (`cargo xtask setup` installs nginx-light)");
            return None;
        };
        let Some(module) = MODULE_PATHS.iter().map(PathBuf::from).find(|p| p.is_file()) else {
            eprintln!("SKIPPED: nginx's RTMP module is not installed (`cargo xtask setup` installs libnginx-mod-rtmp)");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("rtmp-server-").tempdir().expect("create nginx temp dir");
        fs::create_dir(dir.path().join("logs")).expect("create nginx logs dir");
        fs::create_dir(dir.path().join("rec")).expect("create nginx recordings dir");
        let mut server = RtmpServer { dir, nginx, module, port: 0, child: None };
        // Another process may take the port between our probe bind and nginx's bind.
        for _ in 0..5 {
            server.port = free_loopback_port();
            match server.launch() {
                Ok(child) => {
                    server.child = Some(child);
                    return Some(server);
                }
                Err(LaunchError::PortInUse) => continue,
                Err(LaunchError::Failed(why)) => panic!("{why}"),
            }
        }
        panic!("nginx found every chosen port in use:\n{}", server.logs());
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtmp://127.0.0.1:PORT/live/KEY`
    pub fn url(&self, key: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{key}", self.port)
    }

    /// The nginx process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILLs nginx and reaps it: the port refuses connections when this returns, and
    /// publishers see their connection drop. Does nothing when nginx is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills nginx if it runs and starts it again on the same port, retrying the bind for
    /// up to 8 s. Recordings from earlier sessions stay. Panics if it cannot come back.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + REBIND_TIMEOUT;
        loop {
            match self.launch() {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(LaunchError::PortInUse) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
                Err(LaunchError::PortInUse) => panic!("port {} stayed in use:\n{}", self.port, self.logs()),
                Err(LaunchError::Failed(why)) => panic!("{why}"),
            }
        }
    }

    /// The FLV files nginx recorded for `key`, oldest session first.
    pub fn recording(&self, key: &str) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.dir.path().join("rec")) else { return Vec::new() };
        let mut found: Vec<(u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let stamp = name.strip_prefix(key)?.strip_prefix('-')?.strip_suffix(".flv")?;
                Some((stamp.parse().ok()?, entry.path()))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, path)| path).collect()
    }

    /// Waits (up to 10 s) until `key` has at least `sessions` recordings and none of them
    /// has grown for 300 ms, then returns them oldest first. Call it after the publisher
    /// stopped or the server was killed: nginx may still be writing what it had received.
    pub fn wait_for_recordings(&self, key: &str, sessions: usize) -> Vec<PathBuf> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last: Option<(Vec<u64>, Instant)> = None;
        loop {
            let files = self.recording(key);
            let sizes: Vec<u64> = files.iter().map(|f| fs::metadata(f).map_or(0, |m| m.len())).collect();
            if files.len() >= sessions {
                match &last {
                    Some((previous, since)) if *previous == sizes => {
                        if since.elapsed() >= Duration::from_millis(300) {
                            return files;
                        }
                    }
                    _ => last = Some((sizes, Instant::now())),
                }
            }
            assert!(
                Instant::now() < deadline,
                "expected {sessions} settled recordings of {key:?}, have {files:?}\n{}",
                self.logs()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// nginx's error log (info level: connects, publishes, disconnects) and its stderr.
    pub fn logs(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.path().join("logs").join(name)).unwrap_or_default();
        format!("--- nginx error.log ---\n{}--- nginx stderr ---\n{}", read("error.log"), read("stderr.log"))
    }

    /// The nginx config for the current port.
    pub fn config(&self) -> String {
        let dir = self.dir.path().display();
        format!(
            r#"load_module "{module}";
daemon off;
master_process off;
pid "{dir}/nginx.pid";
error_log "{dir}/logs/error.log" info;
events {{ worker_connections 64; }}
rtmp {{
    access_log "{dir}/logs/access.log";
    server {{
        listen 127.0.0.1:{port};
        application live {{
            live on;
            record all;
            record_path "{dir}/rec";
            record_unique on;
        }}
    }}
}}
"#,
            module = self.module.display(),
            port = self.port,
        )
    }

    /// Spawns nginx on `self.port` and waits until it has bound the port and accepts TCP.
    fn launch(&self) -> Result<Child, LaunchError> {
        let dir = self.dir.path();
        let conf = dir.join("nginx.conf");
        let pid_file = dir.join("nginx.pid");
        let error_log = dir.join("logs/error.log");
        fs::write(&conf, self.config()).expect("write nginx.conf");
        let _ = fs::remove_file(&pid_file);
        let log_start = fs::metadata(&error_log).map_or(0, |m| m.len());
        let stderr = fs::OpenOptions::new().create(true).append(true).open(dir.join("logs/stderr.log"));
        let stderr = stderr.expect("open nginx stderr log");
        let mut child = Command::new(&self.nginx)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(&error_log)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("clone nginx log handle"))
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.nginx.display()));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll nginx") {
                let log = fs::read(&error_log).unwrap_or_default();
                let new_log = String::from_utf8_lossy(log.get(log_start as usize..).unwrap_or_default());
                if new_log.contains("Address already in use") {
                    return Err(LaunchError::PortInUse);
                }
                return Err(LaunchError::Failed(format!("nginx exited with {status}:\n{}", self.logs())));
            }
            // nginx writes its pid file after binding, so a connection now reaches it.
            let pid_written = fs::read_to_string(&pid_file).is_ok_and(|p| p.trim() == child.id().to_string());
            if pid_written && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(child);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let why = format!("nginx did not accept on {addr} within {READY_TIMEOUT:?}:\n{}", self.logs());
                return Err(LaunchError::Failed(why));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RtmpServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port that was free a moment ago (bound to port 0, then released).
fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a probe socket on 127.0.0.1");
    listener.local_addr().expect("probe socket address").port()
}

fn find_nginx() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

/// Whether `tool -version` runs (ffmpeg, ffprobe).
pub fn tool_installed(tool: &str) -> bool {
    Command::new(tool).arg("-version").output().is_ok_and(|o| o.status.success())
}

/// One stream as ffprobe reports it. Rates of `0/0` (unknown) are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbedStream {
    pub codec_type: String,
    pub codec_name: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub avg_frame_rate: Option<String>,
    pub r_frame_rate: Option<String>,
    pub sample_rate: Option<u32>,
}

impl ProbedStream {
    /// `r_frame_rate` as a number (FLV's `avg_frame_rate` comes from millisecond timestamps).
    pub fn frame_rate(&self) -> Option<f64> {
        let (num, den) = self.r_frame_rate.as_deref()?.split_once('/')?;
        let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
        (den != 0.0).then_some(num / den)
    }
}

/// The first stream of `codec_type` ("video", "audio").
pub fn find_stream<'a>(streams: &'a [ProbedStream], codec_type: &str) -> Option<&'a ProbedStream> {
    streams.iter().find(|s| s.codec_type == codec_type)
}

/// The streams of a file or URL (`rtmp://…` works while someone publishes). Empty, with
/// ffprobe's complaint printed, when ffprobe fails or runs past 20 s.
pub fn probe_streams(path_or_url: &str) -> Vec<ProbedStream> {
    let Some(json) = ffprobe_json(&["-show_streams"], path_or_url) else { return Vec::new() };
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let rate = |v: &serde_json::Value| text(v).filter(|r| r != "0/0");
    let number = |v: &serde_json::Value| {
        v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).and_then(|n| u32::try_from(n).ok())
    };
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    streams
        .iter()
        .map(|s| ProbedStream {
            codec_type: text(&s["codec_type"]).unwrap_or_default(),
            codec_name: text(&s["codec_name"]).unwrap_or_default(),
            width: number(&s["width"]),
            height: number(&s["height"]),
            avg_frame_rate: rate(&s["avg_frame_rate"]),
            r_frame_rate: rate(&s["r_frame_rate"]),
            sample_rate: number(&s["sample_rate"]),
        })
        .collect()
}

/// The container duration in seconds.
pub fn probe_duration(path: &Path) -> Option<f64> {
    let json = ffprobe_json(&["-show_entries", "format=duration"], &path.to_string_lossy())?;
    json["format"]["duration"].as_str()?.parse().ok()
}

/// `pts_time` of every video packet, in file (decode) order.
pub fn video_packet_times(path: &Path) -> Vec<f64> {
    let args = ["-select_streams", "v", "-show_entries", "packet=pts_time"];
    let Some(json) = ffprobe_json(&args, &path.to_string_lossy()) else { return Vec::new() };
    let packets = json["packets"].as_array().cloned().unwrap_or_default();
    packets.iter().filter_map(|p| p["pts_time"].as_str()?.parse().ok()).collect()
}

/// The largest step between consecutive times once sorted (so B-frame reordering does not
/// count); 0 for fewer than two times. A recording cut short (publisher or server killed)
/// can end with a reference frame whose B-frames never arrived, which shows up here as a
/// gap at the end: publish without B-frames where a cut recording is checked for gaps.
pub fn largest_gap(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

/// Runs `ffprobe -v error -of json ARGS TARGET` under a watchdog and parses its output.
fn ffprobe_json(args: &[&str], target: &str) -> Option<serde_json::Value> {
    let mut all: Vec<OsString> = ["-v", "error", "-rw_timeout", FFPROBE_RW_TIMEOUT_US, "-of", "json"]
        .iter()
        .chain(args)
        .map(OsString::from)
        .collect();
    all.push(target.into());
    let mut command = Command::new("ffprobe");
    command.args(&all).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("ffprobe could not run ({e}); `cargo xtask setup` installs ffmpeg");
            return None;
        }
    };
    let reader = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = reader(Box::new(child.stdout.take().expect("ffprobe stdout is piped")));
    let stderr = reader(Box::new(child.stderr.take().expect("ffprobe stderr is piped")));
    let deadline = Instant::now() + FFPROBE_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll ffprobe") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
    match status {
        Some(status) if status.success() => match serde_json::from_slice(&stdout) {
            Ok(json) => Some(json),
            Err(e) => {
                eprintln!("ffprobe {target}: unreadable JSON ({e})");
                None
            }
        },
        Some(status) => {
            eprintln!("ffprobe {target} failed ({status}): {stderr}");
            None
        }
        None => {
            eprintln!("ffprobe {target} killed after {FFPROBE_TIMEOUT:?}: {stderr}");
            None
        }
    }
}
