//! Pixel tests of images (image ops, image paints, animation frames, missing assets,
//! the texture cache) and text (ink inside the measured box, gradient paint, scale):
//! `cargo test --release -p showrunner-render --test media`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, MutexGuard, OnceLock};
use std::time::Duration;

use common::*;
use showrunner_assets::{AssetLimits, AssetStore, DecoderSettings};
use showrunner_core::*;
use showrunner_render::{Compositor, Frame, Renderer};

/// An 8×8 PNG: red, green, blue and half-transparent white quadrants.
pub fn quadrants_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(8, 8, |x, y| match (x < 4, y < 4) {
        (true, true) => image::Rgba([255, 0, 0, 255]),
        (false, true) => image::Rgba([0, 255, 0, 255]),
        (true, false) => image::Rgba([0, 0, 255, 255]),
        (false, false) => image::Rgba([255, 255, 255, 128]),
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// A two-frame GIF: red for 100 ms, then blue for 100 ms.
fn blinking_gif() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        for c in [[255, 0, 0, 255], [0, 0, 255, 255]] {
            let frame = image::Frame::from_parts(image::RgbaImage::from_pixel(4, 4, image::Rgba(c)), 0, 0, image::Delay::from_numer_denom_ms(100, 1));
            encoder.encode_frame(frame).unwrap();
        }
    }
    bytes
}

fn store() -> AssetStore {
    static STORE: OnceLock<AssetStore> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let store = AssetStore::new(AssetLimits::default(), DecoderSettings::default());
            store.insert("quadrants", &quadrants_png()).unwrap();
            store.insert("blink", &blinking_gif()).unwrap();
            store
        })
        .clone()
}

/// The shared renderer with the test store set.
fn with_assets() -> MutexGuard<'static, Renderer> {
    let mut r = renderer();
    r.set_assets(store());
    r.set_time(Duration::ZERO);
    r
}

fn draw(r: &mut Renderer, ops: &[DrawOp], width: u32, height: u32) -> Frame {
    let mut ops = ops.to_vec();
    validate(&mut ops, &DrawListLimits::default()).unwrap();
    r.render(&ops, width, height).unwrap()
}

fn image_op(asset: &str, x: f32, y: f32, w: f32, h: f32, opacity: f32) -> DrawOp {
    DrawOp::Image(ImageDraw { asset: asset.into(), dest: Rect { x, y, width: w, height: h }, opacity })
}

#[test]
fn an_image_op_scales_the_asset_into_its_rectangle() {
    let mut r = with_assets();
    let frame = draw(&mut r, &[image_op("quadrants", 0.0, 0.0, 16.0, 16.0, 1.0)], 32, 32);
    assert_eq!(frame.stats.drawn, 1);
    assert_eq!(px(&frame, 4, 4), [255, 0, 0, 255]);
    assert_eq!(px(&frame, 12, 4), [0, 255, 0, 255]);
    assert_eq!(px(&frame, 4, 12), [0, 0, 255, 255]);
    let [r_, g, b, a] = px(&frame, 12, 12);
    assert!((127..=129).contains(&a) && r_ >= 253 && g >= 253 && b >= 253, "premultiplied round trip: {:?}", [r_, g, b, a]);
    assert_eq!(px(&frame, 20, 20), [0, 0, 0, 0], "outside the rectangle");
    let half = draw(&mut r, &[image_op("quadrants", 0.0, 0.0, 16.0, 16.0, 0.5)], 32, 32);
    let [_, _, _, a] = px(&half, 4, 4);
    assert!((127..=128).contains(&a), "opacity 0.5: alpha {a}");
}

#[test]
fn images_upload_once_and_animations_show_the_frame_of_the_renderer_time() {
    let mut r = with_assets();
    let ops = [image_op("blink", 0.0, 0.0, 8.0, 8.0, 1.0)];
    assert_eq!(px(&draw(&mut r, &ops, 8, 8), 4, 4), [255, 0, 0, 255], "frame 0 at time 0");
    let (_, _, uploads) = r.image_cache_counters();
    assert_eq!(px(&draw(&mut r, &ops, 8, 8), 4, 4), [255, 0, 0, 255]);
    assert_eq!(r.image_cache_counters().2, uploads, "the second frame uploaded nothing");
    r.set_time(Duration::from_millis(150));
    assert_eq!(px(&draw(&mut r, &ops, 8, 8), 4, 4), [0, 0, 255, 255], "frame 1 at 150 ms");
    r.set_time(Duration::from_millis(250));
    assert_eq!(px(&draw(&mut r, &ops, 8, 8), 4, 4), [255, 0, 0, 255], "the animation loops");
}

/// Damage tracking must not freeze pictures: a layer whose list did not change is
/// drawn again when its GIF moves to another frame or its image finishes loading.
#[test]
fn the_compositor_redraws_an_unchanged_layer_when_its_gif_advances_or_its_image_arrives() {
    let mut renderer = Renderer::new().unwrap();
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings::default());
    store.insert("blink", &blinking_gif()).unwrap();
    renderer.set_assets(store.clone());
    let mut c = Compositor::new(renderer).unwrap();
    let mut ops = vec![image_op("blink", 0.0, 0.0, 8.0, 8.0, 1.0), image_op("late", 8.0, 0.0, 8.0, 8.0, 1.0)];
    validate(&mut ops, &DrawListLimits::default()).unwrap();
    let layer = LayerPlan::full("pictures", Arc::new(ops), 1);
    let at = |n: u64| FramePlan {
        frame: FrameInfo::at(n, 16, 8, 30, 1),
        scenes: vec![ScenePlan { name: "s".into(), view: SceneView::IDENTITY, layers: vec![layer.clone()] }],
        overlay: Arc::new(vec![]),
    };
    let first = c.compose(&at(0), 16, 8).unwrap();
    assert_eq!(px(&first, 4, 4), [255, 0, 0, 255], "the GIF's first frame");
    assert_eq!(px(&first, 12, 4), [0, 0, 0, 0], "the late image is not there yet");
    // Frame 4 at 30 fps is 133 ms in: the GIF's second frame.
    let later = c.compose(&at(4), 16, 8).unwrap();
    assert_eq!(px(&later, 4, 4), [0, 0, 255, 255], "the GIF advanced");
    store.insert("late", &quadrants_png()).unwrap();
    let arrived = c.compose(&at(4), 16, 8).unwrap();
    assert_eq!(px(&arrived, 9, 1), [255, 0, 0, 255], "the late image appears once loaded");
}

#[test]
fn an_image_paint_fills_a_path_with_the_image_placed_by_its_transform() {
    let mut r = with_assets();
    // The 8×8 image at 2× from (8, 8): it covers 8..24; the square is larger.
    let paint = Paint::Image(ImageFill { asset: "quadrants".into(), transform: Affine { a: 2.0, b: 0.0, c: 0.0, d: 2.0, e: 8.0, f: 8.0 }, opacity: 1.0 });
    let frame = draw(&mut r, &[fill_paint(rect(0.0, 0.0, 32.0, 32.0), paint)], 32, 32);
    assert_eq!(px(&frame, 11, 11), [255, 0, 0, 255]);
    assert_eq!(px(&frame, 20, 11), [0, 255, 0, 255]);
    assert_eq!(px(&frame, 11, 20), [0, 0, 255, 255]);
    assert_eq!(px(&frame, 4, 4), [0, 0, 0, 0], "the image repeats neither way");
    assert_eq!(px(&frame, 28, 28), [0, 0, 0, 0]);
}

#[test]
fn a_missing_asset_draws_nothing_and_is_reported_once() {
    let mut r = with_assets();
    let ops = [fill(rect(0.0, 0.0, 4.0, 4.0), RED), image_op("nowhere", 0.0, 0.0, 8.0, 8.0, 1.0), image_op("nowhere", 4.0, 4.0, 4.0, 4.0, 1.0)];
    let first = draw(&mut r, &ops, 8, 8);
    assert_eq!(first.stats.missing_assets, 2);
    assert_eq!(first.stats.newly_missing, vec!["nowhere".to_string()]);
    assert_eq!(px(&first, 6, 6), [0, 0, 0, 0]);
    assert_eq!(px(&first, 1, 1), [255, 0, 0, 255], "the rest of the list is drawn");
    let second = draw(&mut r, &ops, 8, 8);
    assert_eq!(second.stats.missing_assets, 2);
    assert!(second.stats.newly_missing.is_empty(), "reported the first time only");
}

fn text(s: &str, size: f32, x: f32, y: f32, paint: Paint) -> DrawOp {
    DrawOp::Text(TextRun { text: s.into(), family: "Inter".into(), weight: 400, size, x, y, align: TextAlign::Start, paint, max_width: None })
}

/// Pixels with alpha inside and outside the box `x0..x1, y0..y1`.
fn ink(frame: &Frame, x0: f32, y0: f32, x1: f32, y1: f32) -> (usize, usize) {
    let (mut inside, mut outside) = (0, 0);
    for y in 0..frame.height {
        for x in 0..frame.width {
            if px(frame, x, y)[3] > 0 {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                if fx >= x0 && fx <= x1 && fy >= y0 && fy <= y1 { inside += 1 } else { outside += 1 }
            }
        }
    }
    (inside, outside)
}

#[test]
fn text_has_ink_inside_its_measured_box_only() {
    let mut r = renderer();
    let (width, _) = r.text_engine().measure("Hello", "Inter", 32.0);
    assert!(width > 40.0, "measured width {width}");
    let frame = draw(&mut r, &[text("Hello", 32.0, 10.0, 40.0, Paint::Solid(RED))], 128, 64);
    assert_eq!(frame.stats.drawn, 1);
    assert_eq!(frame.stats.skipped.text, 0);
    let (inside, outside) = ink(&frame, 8.0, 40.0 - 32.0, 12.0 + width, 40.0 + 10.0);
    assert!(inside > 150, "ink inside: {inside}");
    assert_eq!(outside, 0, "no ink outside the box");
    // Mask glyphs are tinted by the paint: fully covered pixels are pure red.
    assert!(frame.pixels.chunks_exact(4).any(|p| p == [255, 0, 0, 255]), "some pixel is fully inked red");
}

#[test]
fn text_scales_with_its_group_and_takes_gradient_paint() {
    let mut r = renderer();
    let (width, _) = r.text_engine().measure("WWWW", "Inter", 16.0);
    let paint = linear(0.0, 0.0, width, 0.0, &[(0.0, RED), (1.0, BLUE)]);
    let ops = [push(scale(2.0), 1.0), text("WWWW", 16.0, 0.0, 16.0, paint), DrawOp::Pop];
    let frame = draw(&mut r, &ops, 160, 48);
    let (inside, outside) = ink(&frame, 0.0, 0.0, 2.0 * width + 4.0, 40.0);
    assert!(inside > 300 && outside == 0, "inside {inside}, outside {outside}");
    let reddest = |x0: u32, x1: u32| (x0..x1).flat_map(|x| (0..48).map(move |y| (x, y))).map(|(x, y)| px(&frame, x, y)).filter(|p| p[3] == 255).map(|p| i32::from(p[0]) - i32::from(p[2])).max();
    let left = reddest(0, (width * 0.5) as u32).unwrap_or(-255);
    let right = reddest((width * 1.5) as u32, (width * 2.0) as u32).unwrap_or(255);
    assert!(left > 100 && right < -100, "red on the left ({left}), blue on the right ({right})");
}
