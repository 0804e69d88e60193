//! Hot-swap benchmark: how long a live module swap takes as a client sees it, and
//! whether the show misses frames while it happens, on the real `showrunner serve`
//! (see "Benchmarks, not timed tests" in DESIGN.md).
//!
//! Run: `cargo xtask build-scenes`, then `cargo bench -p showrunner-benches --bench hot_swap`
//! (about 30 s on 2 cores, lavapipe). Without `--bench` (e.g. under `cargo test
//! --all-targets`) it does a quick smoke run at 320×180 whose numbers mean nothing.
//!
//! It builds and starts `showrunner serve` (1920×1080, 30 fps) on a free loopback port
//! with a fresh data dir, uploads `scene-scoreboard` and `guest-scoreboard-v2` (same
//! props and state, drawn differently), puts the scoreboard on air at 3-1 and listens
//! to the show's stats on `/api/v1/ws`. Then, measured in the same run:
//! (1) baseline: 50 `GET /show` round trips (HTTP plus one trip through the frame
//! thread) and the frames the show was late on while idle for as long as the swaps take;
//! (2) 50 `POST /layers/score/swap`, alternating the two modules, 50 ms apart; each
//! answers once the first frame with the new module is composited.
//!
//! Printed: client-side request → reply latency p50/p95/max of both, the server's own
//! `swap_ms` and `instantiate_ms` p50/p95, the ratio swap ÷ baseline, and frames late
//! (`frames_late` from the stats) idle and during the swaps. Targets: swap p95 < 100 ms
//! and no more frames late during the swaps than idle. A missed target prints FAIL and
//! exits 0; a failed swap (not 200, or the score not carried) or a server that does not
//! start exits non-zero. Owns its server process and data dir; must not time anything
//! but requests a client would make.

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::json;
use showrunner_benches::machine::{cpu_seconds, load_average};
use showrunner_benches::serve::{Result, ServeConfig, Server, StatsFeed, bench_main, build_showrunner, frames_between, print_run_end};
use showrunner_benches::{fmt_ratio, guest_dir, guest_file, millis as ms, percentile, workspace_root};

const TOKEN: &str = "hot-swap-bench-token";
/// Target: 95 % of swaps answer within this, client side.
const TARGET_P95_MS: f64 = 100.0;

#[derive(Clone, Copy)]
struct Plan {
    width: u32,
    height: u32,
    swaps: usize,
    gap: Duration,
    /// Idle time before measuring, for the show and the stats to settle.
    settle: Duration,
}

const FULL: Plan = Plan { width: 1920, height: 1080, swaps: 50, gap: Duration::from_millis(50), settle: Duration::from_secs(3) };
const QUICK: Plan = Plan { width: 320, height: 180, swaps: 4, gap: Duration::from_millis(50), settle: Duration::from_millis(1200) };

fn row(label: &str, samples: &[f64]) {
    let max = samples.iter().copied().fold(f64::NAN, f64::max);
    println!("{label:<44} {:>8.2} {:>8.2} {:>8.2} {:>6}", percentile(samples, 0.5), percentile(samples, 0.95), max, samples.len());
}

fn run(full: bool) -> Result<()> {
    let plan = if full { FULL } else { QUICK };
    let binary = build_showrunner()?;
    let guests = guest_dir(&workspace_root());
    let (started, cpu_at_start) = (Instant::now(), cpu_seconds());
    println!("hot_swap: showrunner serve at {}x{} 30 fps; {} swaps {} ms apart; load average at start: {}", plan.width, plan.height, plan.swaps, plan.gap.as_millis(), load_average());
    let server = Server::start(&binary, &ServeConfig { width: plan.width, height: plan.height, token: TOKEN, extra: String::new() })?;
    let api = &server.api;
    let modules = [api.upload(&guest_file(&guests, "scene-scoreboard"))?, api.upload(&guest_file(&guests, "guest-scoreboard-v2"))?];
    api.json("POST", "/layers", json!({ "id": "score", "scene": "main", "module": modules[0] }), 201)?;
    for (name, payload) in [("play", ""), ("home-score", "+3"), ("away-score", "+1")] {
        api.json("POST", "/layers/score/events", json!({ "name": name, "payload": payload }), 202)?;
    }
    let stats = StatsFeed::start(api, Duration::from_millis(200), |_, _| ControlFlow::Continue(()))?;
    std::thread::sleep(plan.settle);

    // (1) Baseline: GET /show round trips, and lateness while idle over as long as the swaps take.
    let idle_from = stats.after(Instant::now())?;
    let mut baseline = Vec::with_capacity(plan.swaps);
    for _ in 0..plan.swaps {
        let sent = Instant::now();
        let (status, _) = api.call("GET", "/show", None)?;
        baseline.push(ms(sent.elapsed()));
        if status != 200 {
            return Err(format!("GET /show answered {status}"));
        }
        std::thread::sleep(plan.gap);
    }
    let idle_to = stats.after(Instant::now())?;

    // (2) Swaps, alternating the modules.
    let swaps_from = stats.after(Instant::now())?;
    let (mut client, mut swap_ms, mut instantiate_ms) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..plan.swaps {
        let module = &modules[(i + 1) % 2];
        let sent = Instant::now();
        let reply = api.json("POST", "/layers/score/swap", json!({ "module": module }), 200)?;
        client.push(ms(sent.elapsed()));
        if reply["state_carried"] != true || reply["state_bytes"].as_u64().unwrap_or(0) == 0 {
            return Err(format!("swap {i} did not carry the score: {reply}"));
        }
        swap_ms.push(reply["swap_ms"].as_f64().unwrap_or(f64::NAN));
        instantiate_ms.push(reply["instantiate_ms"].as_f64().unwrap_or(f64::NAN));
        std::thread::sleep(plan.gap);
    }
    let swaps_to = stats.after(Instant::now())?;
    let (_, layer) = api.call("GET", "/layers/score", None)?;
    if layer["module"] != modules[plan.swaps % 2].as_str() {
        return Err(format!("after {} swaps the layer runs {}, not the last module swapped to", plan.swaps, layer["module"]));
    }

    println!();
    println!("{:<44} {:>8} {:>8} {:>8} {:>6}", "ms", "p50", "p95", "max", "n");
    row("(1) GET /show, client (baseline)", &baseline);
    row("(2) POST swap, client: request → reply", &client);
    row("(2) POST swap, server: swap_ms (to screen)", &swap_ms);
    row("(2) POST swap, server: instantiate_ms", &instantiate_ms);
    let (p50, p95) = (percentile(&client, 0.5), percentile(&client, 0.95));
    println!("swap ÷ baseline (p50): {}", fmt_ratio(p50 / percentile(&baseline, 0.5)));
    let ((idle_frames, idle_late), (swap_frames, swap_late)) = (frames_between(&idle_from, &idle_to), frames_between(&swaps_from, &swaps_to));
    println!("frames late: idle {idle_late} of {idle_frames} slots; during the swaps {swap_late} of {swap_frames} slots");
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!("target swap p95 < {TARGET_P95_MS} ms: {} ({p95:.1} ms)", verdict(p95 < TARGET_P95_MS));
    println!("target no more frames late during the swaps than idle: {} ({swap_late} vs {idle_late})", verdict(swap_late <= idle_late));
    print_run_end("hot_swap", full, started, cpu_at_start);
    Ok(())
}

fn main() -> ExitCode {
    bench_main("hot_swap", run)
}
