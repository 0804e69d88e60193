//! The feature chart: one 480×270 scene using every draw op and feature (both fill
//! rules, stroke joins, caps and dashes, linear and radial gradients, group transform,
//! opacity, clips, each blend mode, an image from a generated PNG, an image paint,
//! text), compared with `tests/golden/feature-chart-480x270.png`. Re-bless with
//! `UPDATE_GOLDEN=1 cargo test --release -p showrunner-render --test chart`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use showrunner_assets::{AssetLimits, AssetStore, DecoderSettings};
use showrunner_core::*;

/// A 16×16 PNG: a 4×4 checkerboard of orange and translucent white, a dark border.
fn badge_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(16, 16, |x, y| {
        if x == 0 || y == 0 || x == 15 || y == 15 {
            image::Rgba([20, 20, 40, 255])
        } else if (x / 4 + y / 4) % 2 == 0 {
            image::Rgba([255, 140, 0, 255])
        } else {
            image::Rgba([255, 255, 255, 96])
        }
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn stroke_full(path: Path, paint: Paint, width: f32, join: LineJoin, cap: LineCap, dash: Vec<f32>) -> DrawOp {
    DrawOp::Stroke(Stroke { path, paint, width, join, cap, miter_limit: 4.0, dash, dash_offset: 0.0 })
}

fn text(s: &str, size: f32, x: f32, y: f32, weight: u16, align: TextAlign, paint: Paint) -> DrawOp {
    DrawOp::Text(TextRun { text: s.into(), family: "Inter".into(), weight, size, x, y, align, paint, max_width: None })
}

fn zigzag(x: f32, y: f32) -> Path {
    P::default().m(x, y + 30.0).l(x + 15.0, y).l(x + 30.0, y + 30.0).l(x + 45.0, y).open()
}

pub fn feature_chart() -> Vec<DrawOp> {
    let white = color(1.0, 1.0, 1.0, 1.0);
    let amber = color(1.0, 0.72, 0.1, 1.0);
    let teal = color(0.1, 0.7, 0.65, 1.0);
    let magenta = color(0.85, 0.15, 0.55, 1.0);
    let mut ops = vec![
        // Background: a diagonal linear gradient.
        fill_paint(rect(0.0, 0.0, 480.0, 270.0), linear(0.0, 0.0, 480.0, 270.0, &[(0.0, color(0.05, 0.08, 0.2, 1.0)), (1.0, color(0.05, 0.3, 0.35, 1.0))])),
        // Row 1: fill rules, a radial gradient, joins and caps, a dashed gradient stroke.
        fill_rule(star(45.0, 50.0, 36.0), amber, FillRule::NonZero),
        fill_rule(star(125.0, 50.0, 36.0), amber, FillRule::EvenOdd),
        fill_paint(circle(205.0, 50.0, 36.0), radial(195.0, 40.0, 46.0, &[(0.0, white), (0.5, magenta), (1.0, color(0.3, 0.0, 0.3, 0.0))])),
        stroke(zigzag(255.0, 35.0), white, 6.0, LineJoin::Miter, LineCap::Butt),
        stroke(zigzag(310.0, 35.0), white, 6.0, LineJoin::Round, LineCap::Round),
        stroke(zigzag(365.0, 35.0), white, 6.0, LineJoin::Bevel, LineCap::Square),
        stroke_full(
            P::default().m(250.0, 85.0).l(470.0, 85.0).open(),
            linear(250.0, 0.0, 470.0, 0.0, &[(0.0, teal), (1.0, amber)]),
            5.0,
            LineJoin::Round,
            LineCap::Round,
            vec![14.0, 8.0],
        ),
        // Row 2: a rotated half-transparent group of overlapping shapes (one layer).
        push(rotate_about(-12.0, 60.0, 145.0), 0.6),
        fill(rect(20.0, 115.0, 60.0, 50.0), teal),
        fill(circle(85.0, 150.0, 28.0), magenta),
        DrawOp::Pop,
        // A clip: stripes seen through a circle, with a nested rectangle clip.
        clip(circle(175.0, 145.0, 38.0)),
    ];
    for k in 0..8 {
        ops.push(fill(rect(130.0 + k as f32 * 12.0, 100.0, 6.0, 90.0), if k % 2 == 0 { amber } else { white }));
    }
    ops.extend([
        group(Affine::IDENTITY, 1.0, Some(rect(150.0, 135.0, 60.0, 50.0)), BlendMode::Normal),
        fill(rect(100.0, 100.0, 200.0, 200.0), color(0.1, 0.4, 0.9, 0.85)),
        DrawOp::Pop,
        DrawOp::Pop,
    ]);
    // Blend modes: a magenta disc over a teal square in each mode.
    for (k, mode) in [BlendMode::Normal, BlendMode::Add, BlendMode::Multiply, BlendMode::Screen].into_iter().enumerate() {
        let x = 235.0 + k as f32 * 60.0;
        ops.extend([fill(rect(x, 115.0, 40.0, 40.0), teal), blend(mode), fill(circle(x + 35.0, 150.0, 20.0), color(0.9, 0.3, 0.6, 0.9)), DrawOp::Pop]);
    }
    // Row 3: images, an image paint, text.
    ops.extend([
        DrawOp::Image(ImageDraw { asset: "badge".into(), dest: Rect { x: 15.0, y: 195.0, width: 64.0, height: 64.0 }, opacity: 1.0 }),
        DrawOp::Image(ImageDraw { asset: "badge".into(), dest: Rect { x: 90.0, y: 205.0, width: 48.0, height: 48.0 }, opacity: 0.5 }),
        fill_paint(
            circle(180.0, 228.0, 30.0),
            Paint::Image(ImageFill { asset: "badge".into(), transform: Affine { a: 3.0, b: 1.0, c: -1.0, d: 3.0, e: 160.0, f: 190.0 }, opacity: 1.0 }),
        ),
        text("showrunner", 30.0, 225.0, 222.0, 700, TextAlign::Start, Paint::Solid(white)),
        text("gradients · clips · blends", 15.0, 225.0, 250.0, 400, TextAlign::Start, linear(225.0, 0.0, 420.0, 0.0, &[(0.0, amber), (1.0, magenta)])),
        push(rotate_about(90.0, 460.0, 225.0), 1.0),
        text("480×270", 12.0, 460.0, 229.0, 400, TextAlign::Center, Paint::Solid(color(1.0, 1.0, 1.0, 0.7))),
        DrawOp::Pop,
    ]);
    ops
}

#[test]
fn golden_feature_chart() {
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings::default());
    store.insert("badge", &badge_png()).unwrap();
    let mut ops = feature_chart();
    validate(&mut ops, &DrawListLimits::default()).unwrap();
    let frame = {
        let mut r = renderer();
        r.set_assets(store);
        r.render(&ops, 480, 270).unwrap()
    };
    assert_eq!(frame.stats.skipped.total(), 0, "{:?}", frame.stats);
    assert_eq!(frame.stats.missing_assets, 0);
    assert_eq!(frame.stats.layers, 1, "the rotated group is a layer; one-op blend groups need none");
    check_golden("feature-chart-480x270", &frame, 12, 0.004);
}
