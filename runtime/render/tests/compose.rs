//! Pixel tests of the layer compositor (`Compositor::compose`): layer order, layer
//! opacity as a whole, transforms and crops, scene views of a transition (opacity,
//! clip), overlays, an opaque background, and damage tracking (unchanged layers are not redrawn).
//! `cargo test --release -p showrunner-render --test compose`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use showrunner_core::*;
use showrunner_render::{Compositor, Frame, RenderError, Renderer};

const W: u32 = 160;
const H: u32 = 90;

fn compositor() -> MutexGuard<'static, Compositor> {
    static C: OnceLock<Result<Mutex<Compositor>, RenderError>> = OnceLock::new();
    match C.get_or_init(|| Renderer::new().and_then(Compositor::new).map(Mutex::new)) {
        Ok(c) => c.lock().unwrap_or_else(|p| p.into_inner()),
        Err(e) => panic!("{e}"),
    }
}

fn rect(x: f32, y: f32, w: f32, h: f32) -> Path {
    Path { verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE], points: vec![x, y, x + w, y, x + w, y + h, x, y + h] }
}

fn fill(path: Path, r: f32, g: f32, b: f32, a: f32) -> DrawOp {
    DrawOp::Fill(Fill { path, paint: Paint::Solid(Color { r, g, b, a }), rule: FillRule::NonZero })
}

fn ops(list: Vec<DrawOp>) -> Arc<Vec<DrawOp>> {
    Arc::new(list)
}

fn scene(name: &str, view: SceneView, layers: Vec<LayerPlan>) -> ScenePlan {
    ScenePlan { name: name.into(), view, layers }
}

fn plan(scenes: Vec<ScenePlan>, overlay: Vec<DrawOp>) -> FramePlan {
    FramePlan { frame: FrameInfo::at(0, W, H, 30, 1), scenes, overlay: Arc::new(overlay) }
}

fn px(f: &Frame, x: u32, y: u32) -> [u8; 4] {
    f.pixel(x, y).unwrap()
}

fn near(actual: [u8; 4], expected: [u8; 4], tolerance: u8) -> bool {
    actual.iter().zip(expected).all(|(a, e)| a.abs_diff(e) <= tolerance)
}

#[track_caller]
fn assert_px(f: &Frame, x: u32, y: u32, expected: [u8; 4]) {
    let got = px(f, x, y);
    assert!(near(got, expected, 3), "pixel ({x},{y}) is {got:?}, expected {expected:?}");
}

#[test]
fn over_a_background_every_pixel_is_opaque_and_blended_over_it() {
    let mut c = compositor();
    c.set_background(Some([0, 0, 255]));
    let half_red = LayerPlan::full("half-red", ops(vec![fill(rect(0.0, 0.0, 80.0, 90.0), 1.0, 0.0, 0.0, 0.5)]), 1);
    let frame = c.compose(&plan(vec![scene("s", SceneView::IDENTITY, vec![half_red])], vec![]), W, H);
    c.set_background(None);
    let frame = frame.unwrap();
    assert!(frame.pixels.chunks_exact(4).all(|p| p[3] == 255), "some pixel is not opaque");
    assert_px(&frame, 120, 45, [0, 0, 255, 255]);
    assert_px(&frame, 40, 45, [128, 0, 127, 255]);
    // The same plan without the background is a different frame, not the reused one.
    let half_red = LayerPlan::full("half-red", ops(vec![fill(rect(0.0, 0.0, 80.0, 90.0), 1.0, 0.0, 0.0, 0.5)]), 1);
    let clear = c.compose(&plan(vec![scene("s", SceneView::IDENTITY, vec![half_red])], vec![]), W, H).unwrap();
    assert_px(&clear, 120, 45, [0, 0, 0, 0]);
    assert_px(&clear, 40, 45, [255, 0, 0, 128]);
}

#[test]
fn layers_stack_bottom_to_top() {
    let red = LayerPlan::full("red", ops(vec![fill(rect(0.0, 0.0, 160.0, 90.0), 1.0, 0.0, 0.0, 1.0)]), 1);
    let blue = LayerPlan::full("blue", ops(vec![fill(rect(40.0, 20.0, 40.0, 40.0), 0.0, 0.0, 1.0, 1.0)]), 1);
    let f = compositor().compose(&plan(vec![scene("s", SceneView::IDENTITY, vec![red, blue])], vec![]), W, H).unwrap();
    assert_px(&f, 5, 5, [255, 0, 0, 255]);
    assert_px(&f, 60, 40, [0, 0, 255, 255]);
}

#[test]
fn layer_opacity_applies_to_the_layer_as_a_whole() {
    // Two overlapping opaque squares in one layer at 50 %: the overlap must look like
    // the rest (one picture faded), not darker (each op faded on its own).
    let squares = ops(vec![fill(rect(10.0, 10.0, 60.0, 60.0), 1.0, 1.0, 1.0, 1.0), fill(rect(40.0, 10.0, 60.0, 60.0), 1.0, 1.0, 1.0, 1.0)]);
    let layer = LayerPlan { opacity: 0.5, ..LayerPlan::full("faded", squares, 1) };
    let f = compositor().compose(&plan(vec![scene("s", SceneView::IDENTITY, vec![layer])], vec![]), W, H).unwrap();
    let alone = px(&f, 20, 40);
    let overlap = px(&f, 55, 40);
    assert!(near(alone, [255, 255, 255, 128], 2), "{alone:?}");
    assert_eq!(alone, overlap);
}

#[test]
fn transform_and_crop_place_the_layer() {
    let square = ops(vec![fill(rect(0.0, 0.0, 40.0, 40.0), 0.0, 1.0, 0.0, 1.0)]);
    let moved = LayerPlan { transform: Affine { e: 100.0, f: 30.0, ..Affine::IDENTITY }, ..LayerPlan::full("moved", square.clone(), 1) };
    // Crop keeps only the left half of the square.
    let cropped = LayerPlan { crop: Some(Rect { x: 0.0, y: 0.0, width: 20.0, height: 40.0 }), ..LayerPlan::full("cropped", square, 1) };
    let f = compositor().compose(&plan(vec![scene("s", SceneView::IDENTITY, vec![moved, cropped])], vec![]), W, H).unwrap();
    assert_px(&f, 120, 50, [0, 255, 0, 255]);
    assert_px(&f, 90, 50, [0, 0, 0, 0]);
    assert_px(&f, 10, 20, [0, 255, 0, 255]);
    assert_px(&f, 30, 20, [0, 0, 0, 0]);
}

#[test]
fn a_crossfade_fades_each_scene_as_one_picture() {
    let a = LayerPlan::full("a", ops(vec![fill(rect(0.0, 0.0, 160.0, 90.0), 1.0, 0.0, 0.0, 1.0)]), 1);
    let b = LayerPlan::full("b", ops(vec![fill(rect(0.0, 0.0, 160.0, 90.0), 0.0, 0.0, 1.0, 1.0)]), 1);
    let half = SceneView { opacity: 0.5, ..SceneView::IDENTITY };
    let f = compositor().compose(&plan(vec![scene("out", SceneView::IDENTITY, vec![a]), scene("in", half, vec![b])], vec![]), W, H).unwrap();
    assert_px(&f, 80, 45, [128, 0, 127, 255]);
}

#[test]
fn a_clipped_scene_shows_only_inside_its_clip_and_the_overlay_is_on_top() {
    let a = LayerPlan::full("clip-a", ops(vec![fill(rect(0.0, 0.0, 160.0, 90.0), 1.0, 1.0, 0.0, 1.0)]), 1);
    let left = SceneView { clip: Some(rect(0.0, 0.0, 80.0, 90.0)), ..SceneView::IDENTITY };
    let bar = vec![fill(rect(78.0, 0.0, 4.0, 90.0), 1.0, 1.0, 1.0, 1.0)];
    let f = compositor().compose(&plan(vec![scene("s", left, vec![a])], bar), W, H).unwrap();
    assert_px(&f, 20, 45, [255, 255, 0, 255]);
    assert_px(&f, 120, 45, [0, 0, 0, 0]);
    assert_px(&f, 80, 45, [255, 255, 255, 255]);
}

/// A rectangle clip cuts the scene's quad (no mask); a circle clip goes through a mask.
/// Both keep the inside only, also under a moved and scaled view.
#[test]
fn rectangle_and_path_clips_of_a_scene_both_keep_their_inside() {
    let a = || LayerPlan::full("clip-b", ops(vec![fill(rect(0.0, 0.0, 160.0, 90.0), 0.0, 1.0, 0.0, 1.0)]), 1);
    let moved = Affine { a: 0.5, d: 0.5, e: 40.0, f: 0.0, ..Affine::IDENTITY };
    let rect_view = SceneView { clip: Some(rect(60.0, 10.0, 30.0, 30.0)), transform: moved, ..SceneView::IDENTITY };
    let f = compositor().compose(&plan(vec![scene("s", rect_view, vec![a()])], vec![]), W, H).unwrap();
    assert_px(&f, 75, 25, [0, 255, 0, 255]);
    assert_px(&f, 55, 25, [0, 0, 0, 0]);
    assert_px(&f, 75, 50, [0, 0, 0, 0]);
    let mut disc = Path { verbs: vec![verb::MOVE], points: vec![100.0, 45.0] };
    for k in 1..48 {
        let a = k as f32 / 48.0 * std::f32::consts::TAU;
        disc.verbs.push(verb::LINE);
        disc.points.extend([80.0 + 20.0 * a.cos(), 45.0 + 20.0 * a.sin()]);
    }
    disc.verbs.push(verb::CLOSE);
    let disc_view = SceneView { clip: Some(disc), ..SceneView::IDENTITY };
    let f = compositor().compose(&plan(vec![scene("s", disc_view, vec![a()])], vec![]), W, H).unwrap();
    assert_px(&f, 80, 45, [0, 255, 0, 255]);
    assert_px(&f, 80 + 18, 45 + 18, [0, 0, 0, 0]);
    assert_px(&f, 10, 10, [0, 0, 0, 0]);
}

#[test]
fn a_pushed_scene_moves_with_its_view_transform() {
    let a = LayerPlan::full("push-a", ops(vec![fill(rect(0.0, 0.0, 20.0, 20.0), 0.0, 1.0, 1.0, 1.0)]), 1);
    let pushed = SceneView { transform: Affine { e: 100.0, ..Affine::IDENTITY }, ..SceneView::IDENTITY };
    let f = compositor().compose(&plan(vec![scene("s", pushed, vec![a])], vec![]), W, H).unwrap();
    assert_px(&f, 110, 10, [0, 255, 255, 255]);
    assert_px(&f, 10, 10, [0, 0, 0, 0]);
}

#[test]
fn unchanged_layers_are_not_redrawn_and_an_unchanged_plan_reuses_the_frame() {
    let mut c = compositor();
    let still = LayerPlan::full("still", ops(vec![fill(rect(0.0, 0.0, 30.0, 30.0), 1.0, 0.0, 0.0, 1.0)]), 7);
    let mut moving = LayerPlan::full("moving", ops(vec![fill(rect(50.0, 0.0, 30.0, 30.0), 0.0, 0.0, 1.0, 1.0)]), 1);
    let p1 = plan(vec![scene("s", SceneView::IDENTITY, vec![still.clone(), moving.clone()])], vec![]);
    c.compose(&p1, W, H).unwrap();

    let again = c.compose(&p1, W, H).unwrap();
    let stats = c.stats();
    assert!(stats.frame_reused, "{stats:?}");
    assert_eq!(stats.layers_drawn, 0);
    assert_px(&again, 10, 10, [255, 0, 0, 255]);

    moving.ops = ops(vec![fill(rect(100.0, 0.0, 30.0, 30.0), 0.0, 0.0, 1.0, 1.0)]);
    moving.version = 2;
    let p2 = plan(vec![scene("s", SceneView::IDENTITY, vec![still, moving])], vec![]);
    let f = c.compose(&p2, W, H).unwrap();
    let stats = c.stats();
    assert!(!stats.frame_reused);
    assert_eq!((stats.layers_drawn, stats.layers_reused), (1, 1), "{stats:?}");
    assert_px(&f, 10, 10, [255, 0, 0, 255]);
    assert_px(&f, 60, 10, [0, 0, 0, 0]);
    assert_px(&f, 110, 10, [0, 0, 255, 255]);
}

/// Frames where one layer changes at a time are repainted on a copy of the frame
/// before; each must equal the same plan composited whole by a fresh compositor.
#[test]
fn a_repainted_frame_equals_the_frame_composited_whole() {
    let (w, h) = (320, 180);
    let mut reference = Renderer::new().and_then(Compositor::new).unwrap();
    let mut c = compositor();
    let mut layers = vec![
        LayerPlan::full("back", ops(vec![fill(rect(0.0, 120.0, 320.0, 60.0), 0.1, 0.2, 0.6, 0.9)]), 1),
        LayerPlan::full("square", ops(vec![fill(rect(20.0, 20.0, 60.0, 60.0), 1.0, 0.0, 0.0, 0.7)]), 1),
        LayerPlan::full("overlap", ops(vec![fill(rect(60.0, 40.0, 80.0, 100.0), 0.0, 1.0, 0.0, 0.5)]), 1),
        LayerPlan::full("far", ops(vec![fill(rect(250.0, 10.0, 40.0, 40.0), 1.0, 1.0, 1.0, 1.0)]), 1),
    ];
    let frame_plan = |layers: &[LayerPlan]| FramePlan { frame: FrameInfo::at(0, w, h, 30, 1), scenes: vec![scene("s", SceneView::IDENTITY, layers.to_vec())], overlay: Arc::new(vec![]) };
    type Step = Box<dyn Fn(&mut Vec<LayerPlan>)>;
    let steps: Vec<Step> = vec![
        Box::new(|_| {}),
        // Moved by a fraction of a pixel: filtered, not exact.
        Box::new(|l| l[1].transform = Affine { e: 30.5, f: 3.25, ..Affine::IDENTITY }),
        Box::new(|l| {
            l[2].ops = ops(vec![fill(rect(70.0, 30.0, 90.0, 90.0), 0.0, 0.0, 1.0, 0.6)]);
            l[2].version = 2;
        }),
        Box::new(|l| l[3].opacity = 0.4),
        Box::new(|l| l[1].crop = Some(Rect { x: 20.0, y: 20.0, width: 30.0, height: 60.0 })),
        Box::new(|l| l[3].opacity = 0.0),
    ];
    let mut repainted = 0;
    for (n, step) in steps.iter().enumerate() {
        step(&mut layers);
        let p = frame_plan(&layers);
        let got = c.compose(&p, w, h).unwrap();
        repainted += usize::from(c.stats().repainted_pixels.is_some());
        // A frame of no layers first, so the reference cannot repaint.
        reference.compose(&frame_plan(&[]), w, h).unwrap();
        let whole = reference.compose(&p, w, h).unwrap();
        assert_eq!(reference.stats().repainted_pixels, None);
        let differing = got.pixels.chunks_exact(4).zip(whole.pixels.chunks_exact(4)).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "step {n}: {differing} pixels differ from the frame composited whole");
    }
    assert!(repainted >= 4, "only {repainted} of {} frames were repainted", steps.len());
}

#[test]
fn a_frame_with_no_scenes_is_transparent_and_bad_sizes_are_errors() {
    let mut c = compositor();
    let f = c.compose(&plan(vec![], vec![]), W, H).unwrap();
    assert!(f.pixels.iter().all(|&b| b == 0));
    assert!(matches!(c.compose(&plan(vec![], vec![]), 0, 10), Err(RenderError::BadSize { .. })));
}

#[test]
fn frames_in_flight_come_back_in_order_and_the_window_is_bounded() {
    let mut c = compositor();
    let at = |x: f32, v: u64| plan(vec![scene("s", SceneView::IDENTITY, vec![LayerPlan::full("fly", ops(vec![fill(rect(x, 0.0, 20.0, 20.0), 1.0, 1.0, 1.0, 1.0)]), v)])], vec![]);
    c.submit(&at(0.0, 100), W, H).unwrap();
    c.submit(&at(100.0, 101), W, H).unwrap();
    assert_eq!(c.in_flight(), 2);
    // A third drawn frame would need a third target: refused until one is received.
    assert!(c.submit(&at(50.0, 102), W, H).is_err());
    let first = c.receive().unwrap().unwrap();
    assert_px(&first, 10, 10, [255, 255, 255, 255]);
    assert_px(&first, 110, 10, [0, 0, 0, 0]);
    // An unchanged plan is queued as a repeat of the frame before it.
    c.submit(&at(100.0, 101), W, H).unwrap();
    let second = c.receive().unwrap().unwrap();
    let repeat = c.receive().unwrap().unwrap();
    assert_px(&second, 110, 10, [255, 255, 255, 255]);
    assert_eq!(second.pixels, repeat.pixels);
    assert!(c.receive().unwrap().is_none());
}
