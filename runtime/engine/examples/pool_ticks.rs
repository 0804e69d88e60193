//! How long `Pool::tick_all` takes for 8 example overlays with 1, 2 and 4 workers,
//! against ticking the same 8 layers one after another on the calling thread.
//!
//! Run: `cargo xtask build-scenes` once, then
//! `cargo run --release -p showrunner-engine --example pool_ticks [FRAMES]`.
//! Prints the median and p99 per frame in µs. A measurement, not a test: the
//! numbers depend on the machine and on what else it runs.

// Guest faults travel unboxed (see showrunner-wasm).
#![allow(clippy::result_large_err)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_core::{Event, FrameInfo};
use showrunner_engine::{ModuleFiles, Pool, PoolConfig, Priority};
use showrunner_wasm::{FaultPolicy, Host, LayerRunner, LoadedModule};

const OVERLAYS: [&str; 5] = ["scene_lower_third", "scene_ticker", "scene_clock", "scene_scoreboard", "scene_alert"];

fn summary(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.99))
}

fn frame(n: u64) -> FrameInfo {
    FrameInfo::at(n, 1920, 1080, 30, 1)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(600);
    let guests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm32-wasip2/guest");
    let host = Host::with_defaults()?;
    let mut files = ModuleFiles::new(host.clone());
    let modules: Vec<(String, Arc<LoadedModule>)> = (0..8)
        .map(|i| {
            let name = OVERLAYS[i % OVERLAYS.len()];
            let module = files.load(&guests.join(format!("{name}.wasm")).to_string_lossy())?;
            Ok((format!("{name}-{i}"), module))
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let start = |id: &str| [Event::named("play"), Event { name: "alert".into(), payload: format!("Hello from {id}") }];

    // Baseline: the same layers ticked in turn on this thread.
    let mut runners: Vec<LayerRunner> = modules.iter().map(|(id, m)| LayerRunner::new(id, m.clone(), &[], FaultPolicy::default())).collect::<Result<_, _>>()?;
    for (runner, (id, _)) in runners.iter_mut().zip(&modules) {
        for event in start(id) {
            runner.on_event(event)?;
        }
    }
    let mut serial = Vec::new();
    for n in 0..frames {
        let t = Instant::now();
        for runner in &mut runners {
            runner.tick(&frame(n));
        }
        serial.push(t.elapsed());
    }
    let (p50, p99) = summary(serial.split_off(30));
    println!("serial, calling thread: median {p50:7.1} µs  p99 {p99:7.1} µs");
    drop(runners);

    for workers in [1, 2, 4] {
        let pool = Pool::new(PoolConfig { workers, ..PoolConfig::default() })?;
        for (id, module) in &modules {
            pool.add_layer(id, module.clone(), &[], FaultPolicy::default())?;
            for event in start(id) {
                pool.event(id, event)?;
            }
        }
        let (mut times, mut guest) = (Vec::new(), Vec::new());
        for n in 0..frames {
            let t = Instant::now();
            let ticks = pool.tick_all(&frame(n), Priority::Program)?;
            times.push(t.elapsed());
            guest.push(ticks.iter().map(|t| t.guest_time).sum());
        }
        let (p50, p99) = summary(times.split_off(30));
        let (guest_p50, _) = summary(guest.split_off(30));
        let m = pool.metrics();
        println!(
            "tick_all, {workers} worker(s):  median {p50:7.1} µs  p99 {p99:7.1} µs  (layer ticks {guest_p50:.1} µs summed; task latency p50 {:.1} µs)",
            m.task_latency.p50.as_secs_f64() * 1e6
        );
    }
    Ok(())
}
