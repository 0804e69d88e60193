//! Command-line interface: argument definitions and dispatch.

/// `println!` that ends the process quietly when stdout is closed (e.g. piped into
/// `head`) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }};
}

mod args;
mod check;
mod config_watch;
mod dev;
mod live;
mod live_inputs;
mod live_preview;
mod live_report;
mod new;
mod render;
mod render_out;
mod serve;
mod services;
mod source;
mod ticks;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use showrunner_wasm::{Host, SandboxLimits};

/// Exit code for bad arguments (clap uses it too).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when a module cannot be loaded.
pub const EXIT_REJECTED: u8 = 3;
/// Exit code when a module faulted while running.
pub const EXIT_FAULTED: u8 = 4;

#[derive(Parser, Debug)]
#[command(name = "showrunner", version, about = "Live graphics for streams and broadcasts, with overlays as sandboxed Wasm components.")]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,

    /// Where compiled modules are cached (default: $XDG_CACHE_HOME/showrunner or ~/.cache/showrunner).
    #[arg(long, global = true, env = "SHOWRUNNER_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile every module afresh instead of using the cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Loads a module and prints its world, version, info, props, size and compile time.
    Check(check::CheckArgs),
    /// Runs a module headless for N frames and prints what each frame drew.
    Ticks(ticks::TicksArgs),
    /// Renders a module or a show file offline to a PNG, a PNG sequence or an MP4/MKV,
    /// with the same pixels as live.
    Render(render::RenderArgs),
    /// Plays a module or show file in real time and streams it to RTMP servers and/or
    /// records it, until Ctrl-C or --duration.
    Live(Box<live::LiveArgs>),
    /// Creates a scene project (Rust or AssemblyScript) that builds out of the box,
    /// then prints the commands that build, check and run it.
    New(new::NewArgs),
    /// Builds a scene project, uploads it to a running `showrunner serve` and puts it on a
    /// layer, then rebuilds and hot-swaps it on every saved change until Ctrl-C (--once:
    /// one cycle, exit 0 if the module went live).
    Dev(dev::DevArgs),
    /// Serves the HTTP API (modules, health, OpenAPI) over the embedded show database
    /// until Ctrl-C; settings from --config FILE, SHOWRUNNER_* variables and flags.
    Serve(serve::ConfigArgs),
    /// Prints the settings `serve` would use (defaults, file, environment and flags
    /// applied, the token masked), or the first invalid one.
    Config(serve::ConfigArgs),
}

/// Changes the log filter after start (`serve` applies its `log_level`).
static LOG_FILTER: std::sync::OnceLock<tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>> = std::sync::OnceLock::new();

impl Args {
    /// The trace flags of the commands that can record a trace (`serve`, `live`).
    pub fn trace_args(&self) -> Option<&trace::TraceArgs> {
        match &self.command {
            Command::Serve(a) => Some(&a.trace),
            Command::Live(a) => Some(&a.trace),
            _ => None,
        }
    }
}

pub use trace::{TraceError, TraceRecording};

/// Logs to stderr, filtered by `SHOWRUNNER_LOG` (default `warn`). With `trace` (the
/// commands that can record), also sets up the Chrome-trace recorder, closed, for
/// `POST /api/v1/trace`, and starts the `--trace-out` recording if asked for; its
/// window closes when the returned recording is dropped, at the latest.
pub fn init_logging(trace: Option<&trace::TraceArgs>) -> Result<Option<TraceRecording>, TraceError> {
    use tracing_subscriber::prelude::*;
    let (chrome, recorder) = match trace {
        Some(_) => {
            let (layer, recorder) = trace::layer();
            (Some(layer), Some(recorder))
        }
        None => (None, None),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOWRUNNER_LOG").unwrap_or_else(|_| "warn".into());
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let log = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(filter);
    tracing_subscriber::registry().with(log).with(chrome).init();
    let _ = LOG_FILTER.set(handle);
    let (Some(recorder), Some(args)) = (recorder, trace) else { return Ok(None) };
    showrunner_server::api::trace::install_recorder(Arc::new(recorder.clone()));
    trace::record_to_file(&recorder, args)
}

/// Sets the log level (`error`…`trace`) unless `SHOWRUNNER_LOG` chose the filter.
pub fn set_log_level(level: &str) {
    if std::env::var_os("SHOWRUNNER_LOG").is_some() {
        return;
    }
    if let (Some(handle), Ok(filter)) = (LOG_FILTER.get(), tracing_subscriber::EnvFilter::try_new(level))
        && let Err(e) = handle.reload(filter)
    {
        eprintln!("warning: cannot change the log level: {e}");
    }
}

/// Wall-clock cap of offline guest calls, in multiples of their CPU-time deadline.
const OFFLINE_WALL_CAP_FACTOR: u32 = 1000;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cache = if args.no_cache { None } else { Some(args.cache_dir.clone().unwrap_or_else(default_cache_dir)) };
    let services = services::RenderServices::new();
    let host = |limits| -> anyhow::Result<Arc<Host>> { Ok(Host::new(limits, cache.clone(), Arc::new(services.clone()))?) };
    // Offline commands run on the frame clock, not the wall clock: a busy machine may
    // slow them down but must not change what they produce, so a call that cannot get
    // the CPU waits far longer before it is ended (its CPU-time budget is unchanged).
    let offline = SandboxLimits { wall_cap_factor: OFFLINE_WALL_CAP_FACTOR, ..SandboxLimits::default() };
    match args.command {
        Command::Check(a) => check::run(&a, host(SandboxLimits::default())?),
        Command::Ticks(a) => ticks::run(&a, host(offline)?),
        Command::Render(a) => render::run(&a, host(offline)?, &services),
        Command::Live(a) => live::run(&a, host(SandboxLimits::default())?, &services),
        Command::New(a) => new::run(&a),
        Command::Dev(a) => dev::run(&a),
        Command::Serve(a) => serve::serve(&a, host(SandboxLimits::default())?, &services),
        Command::Config(a) => serve::print_config(&a),
    }
}

fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("showrunner").join("modules")
}

/// Reads and loads a module. `None` if the host rejected it; the one-line reason is
/// printed. An unreadable file is an error.
fn load_module(host: &Arc<Host>, path: &std::path::Path) -> anyhow::Result<Option<Arc<showrunner_wasm::LoadedModule>>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    match host.load(&bytes) {
        Ok(module) => Ok(Some(module)),
        Err(e) => {
            eprintln!("{}: rejected: {e}", path.display());
            Ok(None)
        }
    }
}
