//! Golden images of every example scene and transition, rendered through the real
//! engine (Wasm host, worker pool, cues) and compositor (lyon + wgpu, bundled fonts)
//! at fixed frames, compared with the PNGs in tests/golden/ with a perceptual
//! tolerance: a pixel differs when a channel is off by more than [`CHANNEL_DELTA`], and
//! a test fails when more than [`MAX_DIFFERING`] of the pixels differ.
//!
//! Re-bless after an intended change: `UPDATE_GOLDEN=1 cargo test --release -p showrunner --test golden_scenes`.
//! A failing comparison writes `NAME.actual.png` and `NAME.diff.png` next to the golden.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use showrunner_core::{Event, LayerSpec, Prop, PropValue, SceneSpec, ShowSpec};
use showrunner_engine::{Engine, EngineOptions, ModuleFiles, TransitionChoice};
use showrunner_render::{Compositor, Renderer};
use showrunner_text::SharedMeasurer;
use showrunner_wasm::{Host, HostServices, SandboxLimits};

const W: u32 = 640;
const H: u32 = 360;
const CHANNEL_DELTA: u8 = 24;
const MAX_DIFFERING: f64 = 0.002;

struct Fonts(SharedMeasurer);

impl HostServices for Fonts {
    fn asset_size(&self, _: &str) -> Option<(u32, u32)> {
        None
    }
    fn measure_text(&self, text: &str, family: &str, size: f32) -> (f32, f32) {
        self.0.measure(text, family, size)
    }
}

fn module(name: &str) -> String {
    common::guest(name).to_string_lossy().into_owned()
}

/// Goldens compare pixels, not deadlines (runtime/wasm/tests/sandbox.rs does): generous budgets,
/// so ten scenes rendering at once on two cores never trip a deadline's wall-clock cap.
fn host() -> Arc<Host> {
    let limits = SandboxLimits {
        tick_deadline: std::time::Duration::from_secs(1),
        event_deadline: std::time::Duration::from_secs(1),
        init_deadline: std::time::Duration::from_secs(5),
        ..SandboxLimits::default()
    };
    Host::new(limits, None, Arc::new(Fonts(SharedMeasurer::new()))).unwrap()
}

fn layer(id: &str, module_name: &str, props: Vec<Prop>) -> LayerSpec {
    LayerSpec { props, ..LayerSpec::new(id, &module(module_name)) }
}

fn text(name: &str, value: &str) -> Prop {
    Prop { name: name.into(), value: PropValue::Text(value.into()) }
}

/// Runs `scenes` (the first on program) to `frame`, sending `play` to every layer at
/// frame 0 (and an `alert` to alert layers) and taking the second scene with
/// `transition` at frame `take_at` if given.
fn render(scenes: Vec<SceneSpec>, frame: u64, transition: Option<(&str, u64)>) -> image::RgbaImage {
    let host = host();
    let mut spec = ShowSpec::new(W, H, 30, 1, &scenes[0].name);
    spec.scenes = scenes;
    let mut modules = ModuleFiles::new(host.clone());
    let mut engine = Engine::new(host.clone(), spec.clone(), EngineOptions::default(), |r| modules.load(r)).unwrap();
    let mut compositor = Compositor::new(Renderer::new().unwrap()).unwrap();
    let ids: Vec<String> = spec.layers().map(|l| l.id.clone()).collect();
    let mut last = None;
    for n in 0..=frame {
        if n == 0 {
            for id in &ids {
                engine.event(id, Event::named("play")).unwrap();
                if id.starts_with("al") {
                    engine.event(id, Event { name: "alert".into(), payload: "New follower: Ada".into() }).unwrap();
                }
            }
        }
        if let Some((name, take_at)) = transition
            && n == take_at
        {
            let choice = TransitionChoice { module: modules.load(&module(name)).unwrap(), duration: std::time::Duration::from_secs(1) };
            engine.take(&spec.scenes[1].name, Some(choice)).unwrap();
        }
        let plan = engine.frame(n).unwrap();
        for event in engine.drain_events() {
            assert!(!format!("{event:?}").contains("Fault"), "unexpected fault: {event:?}");
        }
        last = Some(compositor.compose(&plan, W, H).unwrap());
    }
    let f = last.unwrap();
    image::RgbaImage::from_raw(f.width, f.height, f.pixels.to_vec()).unwrap()
}

fn check(name: &str, actual: &image::RgbaImage) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let golden_path = dir.join(format!("{name}.png"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() || !golden_path.exists() && std::env::var_os("CI").is_none() {
        std::fs::create_dir_all(&dir).unwrap();
        actual.save(&golden_path).unwrap();
        eprintln!("blessed {}", golden_path.display());
        return;
    }
    let golden = image::open(&golden_path).unwrap_or_else(|e| panic!("{}: {e}", golden_path.display())).to_rgba8();
    assert_eq!(golden.dimensions(), actual.dimensions(), "{name}: size changed");
    let mut diff = image::RgbaImage::new(W, H);
    let mut differing = 0usize;
    for (x, y, g) in golden.enumerate_pixels() {
        let a = actual.get_pixel(x, y);
        let worst = g.0.iter().zip(a.0).map(|(g, a)| g.abs_diff(a)).max().unwrap_or(0);
        if worst > CHANNEL_DELTA {
            differing += 1;
            diff.put_pixel(x, y, image::Rgba([255, 0, 0, 255]));
        }
    }
    let share = differing as f64 / f64::from(W * H);
    if share > MAX_DIFFERING {
        actual.save(dir.join(format!("{name}.actual.png"))).unwrap();
        diff.save(dir.join(format!("{name}.diff.png"))).unwrap();
        panic!("{name}: {:.3}% of pixels differ by more than {CHANNEL_DELTA} (allowed {:.3}%); see {name}.actual.png and {name}.diff.png", share * 100.0, MAX_DIFFERING * 100.0);
    }
}

fn one(name: &str, layers: Vec<LayerSpec>, frame: u64) {
    let img = render(vec![SceneSpec { name: "s".into(), layers }], frame, None);
    assert!(img.pixels().any(|p| p[3] > 0), "{name} drew nothing");
    check(name, &img);
}

#[test]
fn lower_third_after_its_entrance() {
    one("lower-third", vec![layer("lt", "scene_lower_third", vec![text("name", "Ada Lovelace"), text("title", "Engine designer")])], 45);
}

#[test]
fn scoreboard() {
    one("scoreboard", vec![layer("sb", "scene_scoreboard", vec![])], 45);
}

#[test]
fn ticker_mid_scroll() {
    one("ticker", vec![layer("tk", "scene_ticker", vec![])], 60);
}

#[test]
fn clock() {
    one("clock", vec![layer("ck", "scene_clock", vec![])], 40);
}

#[test]
fn alert() {
    one("alert", vec![layer("al", "scene_alert", vec![])], 20);
}

#[test]
fn assemblyscript_lower_third() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../example-scenes/as-lower-third/build/as_lower_third.wasm");
    assert!(path.exists(), "{} missing: run `cargo xtask build-scenes`", path.display());
    one("as-lower-third", vec![LayerSpec::new("as", &path.to_string_lossy())], 45);
}

/// Scene a (a scoreboard) taken to scene b (a lower third) at frame 30 with a one-second
/// transition, shown at `frame` (45 is halfway).
fn transition_at(name: &str, module_name: &str, frame: u64) {
    let a = SceneSpec { name: "a".into(), layers: vec![layer("a-sb", "scene_scoreboard", vec![])] };
    let b = SceneSpec { name: "b".into(), layers: vec![layer("b-lt", "scene_lower_third", vec![text("name", "Incoming")])] };
    let img = render(vec![a, b], frame, Some((module_name, 30)));
    check(name, &img);
}

#[test]
fn crossfade_halfway() {
    transition_at("crossfade-half", "transition_crossfade", 45);
}

#[test]
fn wipe_halfway() {
    transition_at("wipe-half", "transition_wipe", 45);
}

#[test]
fn push_halfway() {
    transition_at("push-half", "transition_push", 45);
}

#[test]
fn stinger_while_its_bands_sweep_in() {
    transition_at("stinger-sweep", "transition_stinger", 39);
}
