//! Dashboard cost benchmark: what leaving the dashboard open costs a live show's
//! frame time, on the real `showrunner serve` at 1920×1080, 30 fps (see "Benchmarks,
//! not timed tests" in DESIGN.md).
//!
//! Run: `cargo xtask build-scenes`, then `cargo bench -p showrunner-benches --bench
//! dashboard_cost` (about 4 minutes on 2 cores). Without `--bench` (e.g. under `cargo
//! test --all-targets`) it does a quick smoke run at 320×180 whose numbers mean nothing.
//! Environment: `DASHBOARD_COST_SECONDS` (measured seconds per phase, default 15),
//! `DASHBOARD_COST_ROUNDS` (default 4), `DASHBOARD_COST_WARMUP` (seconds, default 10),
//! `DASHBOARD_COST_PHASES` (default `idle,dashboard,chromium`; also `program`,
//! `preview`, `polls` for a breakdown), `CHROMIUM` (the browser; the `chromium` phase
//! is skipped without one).
//!
//! The show: program `main` with a lower third, a scoreboard and a ticker, all played;
//! scene `next` with a running clock on preview; no output (the encoder's cost is not
//! the dashboard's). Its `stats` event (once a second on `/api/v1/ws`) gives the frame
//! time: the frame thread's work per frame, the preview monitor's compositing included.
//! The phases, alternated in every round (the order reversed every other round) so
//! drift cancels out, each given a few seconds to settle before it is measured (longer
//! than a monitor's 3 s watch hold):
//! - `idle`: nobody watching but the bench's own events socket, which any monitoring
//!   setup has open anyway;
//! - `dashboard`: what the page does, without a browser: its own events socket, both
//!   monitor sockets (`/api/v1/monitors/{program,preview}/ws`, every JPEG read, not
//!   decoded) and its polls (`GET /show` every second, `/outputs` and `/inputs` every 2 s);
//! - `program`, `preview`, `polls`: one part of `dashboard` each;
//! - `chromium`: the real page in headless Chromium on the same machine, started for
//!   the phase and ended after it; the browser's own CPU is reported on its own.
//!
//! Printed per phase: mean frame time, p95 of the per-second worst frame, late slots,
//! the show's `cpu_percent`, the server's and other processes' cores (`/proc`) and
//! monitor pictures per second; then the target, the dashboard's cost = (mean frame
//! time dashboard − idle) ÷ frame budget < 5 % (PASS/FAIL, exit 0), the ratio and the
//! CPU difference. A server that does not start, a failed poll, a broken socket or a
//! dashboard phase without pictures exits non-zero. Owns its server, browser and data
//! dir; must not time anything a client would not see.

#[path = "dashboard_cost/chromium.rs"]
mod chromium;
#[path = "dashboard_cost/report.rs"]
mod report;
#[path = "dashboard_cost/server.rs"]
mod server;
#[path = "dashboard_cost/sockets.rs"]
mod sockets;

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use showrunner_benches::machine::{cpu_seconds, load_average};
use showrunner_benches::serve::{Server, StatsFeed, bench_main, build_showrunner, print_run_end};
use showrunner_benches::{guest_dir, workspace_root};

use crate::report::{Reading, Window};
use crate::server::{frame_stages, process_cpu};
use crate::sockets::Client;

type Result<T> = std::result::Result<T, String>;

/// What runs during a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Dashboard,
    Program,
    Preview,
    Polls,
    Chromium,
}

impl Phase {
    const ALL: [Phase; 6] = [Phase::Idle, Phase::Dashboard, Phase::Program, Phase::Preview, Phase::Polls, Phase::Chromium];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Dashboard => "dashboard",
            Phase::Program => "program",
            Phase::Preview => "preview",
            Phase::Polls => "polls",
            Phase::Chromium => "chromium",
        }
    }

    fn parse(name: &str) -> Result<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name.trim()).ok_or_else(|| format!("DASHBOARD_COST_PHASES: unknown phase {name:?} (known: idle, dashboard, program, preview, polls, chromium)"))
    }
}

struct Plan {
    width: u32,
    height: u32,
    rounds: usize,
    measure: Duration,
    /// Before each phase is measured (and before a browser phase: `browser_settle`).
    settle: Duration,
    browser_settle: Duration,
    warm_up: Duration,
    phases: Vec<Phase>,
}

fn env_number(name: &str, default: f64) -> Result<f64> {
    match std::env::var(name) {
        Ok(text) => text.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| format!("{name}={text:?} is not a number ≥ 0")),
        Err(_) => Ok(default),
    }
}

fn plan(full: bool) -> Result<Plan> {
    if !full {
        let phases = vec![Phase::Idle, Phase::Dashboard];
        return Ok(Plan { width: 320, height: 180, rounds: 1, measure: Duration::from_secs(2), settle: Duration::from_millis(1500), browser_settle: Duration::ZERO, warm_up: Duration::from_secs(2), phases });
    }
    let phases = match std::env::var("DASHBOARD_COST_PHASES") {
        Ok(list) => list.split(',').map(Phase::parse).collect::<Result<Vec<_>>>()?,
        Err(_) => vec![Phase::Idle, Phase::Dashboard, Phase::Chromium],
    };
    let measure = env_number("DASHBOARD_COST_SECONDS", 15.0)?.max(1.0);
    let rounds = env_number("DASHBOARD_COST_ROUNDS", 4.0)?.max(1.0) as usize;
    let warm_up = env_number("DASHBOARD_COST_WARMUP", 10.0)?;
    Ok(Plan { width: 1920, height: 1080, rounds, measure: Duration::from_secs_f64(measure), settle: Duration::from_secs(4), browser_settle: Duration::from_secs(8), warm_up: Duration::from_secs_f64(warm_up), phases })
}

/// The clients of one phase.
#[derive(Default)]
struct Watching {
    program: Option<Client>,
    preview: Option<Client>,
    others: Vec<Client>,
    browser: Option<chromium::Browser>,
}

impl Watching {
    fn start(phase: Phase, port: u16, chromium: Option<&PathBuf>) -> Result<Watching> {
        let monitor = |which: &str| Client::websocket(port, &format!("/monitors/{which}/ws")).map(Some);
        let page_events = || Client::websocket(port, "/ws");
        Ok(match phase {
            Phase::Idle => Watching::default(),
            Phase::Dashboard => Watching { program: monitor("program")?, preview: monitor("preview")?, others: vec![page_events()?, Client::poller(port)], browser: None },
            Phase::Program => Watching { program: monitor("program")?, ..Watching::default() },
            Phase::Preview => Watching { preview: monitor("preview")?, ..Watching::default() },
            Phase::Polls => Watching { others: vec![page_events()?, Client::poller(port)], ..Watching::default() },
            Phase::Chromium => {
                let chromium = chromium.ok_or("the chromium phase needs Chromium")?;
                Watching { browser: Some(chromium::Browser::open(chromium, port)?), ..Watching::default() }
            }
        })
    }

    /// Pictures received (program, preview) so far: by the sockets, or drawn by the page.
    fn pictures(&mut self) -> Result<[Option<u64>; 2]> {
        if let Some(browser) = &mut self.browser {
            return Ok([Some(browser.pictures_drawn("program")?), Some(browser.pictures_drawn("preview")?)]);
        }
        Ok([self.program.as_ref().map(Client::pictures), self.preview.as_ref().map(Client::pictures)])
    }

    /// An error if a socket broke or a poll failed.
    fn check(&self) -> Result<()> {
        for client in self.program.iter().chain(&self.preview).chain(&self.others) {
            if client.broken() {
                return Err("a dashboard socket closed while the phase ran".into());
            }
            if client.counts.polls_failed.load(Ordering::Relaxed) > 0 {
                return Err("a dashboard poll did not answer 200".into());
            }
        }
        Ok(())
    }
}

/// CPU seconds so far: (whole machine busy, this bench, the server, the browser).
fn cpu_now(server_pid: u32, watching: &Watching) -> (f64, f64, f64, Option<f64>) {
    let (busy, own) = cpu_seconds().unwrap_or((f64::NAN, f64::NAN));
    (busy, own, process_cpu(server_pid).unwrap_or(f64::NAN), watching.browser.as_ref().map(chromium::Browser::cpu_seconds))
}

fn read(server: &Server, watching: &mut Watching) -> Result<Reading> {
    Ok(Reading { at: Instant::now(), cpu: cpu_now(server.pid(), watching), pictures: watching.pictures()?, stages: frame_stages(&server.api)? })
}

fn measure(phase: Phase, plan: &Plan, server: &Server, log: &StatsFeed, chromium: Option<&PathBuf>) -> Result<Window> {
    let mut watching = Watching::start(phase, server.port(), chromium)?;
    std::thread::sleep(if phase == Phase::Chromium { plan.browser_settle } else { plan.settle });
    let from = read(server, &mut watching)?;
    std::thread::sleep(plan.measure);
    let to = read(server, &mut watching)?;
    watching.check()?;
    drop(watching);
    let (before, stats) = log.between(from.at, to.at);
    Window::new(phase, before, stats, &from, &to)
}

fn run(full: bool) -> Result<()> {
    let mut plan = plan(full)?;
    let chromium = chromium::find();
    if chromium.is_none() && plan.phases.contains(&Phase::Chromium) {
        println!("dashboard_cost: Chromium not found (`apt-get install chromium` or CHROMIUM=/path/to/chrome): skipping the chromium phase");
        plan.phases.retain(|p| *p != Phase::Chromium);
    }
    if !plan.phases.contains(&Phase::Idle) {
        return Err("DASHBOARD_COST_PHASES must include `idle`, the baseline".into());
    }
    let binary = build_showrunner()?;
    let (started, cpu_at_start) = (Instant::now(), cpu_seconds());
    let names: Vec<&str> = plan.phases.iter().map(|p| p.name()).collect();
    let browser_settle = if plan.phases.contains(&Phase::Chromium) { format!(" ({:.0} s for chromium)", plan.browser_settle.as_secs_f64()) } else { String::new() };
    println!(
        "dashboard_cost: showrunner serve at {}x{} 30 fps, no output; {} round(s) of [{}], {:.0} s measured each after {:.1} s to settle{browser_settle}; load average at start: {}",
        plan.width,
        plan.height,
        plan.rounds,
        names.join(", "),
        plan.measure.as_secs_f64(),
        plan.settle.as_secs_f64(),
        load_average()
    );
    let server = Server::start(&binary, &server::config(plan.width, plan.height))?;
    server::set_up_show(&server.api, &guest_dir(&workspace_root()))?;
    let log = StatsFeed::start(&server.api, Duration::from_millis(200), |_, _| ControlFlow::Continue(()))?;
    // Warm-up with the dashboard open: the preview compositor and the JPEG encoders start.
    let warm = Watching::start(Phase::Dashboard, server.port(), None)?;
    std::thread::sleep(plan.warm_up);
    drop(warm);

    let mut windows = Vec::new();
    for round in 0..plan.rounds {
        let mut order = plan.phases.clone();
        if round % 2 == 1 {
            order.reverse();
        }
        for phase in order {
            let window = measure(phase, &plan, &server, &log, chromium.as_ref())?;
            println!("  round {} {:<10} {}", round + 1, phase.name(), window.line());
            window.validate()?;
            windows.push(window);
        }
    }
    // The server started after `started`: all its CPU time falls in the run.
    let server_cores = process_cpu(server.pid()).map(|cpu| cpu / started.elapsed().as_secs_f64());
    report::print(&windows, &plan.phases);
    print_run_end("dashboard_cost", full, started, cpu_at_start);
    report::print_server_share(server_cores);
    Ok(())
}

fn main() -> ExitCode {
    bench_main("dashboard_cost", run)
}
