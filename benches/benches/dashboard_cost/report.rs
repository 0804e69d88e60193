//! The numbers of one measured phase ([`Window`]), their summary per phase, the
//! dashboard's cost against the target, and the server's share of the machine's load.
//!
//! Owns: the arithmetic and the printing. Must not: measure anything itself.

use std::time::Instant;

use serde_json::Value;
use showrunner_benches::fmt_ratio;

use crate::{Phase, Result};

/// Target: the dashboard's cost in frame time, in % of the frame budget.
const TARGET_PERCENT: f64 = 5.0;

/// What the bench reads at either end of a measured window.
pub struct Reading {
    pub at: Instant,
    /// CPU seconds so far: (whole machine busy, this bench, the server, the browser).
    pub cpu: (f64, f64, f64, Option<f64>),
    /// Monitor pictures received (program, preview) so far.
    pub pictures: [Option<u64>; 2],
    /// (seconds summed, frames) of the frame-loop stages tick, compose_submit, frame.
    pub stages: [(f64, f64); 3],
}

/// One measured phase.
pub struct Window {
    pub phase: Phase,
    /// Per stats event: mean and worst frame time over its second, ms; the show's CPU %.
    frame_means: Vec<f64>,
    frame_maxes: Vec<f64>,
    cpu_percents: Vec<f64>,
    budget_ms: f64,
    late: u64,
    slots: u64,
    encoding: bool,
    seconds: f64,
    /// Cores used over the window, from `/proc`.
    server_cores: f64,
    others_cores: f64,
    browser_cores: Option<f64>,
    /// Monitor pictures received (program, preview) in the window.
    pictures: [Option<u64>; 2],
    /// Mean ms per frame in the stages tick, compose_submit and the whole frame.
    stage_ms: [f64; 3],
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Nearest-rank percentile.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1).copied().unwrap_or(f64::NAN)
}

fn number(stats: &Value, key: &str) -> f64 {
    stats[key].as_f64().unwrap_or(f64::NAN)
}

fn count(stats: &Value, key: &str) -> u64 {
    stats[key].as_u64().unwrap_or(0)
}

impl Window {
    /// `cpu_from`/`cpu_to`: CPU seconds (machine busy, this bench, server, browser).
    pub fn new(phase: Phase, before: Option<Value>, stats: Vec<Value>, from: &Reading, to: &Reading) -> Result<Window> {
        let (Some(first), Some(last)) = (before.as_ref().or(stats.first()), stats.last()) else {
            return Err(format!("no stats event from the show during the {} phase", phase.name()));
        };
        let (seconds, cpu_from, cpu_to) = (to.at.duration_since(from.at).as_secs_f64(), from.cpu, to.cpu);
        let pictures = [0, 1].map(|i| Some(to.pictures[i]?.saturating_sub(from.pictures[i]?)));
        let stage_ms = [0, 1, 2].map(|i| (to.stages[i].0 - from.stages[i].0) * 1000.0 / (to.stages[i].1 - from.stages[i].1));
        let server = cpu_to.2 - cpu_from.2;
        let browser = cpu_to.3.zip(cpu_from.3).map(|(to, from)| to - from);
        let others = (cpu_to.0 - cpu_from.0) - (cpu_to.1 - cpu_from.1) - server - browser.unwrap_or(0.0);
        Ok(Window {
            phase,
            frame_means: stats.iter().map(|s| number(s, "frame_ms_mean")).collect(),
            frame_maxes: stats.iter().map(|s| number(s, "frame_ms_max")).collect(),
            cpu_percents: stats.iter().map(|s| number(s, "cpu_percent")).collect(),
            budget_ms: number(last, "budget_ms"),
            late: count(last, "frames_late").saturating_sub(count(first, "frames_late")),
            slots: count(last, "frame").saturating_sub(count(first, "frame")),
            encoding: stats.iter().any(|s| s["encoding"] == true),
            seconds,
            server_cores: server / seconds,
            others_cores: others.max(0.0) / seconds,
            browser_cores: browser.map(|b| b / seconds),
            pictures,
            stage_ms,
        })
    }

    /// An error if the window cannot say what the dashboard costs.
    pub fn validate(&self) -> Result<()> {
        if self.encoding {
            return Err("an output is on: the encoder's cost would be counted as the dashboard's".into());
        }
        let name = self.phase.name();
        for (which, pictures) in ["program", "preview"].iter().zip(self.pictures) {
            if pictures == Some(0) {
                return Err(format!("the {which} monitor gave no picture during the {name} phase: the dashboard would show nothing"));
            }
        }
        Ok(())
    }

    fn frame_mean(&self) -> f64 {
        mean(&self.frame_means)
    }

    /// One line per window, printed as the run goes.
    pub fn line(&self) -> String {
        let rate = |p: Option<u64>| p.map_or("-".into(), |p| format!("{:.1}", p as f64 / self.seconds));
        format!(
            "frame ms mean {:.2} max {:.2}; late {}/{}; show cpu {:.0} %; serve {:.2} cores, others {:.2}{}; pictures/s {} + {}",
            self.frame_mean(),
            self.frame_maxes.iter().copied().fold(f64::NAN, f64::max),
            self.late,
            self.slots,
            mean(&self.cpu_percents),
            self.server_cores,
            self.others_cores,
            self.browser_cores.map_or(String::new(), |b| format!(", browser {b:.2}")),
            rate(self.pictures[0]),
            rate(self.pictures[1]),
        )
    }
}

/// All windows of one phase taken together.
struct Summary {
    frame_mean: f64,
    frame_max_p95: f64,
    late: u64,
    slots: u64,
    cpu_percent: f64,
    server_cores: f64,
    others_cores: f64,
    browser_cores: Option<f64>,
    pictures_per_s: [Option<f64>; 2],
    budget_ms: f64,
    stage_ms: [f64; 3],
    /// Mean frame time of each window, in the order measured.
    per_window: Vec<f64>,
}

fn summarize(windows: &[&Window]) -> Summary {
    let pooled = |f: fn(&Window) -> &Vec<f64>| windows.iter().flat_map(|w| f(w).iter().copied()).collect::<Vec<f64>>();
    let seconds: f64 = windows.iter().map(|w| w.seconds).sum();
    let weighted = |f: fn(&Window) -> f64| windows.iter().map(|w| f(w) * w.seconds).sum::<f64>() / seconds;
    let pictures = |i: usize| windows.iter().map(|w| w.pictures[i]).sum::<Option<u64>>().map(|p| p as f64 / seconds);
    Summary {
        frame_mean: mean(&pooled(|w| &w.frame_means)),
        frame_max_p95: percentile(&pooled(|w| &w.frame_maxes), 0.95),
        late: windows.iter().map(|w| w.late).sum(),
        slots: windows.iter().map(|w| w.slots).sum(),
        cpu_percent: mean(&pooled(|w| &w.cpu_percents)),
        server_cores: weighted(|w| w.server_cores),
        others_cores: weighted(|w| w.others_cores),
        browser_cores: windows.iter().map(|w| w.browser_cores.map(|b| b * w.seconds)).sum::<Option<f64>>().map(|b| b / seconds),
        pictures_per_s: [pictures(0), pictures(1)],
        budget_ms: windows.first().map_or(f64::NAN, |w| w.budget_ms),
        stage_ms: [0, 1, 2].map(|i| windows.iter().map(|w| w.stage_ms[i] * w.seconds).sum::<f64>() / seconds),
        per_window: windows.iter().map(|w| w.frame_mean()).collect(),
    }
}

fn what(phase: Phase) -> &'static str {
    match phase {
        Phase::Idle => "only the bench's events socket",
        Phase::Dashboard => "page's sockets + polls, no browser",
        Phase::Program => "program monitor socket only",
        Phase::Preview => "preview monitor socket only",
        Phase::Polls => "page's events socket + polls only",
        Phase::Chromium => "the real page in headless Chromium",
    }
}

/// Prints the table per phase, the dashboard's cost against the target, and every
/// other phase against idle.
pub fn print(windows: &[Window], phases: &[Phase]) {
    let summaries: Vec<(Phase, Summary)> = phases.iter().map(|&p| (p, summarize(&windows.iter().filter(|w| w.phase == p).collect::<Vec<_>>()))).collect();
    let rate = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.1}"));
    println!();
    println!("| phase | what | frame ms mean | p95 of per-second max | late / slots | show cpu % | serve cores | other procs cores | pictures/s program, preview |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (phase, s) in &summaries {
        let browser = s.browser_cores.map_or(String::new(), |b| format!(" (+ browser {b:.2})"));
        println!(
            "| {} | {} | {:.3} | {:.2} | {} / {} | {:.1} | {:.2} | {:.2}{browser} | {}, {} |",
            phase.name(),
            what(*phase),
            s.frame_mean,
            s.frame_max_p95,
            s.late,
            s.slots,
            s.cpu_percent,
            s.server_cores,
            s.others_cores,
            rate(s.pictures_per_s[0]),
            rate(s.pictures_per_s[1])
        );
    }
    println!();
    println!("| phase | tick ms | program compose + submit ms | rest of the frame ms (preview monitor, events) | frame ms |");
    println!("|---|---|---|---|---|");
    for (phase, s) in &summaries {
        let [tick, compose, frame] = s.stage_ms;
        println!("| {} | {tick:.3} | {compose:.3} | {:.3} | {frame:.3} |", phase.name(), frame - tick - compose);
    }
    let Some((_, idle)) = summaries.iter().find(|(p, _)| *p == Phase::Idle) else { return };
    println!();
    for (phase, s) in summaries.iter().filter(|(p, _)| *p != Phase::Idle) {
        let cost = (s.frame_mean - idle.frame_mean) / idle.budget_ms * 100.0;
        let differences: Vec<f64> = s.per_window.iter().zip(&idle.per_window).map(|(a, b)| a - b).collect();
        let per_round: Vec<String> = differences.iter().map(|d| format!("{d:+.2}")).collect();
        println!(
            "{} vs idle: frame time {:+.3} ms = {cost:+.2} % of the {:.1} ms budget (per round {} ms, median {:+.2} % of the budget); {} frame time; show cpu {:+.1} points; serve {:+.2} cores",
            phase.name(),
            s.frame_mean - idle.frame_mean,
            idle.budget_ms,
            per_round.join(" "),
            percentile(&differences, 0.5) / idle.budget_ms * 100.0,
            fmt_ratio(s.frame_mean / idle.frame_mean),
            s.cpu_percent - idle.cpu_percent,
            s.server_cores - idle.server_cores,
        );
        if *phase == Phase::Dashboard {
            let verdict = if cost < TARGET_PERCENT { "PASS" } else { "FAIL" };
            println!("target: an open dashboard costs < {TARGET_PERCENT} % of the frame budget: {verdict} ({cost:.2} %); late frames idle {} of {}, dashboard {} of {}", idle.late, idle.slots, s.late, s.slots);
        }
    }
}

/// The server under test is one of the "other processes" the shared run footer
/// counts; its share, printed after that footer.
pub fn print_server_share(server_cores: Option<f64>) {
    if let Some(cores) = server_cores {
        println!("(of those other processes, showrunner serve — the show under test — used {cores:.2} cores; the browser phases' Chromium is in them too)");
    }
}
