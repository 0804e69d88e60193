//! Scene benchmarks: what running overlays as sandboxed Wasm components costs, measured
//! against a baseline in the same run (see "Benchmarks, not timed tests" in DESIGN.md).
//!
//! Run: `cargo xtask bench`, or `cargo xtask build-scenes` then
//! `cargo bench -p showrunner-benches`. Without `--bench` (e.g. under
//! `cargo test --all-targets`) it does a quick smoke run whose numbers mean nothing.
//!
//! It measures, in one process, and prints as tables followed by one verdict line
//! per target:
//!
//! 1. **Tick cost** of every example scene (lower-third, scoreboard, ticker, clock,
//!    alert) and transition (crossfade, wipe, push, through `mix`) at 1920×1080,
//!    30 fps, consecutive frames, in a visible state (played, past the
//!    in-animation, alerts queued, a headline in the ticker). Three paths tick the
//!    same frames in lock step, interleaved batch by batch:
//!    - *wasm*: `SceneInstance::tick` / `TransitionInstance::mix` on the built
//!      component: epoch deadline, guest code in Wasm, canonical-ABI lowering and
//!      lifting, conversion to `showrunner-core` and validation;
//!    - *native*: the same scene crate linked natively, ticked through
//!      `showrunner_guest::Scene` / `Transition` into a `Canvas` (host functions
//!      use the SDK's native fallbacks): scene code only, no conversion, no
//!      validation;
//!    - *native+host*: native plus the host's conversion and validation (a native
//!      twin of `runtime/wasm/src/convert.rs`, then `showrunner_core::validate`),
//!      so wasm ÷ (native+host) isolates what the sandbox itself costs.
//!
//!    Targets: the lower third under 50 µs per tick and at most 2× native.
//! 2. **Instantiation** from the pre-instance: median and p99 of
//!    `SceneInstance::new` (target < 100 µs) and of instantiate + `init`.
//! 3. **Compile time** of the lower third: a cold `Host::load` (no cache) against a
//!    load that hits the on-disk compile cache in a fresh `Host`.
//!
//! Ticks and instantiation run on one `Host` with the default budgets except the
//! call deadlines, loosened to a second so that a call preempted on a busy machine is
//! not reported as a fault (setting a deadline costs the same whatever its value).
//! Timing is `std::time::Instant`; ticks are timed in batches of consecutive frames
//! so the timer's own cost stays negligible next to a native tick. A failed target
//! prints FAIL but exits 0; a missing component or a guest fault exits non-zero.
//! The whole run takes well under a minute on 2 cores.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_benches::{convert, fmt_ratio, fmt_us, guest_dir, guest_file, micros, newest_mtime, summarize};
use showrunner_core as core;
use showrunner_guest::{self as guest, Canvas, Props, Scene, Transition};
use showrunner_wasm::{GuestLog, Host, LoadedModule, NoAssets, SandboxLimits, SceneInstance, TransitionInstance, World};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const FPS: u32 = 30;
/// Frames of one transition (progress runs 0..=1 over them, then starts again).
const TRANSITION_FRAMES: u64 = 30;

/// Target: a lower-third tick in Wasm, median.
const TICK_TARGET_US: f64 = 50.0;
/// Target: Wasm tick ÷ native tick for the lower third.
const RATIO_TARGET: f64 = 2.0;
/// Target: `SceneInstance::new`, median.
const INSTANTIATE_TARGET_US: f64 = 100.0;

type Result<T> = std::result::Result<T, String>;

/// How much to measure.
#[derive(Clone, Copy)]
struct Plan {
    /// Untimed frames before measuring: past every in-animation.
    warmup_frames: u64,
    /// Timed batches per path.
    rounds: usize,
    /// Consecutive frames per timed batch.
    batch: u64,
    /// Timed instantiations per module (and as many instantiate+init).
    instantiations: usize,
    /// Timed loads per compile variant.
    loads: usize,
}

const FULL: Plan = Plan { warmup_frames: 90, rounds: 2000, batch: 16, instantiations: 2000, loads: 7 };
const QUICK: Plan = Plan { warmup_frames: 90, rounds: 4, batch: 4, instantiations: 10, loads: 1 };

// ---------------------------------------------------------------------------------
// What each example module is set up with

#[derive(Clone)]
enum Val {
    Text(String),
    Number(f64),
    Flag(bool),
}

impl Val {
    fn to_core(&self) -> core::PropValue {
        match self {
            Val::Text(s) => core::PropValue::Text(s.clone()),
            Val::Number(n) => core::PropValue::Number(*n),
            Val::Flag(b) => core::PropValue::Flag(*b),
        }
    }
    fn to_guest(&self) -> guest::PropValue {
        match self {
            Val::Text(s) => guest::PropValue::Text(s.clone()),
            Val::Number(n) => guest::PropValue::Number(*n),
            Val::Flag(b) => guest::PropValue::Flag(*b),
        }
    }
}

/// Props (over the defaults) and events that put a scene on screen.
#[derive(Clone, Default)]
struct Setup {
    props: Vec<(&'static str, Val)>,
    events: Vec<(String, String)>,
}

fn event(name: &str, payload: &str) -> (String, String) {
    (name.to_string(), payload.to_string())
}

/// One example module: its crate (which names the component) and how to set it up.
struct Example {
    label: &'static str,
    crate_name: &'static str,
    dir: &'static str,
    world: World,
    setup: Setup,
    /// False for the baseline row: a scene that draws nothing, so its tick is the
    /// fixed cost of a call into the sandbox.
    visible: bool,
}

fn examples() -> Vec<Example> {
    let scene = |label, crate_name, dir, setup| Example { label, crate_name, dir, world: World::Scene, setup, visible: true };
    let transition = |label, crate_name, dir| Example { label, crate_name, dir, world: World::Transition, setup: Setup::default(), visible: true };
    let headline = "Markets close higher as tech rallies — storms expected across the north tonight — \
                    tickets for Saturday's final on sale at 10:00";
    vec![
        scene("lower-third", "scene-lower-third", "lower-third", Setup { events: vec![event("play", "")], ..Setup::default() }),
        // Never played: returns an empty list. The floor every tick pays.
        Example { visible: false, ..scene("lower-third hidden", "scene-lower-third", "lower-third", Setup::default()) },
        scene(
            "scoreboard",
            "scene-scoreboard",
            "scoreboard",
            Setup { events: vec![event("play", ""), event("home-score", "+2"), event("away-score", "1")], ..Setup::default() },
        ),
        scene("ticker", "scene-ticker", "ticker", Setup { props: vec![("text", Val::Text(headline.into()))], events: vec![event("play", "")] }),
        scene(
            "clock",
            "scene-clock",
            "clock",
            Setup {
                props: vec![("mode", Val::Text("up".into())), ("label", Val::Text("2ND HALF".into())), ("autostart", Val::Flag(true))],
                events: vec![],
            },
        ),
        scene(
            "alert",
            "scene-alert",
            "alert",
            Setup {
                // 32 queued messages of 60 s each outlast every frame ticked here.
                props: vec![("duration", Val::Number(60.0))],
                events: (0..32).map(|i| event("alert", &format!("New follower: viewer_{i:02} — thanks for the follow!"))).collect(),
            },
        ),
        transition("crossfade", "transition-crossfade", "crossfade"),
        transition("wipe", "transition-wipe", "wipe"),
        transition("push", "transition-push", "push"),
    ]
}

fn core_frame(index: u64) -> core::FrameInfo {
    core::FrameInfo::at(index, WIDTH, HEIGHT, FPS, 1)
}

fn guest_frame(index: u64) -> guest::FrameInfo {
    let f = core_frame(index);
    guest::FrameInfo { index: f.index, time: f.time, width: f.width, height: f.height, fps_num: f.fps_num, fps_den: f.fps_den }
}

fn progress(index: u64) -> f32 {
    (index % TRANSITION_FRAMES) as f32 / (TRANSITION_FRAMES - 1) as f32
}

/// The module's defaults with `setup`'s props over them, as the layer runner passes
/// them to `init`.
fn init_props(module: &LoadedModule, setup: &Setup) -> Vec<core::Prop> {
    let mut props: Vec<core::Prop> = module.info.props.iter().map(|s| core::Prop { name: s.name.clone(), value: s.default.clone() }).collect();
    for (name, value) in &setup.props {
        match props.iter_mut().find(|p| p.name == *name) {
            Some(p) => p.value = value.to_core(),
            None => props.push(core::Prop { name: name.to_string(), value: value.to_core() }),
        }
    }
    props
}

fn guest_log(module: &LoadedModule, limits: &SandboxLimits) -> GuestLog {
    GuestLog::new(format!("bench {}", module.info.name), limits.log_lines_per_call, limits.log_line_bytes)
}

// ---------------------------------------------------------------------------------
// The three tick paths of one module

/// One module ticked three ways; every method ticks frame `index` of its own path.
trait Ticked {
    fn wasm(&mut self, index: u64) -> Result<usize>;
    fn native(&mut self, index: u64) -> usize;
    fn native_host(&mut self, index: u64) -> Result<usize>;
    /// Ticks all three paths at `index`; whether Wasm and native+host drew the same list.
    fn same_output(&mut self, index: u64) -> Result<bool>;
}

/// A scene natively, ticked the way the SDK's export glue ticks it in Wasm.
struct NativeScene<S> {
    scene: S,
    canvas: Canvas,
}

impl<S: Scene> NativeScene<S> {
    fn new(setup: &Setup) -> Result<Self> {
        let mut props = Props::defaults(&S::describe().props);
        props.merge(setup.props.iter().map(|(name, value)| guest::Prop { name: name.to_string(), value: value.to_guest() }));
        let mut scene = S::new(&props)?;
        for (name, payload) in &setup.events {
            scene.on_event(&guest::Event { name: name.clone(), payload: payload.clone() });
        }
        Ok(NativeScene { scene, canvas: Canvas::new() })
    }

    fn tick(&mut self, index: u64) -> Vec<guest::DrawOp> {
        self.scene.tick(&guest_frame(index), &mut self.canvas);
        self.canvas.take_ops()
    }
}

struct SceneBench<S> {
    wasm: SceneInstance,
    native: NativeScene<S>,
    native_host: NativeScene<S>,
    limits: core::DrawListLimits,
}

impl<S: Scene> SceneBench<S> {
    fn new(module: &Arc<LoadedModule>, limits: &SandboxLimits, setup: &Setup) -> Result<Self> {
        let mut wasm = SceneInstance::new(module, "bench", 7, guest_log(module, limits)).map_err(|f| f.to_string())?;
        wasm.init(&init_props(module, setup)).map_err(|f| f.to_string())?;
        for (name, payload) in &setup.events {
            wasm.on_event(&core::Event { name: name.clone(), payload: payload.clone() }).map_err(|f| f.to_string())?;
        }
        Ok(SceneBench { wasm, native: NativeScene::new(setup)?, native_host: NativeScene::new(setup)?, limits: limits.draw_list.clone() })
    }

    fn host_side(&self, ops: Vec<guest::DrawOp>) -> Result<Vec<core::DrawOp>> {
        let mut ops = convert::draw_list(ops);
        core::validate(&mut ops, &self.limits).map_err(|e| format!("native draw list invalid: {e}"))?;
        Ok(ops)
    }
}

impl<S: Scene> Ticked for SceneBench<S> {
    fn wasm(&mut self, index: u64) -> Result<usize> {
        let (ops, _) = self.wasm.tick(&core_frame(index)).map_err(|f| f.to_string())?;
        Ok(black_box(ops).len())
    }

    fn native(&mut self, index: u64) -> usize {
        black_box(self.native.tick(index)).len()
    }

    fn native_host(&mut self, index: u64) -> Result<usize> {
        let ops = self.native_host.tick(index);
        Ok(black_box(self.host_side(ops)?).len())
    }

    fn same_output(&mut self, index: u64) -> Result<bool> {
        let (wasm, _) = self.wasm.tick(&core_frame(index)).map_err(|f| f.to_string())?;
        self.native.tick(index);
        let ops = self.native_host.tick(index);
        Ok(self.host_side(ops)? == wasm)
    }
}

struct TransitionBench<T> {
    wasm: TransitionInstance,
    limits: core::DrawListLimits,
    _native: std::marker::PhantomData<T>,
}

impl<T: Transition> TransitionBench<T> {
    fn new(module: &Arc<LoadedModule>, limits: &SandboxLimits) -> Result<Self> {
        let wasm = TransitionInstance::new(module, "bench", guest_log(module, limits)).map_err(|f| f.to_string())?;
        Ok(TransitionBench { wasm, limits: limits.draw_list.clone(), _native: std::marker::PhantomData })
    }

    /// What the SDK's export glue does in Wasm: a fresh overlay canvas per call.
    fn native_mix(index: u64) -> (guest::Views, Vec<guest::DrawOp>) {
        let mut overlay = Canvas::new();
        let views = T::mix(progress(index), &guest_frame(index), &mut overlay);
        (views, overlay.take_ops())
    }

    fn host_side(&self, index: u64) -> Result<core::MixPlan> {
        let (views, overlay) = Self::native_mix(index);
        let mut plan = convert::mix_plan(views, overlay);
        core::validate_mix(&mut plan, &self.limits).map_err(|e| format!("native mix plan invalid: {e}"))?;
        Ok(plan)
    }
}

impl<T: Transition> Ticked for TransitionBench<T> {
    fn wasm(&mut self, index: u64) -> Result<usize> {
        let plan = self.wasm.mix(progress(index), &core_frame(index)).map_err(|f| f.to_string())?;
        Ok(black_box(plan).overlay.len())
    }

    fn native(&mut self, index: u64) -> usize {
        black_box(Self::native_mix(index)).1.len()
    }

    fn native_host(&mut self, index: u64) -> Result<usize> {
        Ok(black_box(self.host_side(index)?).overlay.len())
    }

    fn same_output(&mut self, index: u64) -> Result<bool> {
        let wasm = self.wasm.mix(progress(index), &core_frame(index)).map_err(|f| f.to_string())?;
        Ok(self.host_side(index)? == wasm)
    }
}

fn ticked(example: &Example, module: &Arc<LoadedModule>, limits: &SandboxLimits) -> Result<Box<dyn Ticked>> {
    let s = &example.setup;
    Ok(match example.crate_name {
        "scene-lower-third" => Box::new(SceneBench::<scene_lower_third::LowerThird>::new(module, limits, s)?),
        "scene-scoreboard" => Box::new(SceneBench::<scene_scoreboard::Scoreboard>::new(module, limits, s)?),
        "scene-ticker" => Box::new(SceneBench::<scene_ticker::Ticker>::new(module, limits, s)?),
        "scene-clock" => Box::new(SceneBench::<scene_clock::Clock>::new(module, limits, s)?),
        "scene-alert" => Box::new(SceneBench::<scene_alert::Alerts>::new(module, limits, s)?),
        "transition-crossfade" => Box::new(TransitionBench::<transition_crossfade::Crossfade>::new(module, limits)?),
        "transition-wipe" => Box::new(TransitionBench::<transition_wipe::Wipe>::new(module, limits)?),
        "transition-push" => Box::new(TransitionBench::<transition_push::Push>::new(module, limits)?),
        other => return Err(format!("no native twin for {other}")),
    })
}

// ---------------------------------------------------------------------------------
// 1. Ticks

struct TickRow {
    label: &'static str,
    world: World,
    /// Most ops in one measured Wasm draw list (the overlay, for transitions).
    ops: usize,
    wasm: (f64, f64),
    native: f64,
    native_host: f64,
    same: bool,
}

fn measure_ticks(example: &Example, bench: &mut dyn Ticked, plan: Plan) -> Result<TickRow> {
    let mut index = 0;
    for _ in 0..plan.warmup_frames {
        bench.wasm(index)?;
        bench.native(index);
        bench.native_host(index)?;
        index += 1;
    }
    let mut wasm = Vec::with_capacity(plan.rounds);
    let mut native = Vec::with_capacity(plan.rounds);
    let mut native_host = Vec::with_capacity(plan.rounds);
    let mut ops = 0;
    for round in 0..plan.rounds {
        let first = index;
        let frames = first..first + plan.batch;
        // Rotate which path goes first, so none always runs on caches the other left.
        for path in 0..3 {
            let started = Instant::now();
            match (path + round) % 3 {
                0 => {
                    for i in frames.clone() {
                        ops = ops.max(bench.wasm(i)?);
                    }
                    wasm.push(micros(started.elapsed()) / plan.batch as f64);
                }
                1 => {
                    for i in frames.clone() {
                        bench.native(i);
                    }
                    native.push(micros(started.elapsed()) / plan.batch as f64);
                }
                _ => {
                    for i in frames.clone() {
                        bench.native_host(i)?;
                    }
                    native_host.push(micros(started.elapsed()) / plan.batch as f64);
                }
            }
        }
        index += plan.batch;
    }
    if example.world == World::Scene && example.visible && ops == 0 {
        return Err(format!("{} drew nothing: it is not in a visible state, so its tick cost would mean little", example.label));
    }
    let same = bench.same_output(index)?;
    let w = summarize(&wasm);
    Ok(TickRow {
        label: example.label,
        world: example.world,
        ops,
        wasm: (w.p50, w.p99),
        native: summarize(&native).p50,
        native_host: summarize(&native_host).p50,
        same,
    })
}

fn print_ticks(rows: &[TickRow], plan: Plan) {
    println!("1. Tick cost per frame, µs ({WIDTH}x{HEIGHT} @ {FPS} fps, consecutive frames, median of {} batches of {} frames; p99 is of batch means)", plan.rounds, plan.batch);
    println!("   wasm        = SceneInstance::tick / TransitionInstance::mix: guest code in Wasm + epoch deadline + canonical-ABI");
    println!("                 lowering/lifting + conversion to showrunner-core + validation (everything the render path pays)");
    println!("   native      = the same scene crate compiled natively, Scene::tick / Transition::mix into a Canvas");
    println!("                 (host functions use the SDK's native fallbacks); no conversion, no validation");
    println!("   native+host = native + the host's conversion to showrunner-core + validation, i.e. the same work minus the sandbox");
    println!("   ops         = most draw ops in one tick (transitions: overlay ops); same = Wasm and native+host produced equal lists
   `lower-third hidden` is the lower third before `play` (an empty draw list): the fixed cost of one tick call");
    println!();
    println!(
        "   {:<22} {:>4} {:>10} {:>10} {:>10} {:>12} {:>10} {:>16} {:>5}",
        "module", "ops", "wasm p50", "wasm p99", "native", "native+host", "wasm÷nat", "wasm÷(nat+host)", "same"
    );
    for r in rows {
        let kind = if r.world == World::Transition { " (mix)" } else { "" };
        println!(
            "   {:<22} {:>4} {:>10} {:>10} {:>10} {:>12} {:>10} {:>16} {:>5}",
            format!("{}{kind}", r.label),
            r.ops,
            fmt_us(r.wasm.0),
            fmt_us(r.wasm.1),
            fmt_us(r.native),
            fmt_us(r.native_host),
            fmt_ratio(r.wasm.0 / r.native),
            fmt_ratio(r.wasm.0 / r.native_host),
            if r.same { "yes" } else { "NO" },
        );
    }
    println!();
}

// ---------------------------------------------------------------------------------
// 2. Instantiation

struct InstRow {
    label: &'static str,
    new: (f64, f64),
    /// Instantiate + init (scenes only).
    new_init: Option<(f64, f64)>,
}

fn measure_instantiation(example: &Example, module: &Arc<LoadedModule>, limits: &SandboxLimits, plan: Plan) -> Result<InstRow> {
    let props = init_props(module, &example.setup);
    let mut new = Vec::with_capacity(plan.instantiations);
    let mut new_init = Vec::with_capacity(plan.instantiations);
    for _ in 0..plan.instantiations {
        match example.world {
            World::Scene => {
                let log = guest_log(module, limits);
                let started = Instant::now();
                let instance = SceneInstance::new(module, "bench", 7, log).map_err(|f| f.to_string())?;
                new.push(micros(started.elapsed()));
                drop(black_box(instance));

                let log = guest_log(module, limits);
                let started = Instant::now();
                let mut instance = SceneInstance::new(module, "bench", 7, log).map_err(|f| f.to_string())?;
                instance.init(&props).map_err(|f| f.to_string())?;
                new_init.push(micros(started.elapsed()));
                drop(black_box(instance));
            }
            World::Transition => {
                let log = guest_log(module, limits);
                let started = Instant::now();
                let instance = TransitionInstance::new(module, "bench", log).map_err(|f| f.to_string())?;
                new.push(micros(started.elapsed()));
                drop(black_box(instance));
            }
        }
    }
    let s = summarize(&new);
    let ni = (!new_init.is_empty()).then(|| summarize(&new_init)).map(|s| (s.p50, s.p99));
    Ok(InstRow { label: example.label, new: (s.p50, s.p99), new_init: ni })
}

fn print_instantiation(rows: &[InstRow], plan: Plan) {
    println!("2. Instantiation from the pre-instance, µs ({} of each per module)", plan.instantiations);
    println!("   new       = SceneInstance::new / TransitionInstance::new: a Store, the WASI context, instantiation from the InstancePre");
    println!("   new+init  = new + init(default props): the first guest call, what a layer restart or hot-swap pays before its first tick");
    println!();
    println!("   {:<12} {:>10} {:>10} {:>14} {:>14}", "module", "new p50", "new p99", "new+init p50", "new+init p99");
    for r in rows {
        let (ip50, ip99) = r.new_init.map_or(("-".to_string(), "-".to_string()), |(a, b)| (fmt_us(a), fmt_us(b)));
        println!("   {:<12} {:>10} {:>10} {:>14} {:>14}", r.label, fmt_us(r.new.0), fmt_us(r.new.1), ip50, ip99);
    }
    println!();
}

// ---------------------------------------------------------------------------------
// 3. Compile time

struct CompileRow {
    /// `Host::load` wall time, ms (median).
    load_ms: f64,
    /// `LoadedModule::compile_time`: compiling, or reading the cached form, ms (median).
    compile_ms: f64,
}

fn load_once(bytes: &[u8], cache: Option<PathBuf>, want_cached: bool) -> Result<(f64, f64)> {
    let host = Host::new(SandboxLimits::default(), cache, Arc::new(NoAssets)).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let module = host.load(bytes).map_err(|e| e.to_string())?;
    let load = started.elapsed();
    if module.from_cache != want_cached {
        return Err(format!("expected a {} load, got from_cache = {}", if want_cached { "cached" } else { "compiling" }, module.from_cache));
    }
    Ok((load.as_secs_f64() * 1e3, module.compile_time.as_secs_f64() * 1e3))
}

fn measure_compile(bytes: &[u8], plan: Plan) -> Result<(CompileRow, CompileRow)> {
    let median = |rows: &[(f64, f64)]| {
        let load: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let compile: Vec<f64> = rows.iter().map(|r| r.1).collect();
        CompileRow { load_ms: summarize(&load).p50, compile_ms: summarize(&compile).p50 }
    };
    let cold: Vec<(f64, f64)> = (0..plan.loads).map(|_| load_once(bytes, None, false)).collect::<Result<_>>()?;

    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary cache dir: {e}"))?;
    load_once(bytes, Some(dir.path().to_path_buf()), false)?; // fills the cache
    let cached: Vec<(f64, f64)> = (0..plan.loads).map(|_| load_once(bytes, Some(dir.path().to_path_buf()), true)).collect::<Result<_>>()?;
    Ok((median(&cold), median(&cached)))
}

fn print_compile(size: usize, cold: &CompileRow, cached: &CompileRow, plan: Plan) {
    println!("3. Compile time of the lower third ({} KiB component), ms (median of {} loads, each in a fresh Host)", size / 1024, plan.loads);
    println!("   load     = Host::load wall time: checks, compile or cache read, linking, and a throwaway instance for describe()");
    println!("   compile  = LoadedModule::compile_time: the compile itself (cold) or reading the compiled form (cached)");
    println!();
    println!("   {:<30} {:>10} {:>10}", "", "load", "compile");
    println!("   {:<30} {:>10.2} {:>10.2}", "cold (no cache)", cold.load_ms, cold.compile_ms);
    println!("   {:<30} {:>10.2} {:>10.2}", "cached (from_cache = true)", cached.load_ms, cached.compile_ms);
    println!("   {:<30} {:>10} {:>10}", "cold ÷ cached", fmt_ratio(cold.load_ms / cached.load_ms), fmt_ratio(cold.compile_ms / cached.compile_ms));
    println!();
}

// ---------------------------------------------------------------------------------

fn verdict(pass: bool, target: &str, detail: String) {
    println!("VERDICT {:<4} {target}: {detail}", if pass { "PASS" } else { "FAIL" });
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Reads every example's component (one entry per example), or says how to build them.
fn read_components(root: &Path, dir: &Path, examples: &[Example]) -> Result<Vec<Vec<u8>>> {
    let mut crates: Vec<&Example> = Vec::new();
    for e in examples {
        if !crates.iter().any(|c| c.crate_name == e.crate_name) {
            crates.push(e);
        }
    }
    let missing: Vec<String> = crates.iter().map(|e| guest_file(dir, e.crate_name)).filter(|p| !p.exists()).map(|p| p.display().to_string()).collect();
    if !missing.is_empty() {
        return Err(format!("missing guest components:\n  {}\nbuild them first with `cargo xtask build-scenes` (or run `cargo xtask bench`)", missing.join("\n  ")));
    }
    let guest_sdk = newest_mtime(&root.join("guest-sdk/rust/src"));
    let mut bytes = Vec::new();
    for e in &crates {
        let path = guest_file(dir, e.crate_name);
        let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let source = newest_mtime(&root.join("example-scenes").join(e.dir)).max(guest_sdk);
        if let (Some(built), Some(source)) = (built, source)
            && source > built
        {
            eprintln!("warning: {} is older than its sources; run `cargo xtask build-scenes` so Wasm and native run the same code", path.display());
        }
        bytes.push((e.crate_name, std::fs::read(&path).map_err(|err| format!("{}: {err}", path.display()))?));
    }
    examples
        .iter()
        .map(|e| bytes.iter().find(|(name, _)| *name == e.crate_name).map(|(_, b)| b.clone()).ok_or_else(|| format!("{} was not read", e.crate_name)))
        .collect()
}

fn run(plan: Plan, quick: bool) -> Result<()> {
    let root = workspace_root();
    let dir = guest_dir(&root);
    let examples = examples();
    let components = read_components(&root, &dir, &examples)?;

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("showrunner scene benchmarks: Wasm (wasmtime, release build) vs the same scene code native, {cpus} CPUs");
    println!("components: {}", dir.display());
    if quick {
        println!("QUICK SMOKE RUN (no --bench argument): too few samples for the numbers to mean anything");
    }
    println!();

    let limits = SandboxLimits {
        tick_deadline: Duration::from_secs(1),
        event_deadline: Duration::from_secs(1),
        init_deadline: Duration::from_secs(1),
        ..SandboxLimits::default()
    };
    let host = Host::new(limits.clone(), None, Arc::new(NoAssets)).map_err(|e| e.to_string())?;
    let mut modules: Vec<Arc<LoadedModule>> = Vec::new();
    for (i, (e, bytes)) in examples.iter().zip(&components).enumerate() {
        if let Some(same) = examples[..i].iter().position(|other| other.crate_name == e.crate_name) {
            modules.push(modules[same].clone());
            continue;
        }
        let module = host.load(bytes).map_err(|err| format!("{}: {err}", e.crate_name))?;
        if module.world != e.world {
            return Err(format!("{} is a {}, expected a {}", e.crate_name, module.world.name(), e.world.name()));
        }
        modules.push(module);
    }

    let started = Instant::now();
    let mut ticks = Vec::new();
    for (e, module) in examples.iter().zip(&modules) {
        let mut bench = ticked(e, module, &limits)?;
        ticks.push(measure_ticks(e, bench.as_mut(), plan).map_err(|err| format!("{}: {err}", e.label))?);
    }
    print_ticks(&ticks, plan);

    let mut inst = Vec::new();
    for (e, module) in examples.iter().zip(&modules).filter(|(e, _)| e.visible) {
        inst.push(measure_instantiation(e, module, &limits, plan).map_err(|err| format!("{}: {err}", e.label))?);
    }
    print_instantiation(&inst, plan);
    drop(modules);
    drop(host);

    let lower_third = &components[0];
    let (cold, cached) = measure_compile(lower_third, plan)?;
    print_compile(lower_third.len(), &cold, &cached, plan);
    println!("(measured in {:.1} s)", started.elapsed().as_secs_f64());
    println!();

    let lt = ticks.iter().find(|r| r.label == "lower-third").ok_or("no lower-third row")?;
    verdict(
        lt.wasm.0 < TICK_TARGET_US,
        &format!("lower-third tick < {TICK_TARGET_US:.0} µs"),
        format!("{} µs median in Wasm (p99 {} µs), everything the render path pays included", fmt_us(lt.wasm.0), fmt_us(lt.wasm.1)),
    );
    let vs_native = lt.wasm.0 / lt.native;
    let vs_host = lt.wasm.0 / lt.native_host;
    verdict(
        vs_native <= RATIO_TARGET,
        &format!("lower-third tick ≤ {RATIO_TARGET:.0}× native"),
        format!(
            "{} µs Wasm vs {} µs native scene code = {}; vs native with the same conversion+validation ({} µs) = {}",
            fmt_us(lt.wasm.0),
            fmt_us(lt.native),
            fmt_ratio(vs_native),
            fmt_us(lt.native_host),
            fmt_ratio(vs_host)
        ),
    );
    let lt_inst = inst.iter().find(|r| r.label == "lower-third").ok_or("no lower-third row")?;
    let scenes = inst.iter().filter(|r| r.new_init.is_some());
    let worst = scenes.max_by(|a, b| a.new.0.total_cmp(&b.new.0)).ok_or("no scene instantiation rows")?;
    verdict(
        worst.new.0 < INSTANTIATE_TARGET_US,
        &format!("SceneInstance::new < {INSTANTIATE_TARGET_US:.0} µs"),
        format!(
            "lower-third {} µs median (p99 {} µs; with init {} µs); slowest scene {} at {} µs",
            fmt_us(lt_inst.new.0),
            fmt_us(lt_inst.new.1),
            lt_inst.new_init.map_or("-".to_string(), |(p50, _)| fmt_us(p50)),
            worst.label,
            fmt_us(worst.new.0)
        ),
    );
    verdict(
        cached.load_ms < cold.load_ms,
        "compile cache makes loading faster",
        format!("cold load {:.1} ms vs cached {:.1} ms = {} faster", cold.load_ms, cached.load_ms, fmt_ratio(cold.load_ms / cached.load_ms)),
    );
    if ticks.iter().any(|r| !r.same) {
        println!("note: a module drew different lists in Wasm and natively (column `same`); its ratio compares different work");
    }
    Ok(())
}

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
