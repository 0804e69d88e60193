//! Hostile draw lists: huge coordinates, degenerate paths, the op cap, tiny and empty
//! text, zero-size rectangles, missing assets, clips nested to the depth cap, empty
//! clips, too many gradients and layers. Each must render without a panic and
//! without a GPU validation error (`render` returns `RenderError::Gpu` on one):
//! `cargo test --release -p showrunner-render --test hostile`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use showrunner_assets::{AssetLimits, AssetStore, DecoderSettings};
use showrunner_core::*;
use showrunner_render::RenderError;

fn text(s: &str, size: f32, x: f32, y: f32) -> DrawOp {
    DrawOp::Text(TextRun { text: s.into(), family: "Inter".into(), weight: 400, size, x, y, align: TextAlign::Center, paint: Paint::Solid(RED), max_width: Some(0.0) })
}

fn image_op(asset: &str, x: f32, y: f32, w: f32, h: f32) -> DrawOp {
    DrawOp::Image(ImageDraw { asset: asset.into(), dest: Rect { x, y, width: w, height: h }, opacity: 1.0 })
}

#[test]
fn coordinates_at_the_magnitude_cap_render() {
    let m = 1.0e6;
    let huge = Affine { a: m, b: -m, c: m, d: m, e: -m, f: m };
    let ops = vec![
        fill_paint(rect(-m, -m, 2.0 * m, 2.0 * m), linear(-m, -m, m, m, &[(0.0, RED), (1.0, BLUE)])),
        fill_paint(circle(0.0, 0.0, m), radial(m, m, m, &[(0.0, RED), (1.0, BLUE)])),
        group(huge, 0.5, Some(circle(0.0, 0.0, m)), BlendMode::Screen),
        fill(rect(-m, -m, m, m), RED),
        stroke(P::default().m(-m, m).l(m, -m).open(), BLUE, m, LineJoin::Miter, LineCap::Square),
        text("far away", m, m, -m),
        DrawOp::Pop,
        text("far away", 12.0, -m, m),
        image_op("nowhere", -m, -m, m, m),
    ];
    let frame = render(&ops, 64, 64);
    assert_eq!(frame.pixels.len(), 64 * 64 * 4);
    assert!(px(&frame, 32, 32)[3] > 0, "the big gradient rectangle covers the frame");
}

#[test]
fn degenerate_paths_and_zero_sizes_draw_nothing_and_do_not_panic() {
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings::default());
    let ops = vec![
        fill(Path { verbs: vec![verb::MOVE], points: vec![3.0, 3.0] }, RED),
        fill(P::default().m(1.0, 1.0).l(1.0, 1.0).l(1.0, 1.0).z(), RED),
        fill(P::default().m(0.0, 0.0).l(8.0, 0.0).l(16.0, 0.0).z(), RED),
        stroke(Path { verbs: vec![verb::MOVE, verb::CLOSE], points: vec![4.0, 4.0] }, RED, 2.0, LineJoin::Round, LineCap::Round),
        fill_paint(rect(0.0, 0.0, 0.0, 0.0), linear(0.0, 0.0, 0.0, 0.0, &[(0.5, RED)])),
        image_op("nowhere", 0.0, 0.0, 0.0, 0.0),
        text("", 12.0, 4.0, 4.0),
        text("tiny", 1.0e-6, 4.0, 4.0),
        text("squashed", 12.0, 4.0, 4.0),
        group(Affine { a: 0.0, b: 0.0, c: 0.0, d: 0.0, e: 0.0, f: 0.0 }, 1.0, Some(rect(0.0, 0.0, 8.0, 8.0)), BlendMode::Multiply),
        text("squashed", 12.0, 4.0, 4.0),
        fill(rect(0.0, 0.0, 8.0, 8.0), RED),
        DrawOp::Pop,
    ];
    let frame = {
        let mut r = renderer();
        r.set_assets(store);
        let mut ops = ops;
        validate(&mut ops, &DrawListLimits::default()).unwrap();
        r.render(&ops, 16, 16).unwrap()
    };
    assert_eq!(frame.stats.missing_assets, 1);
    assert_eq!(frame.stats.skipped.failed, 0, "{:?}", frame.stats);
    let inked = frame.pixels.chunks_exact(4).filter(|p| p[3] > 0).count();
    // Only "squashed" at its anchor (no transform) may draw; nothing else has area.
    assert!(inked < 16 * 16 / 2, "{inked} pixels inked");
}

#[test]
fn twenty_thousand_tiny_ops_render() {
    let mut ops = Vec::with_capacity(20_000);
    for k in 0..20_000u32 {
        let (x, y) = ((k % 200) as f32 * 0.5, (k / 200) as f32 * 0.5);
        let c = color((k % 7) as f32 / 7.0, (k % 11) as f32 / 11.0, 0.5, 0.8);
        ops.push(match k % 4 {
            0 => fill(rect(x, y, 0.4, 0.4), c),
            1 => fill_paint(rect(x, y, 0.4, 0.4), linear(x, y, x + 0.4, y, &[(0.0, c), (1.0, RED)])),
            2 => stroke(P::default().m(x, y).l(x + 0.3, y + 0.3).open(), c, 0.2, LineJoin::Round, LineCap::Round),
            _ => fill_rule(star(x, y, 0.3), c, FillRule::EvenOdd),
        });
    }
    let frame = render(&ops, 100, 50);
    assert_eq!(frame.stats.drawn, 20_000, "{:?}", frame.stats);
    assert!(px(&frame, 50, 25)[3] > 0);
}

#[test]
fn clips_nested_to_the_depth_cap_intersect() {
    let mut ops = Vec::new();
    for k in 0..32 {
        let k = k as f32;
        ops.push(group(translate(0.5, 0.0), 1.0, Some(rect(k * 0.5, k, 64.0, 64.0 - 2.0 * k)), BlendMode::Normal));
    }
    ops.push(fill(rect(-100.0, -100.0, 300.0, 300.0), RED));
    let frame = render(&ops, 64, 64);
    // The innermost clip, translated 32 × 0.5 px: x ≥ 16 + 15.5 + ..., y in 31..33.
    assert_eq!(px(&frame, 50, 32), [255, 0, 0, 255], "inside every clip");
    assert_eq!(px(&frame, 50, 20), [0, 0, 0, 0], "outside the innermost");
    assert_eq!(px(&frame, 10, 32), [0, 0, 0, 0], "left of the translated clips");
}

#[test]
fn too_many_gradients_and_layers_are_counted_and_the_rest_drawn() {
    let mut ops = Vec::new();
    for k in 0..2100u32 {
        let c = color(k as f32 / 2100.0, 0.0, 0.0, 1.0);
        ops.push(fill_paint(rect(0.0, 0.0, 4.0, 4.0), linear(0.0, 0.0, 4.0, 0.0, &[(0.0, c), (1.0, BLUE)])));
    }
    for k in 0..40 {
        let x = (k % 8) as f32 * 8.0;
        ops.extend([push(Affine::IDENTITY, 0.5), fill(rect(x, 8.0, 6.0, 6.0), RED), fill(rect(x + 2.0, 8.0, 6.0, 6.0), BLUE), DrawOp::Pop]);
    }
    let frame = render(&ops, 64, 16);
    assert_eq!(frame.stats.skipped.gradient, 2100 - 2048);
    assert_eq!(frame.stats.layers, 32);
    assert_eq!(frame.stats.skipped.isolation, 8);
    assert!(px(&frame, 2, 2)[3] == 255);
}

#[test]
fn drawing_over_a_target_it_cannot_read_is_a_typed_error() {
    let mut r = renderer();
    let texture = r.gpu().device.create_texture(&wgpu::TextureDescriptor {
        label: Some("write-only target"),
        size: wgpu::Extent3d { width: 8, height: 8, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: showrunner_render::COLOR_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
        view_formats: &[],
    });
    let view = texture.create_view(&Default::default());
    let mut encoder = r.gpu().device.create_command_encoder(&Default::default());
    let result = r.draw_into(&mut encoder, &[fill(rect(0.0, 0.0, 4.0, 4.0), RED)], &view, 8, 8, false);
    assert!(matches!(result, Err(RenderError::Gpu(_))), "{result:?}");
    assert!(matches!(r.draw_into(&mut encoder, &[], &view, 0, 8, true), Err(RenderError::BadSize { .. })));
    let wrong_size = r.draw_into(&mut encoder, &[], &view, 16, 8, true);
    assert!(matches!(&wrong_size, Err(RenderError::Gpu(m)) if m.contains("8x8")), "{wrong_size:?}");
}
