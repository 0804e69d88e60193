//! The `showrunner` command: inspect and run scene modules.
//!
//! Exit codes: 0 success, 1 an I/O or setup error, 2 bad arguments,
//! 3 the module was rejected (not loadable), 4 the module faulted while running.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    quiet_headless_vulkan();
    let args = cli::Args::parse();
    // Held until the end of `main`: dropping it closes the trace file.
    let _trace = match cli::init_logging(args.trace_args()) {
        Ok(trace) => trace,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Mesa's Vulkan device-select layer tries to reach a display server to pick a
/// default GPU and prints "XDG_RUNTIME_DIR is invalid" on headless machines. The
/// renderer picks its adapter itself, so without a display the layer is switched off.
fn quiet_headless_vulkan() {
    let headless = ["WAYLAND_DISPLAY", "DISPLAY"].iter().all(|v| std::env::var_os(v).is_none());
    if headless && std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists, so
        // nothing can read the environment concurrently.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}
