//! The show under test, set up on a started `showrunner serve` (see
//! `showrunner_benches::serve`): three playing layers on program and a clock on
//! preview; its frame-loop stage times from `/metrics`; and the CPU time of processes
//! read from `/proc`.
//!
//! Owns: the show's setup and the `/proc` readings. Must not: time anything itself, or
//! turn an output on (the encoder's cost is not the dashboard's).

use std::path::Path;

use serde_json::json;
use showrunner_benches::guest_file;
use showrunner_benches::serve::{Api, ServeConfig};

use crate::Result;

/// The API token the bench's server accepts.
pub const TOKEN: &str = "dashboard-cost-bench-token";

/// The show at `width`×`height` (30 fps, no output).
pub fn config(width: u32, height: u32) -> ServeConfig {
    ServeConfig { width, height, token: TOKEN, extra: String::new() }
}

/// Program `main`: lower third, scoreboard and ticker, all played. Scene `next`: a
/// running clock, put on preview.
pub fn set_up_show(api: &Api, guests: &Path) -> Result<()> {
    let program = [
        ("lower", "scene-lower-third", json!({ "name": "Ada Lovelace", "title": "Engine designer" })),
        ("score", "scene-scoreboard", json!({ "home-name": "LOVELACE", "away-name": "BABBAGE" })),
        ("ticker", "scene-ticker", json!({ "text": "Analytical Engine hits 1000 operations — Difference Engine No. 2 finished at last", "speed": 240 })),
    ];
    for (id, crate_name, props) in program {
        let module = api.upload(&guest_file(guests, crate_name))?;
        api.json("POST", "/layers", json!({ "id": id, "scene": "main", "module": module, "props": props }), 201)?;
        api.json("POST", &format!("/layers/{id}/events"), json!({ "name": "play", "payload": "" }), 202)?;
    }
    let clock = api.upload(&guest_file(guests, "scene-clock"))?;
    api.json("POST", "/scenes", json!({ "name": "next" }), 201)?;
    api.json("POST", "/layers", json!({ "id": "next-clock", "scene": "next", "module": clock, "props": { "mode": "up", "start": 0, "label": "NEXT" } }), 201)?;
    let show = api.json("PUT", "/preview", json!({ "scene": "next" }), 200)?;
    if show["preview"] != "next" {
        return Err(format!("the preview scene did not become `next`: {show}"));
    }
    Ok(())
}

/// Seconds summed and frames counted so far per frame-loop stage `tick`,
/// `compose_submit` and `frame` (`showrunner_frame_seconds` on `/metrics`).
pub fn frame_stages(api: &Api) -> Result<[(f64, f64); 3]> {
    let text = api.text("/metrics")?;
    let value = |series: &str, stage: &str| {
        let name = format!("showrunner_frame_seconds_{series}{{stage=\"{stage}\"}}");
        text.lines().find_map(|l| l.strip_prefix(name.as_str())?.trim().parse::<f64>().ok()).ok_or_else(|| format!("/metrics has no {name}"))
    };
    let stage = |stage: &str| Ok::<_, String>((value("sum", stage)?, value("count", stage)?));
    Ok([stage("tick")?, stage("compose_submit")?, stage("frame")?])
}

/// (parent pid, utime + stime in seconds, reaped children's cutime + cstime in seconds)
/// of process `pid`, from `/proc/PID/stat` at 100 ticks per second (Linux's USER_HZ).
fn proc_stat(pid: u32) -> Option<(u32, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the name come field 3 (state) onwards: ppid is field 4, utime..cstime 14..17.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    Some((fields.get(1)?.parse().ok()?, (field(14)? + field(15)?) / 100.0, (field(16)? + field(17)?) / 100.0))
}

/// CPU seconds process `pid` used (all its threads), or `None` when it is gone.
pub fn process_cpu(pid: u32) -> Option<f64> {
    proc_stat(pid).map(|(_, own, _)| own)
}

/// Process `pid` and all its descendants, found through the parent links in `/proc`.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|dir| dir.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).filter_map(|p| Some((p, proc_stat(p)?.0))).collect())
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut next = 0;
    while let Some(&parent) = tree.get(next) {
        tree.extend(all.iter().filter(|(_, ppid)| *ppid == parent).map(|(p, _)| *p));
        next += 1;
    }
    tree
}

/// CPU seconds of process `pid` and its descendants (reaped ones included).
pub fn tree_cpu(pid: u32) -> f64 {
    process_tree(pid).into_iter().filter_map(proc_stat).map(|(_, own, reaped)| own + reaped).sum()
}
