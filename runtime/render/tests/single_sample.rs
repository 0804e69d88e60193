//! Single-sample rasterization of lists whose edges all land on whole pixels: such a
//! list must come out byte for byte as the multisampled path draws it (forced with
//! `Renderer::set_force_multisample`), through `render` and through `draw_into` over
//! a target's content, and a list off the pixel grid must stay multisampled:
//! `cargo test --release -p showrunner-render --test single_sample`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::*;
use showrunner_assets::{AssetLimits, AssetStore, DecoderSettings, LiveInputs};
use showrunner_core::*;
use showrunner_render::Renderer;

const W: u32 = 96;
const H: u32 = 64;

/// Deterministic noise, so bilinear sampling has something to show.
fn noise(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..width * height * 4)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            if i % 4 == 3 { 255 } else { (state >> 24) as u8 }
        })
        .collect()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_raw(width, height, noise(width, height, 7)).unwrap();
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn video(x: f32, y: f32, w: f32, h: f32, opacity: f32) -> DrawOp {
    DrawOp::Video(VideoDraw { input: "cam".into(), dest: Rect { x, y, width: w, height: h }, opacity })
}

fn picture(x: f32, y: f32, w: f32, h: f32) -> DrawOp {
    DrawOp::Image(ImageDraw { asset: "noise".into(), dest: Rect { x, y, width: w, height: h }, opacity: 0.8 })
}

/// The shared renderer with a noise picture as asset and as live input.
fn with_pictures() -> std::sync::MutexGuard<'static, Renderer> {
    let mut r = renderer();
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings::default());
    store.insert("noise", &png(9, 7)).unwrap();
    r.set_assets(store);
    let inputs = LiveInputs::new();
    inputs.publish("cam", 7, 5, Bytes::from(noise(7, 5, 3))).unwrap();
    r.set_live_inputs(inputs);
    r
}

fn valid(ops: &[DrawOp]) -> Vec<DrawOp> {
    let mut ops = ops.to_vec();
    validate(&mut ops, &DrawListLimits::default()).unwrap();
    ops
}

fn pixel_aligned_lists() -> Vec<(&'static str, Vec<DrawOp>)> {
    let half = color(0.2, 0.8, 0.4, 0.5);
    let gradient = linear(0.0, 0.0, 96.0, 0.0, &[(0.0, RED), (1.0, color(0.0, 0.3, 1.0, 0.6))]);
    let flip = Affine { a: -2.0, d: 1.0, e: 90.0, f: 3.0, ..Affine::IDENTITY };
    vec![
        ("slate and translucent rects", vec![fill(rect(0.0, 0.0, 96.0, 64.0), color(0.15, 0.17, 0.2, 1.0)), fill(rect(10.0, 5.0, 40.0, 30.0), half), fill(rect(30.0, 20.0, 60.0, 44.0), half)]),
        ("gradients", vec![fill_paint(rect(0.0, 0.0, 96.0, 32.0), gradient), fill_paint(rect(8.0, 32.0, 80.0, 30.0), radial(48.0, 48.0, 30.0, &[(0.0, BLUE), (1.0, TRANSPARENT)]))]),
        (
            "isolated groups with blend modes",
            vec![
                fill(rect(0.0, 0.0, 96.0, 64.0), color(0.5, 0.4, 0.3, 1.0)),
                group(translate(4.0, 2.0), 0.6, None, BlendMode::Screen),
                fill(rect(0.0, 0.0, 50.0, 40.0), RED),
                fill(rect(20.0, 10.0, 50.0, 40.0), BLUE),
                DrawOp::Pop,
                blend(BlendMode::Multiply),
                fill(rect(40.0, 30.0, 50.0, 30.0), half),
                DrawOp::Pop,
                blend(BlendMode::Add),
                fill(rect(5.0, 40.0, 30.0, 20.0), half),
                DrawOp::Pop,
            ],
        ),
        (
            "pictures, flipped and clipped",
            vec![
                video(0.0, 0.0, 96.0, 64.0, 1.0),
                group(flip, 1.0, Some(rect(5.0, 4.0, 30.0, 50.0)), BlendMode::Normal),
                picture(0.0, 0.0, 40.0, 60.0),
                video(10.5, 2.0, 20.0, 30.0, 0.7),
                DrawOp::Pop,
            ],
        ),
    ]
}

#[test]
fn pixel_aligned_lists_render_single_sample_exactly_as_multisampled() {
    let mut r = with_pictures();
    for (what, ops) in pixel_aligned_lists() {
        let ops = valid(&ops);
        r.set_force_multisample(false);
        let single = r.render(&ops, W, H).unwrap();
        r.set_force_multisample(true);
        let multi = r.render(&ops, W, H).unwrap();
        r.set_force_multisample(false);
        assert_eq!(single.stats.single_sample_passes, single.stats.layers + 1, "{what}: every pass single-sample");
        assert_eq!(multi.stats.single_sample_passes, 0, "{what}: forced multisampling");
        assert!(single.stats.drawn > 0 && single.stats.skipped.total() == 0, "{what}: {:?}", single.stats);
        let differing = single.pixels.chunks_exact(4).zip(multi.pixels.chunks_exact(4)).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{what}: pixels differing between single-sample and multisampled");
    }
}

#[test]
fn drawing_over_a_target_single_sample_keeps_its_content_as_multisampled() {
    let mut r = with_pictures();
    let under = valid(&[fill(circle(40.0, 30.0, 25.0), color(0.9, 0.6, 0.1, 0.8))]);
    let over = valid(&[fill(rect(20.0, 10.0, 50.0, 40.0), color(0.1, 0.2, 0.9, 0.5)), video(60.0, 0.0, 30.0, 20.0, 0.5)]);
    let mut drawn = Vec::new();
    for force in [false, true] {
        r.set_force_multisample(force);
        let texture = target_texture(&r, W, H);
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder = r.gpu().device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("test") });
        let below = r.draw_into(&mut encoder, &under, &view, W, H, true).unwrap();
        let above = r.draw_into(&mut encoder, &over, &view, W, H, false).unwrap();
        r.gpu().queue.submit([encoder.finish()]);
        assert_eq!(below.single_sample_passes, 0, "a circle is multisampled");
        assert_eq!(above.single_sample_passes, usize::from(!force), "force {force}");
        drawn.push(r.read_back_texture(&texture, W, H).unwrap());
    }
    r.set_force_multisample(false);
    assert!(drawn[0] == drawn[1], "drawing over a target: single-sample and multisampled pixels differ");
}

#[test]
fn lists_off_the_pixel_grid_stay_multisampled() {
    let mut r = with_pictures();
    let half_pixel = group(translate(0.5, 0.0), 1.0, None, BlendMode::Normal);
    let lists = [
        ("fractional rect", vec![fill(rect(0.0, 0.0, 10.5, 10.0), RED)]),
        ("circle", vec![fill(circle(20.0, 20.0, 10.0), RED)]),
        ("stroke", vec![stroke(rect(2.0, 2.0, 20.0, 20.0), RED, 2.0, LineJoin::Miter, LineCap::Butt)]),
        ("rotated rect", vec![push(rotate_about(10.0, 20.0, 20.0), 1.0), fill(rect(0.0, 0.0, 10.0, 10.0), RED), DrawOp::Pop]),
        ("shifted video", vec![half_pixel, video(0.0, 0.0, 20.0, 20.0, 1.0), DrawOp::Pop]),
        ("stencil clip", vec![fill(rect(0.0, 0.0, 96.0, 64.0), BLUE), clip(circle(30.0, 30.0, 20.0)), fill(rect(0.0, 0.0, 96.0, 64.0), RED), DrawOp::Pop]),
    ];
    for (what, ops) in lists {
        let frame = r.render(&valid(&ops), W, H).unwrap();
        assert_eq!(frame.stats.single_sample_passes, 0, "{what}");
        assert!(frame.stats.drawn > 0, "{what} drew");
    }
}
