//! Prop-update benchmark: how many `PATCH /api/v1/layers/{id}/props` a served show
//! takes per second while it renders 1920×1080 at 30 fps, what each costs the client
//! (request → 200, which means applied and durable), and what the updates cost the
//! frame loop, measured in one run (see "Benchmarks, not timed tests" in DESIGN.md).
//!
//! Run: `cargo bench -p showrunner-benches --bench prop_updates` (about 25 s on 2
//! cores, lavapipe). Without `--bench` (e.g. under `cargo test --all-targets`) it does
//! a quick smoke run at 320×180 whose numbers mean nothing.
//!
//! The show is `showrunner serve`'s own (ShowRuntime + the axum router on a loopback
//! port, a real redb store in a temp dir) with one scoreboard layer playing. Phase 1:
//! the show runs with no requests (baseline frame time, from the bus's once-a-second
//! stats). Phase 2: the same length with two clients sending prop updates back to back
//! over keep-alive HTTP (alternating team names, so every update changes pixels).
//! Phase 3 (the reference): the same number of prop changes per second handed to the
//! show's frame thread directly (no HTTP, JSON or store), because every change redraws
//! the layer and that redraw is the change's own cost, not the API's.
//! Printed: updates per second, p50/p95/max latency, frame time mean and worst in each
//! phase, and late frame slots. Targets: frames late during updates 0, mean frame time
//! with updates over the API ≤ 1.25× the direct reference; a miss prints FAIL and exits
//! 0; a refused update exits non-zero.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use showrunner_benches::machine::{cpu_seconds, load_average, print_run_footer};
use showrunner_benches::{fmt_ratio, guest_dir, guest_file};
use showrunner_server::api::{ApiLimits, ApiState, router};
use showrunner_server::show::inputs::InputManager;
use showrunner_server::show::{Format, ShowEvent, ShowRuntime, ShowSetup, ShowStats};
use showrunner_core::{Prop, PropValue};
use showrunner_server::show::Request;
use showrunner_server::store::Store;
use tokio::sync::broadcast::error::TryRecvError;

type Result<T> = std::result::Result<T, String>;

struct Plan {
    format: Format,
    phase: Duration,
    clients: usize,
}

const FULL: Plan = Plan { format: Format { width: 1920, height: 1080, fps_num: 30, fps_den: 1 }, phase: Duration::from_secs(10), clients: 2 };
const QUICK: Plan = Plan { format: Format { width: 320, height: 180, fps_num: 30, fps_den: 1 }, phase: Duration::from_secs(2), clients: 1 };
const MAX_FRAME_RATIO: f64 = 1.25;

fn main() -> ExitCode {
    // `cargo bench` passes --bench; anything else (cargo test --all-targets) is a smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    match run(if quick { QUICK } else { FULL }, quick) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Stats messages seen on the bus since the last call.
fn drain_stats(events: &mut tokio::sync::broadcast::Receiver<Arc<showrunner_server::show::BusMessage>>) -> Vec<ShowStats> {
    let mut out = Vec::new();
    loop {
        match events.try_recv() {
            Ok(message) => {
                if let ShowEvent::Stats(stats) = &message.event {
                    out.push(stats.clone());
                }
            }
            Err(TryRecvError::Lagged(_)) => continue,
            Err(_) => return out,
        }
    }
}

/// (mean of the per-second means, worst frame) in ms, and late slots over the phase.
fn frame_summary(stats: &[ShowStats]) -> (f64, f64, u64) {
    let mean = stats.iter().map(|s| s.frame_ms_mean).sum::<f64>() / stats.len().max(1) as f64;
    let worst = stats.iter().map(|s| s.frame_ms_max).fold(0.0, f64::max);
    let late = match (stats.first(), stats.last()) {
        (Some(first), Some(last)) => last.frames_late - first.frames_late,
        _ => 0,
    };
    (mean, worst, late)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn run(plan: Plan, quick: bool) -> Result<()> {
    let started = Instant::now();
    let cpu_start = cpu_seconds();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let module = std::fs::read(guest_file(&guest_dir(&root), "scene-scoreboard")).map_err(|e| format!("scene-scoreboard: {e} (run `cargo xtask build-scenes`)"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Arc::new(Store::open(dir.path()).map_err(|e| e.to_string())?);
    let host = showrunner_wasm::Host::with_defaults().map_err(|e| e.to_string())?;
    let frames = showrunner_assets::LiveInputs::default();
    let setup = ShowSetup { store: store.clone(), host: host.clone(), assets: Default::default(), inputs: frames.clone(), format: plan.format, bitrate_kbps: 4500 };
    let show = ShowRuntime::start(setup).map_err(|e| format!("{e:#}"))?;
    let limits = ApiLimits { max_module_bytes: 16 << 20, max_body_bytes: 1 << 20 };
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let inputs = InputManager::start(frames, show.handle().bus().clone(), loopback).map_err(|e| e.to_string())?;
    let state = ApiState::new(store, host, None, limits, show.handle(), Arc::new(inputs));
    let mut events = show.handle().bus().subscribe();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| e.to_string())?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).map_err(|e| e.to_string())?;
    let base = format!("http://{}/api/v1", listener.local_addr().map_err(|e| e.to_string())?);
    runtime.spawn(async move { axum::serve(listener, router(state)).await });

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let uploaded = agent.post(format!("{base}/modules")).header("Content-Type", "application/wasm").send(&module[..]).map_err(|e| e.to_string())?;
    let hash = uploaded.into_body().read_json::<serde_json::Value>().map_err(|e| e.to_string())?["hash"].as_str().unwrap_or_default().to_string();
    let layer = serde_json::json!({"id": "score", "scene": "main", "module": hash});
    let created = agent.post(format!("{base}/layers")).send_json(&layer).map_err(|e| e.to_string())?;
    if created.status() != 201 {
        return Err(format!("adding the layer answered {}", created.status()));
    }
    let _ = agent.post(format!("{base}/layers/score/events")).send_json(serde_json::json!({"name": "play"})).map_err(|e| e.to_string())?;

    println!("prop updates over the API while rendering {}x{} at {} fps ({})", plan.format.width, plan.format.height, plan.format.fps_num, if quick { "quick smoke run: numbers mean nothing" } else { "full run" });
    std::thread::sleep(Duration::from_secs(2));
    drain_stats(&mut events);
    std::thread::sleep(plan.phase);
    let idle = drain_stats(&mut events);

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..plan.clients)
        .map(|n| {
            let (agent, url, stop) = (agent.clone(), format!("{base}/layers/score/props"), stop.clone());
            std::thread::spawn(move || -> Result<Vec<f64>> {
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let body = serde_json::json!({"home-name": format!("H{n}-{i}"), "away-name": format!("A{}", i % 97)});
                    let sent = Instant::now();
                    let reply = agent.patch(&url).send_json(&body).map_err(|e| e.to_string())?;
                    if reply.status() != 200 {
                        return Err(format!("an update answered {}", reply.status()));
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(latencies)
            })
        })
        .collect();
    let updating_from = Instant::now();
    std::thread::sleep(plan.phase);
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.join().map_err(|_| "a client thread panicked".to_string())??);
    }
    let seconds = updating_from.elapsed().as_secs_f64();
    let busy = drain_stats(&mut events);
    latencies.sort_by(f64::total_cmp);

    let rate = latencies.len() as f64 / seconds;

    // Reference: the same prop changes at the same rate handed to the show directly
    // (no HTTP, no JSON, no store), so the difference is what the API costs the frames.
    let handle = show.handle();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let phase = plan.phase;
    drain_stats(&mut events);
    let direct = runtime.block_on(async move {
        let mut ticker = tokio::time::interval(interval);
        let until = Instant::now() + phase;
        let mut sent = 0u64;
        while Instant::now() < until {
            ticker.tick().await;
            sent += 1;
            let props = vec![Prop { name: "home-name".into(), value: PropValue::Text(format!("D-{sent}")) }, Prop { name: "away-name".into(), value: PropValue::Text(format!("A{}", sent % 97)) }];
            handle.ask(|reply| Request::SetProps { layer: "score".into(), props, reply }).await.map_err(|e| e.to_string())?;
        }
        Ok::<u64, String>(sent)
    })?;
    let reference = drain_stats(&mut events);

    let (idle_mean, idle_worst, idle_late) = frame_summary(&idle);
    let (busy_mean, busy_worst, busy_late) = frame_summary(&busy);
    let (ref_mean, ref_worst, ref_late) = frame_summary(&reference);
    println!("  updates: {} in {seconds:.1} s = {rate:.0}/s from {} client(s); latency p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms (applied and durable)", latencies.len(), plan.clients, percentile(&latencies, 0.5), percentile(&latencies, 0.95), latencies.last().copied().unwrap_or_default());
    println!("  frame time, no updates:   mean {idle_mean:.2} ms, worst {idle_worst:.2} ms, late slots {idle_late}");
    println!("  frame time, {direct} changes handed to the show directly at the same rate: mean {ref_mean:.2} ms, worst {ref_worst:.2} ms, late slots {ref_late}");
    println!("  frame time, with updates over the API:   mean {busy_mean:.2} ms, worst {busy_worst:.2} ms, late slots {busy_late}");
    println!("  (every change redraws the layer: that is the cost of the change itself, not of the API)");
    let budget = 1000.0 * f64::from(plan.format.fps_den) / f64::from(plan.format.fps_num);
    let ratio = busy_mean / ref_mean.max(f64::EPSILON);
    println!("  API cost in frame time: {} the direct reference (target ≤ {MAX_FRAME_RATIO}×) — {}; frames with updates use {:.0}% of the {budget:.1} ms budget", fmt_ratio(ratio), if quick || ratio <= MAX_FRAME_RATIO { "ok" } else { "FAIL" }, busy_mean / budget * 100.0);
    println!("  late slots with updates: {busy_late} (target 0) — {}", if quick || busy_late == 0 { "ok" } else { "FAIL" });
    drop(show);
    print_run_footer(started, cpu_start, std::thread::available_parallelism().map_or(1, |n| n.get()));
    let _ = load_average();
    Ok(())
}
