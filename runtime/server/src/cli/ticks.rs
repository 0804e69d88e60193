//! `showrunner ticks MODULE.wasm --frames N`: run a module headless and print what
//! each frame drew, its guest time and any fault.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use showrunner_core::{DrawOp, Event, FrameInfo};
use showrunner_wasm::{FaultPolicy, GuestLog, Host, LayerRunner, TransitionInstance, World};

use super::args::{parse_fps, parse_size};
use super::{EXIT_FAULTED, EXIT_REJECTED, load_module};

#[derive(Args, Debug)]
pub struct TicksArgs {
    /// The module (.wasm component).
    pub module: PathBuf,
    /// Frames to run.
    #[arg(long, default_value_t = 30)]
    pub frames: u64,
    /// Output size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Frame rate: 30, 59.94 or NUM/DEN (e.g. 30000/1001).
    #[arg(long, default_value = "30", value_parser = parse_fps)]
    pub fps: (u32, u32),
    /// Set a prop, NAME=VALUE (colours as #RRGGBB[AA]). Repeatable.
    #[arg(long = "props", value_name = "NAME=VALUE")]
    pub props: Vec<String>,
    /// Send an event before a frame, FRAME:NAME[:PAYLOAD]. Repeatable.
    #[arg(long = "event", value_name = "FRAME:NAME[:PAYLOAD]", value_parser = parse_event)]
    pub events: Vec<(u64, Event)>,
    /// Print one JSON object per frame instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print only every Nth frame (and the last one); faults are always printed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
}

fn parse_event(s: &str) -> Result<(u64, Event), String> {
    let mut parts = s.splitn(3, ':');
    let frame = parts.next().and_then(|f| f.parse::<u64>().ok()).ok_or("expected FRAME:NAME[:PAYLOAD], FRAME a number")?;
    let name = parts.next().filter(|n| !n.is_empty()).ok_or("expected FRAME:NAME[:PAYLOAD]; the name is missing")?;
    Ok((frame, Event { name: name.to_string(), payload: parts.next().unwrap_or_default().to_string() }))
}

pub fn run(args: &TicksArgs, host: Arc<Host>) -> anyhow::Result<ExitCode> {
    let Some(module) = load_module(&host, &args.module)? else {
        return Ok(ExitCode::from(EXIT_REJECTED));
    };
    let props = args.props.iter().map(|a| module.info.parse_assignment(a)).collect::<Result<Vec<_>, _>>()?;
    let frame_at = |i: u64| FrameInfo::at(i, args.size.0, args.size.1, args.fps.0, args.fps.1);
    let mut faults = Vec::new();
    match module.world {
        World::Scene => {
            let policy = FaultPolicy::default();
            let mut layer = match LayerRunner::new("cli", module.clone(), &props, policy) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("{}: {e}", args.module.display());
                    return Ok(ExitCode::from(EXIT_FAULTED));
                }
            };
            for i in 0..args.frames {
                for (_, event) in args.events.iter().filter(|(f, _)| *f == i) {
                    if let Err(f) = layer.on_event(event.clone()) {
                        report_fault(args.json, i, &f.to_string());
                        faults.push(f.to_string());
                    }
                }
                let out = layer.tick(&frame_at(i));
                if shown(args, i) {
                    print_frame(args.json, &frame_at(i), &out.ops, out.fresh, out.guest_time, layer.log());
                }
                if let Some(f) = out.fault {
                    report_fault(args.json, i, &f.to_string());
                    faults.push(f.to_string());
                }
                if out.quarantined {
                    report_fault(args.json, i, "module quarantined after repeated faults; its last good frame stays on screen");
                }
            }
            let dropped = layer.log().dropped();
            if dropped > 0 && !args.json {
                out!("{dropped} guest log lines dropped by the rate limit");
            }
        }
        World::Transition => {
            if !args.events.is_empty() || !props.is_empty() {
                bail!("transitions take neither --event nor --props");
            }
            let log = GuestLog::new("cli".into(), host.limits().log_lines_per_call, host.limits().log_line_bytes);
            let mut t = TransitionInstance::new(&module, "cli", log.clone()).context("transition did not start")?;
            for i in 0..args.frames {
                let progress = if args.frames <= 1 { 1.0 } else { i as f32 / (args.frames - 1) as f32 };
                let started = std::time::Instant::now();
                match t.mix(progress, &frame_at(i)) {
                    Ok(plan) if shown(args, i) => print_mix(args.json, i, progress, &plan, started.elapsed()),
                    Ok(_) => {}
                    Err(f) => {
                        report_fault(args.json, i, &f.to_string());
                        faults.push(f.to_string());
                        t = TransitionInstance::new(&module, "cli", log.clone()).context("transition did not restart")?;
                    }
                }
            }
        }
    }
    if faults.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}: {} fault(s); first: {}", args.module.display(), faults.len(), faults[0]);
    Ok(ExitCode::from(EXIT_FAULTED))
}

fn shown(args: &TicksArgs, frame: u64) -> bool {
    frame.is_multiple_of(args.every) || frame + 1 == args.frames
}

fn op_summary(ops: &[DrawOp]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for op in ops {
        match counts.iter_mut().find(|(k, _)| *k == op.kind()) {
            Some((_, n)) => *n += 1,
            None => counts.push((op.kind(), 1)),
        }
    }
    counts.iter().map(|(k, n)| format!("{k}×{n}")).collect::<Vec<_>>().join(" ")
}

fn print_frame(json: bool, frame: &FrameInfo, ops: &[DrawOp], fresh: bool, took: Duration, log: &GuestLog) {
    let lines = log.drain();
    if json {
        let v = serde_json::json!({
            "frame": frame.index, "time": frame.time, "ops": ops.len(), "fresh": fresh,
            "guest_us": took.as_secs_f64() * 1e6, "summary": op_summary(ops),
            "log": lines.iter().map(|l| format!("{:?}: {}", l.level, l.message)).collect::<Vec<_>>(),
        });
        out!("{v}");
        return;
    }
    let stale = if fresh { "" } else { "  (last good frame)" };
    out!("frame {:>5}  t={:>8.3}s  {:>4} ops  {:>8.1} µs  {}{stale}", frame.index, frame.time, ops.len(), took.as_secs_f64() * 1e6, op_summary(ops));
    for l in lines {
        out!("    log {:?}: {}", l.level, l.message);
    }
}

fn print_mix(json: bool, i: u64, progress: f32, plan: &showrunner_core::MixPlan, took: Duration) {
    if json {
        let v = serde_json::json!({
            "frame": i, "progress": progress, "outgoing_opacity": plan.outgoing.opacity, "incoming_opacity": plan.incoming.opacity,
            "incoming_on_top": plan.incoming_on_top, "overlay_ops": plan.overlay.len(), "guest_us": took.as_secs_f64() * 1e6,
        });
        out!("{v}");
    } else {
        out!(
            "frame {i:>5}  progress {progress:.3}  out α {:.2} tx {:.0}  in α {:.2} tx {:.0}  overlay {} ops  {:.1} µs",
            plan.outgoing.opacity, plan.outgoing.transform.e, plan.incoming.opacity, plan.incoming.transform.e, plan.overlay.len(), took.as_secs_f64() * 1e6
        );
    }
}

fn report_fault(json: bool, frame: u64, message: &str) {
    if json {
        out!("{}", serde_json::json!({ "frame": frame, "fault": message }));
    } else {
        out!("frame {frame:>5}  FAULT {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_parsers_accept_good_and_name_bad_input() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert!(parse_size("0x720").is_err());
        assert_eq!(parse_fps("30"), Ok((30, 1)));
        assert_eq!(parse_fps("30000/1001"), Ok((30000, 1001)));
        assert_eq!(parse_fps("29.97"), Ok((30000, 1001)));
        assert!(parse_fps("0").is_err());
        let (f, e) = parse_event("12:home-score:+1").unwrap();
        assert_eq!((f, e.name.as_str(), e.payload.as_str()), (12, "home-score", "+1"));
        assert!(parse_event("x:play").is_err());
        assert!(parse_event("3:").is_err());
    }
}
