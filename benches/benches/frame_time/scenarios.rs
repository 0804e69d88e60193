//! What the frame-time bench renders: frame plans from a running [`Engine`] (the
//! example overlays as Wasm layers on the worker pool) or from a synthetic
//! 500-shape draw list built here, each with the time it took to make.
//!
//! Owns the shows (layers, props, placements, events) and the stress list. Must not
//! touch the compositor or time anything but the making of a plan.

use std::f32::consts::TAU;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_core::{
    Affine, Color, DrawListLimits, DrawOp, Event, Fill, FillRule, FramePlan, LayerPlan, LayerSpec, LineCap, LineJoin, Paint, Prop, PropValue,
    SceneSpec, SceneView, ScenePlan, ShowSpec, Stroke, verb,
};
use showrunner_engine::{Engine, EngineEvent, EngineOptions, ModuleFiles, PoolConfig, Priority};
use showrunner_wasm::Host;

use crate::Result;

pub const FPS: u32 = 30;
/// Shapes in the stress list.
pub const SHAPES: usize = 500;

/// Makes one frame plan per call.
pub trait FrameSource {
    /// The plan of frame `index` and how long making it took.
    fn plan(&mut self, index: u64) -> Result<(FramePlan, Duration)>;
    /// Guest faults, failed cues and the like seen so far.
    fn faults(&self) -> usize {
        0
    }
}

/// How an engine's frames are asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// Frame `index` is frame `index` of the show.
    Running,
    /// Every call makes show frame `at`: each scene draws the list it drew last time.
    Held { at: u64 },
    /// As `Running`, then every layer is handed to the compositor as a new list
    /// (same content, new `Arc` and version), so each one is rasterized again.
    ForceRedraw,
}

/// A show running on the engine (the Wasm layers ticked on the worker pool).
pub struct ShowSource {
    pub engine: Engine,
    pub clock: Clock,
    faults: usize,
    forced_versions: u64,
}

impl ShowSource {
    fn new(engine: Engine) -> ShowSource {
        ShowSource { engine, clock: Clock::Running, faults: 0, forced_versions: 0 }
    }
}

impl FrameSource for ShowSource {
    /// Times `Engine::frame` alone: the pool fan-out, every layer's Wasm tick on its
    /// worker, validation, the list comparison that keeps versions, the gather.
    fn plan(&mut self, index: u64) -> Result<(FramePlan, Duration)> {
        let at = match self.clock {
            Clock::Held { at } => at,
            Clock::Running | Clock::ForceRedraw => index,
        };
        let started = Instant::now();
        let mut plan = self.engine.frame(at).map_err(|e| format!("engine frame {at}: {e}"))?;
        let took = started.elapsed();
        for event in self.engine.drain_events() {
            if matches!(event, EngineEvent::LayerFault { .. } | EngineEvent::CueFailed { .. } | EngineEvent::Quarantined { .. }) {
                eprintln!("warning: {event:?}");
                self.faults += 1;
            }
        }
        if self.clock == Clock::ForceRedraw {
            for layer in plan.scenes.iter_mut().flat_map(|s| s.layers.iter_mut()) {
                self.forced_versions += 1;
                layer.ops = Arc::new(layer.ops.as_ref().clone());
                layer.version = u64::MAX / 2 + self.forced_versions;
            }
        }
        Ok((plan, took))
    }

    fn faults(&self) -> usize {
        self.faults
    }
}

fn text(name: &str, value: &str) -> Prop {
    Prop { name: name.into(), value: PropValue::Text(value.into()) }
}

fn number(name: &str, value: f64) -> Prop {
    Prop { name: name.into(), value: PropValue::Number(value) }
}

fn flag(name: &str, value: bool) -> Prop {
    Prop { name: name.into(), value: PropValue::Flag(value) }
}

fn event(name: &str, payload: &str) -> Event {
    Event { name: name.into(), payload: payload.into() }
}

/// One layer of a bench show and the events it gets before frame 0.
struct Layer {
    spec: LayerSpec,
    events: Vec<Event>,
}

fn layer(id: &str, module: &Path, z: i32, props: Vec<Prop>, events: Vec<Event>) -> Layer {
    let spec = LayerSpec { z, props, ..LayerSpec::new(id, &module.to_string_lossy()) };
    Layer { spec, events }
}

/// Starts `layers` as one scene on an engine with Offline priority and the default
/// pool size, and queues their events for frame 0.
fn start(host: &Arc<Host>, modules: &mut ModuleFiles, layers: Vec<Layer>, width: u32, height: u32) -> Result<ShowSource> {
    let mut spec = ShowSpec::new(width, height, FPS, 1, "bench");
    spec.scenes = vec![SceneSpec { name: "bench".into(), layers: layers.iter().map(|l| l.spec.clone()).collect() }];
    let options = EngineOptions { pool: PoolConfig { workers: PoolConfig::default_workers(), ..PoolConfig::default() }, priority: Priority::Offline, ..EngineOptions::default() };
    let mut engine = Engine::new(host.clone(), spec, options, |r| modules.load(r).map_err(|e| e.to_string())).map_err(|e| format!("starting the bench show: {e}"))?;
    for l in &layers {
        for e in &l.events {
            engine.event(&l.spec.id, e.clone()).map_err(|err| format!("event {} to {}: {err}", e.name, l.spec.id))?;
        }
    }
    Ok(ShowSource::new(engine))
}

/// (a) One lower third, `play` at frame 0.
pub fn lower_third(host: &Arc<Host>, modules: &mut ModuleFiles, guests: &Path, width: u32, height: u32) -> Result<ShowSource> {
    let props = vec![text("name", "Ada Lovelace"), text("title", "Engine designer")];
    let layers = vec![layer("lower", &guests.join("scene_lower_third.wasm"), 10, props, vec![event("play", "")])];
    start(host, modules, layers, width, height)
}

/// (b) Eight overlays in one scene: lower third, scoreboard, ticker, clock and four
/// alerts with their own props and placements. The lower third, scoreboard and
/// ticker get `play` at frame 0, the clock starts by itself, each alert gets
/// `alert` events (its way of coming on screen; it has no `play`).
pub fn eight_overlays(host: &Arc<Host>, modules: &mut ModuleFiles, guests: &Path, width: u32, height: u32) -> Result<ShowSource> {
    let s = height as f32 / 1080.0;
    let play = || vec![event("play", "")];
    let headline = "Analytical Engine hits 1000 operations — Difference Engine No. 2 finished at last — more after the break";
    let mut layers = vec![
        layer("lower", &guests.join("scene_lower_third.wasm"), 10, vec![text("name", "Ada Lovelace"), text("title", "Engine designer")], play()),
        layer(
            "score",
            &guests.join("scene_scoreboard.wasm"),
            5,
            vec![text("home-name", "LOVELACE"), text("away-name", "BABBAGE"), text("period", "2ND")],
            vec![event("play", ""), event("home-score", "+2"), event("away-score", "1")],
        ),
        layer("ticker", &guests.join("scene_ticker.wasm"), 4, vec![text("text", headline), number("speed", 240.0)], play()),
        layer("clock", &guests.join("scene_clock.wasm"), 3, vec![text("mode", "up"), text("label", "LIVE"), flag("autostart", true)], vec![]),
    ];
    // Alerts: each its own accent, duration and place (the module draws at the top
    // centre; the layer transform moves it), each with a message of its own.
    let alerts = [
        ("#F2C12E", 60.0, (0.0, 0.0), "New follower: Ada — thanks for the follow!"),
        ("#3AE87B", 45.0, (0.0, 130.0), "Charles just subscribed"),
        ("#E83A9B", 50.0, (-560.0, 260.0), "Raid incoming: 42 viewers"),
        ("#2F7BE8", 55.0, (560.0, 260.0), "Goal! Lovelace 3 – 1 Babbage"),
    ];
    for (i, (accent, duration, (dx, dy), message)) in alerts.into_iter().enumerate() {
        let mut l = layer(
            &format!("alert-{}", i + 1),
            &guests.join("scene_alert.wasm"),
            20 + i as i32,
            vec![text("accent", accent), number("duration", duration)],
            vec![event("alert", message), event("alert", "Thanks for watching")],
        );
        l.spec.transform = Affine { e: dx * s, f: dy * s, ..Affine::IDENTITY };
        layers.push(l);
    }
    start(host, modules, layers, width, height)
}

/// (c) The synthetic stress list: [`SHAPES`] animated shapes as one layer whose ops
/// change every frame.
pub struct ShapeSource {
    width: u32,
    height: u32,
    limits: DrawListLimits,
}

impl ShapeSource {
    pub fn new(width: u32, height: u32) -> ShapeSource {
        ShapeSource { width, height, limits: DrawListLimits::default() }
    }
}

impl FrameSource for ShapeSource {
    /// Times building the list natively and validating it (what the host does to a
    /// guest's list); there is no Wasm here.
    fn plan(&mut self, index: u64) -> Result<(FramePlan, Duration)> {
        let started = Instant::now();
        let mut ops = shapes(index, self.width, self.height);
        showrunner_core::validate(&mut ops, &self.limits).map_err(|e| format!("stress list invalid: {e}"))?;
        let took = started.elapsed();
        let frame = showrunner_core::FrameInfo::at(index, self.width, self.height, FPS, 1);
        let layers = vec![LayerPlan::full("shapes", Arc::new(ops), index + 1)];
        let plan = FramePlan { frame, scenes: vec![ScenePlan { name: "stress".into(), view: SceneView::IDENTITY, layers }], overlay: Arc::new(Vec::new()) };
        Ok((plan, took))
    }
}

/// The floor of a frame that is not reused: one 64×64 square whose list never
/// changes (its layer texture is reused) but whose layer moves by a pixel every
/// frame, so the frame is composited and read back each time.
pub struct NudgedSquare {
    width: u32,
    height: u32,
    ops: Arc<Vec<DrawOp>>,
}

impl NudgedSquare {
    pub fn new(width: u32, height: u32) -> NudgedSquare {
        let square = rounded_rect(100.0, 100.0, 64.0, 64.0, 0.0);
        NudgedSquare { width, height, ops: Arc::new(vec![fill(square, hue(0.0, 0.8))]) }
    }
}

impl FrameSource for NudgedSquare {
    fn plan(&mut self, index: u64) -> Result<(FramePlan, Duration)> {
        let started = Instant::now();
        let mut layer = LayerPlan::full("square", self.ops.clone(), 1);
        layer.transform.e = (index % 2) as f32;
        let frame = showrunner_core::FrameInfo::at(index, self.width, self.height, FPS, 1);
        let plan = FramePlan { frame, scenes: vec![ScenePlan { name: "floor".into(), view: SceneView::IDENTITY, layers: vec![layer] }], overlay: Arc::new(Vec::new()) };
        Ok((plan, started.elapsed()))
    }
}

/// xorshift64*: the same shapes every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Frame `index` of the stress list: circles, rounded rectangles and stars filled,
/// rings and zigzags stroked, 6–120 px (at 1080p) with alpha 0.25–0.85, each
/// orbiting, pulsing and turning, so every path is new every frame.
pub fn shapes(index: u64, width: u32, height: u32) -> Vec<DrawOp> {
    let (w, h) = (width as f32, height as f32);
    let s = h / 1080.0;
    let t = index as f32 / FPS as f32;
    let mut ops = Vec::with_capacity(SHAPES);
    for i in 0..SHAPES {
        let mut rng = Rng::new(i as u64 + 1);
        let (bx, by) = (rng.unit() * w, rng.unit() * h);
        let size = (6.0 + rng.unit().powi(2) * 114.0) * s;
        let (phase, speed) = (rng.unit() * TAU, 0.5 + rng.unit() * 2.0);
        let color = hue(rng.unit(), 0.25 + rng.unit() * 0.6);
        let line_width = (1.5 + rng.unit() * 6.0) * s;
        let angle = t * speed + phase;
        let (cx, cy) = (bx + angle.cos() * 40.0 * s, by + angle.sin() * 40.0 * s);
        let r = size * (1.0 + 0.25 * (2.0 * t + phase).sin());
        ops.push(match i % 5 {
            0 => fill(circle(cx, cy, r), color),
            1 => fill(rounded_rect(cx - r, cy - 0.6 * r, 2.0 * r, 1.2 * r, 0.2 * r), color),
            2 => fill(star(cx, cy, r, 0.45 * r, angle), color),
            3 => stroke(circle(cx, cy, r), color, line_width),
            _ => stroke(zigzag(cx, cy, r, angle), color, line_width),
        });
    }
    ops
}

fn hue(h: f32, alpha: f32) -> Color {
    let channel = |offset: f32| {
        let k = (h * 6.0 + offset) % 6.0;
        0.95 - 0.95 * 0.7 * (k.min(4.0 - k).clamp(0.0, 1.0))
    };
    Color { r: channel(5.0), g: channel(3.0), b: channel(1.0), a: alpha }
}

fn fill(path: showrunner_core::Path, color: Color) -> DrawOp {
    DrawOp::Fill(Fill { path, paint: Paint::Solid(color), rule: FillRule::NonZero })
}

fn stroke(path: showrunner_core::Path, color: Color, width: f32) -> DrawOp {
    DrawOp::Stroke(Stroke {
        path,
        paint: Paint::Solid(color),
        width,
        join: LineJoin::Round,
        cap: LineCap::Round,
        miter_limit: 4.0,
        dash: Vec::new(),
        dash_offset: 0.0,
    })
}

/// A path built verb by verb.
#[derive(Default)]
struct PathBuilder(showrunner_core::Path);

impl PathBuilder {
    fn push(mut self, v: u8, points: &[f32]) -> Self {
        self.0.verbs.push(v);
        self.0.points.extend_from_slice(points);
        self
    }
    fn move_to(self, x: f32, y: f32) -> Self {
        self.push(verb::MOVE, &[x, y])
    }
    fn line_to(self, x: f32, y: f32) -> Self {
        self.push(verb::LINE, &[x, y])
    }
    fn cubic_to(self, points: [f32; 6]) -> Self {
        self.push(verb::CUBIC, &points)
    }
    fn close(self) -> showrunner_core::Path {
        self.push(verb::CLOSE, &[]).0
    }
}

/// Bézier handle length of a quarter circle of radius 1.
const KAPPA: f32 = 0.552_284_8;

fn circle(cx: f32, cy: f32, r: f32) -> showrunner_core::Path {
    let k = r * KAPPA;
    PathBuilder::default()
        .move_to(cx + r, cy)
        .cubic_to([cx + r, cy + k, cx + k, cy + r, cx, cy + r])
        .cubic_to([cx - k, cy + r, cx - r, cy + k, cx - r, cy])
        .cubic_to([cx - r, cy - k, cx - k, cy - r, cx, cy - r])
        .cubic_to([cx + k, cy - r, cx + r, cy - k, cx + r, cy])
        .close()
}

fn rounded_rect(x: f32, y: f32, w: f32, h: f32, r: f32) -> showrunner_core::Path {
    let k = r * (1.0 - KAPPA);
    let (x1, y1) = (x + w, y + h);
    PathBuilder::default()
        .move_to(x + r, y)
        .line_to(x1 - r, y)
        .cubic_to([x1 - k, y, x1, y + k, x1, y + r])
        .line_to(x1, y1 - r)
        .cubic_to([x1, y1 - k, x1 - k, y1, x1 - r, y1])
        .line_to(x + r, y1)
        .cubic_to([x + k, y1, x, y1 - k, x, y1 - r])
        .line_to(x, y + r)
        .cubic_to([x, y + k, x + k, y, x + r, y])
        .close()
}

fn star(cx: f32, cy: f32, outer: f32, inner: f32, turn: f32) -> showrunner_core::Path {
    let point = |k: usize| {
        let radius = if k.is_multiple_of(2) { outer } else { inner };
        let a = turn + k as f32 * TAU / 10.0;
        (cx + radius * a.cos(), cy + radius * a.sin())
    };
    let (x0, y0) = point(0);
    let mut path = PathBuilder::default().move_to(x0, y0);
    for k in 1..10 {
        let (x, y) = point(k);
        path = path.line_to(x, y);
    }
    path.close()
}

/// An open zigzag of eight segments across `r`, turned by `turn`.
fn zigzag(cx: f32, cy: f32, r: f32, turn: f32) -> showrunner_core::Path {
    let (sin, cos) = turn.sin_cos();
    let at = |u: f32, v: f32| (cx + u * cos - v * sin, cy + u * sin + v * cos);
    let (x0, y0) = at(-r, 0.0);
    let mut path = PathBuilder::default().move_to(x0, y0);
    for k in 1..=8u32 {
        let u = -r + k as f32 * r / 4.0;
        let v = if k.is_multiple_of(2) { 0.0 } else { r * 0.35 };
        let (x, y) = at(u, v);
        path = path.line_to(x, y);
    }
    path.0
}

