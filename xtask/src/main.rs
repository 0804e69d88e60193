//! `cargo xtask`: the project's two main commands (`demo`, `test`) and what they
//! need first. Every command runs `setup` itself, which is idempotent: it installs
//! only what is missing (apt packages, the wasm32-wasip2 target) and builds the
//! guest modules (example scenes and test guests): Rust crates to Wasm components,
//! AssemblyScript projects (folders with a package.json) to core modules.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod live_demo;

/// Debian packages the project needs at build, test or run time, each with the
/// command it provides: a package whose command is already on PATH (Node installed
/// some other way, say) is not installed again.
const APT_PACKAGES: &[(&str, Option<&str>)] = &[
    ("pkg-config", Some("pkg-config")),
    ("ca-certificates", None),
    // AssemblyScript guests (`npm ci`, `npm run build`); AssemblyScript 0.28 wants Node 20+.
    ("nodejs", Some("node")),
    ("npm", Some("npm")),
    // The renderer's Vulkan driver: Mesa lavapipe on hosts without a GPU. No command to
    // look for, so dpkg decides whether they are installed.
    ("libvulkan1", None),
    ("mesa-vulkan-drivers", None),
    // showrunner-media: GStreamer headers and .pc files to build the gstreamer crates.
    ("libgstreamer1.0-dev", None),
    ("libgstreamer-plugins-base1.0-dev", None),
    // GStreamer elements the encoder pipelines use: appsrc, videoconvert (base),
    // mp4mux, matroskamux, flvmux (good), h264parse, rtmp2sink (bad), x264enc (ugly).
    ("gstreamer1.0-plugins-base", None),
    ("gstreamer1.0-plugins-good", None),
    ("gstreamer1.0-plugins-bad", None),
    ("gstreamer1.0-plugins-ugly", None),
    // avdec_h264 and the other FFmpeg decoders for live inputs (files, RTMP ingest).
    ("gstreamer1.0-libav", None),
    // gst-inspect-1.0 / gst-launch-1.0 to check an install by hand.
    ("gstreamer1.0-tools", Some("gst-launch-1.0")),
    // ffprobe and ffmpeg read encoded files back in the media tests.
    ("ffmpeg", Some("ffprobe")),
    // The live-output tests start a throwaway nginx-rtmp on a loopback port to publish to.
    ("nginx-light", Some("nginx")),
    ("libnginx-mod-rtmp", None),
    // showrunner-cluster's tests start a throwaway redis-server on a loopback port.
    ("redis-server", Some("redis-server")),
    // The dashboard test drives headless Chromium over the DevTools protocol.
    ("chromium", Some("chromium")),
    // tools/linker links native binaries with mold when it is here: a test binary (each
    // holds wasmtime, wgpu and GStreamer) relinks in seconds instead of a minute.
    ("mold", Some("mold")),
];
const WASM_TARGET: &str = "wasm32-wasip2";
/// Cargo profile the guest modules are built with (see the root Cargo.toml).
const GUEST_PROFILE: &str = "guest";
/// Folders whose crates are guest modules. Test guests come first: one of them links
/// an example scene as a library, which rewrites that scene's .wasm without its
/// exports, so the example scenes must be built (and their .wasm written) after.
const GUEST_DIRS: &[&str] = &["tests/guests", "example-scenes"];

#[derive(Parser)]
#[command(about = "showrunner project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install missing system packages and the wasm target; build guest modules.
    Setup,
    /// Build the example scenes and test guests to Wasm components.
    BuildScenes,
    /// The main job: set up, check and run every example scene, render the demo show to
    /// an MP4, then stream it live to a local nginx-rtmp until Ctrl-C.
    Demo {
        /// Stop the live stream after this long (e.g. 30s) instead of at Ctrl-C.
        #[arg(long = "live-for", value_parser = parse_seconds)]
        live_for: Option<Duration>,
        /// Skip the live stream.
        #[arg(long)]
        no_live: bool,
    },
    /// Set up, then run every test.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Set up, then run the benchmarks (they print ratios measured in one run).
    Bench,
}

fn main() -> Result<()> {
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match Cli::parse().task {
        Task::Setup => setup(&root).map(drop),
        Task::BuildScenes => build_scenes(&root).map(drop),
        Task::Demo { live_for, no_live } => demo(&root, if no_live { None } else { Some(live_for) }),
        Task::Test { args } => test(&root, &args),
        Task::Bench => bench(&root),
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).context("xtask is not inside the workspace")
}

fn step(what: &str) {
    eprintln!("\x1b[1m==> {what}\x1b[0m");
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("cannot start {cmd:?}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn setup(root: &Path) -> Result<Vec<PathBuf>> {
    install_apt_packages()?;
    install_wasm_target()?;
    build_scenes(root)
}

/// Is `command` an executable file in one of PATH's folders?
fn on_path(command: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else { return false };
    std::env::split_paths(&path).any(|dir| {
        let file = dir.join(command);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            file.is_file()
        }
    })
}

fn install_apt_packages() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .filter(|(_, command)| !command.is_some_and(on_path))
        .map(|(package, _)| *package)
        .filter(|p| {
            let status = output(Command::new("dpkg-query").args(["-W", "-f=${Status}", p])).unwrap_or_default();
            !status.contains("install ok installed")
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    step(&format!("installing system packages: {}", missing.join(" ")));
    let root = output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false);
    let sudo: &[&str] = if root { &[] } else { &["sudo", "-n"] };
    let apt = |args: &[&str]| -> Result<()> {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        run(Command::new(all[0]).args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive"))
            .with_context(|| format!("installing {} needs root (or passwordless sudo) and apt", missing.join(" ")))
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    apt(&install)
}

fn install_wasm_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).context("rustup is needed to add the wasm target")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    step(&format!("adding the {WASM_TARGET} target"));
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Package names of every guest crate.
fn guest_packages(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for dir in GUEST_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("Cargo.toml").exists()).collect();
        dirs.sort();
        for d in dirs {
            let manifest = std::fs::read_to_string(d.join("Cargo.toml"))?;
            let name = manifest
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = ").map(|v| v.trim_matches('"').to_string()))
                .with_context(|| format!("{} has no package name", d.display()))?;
            names.push(name);
        }
    }
    Ok(names)
}

/// Where built guest components land.
fn guest_dir(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    target.join(WASM_TARGET).join(GUEST_PROFILE)
}

fn build_scenes(root: &Path) -> Result<Vec<PathBuf>> {
    let packages = guest_packages(root)?;
    step(&format!("building {} guest modules for {WASM_TARGET}", packages.len()));
    let started = Instant::now();
    // One cargo run per package: built together, cargo would unify features, and a
    // guest that links another scene as a library (without its exports) would then
    // get that scene's exports too.
    for p in &packages {
        run(Command::new(env!("CARGO")).args(["build", "--quiet", "--profile", GUEST_PROFILE, "--target", WASM_TARGET, "-p", p]))?;
    }
    let dir = guest_dir(root);
    let mut built = Vec::new();
    for p in &packages {
        let path = dir.join(format!("{}.wasm", p.replace('-', "_")));
        let size = std::fs::metadata(&path).with_context(|| format!("{} was not built", path.display()))?.len();
        eprintln!("    {:<28} {:>7} KiB", p, size / 1024);
        built.push(path);
    }
    eprintln!("    built in {:.1}s into {}", started.elapsed().as_secs_f64(), dir.display());
    built.extend(build_assemblyscript_guests(root)?);
    Ok(built)
}

/// Folders of AssemblyScript guests: those under the guest folders with a package.json.
fn assemblyscript_guests(root: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in GUEST_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("package.json").is_file()).collect();
        dirs.sort();
        all.extend(dirs);
    }
    all
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `npm ci` is needed when node_modules is missing or older than package-lock.json
/// (npm rewrites node_modules/.package-lock.json on every install).
fn needs_npm_install(project: &Path) -> bool {
    let modules = project.join("node_modules");
    let installed = modified(&modules.join(".package-lock.json")).or_else(|| modified(&modules));
    match (installed, modified(&project.join("package-lock.json"))) {
        (None, _) => true,
        (Some(installed), Some(lock)) => lock > installed,
        (Some(_), None) => false,
    }
}

/// Builds every AssemblyScript guest with its own `npm run build`, which writes the
/// module under the project's build/ folder; returns the .wasm files it wrote.
fn build_assemblyscript_guests(root: &Path) -> Result<Vec<PathBuf>> {
    let projects = assemblyscript_guests(root);
    if projects.is_empty() {
        return Ok(Vec::new());
    }
    step(&format!("building {} AssemblyScript guest modules (core ABI v1)", projects.len()));
    let node = output(Command::new("node").arg("--version"))
        .context("node is needed to build AssemblyScript guests (`cargo xtask setup` installs it)")?;
    let major = node.trim().trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
    if major < 20 {
        eprintln!("    warning: node {} found; AssemblyScript 0.28 wants Node 20 or newer", node.trim());
    }
    let started = Instant::now();
    let mut built = Vec::new();
    for project in &projects {
        let name = project.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if needs_npm_install(project) {
            run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(project))
                .with_context(|| format!("npm ci in {} (npm is needed for AssemblyScript guests; `cargo xtask setup` installs it)", project.display()))?;
        }
        // Whatever this build writes under build/ is newer than this (with slack for
        // file systems that keep coarse modification times).
        let since = SystemTime::now() - Duration::from_secs(2);
        run(Command::new("npm").args(["run", "--silent", "build"]).current_dir(project))
            .with_context(|| format!("building the AssemblyScript guest in {}", project.display()))?;
        let out_dir = project.join("build");
        let mut wasm: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .with_context(|| format!("`npm run build` in {} wrote no build/ folder", project.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && modified(p).is_some_and(|m| m >= since))
            .collect();
        wasm.sort();
        if wasm.is_empty() {
            bail!("`npm run build` in {} wrote no .wasm under build/", project.display());
        }
        for path in wasm {
            let size = std::fs::metadata(&path)?.len();
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default();
            eprintln!("    {:<28} {:>7} KiB  ({file})", name, size / 1024);
            built.push(path);
        }
    }
    eprintln!("    built in {:.1}s", started.elapsed().as_secs_f64());
    Ok(built)
}

fn showrunner_bin(root: &Path) -> Result<PathBuf> {
    step("building the showrunner binary");
    run(Command::new(env!("CARGO")).args(["build", "--quiet", "--release", "-p", "showrunner"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    Ok(target.join("release").join("showrunner"))
}

/// `live`: None skips the live stream; Some(None) streams until Ctrl-C.
fn demo(root: &Path, live: Option<Option<Duration>>) -> Result<()> {
    let modules = setup(root)?;
    let bin = showrunner_bin(root)?;
    // The example scenes: Rust components, and AssemblyScript ones from example-scenes/.
    let examples: Vec<&PathBuf> = modules
        .iter()
        .filter(|m| {
            let name = m.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            name.starts_with("scene_") || name.starts_with("transition_") || m.starts_with(root.join("example-scenes"))
        })
        .collect();
    for module in examples {
        step(module.file_name().and_then(|f| f.to_str()).unwrap_or_default());
        run(Command::new(&bin).arg("check").arg(module))?;
        let transition = module.file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.starts_with("transition_"));
        let mut ticks = Command::new(&bin);
        ticks.arg("ticks").arg(module).args(["--frames", "90", "--every", "15"]);
        if !transition {
            ticks.args(["--event", "0:play", "--event", "45:next"]);
        }
        run(&mut ticks)?;
    }
    // The demo show: every example overlay in two scenes, a crossfade and a wipe,
    // rendered offline through the engine and compositor to an MP4.
    let out = root.join("target/demo");
    let video = out.join("demo-show.mp4");
    step("rendering the demo show (example-scenes/demo-show.toml)");
    run(Command::new(&bin).arg("render").arg(root.join("example-scenes/demo-show.toml")).arg("--out").arg(&video))?;
    let still = out.join("lower-third.png");
    let lower_third = modules.iter().find(|m| m.file_stem().is_some_and(|s| s == "scene_lower_third"));
    if let Some(module) = lower_third {
        step("rendering one lower third frame");
        run(Command::new(&bin).arg("render").arg(module).args(["--event", "0.2s:play", "--duration", "2s", "--size", "1280x720", "--out"]).arg(&still))?;
    }
    eprintln!("\nThe demo show is at {} (watch it with `ffplay {}` or any video player).", video.display(), video.display());
    eprintln!("A lower third frame is at {}.", still.display());
    eprintln!(
        "Next: `showrunner render MODULE.wasm --event 0.5s:play --out frames/%05d.png`, \
         `showrunner ticks MODULE.wasm --frames 60 --event 0:play --json`, or edit a scene in example-scenes/ and run `cargo xtask build-scenes`."
    );
    match live {
        Some(duration) => live_demo::run(&bin, root, duration),
        None => Ok(()),
    }
}

/// `30s`, `90` (seconds) or `2m`.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a duration like 30s, 2m or 90");
    let (number, unit) = match s.strip_suffix('m') {
        Some(n) => (n, 60),
        None => (s.strip_suffix('s').unwrap_or(s), 1),
    };
    number.parse::<u64>().map(|n| Duration::from_secs(n * unit)).map_err(|_| bad())
}

fn test(root: &Path, args: &[String]) -> Result<()> {
    setup(root)?;
    step("running the tests");
    run(Command::new(env!("CARGO")).args(["test", "--release", "--workspace"]).args(args))?;
    if !args.is_empty() {
        // A filtered run is for the Rust tests only.
        return Ok(());
    }
    step("testing the AssemblyScript SDK (npm test)");
    let sdk = root.join("guest-sdk/assemblyscript");
    if needs_npm_install(&sdk) {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&sdk))?;
    }
    run(Command::new("npm").args(["test"]).current_dir(&sdk))
}

fn bench(root: &Path) -> Result<()> {
    setup(root)?;
    step("running the benchmarks");
    run(Command::new(env!("CARGO")).args(["bench", "-p", "showrunner-benches"]))
}
