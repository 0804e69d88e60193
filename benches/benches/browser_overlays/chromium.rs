//! The browser side of the comparison: finds Node.js and Chromium, runs
//! `benches/browser/measure.mjs` on an overlay's HTML page and reads its JSON line.
//!
//! Owns: tool discovery and the subprocess. Must not: make up a number: a missing
//! tool is reported as [`Missing`], a failed measurement as an error.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;

/// Oldest Node.js that `measure.mjs` runs on.
const NODE_MAJOR_MIN: u32 = 18;

/// A tool the browser side needs and how to install it.
pub struct Missing(pub String);

/// The tools found.
pub struct Tools {
    pub node: PathBuf,
    pub node_version: String,
    pub chromium: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// Node.js ≥ 18 and Chromium (`$CHROMIUM`, else `chromium`, `chromium-browser` or
/// `google-chrome` on PATH, as `measure.mjs` looks them up).
pub fn find_tools() -> std::result::Result<Tools, Missing> {
    let mut missing = Vec::new();
    let node = on_path(&["node", "nodejs"]);
    let node_version = node.as_ref().and_then(|n| Command::new(n).arg("--version").output().ok()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let major = node_version.as_deref().and_then(|v| v.trim_start_matches('v').split('.').next()?.parse::<u32>().ok());
    match major {
        Some(m) if m >= NODE_MAJOR_MIN => {}
        Some(_) => missing.push(format!(
            "Node.js {} is too old; measure.mjs needs Node.js ≥ {NODE_MAJOR_MIN} (Debian 12: `apt-get install nodejs` gives 18)",
            node_version.as_deref().unwrap_or("?")
        )),
        None => missing.push(format!("Node.js ≥ {NODE_MAJOR_MIN} not found: `apt-get install nodejs`")),
    }
    let chromium = match std::env::var_os("CHROMIUM").map(PathBuf::from) {
        Some(p) if p.is_file() => Some(p),
        Some(p) => {
            missing.push(format!("CHROMIUM={} is not a file (unset it and `apt-get install chromium`)", p.display()));
            None
        }
        None => on_path(&["chromium", "chromium-browser", "google-chrome"]),
    };
    if chromium.is_none() && missing.iter().all(|m| !m.starts_with("CHROMIUM=")) {
        missing.push("Chromium not found: `apt-get install chromium` (or set CHROMIUM=/path/to/chrome)".into());
    }
    match (node, node_version, chromium, missing.is_empty()) {
        (Some(node), Some(node_version), Some(chromium), true) => Ok(Tools { node, node_version, chromium }),
        _ => Err(Missing(missing.join("; "))),
    }
}

/// One `measure.mjs` result (see the script's header for what each field means).
#[derive(Clone, Debug)]
pub struct BrowserRun {
    pub browser: String,
    pub startup_ms: Option<f64>,
    pub pss_mib: f64,
    pub rss_mib: f64,
    pub processes: u64,
    pub cpu_ms: f64,
    pub window_s: f64,
    pub frames: Option<u64>,
    pub cpu_ms_per_frame: Option<f64>,
    pub cores: f64,
}

/// How `measure.mjs` pulls frames.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// `Page.startScreencast`, PNG frames (alpha kept), 30 fps.
    ScreencastPng,
    /// No frames pulled: what the page costs with nobody taking pictures.
    None,
}

/// Runs `measure.mjs` on `page` for a window of `seconds` after `settle_s`.
pub fn measure(tools: &Tools, script: &Path, page: &Path, capture: Capture, settle_s: f64, seconds: f64) -> Result<BrowserRun> {
    let mut cmd = Command::new(&tools.node);
    cmd.arg(script).arg(page).args(["--seconds", &seconds.to_string(), "--settle", &settle_s.to_string(), "--fps", &crate::FPS.to_string()]);
    cmd.arg("--chromium").arg(&tools.chromium);
    match capture {
        Capture::ScreencastPng => cmd.args(["--capture", "screencast", "--format", "png"]),
        Capture::None => cmd.args(["--capture", "none"]),
    };
    let output = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {}: {e}", tools.node.display()))?;
    if !output.status.success() {
        return Err(format!("measure.mjs {} failed ({}): {}", page.display(), output.status, String::from_utf8_lossy(&output.stderr).trim()));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| format!("measure.mjs {} printed no JSON line", page.display()))?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("measure.mjs printed bad JSON ({e}): {line}"))?;
    let opt = |key: &str| v.get(key).and_then(serde_json::Value::as_f64);
    let num = |key: &str| opt(key).ok_or_else(|| format!("measure.mjs result lacks {key}: {line}"));
    Ok(BrowserRun {
        browser: v.get("browser").and_then(serde_json::Value::as_str).unwrap_or("?").to_string(),
        startup_ms: opt("startup_ms"),
        pss_mib: num("pss_mib")?,
        rss_mib: num("rss_mib")?,
        processes: num("processes")? as u64,
        cpu_ms: num("cpu_ms")?,
        window_s: num("window_s")?,
        frames: opt("frames").map(|f| f as u64),
        cpu_ms_per_frame: opt("cpu_ms_per_frame"),
        cores: num("cores")?,
    })
}
