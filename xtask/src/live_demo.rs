//! The live half of `cargo xtask demo`: a throwaway nginx with the RTMP module on a free
//! loopback port (config, logs and recordings under target/demo/rtmp), the demo show
//! streamed to it in real time by `showrunner live --loop`, and the URL to watch it.
//! Ctrl-C reaches showrunner, which closes its outputs; this task then stops nginx.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// nginx serving RTMP on 127.0.0.1:`port`; killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn start_nginx(dir: &Path) -> Result<Nginx> {
    if !Path::new(RTMP_MODULE).exists() {
        bail!("{RTMP_MODULE} is missing: install nginx-light and libnginx-mod-rtmp (`cargo xtask setup` does)");
    }
    for sub in ["logs", "rec"] {
        std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
    }
    let port = free_port()?;
    let d = dir.display();
    let config = format!(
        "load_module \"{RTMP_MODULE}\";\n\
         daemon off; master_process off; pid \"{d}/nginx.pid\"; error_log \"{d}/logs/error.log\" info;\n\
         events {{ worker_connections 64; }}\n\
         rtmp {{ access_log \"{d}/logs/access.log\";\n\
           server {{ listen 127.0.0.1:{port};\n\
             application live {{ live on; record all; record_path \"{d}/rec\"; record_unique on; }} }} }}\n"
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config).with_context(|| format!("cannot write {}", conf.display()))?;
    let child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("logs/error.log"))
        .arg("-c")
        .arg(&conf)
        .spawn()
        .context("cannot start nginx (install nginx-light)")?;
    let nginx = Nginx { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default();
            bail!("nginx did not start listening on 127.0.0.1:{port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(nginx)
}

/// Streams the demo show live until Ctrl-C, or for `duration`.
pub fn run(bin: &Path, root: &Path, duration: Option<Duration>) -> Result<()> {
    let dir = root.join("target/demo/rtmp");
    let nginx = start_nginx(&dir)?;
    let url = format!("rtmp://127.0.0.1:{}/live/demo", nginx.port);
    // Ctrl-C goes to the whole process group: showrunner stops cleanly on it, and this
    // task must live on to stop nginx after it.
    ctrlc::set_handler(|| {}).context("cannot catch Ctrl-C")?;
    eprintln!("\nLive: the demo show streams to a local nginx-rtmp. Watch it with:\n    ffplay {url}\n(or open that URL in VLC). nginx records what it receives in {}.", dir.join("rec").display());
    eprintln!("{}", if duration.is_some() { "It stops by itself." } else { "Ctrl-C stops it." });
    let mut live = Command::new(bin);
    live.arg("live").arg(root.join("example-scenes/demo-show.toml")).args(["--loop", "--bitrate", "3000", "--rtmp", &url]);
    if let Some(d) = duration {
        live.arg("--duration").arg(format!("{}ms", d.as_millis()));
    }
    let status = live.status().context("cannot run showrunner live")?;
    drop(nginx);
    if !status.success() {
        bail!("showrunner live exited with {status}");
    }
    let recorded: Vec<PathBuf> = std::fs::read_dir(dir.join("rec")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    if let Some(last) = recorded.iter().max() {
        eprintln!("What nginx received is in {}.", last.display());
    }
    Ok(())
}
