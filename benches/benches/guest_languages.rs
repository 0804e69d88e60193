//! The lower third written in AssemblyScript (core ABI v1) vs the same scene in Rust
//! (a component), both in Wasm under the same host: tick cost, instantiation and
//! module size, measured in one run.
//!
//! Run: `cargo xtask bench` (builds the guests, then runs every bench), or after
//! `cargo xtask build-scenes`: `cargo bench -p showrunner-benches --bench guest_languages`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_benches::{fmt_ratio, fmt_us, guest_dir, guest_file, micros, summarize};
use showrunner_core::{Event, FrameInfo};
use showrunner_wasm::{GuestLog, Host, LoadedModule, NoAssets, SandboxLimits, SceneInstance};

const FRAMES_PER_SAMPLE: u64 = 16;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn frame(i: u64) -> FrameInfo {
    FrameInfo::at(i, 1920, 1080, 30, 1)
}

/// A started lower third, on screen (play sent, in-animation done).
fn on_screen(module: &Arc<LoadedModule>, limits: &SandboxLimits) -> Result<(SceneInstance, u64), String> {
    let log = GuestLog::new("bench".into(), limits.log_lines_per_call, limits.log_line_bytes);
    let mut scene = SceneInstance::new(module, "bench", 1, log).map_err(|f| f.to_string())?;
    let props: Vec<_> = module.info.props.iter().map(|s| showrunner_core::Prop { name: s.name.clone(), value: s.default.clone() }).collect();
    scene.init(&props).map_err(|f| f.to_string())?;
    scene.on_event(&Event::named("play")).map_err(|f| f.to_string())?;
    for i in 0..60 {
        scene.tick(&frame(i)).map_err(|f| f.to_string())?;
    }
    Ok((scene, 60))
}

struct Row {
    name: &'static str,
    size: usize,
    tick: (f64, f64),
    instantiate: f64,
}

fn measure(name: &'static str, bytes: &[u8], host: &Arc<Host>, rounds: usize) -> Result<Row, String> {
    let module = host.load(bytes).map_err(|e| format!("{name}: {e}"))?;
    let limits = host.limits().clone();
    let (mut scene, mut next) = on_screen(&module, &limits)?;
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..FRAMES_PER_SAMPLE {
            scene.tick(&frame(next)).map_err(|f| f.to_string())?;
            next += 1;
        }
        samples.push(micros(started.elapsed()) / FRAMES_PER_SAMPLE as f64);
    }
    let ticks = summarize(&samples);
    let mut inst = Vec::with_capacity(rounds);
    for _ in 0..rounds.min(500) {
        let log = GuestLog::new("bench".into(), limits.log_lines_per_call, limits.log_line_bytes);
        let started = Instant::now();
        let s = SceneInstance::new(&module, "bench", 1, log).map_err(|f| f.to_string())?;
        inst.push(micros(started.elapsed()));
        drop(s);
    }
    Ok(Row { name, size: bytes.len(), tick: (ticks.p50, ticks.p99), instantiate: summarize(&inst).p50 })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}; run `cargo xtask build-scenes` first", path.display()))
}

fn run(rounds: usize) -> Result<(), String> {
    let root = workspace_root();
    let rust = read(&guest_file(&guest_dir(&root), "scene-lower-third"))?;
    let assemblyscript = read(&root.join("example-scenes/as-lower-third/build/as_lower_third.wasm"))?;
    // Deadlines out of the way: a preempted tick on a busy machine must not end the run.
    let limits = SandboxLimits { tick_deadline: Duration::from_secs(1), event_deadline: Duration::from_secs(1), init_deadline: Duration::from_secs(5), ..SandboxLimits::default() };
    let host = Host::new(limits, None, Arc::new(NoAssets)).map_err(|e| e.to_string())?;
    let rows = [measure("lower third, Rust (component)", &rust, &host, rounds)?, measure("lower third, AssemblyScript (core ABI v1)", &assemblyscript, &host, rounds)?];
    println!("Lower third by guest language, 1920x1080 @ 30 fps, on screen, {rounds} samples of {FRAMES_PER_SAMPLE} frames");
    println!("tick = SceneInstance::tick: guest code + crossing (canonical ABI or core-ABI bytes) + conversion + validation\n");
    println!("{:<44} {:>10} {:>10} {:>10} {:>14}", "module", "size KiB", "tick p50", "tick p99", "instantiate");
    for r in &rows {
        println!("{:<44} {:>10.1} {:>10} {:>10} {:>14}", r.name, r.size as f64 / 1024.0, fmt_us(r.tick.0), fmt_us(r.tick.1), fmt_us(r.instantiate));
    }
    let (rs, asc) = (&rows[0], &rows[1]);
    println!(
        "\nAssemblyScript ÷ Rust: tick {}, size {}, instantiate {}",
        fmt_ratio(asc.tick.0 / rs.tick.0),
        fmt_ratio(asc.size as f64 / rs.size as f64),
        fmt_ratio(asc.instantiate / rs.instantiate)
    );
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; anything else (cargo test --benches) is a smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    match run(if full { 2000 } else { 5 }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
