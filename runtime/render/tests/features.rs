//! Pixel tests of gradients, blend modes, clip paths and group layers:
//! `cargo test --release -p showrunner-render --test features`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use showrunner_core::*;

#[test]
fn a_linear_gradient_is_red_at_its_start_blue_at_its_end_and_mixed_halfway() {
    let frame = render(&[fill_paint(rect(0.0, 0.0, 64.0, 8.0), linear(0.0, 0.0, 64.0, 0.0, &[(0.0, RED), (1.0, BLUE)]))], 64, 8);
    assert_near(px(&frame, 0, 4), [253, 0, 2, 255], 2, "start");
    assert_near(px(&frame, 63, 4), [2, 0, 253, 255], 2, "end");
    // Pixel 32's centre is at t = 32.5 / 64.
    assert_near(px(&frame, 32, 4), [125, 0, 130, 255], 2, "midpoint");
    // Pad: a gradient shorter than the shape keeps its end colours beyond its points.
    let padded = render(&[fill_paint(rect(0.0, 0.0, 64.0, 8.0), linear(16.0, 0.0, 48.0, 0.0, &[(0.0, RED), (1.0, BLUE)]))], 64, 8);
    assert_eq!(px(&padded, 4, 4), [255, 0, 0, 255]);
    assert_eq!(px(&padded, 60, 4), [0, 0, 255, 255]);
}

#[test]
fn gradients_mix_premultiplied_so_a_fade_to_transparent_keeps_its_colour() {
    let frame = render(&[fill_paint(rect(0.0, 0.0, 64.0, 8.0), linear(0.0, 0.0, 64.0, 0.0, &[(0.0, RED), (1.0, TRANSPARENT)]))], 64, 8);
    let [r, g, b, a] = px(&frame, 32, 4);
    assert!((124..=128).contains(&a), "alpha {a}");
    assert_eq!([r, g, b], [255, 0, 0], "not darkened towards black");
}

#[test]
fn a_radial_gradient_runs_from_its_centre_to_its_radius_and_pads_outside() {
    let white = color(1.0, 1.0, 1.0, 1.0);
    let frame = render(&[fill_paint(rect(0.0, 0.0, 64.0, 64.0), radial(32.0, 32.0, 16.0, &[(0.0, white), (1.0, BLUE)]))], 64, 64);
    // (32.5, 32.5) is 0.71 px from the centre: t ≈ 0.044.
    assert_near(px(&frame, 32, 32), [244, 244, 255, 255], 3, "centre");
    // (40.5, 32.5) is 8.5 px from the centre: t ≈ 0.53.
    assert_near(px(&frame, 40, 32), [120, 120, 255, 255], 3, "half way");
    assert_eq!(px(&frame, 2, 2), [0, 0, 255, 255], "outside the radius");
}

#[test]
fn gradient_coordinates_follow_the_group_transform_and_work_on_strokes() {
    // A gradient over 0..32 in a group scaled 2x covers device 0..64.
    let ops = [push(scale(2.0), 1.0), fill_paint(rect(0.0, 0.0, 32.0, 4.0), linear(0.0, 0.0, 32.0, 0.0, &[(0.0, RED), (1.0, BLUE)])), DrawOp::Pop];
    let frame = render(&ops, 64, 8);
    assert_near(px(&frame, 32, 4), [125, 0, 130, 255], 3, "midpoint after scaling");
    let line = DrawOp::Stroke(Stroke {
        path: P::default().m(0.0, 4.0).l(64.0, 4.0).open(),
        paint: linear(0.0, 0.0, 64.0, 0.0, &[(0.0, RED), (1.0, BLUE)]),
        width: 4.0,
        join: LineJoin::Miter,
        cap: LineCap::Butt,
        miter_limit: 4.0,
        dash: vec![],
        dash_offset: 0.0,
    });
    let stroked = render(&[line], 64, 8);
    assert_near(px(&stroked, 32, 4), [125, 0, 130, 255], 2, "stroke midpoint");
    assert_eq!(px(&stroked, 32, 7), [0, 0, 0, 0], "outside the stroke");
}

/// Draws `src` over an opaque `dst` square through a group with `mode`.
fn blended(mode: BlendMode, dst: Color, src: Color) -> [u8; 4] {
    let ops = [fill(rect(0.0, 0.0, 8.0, 8.0), dst), blend(mode), fill(rect(0.0, 0.0, 8.0, 8.0), src), DrawOp::Pop];
    px(&render(&ops, 8, 8), 4, 4)
}

#[test]
fn blend_modes_follow_their_premultiplied_equations() {
    let dst = color(1.0, 0.5, 0.25, 1.0);
    let src = color(0.5, 0.5, 1.0, 1.0);
    assert_near(blended(BlendMode::Multiply, dst, src), [128, 64, 64, 255], 2, "multiply: src·dst");
    assert_near(blended(BlendMode::Screen, dst, src), [255, 191, 255, 255], 2, "screen: src + dst − src·dst");
    let dark = color(0.25, 0.25, 0.25, 1.0);
    assert_near(blended(BlendMode::Add, dark, color(0.5, 0.25, 0.0, 1.0)), [191, 128, 64, 255], 2, "add: src + dst");
    assert_near(blended(BlendMode::Normal, dst, src), [128, 128, 255, 255], 1, "normal: src over");
    // A translucent source: src·dst + dst·(1 − αs) = (0.75, 0.375, 0.25).
    assert_near(blended(BlendMode::Multiply, dst, color(0.5, 0.5, 1.0, 0.5)), [191, 96, 64, 255], 2, "translucent multiply");
}

#[test]
fn multiply_over_transparent_pixels_shows_the_source() {
    // src·(1 − αd) is the whole result where nothing is below.
    let ops = [blend(BlendMode::Multiply), fill(rect(0.0, 0.0, 8.0, 8.0), color(0.2, 0.6, 1.0, 1.0)), DrawOp::Pop];
    assert_near(px(&render(&ops, 8, 8), 4, 4), [51, 153, 255, 255], 1, "multiply on transparent");
}

#[test]
fn a_blended_group_of_several_ops_is_one_layer_blended_once() {
    // Inside the multiply group the two halves overlap normally; the group is then
    // multiplied onto the backdrop as one picture.
    let dst = color(1.0, 1.0, 0.5, 1.0);
    let ops = [
        fill(rect(0.0, 0.0, 16.0, 8.0), dst),
        blend(BlendMode::Multiply),
        fill(rect(0.0, 0.0, 12.0, 8.0), color(0.5, 0.5, 0.5, 1.0)),
        fill(rect(4.0, 0.0, 12.0, 8.0), color(1.0, 0.5, 1.0, 1.0)),
        DrawOp::Pop,
    ];
    let frame = render(&ops, 16, 8);
    assert_eq!(frame.stats.layers, 1);
    assert_near(px(&frame, 2, 4), [128, 128, 64, 255], 2, "first op only");
    assert_near(px(&frame, 8, 4), [255, 128, 128, 255], 2, "overlap: the top op, multiplied once");
}

#[test]
fn a_clip_path_keeps_its_inside_and_anti_aliases_its_edge() {
    let ops = [clip(circle(32.0, 32.0, 16.0)), fill(rect(0.0, 0.0, 64.0, 64.0), RED), DrawOp::Pop, fill(rect(0.0, 60.0, 4.0, 4.0), BLUE)];
    let frame = render(&ops, 64, 64);
    assert_eq!(px(&frame, 32, 32), [255, 0, 0, 255], "inside");
    for (x, y) in [(4, 4), (60, 4), (32, 8), (8, 32)] {
        assert_eq!(px(&frame, x, y), [0, 0, 0, 0], "outside at ({x}, {y})");
    }
    assert_eq!(px(&frame, 2, 62), [0, 0, 255, 255], "after pop nothing is clipped");
    // An edge half way through a pixel column: 2 of 4 samples.
    let half = render(&[clip(rect(0.0, 0.0, 8.5, 8.0)), fill(rect(0.0, 0.0, 16.0, 8.0), RED), DrawOp::Pop], 16, 8);
    let [_, _, _, a] = px(&half, 8, 4);
    assert!((127..=128).contains(&a), "edge alpha {a}");
}

#[test]
fn nested_clips_intersect_and_follow_the_group_transform() {
    let ops = [
        clip(rect(0.0, 0.0, 32.0, 64.0)),
        group(translate(0.0, 16.0), 1.0, Some(rect(0.0, 0.0, 64.0, 16.0)), BlendMode::Normal),
        fill(rect(-100.0, -100.0, 300.0, 300.0), RED),
        DrawOp::Pop,
        // Back at the first clip's level: the whole left half.
        fill(rect(0.0, 48.0, 64.0, 16.0), BLUE),
        DrawOp::Pop,
    ];
    let frame = render(&ops, 64, 64);
    assert_eq!(px(&frame, 16, 24), [255, 0, 0, 255], "inside both");
    assert_eq!(px(&frame, 48, 24), [0, 0, 0, 0], "outside the first");
    assert_eq!(px(&frame, 16, 8), [0, 0, 0, 0], "outside the second (translated to 16..32)");
    assert_eq!(px(&frame, 16, 56), [0, 0, 255, 255], "the first clip still applies after the second pops");
    assert_eq!(px(&frame, 48, 56), [0, 0, 0, 0]);
}

/// The same rectangle as a path the renderer cannot take for a rectangle (an extra
/// point on its top edge), so it goes through the stencil.
fn rect_via_stencil(x: f32, y: f32, w: f32, h: f32) -> Path {
    P::default().m(x, y).l(x + w * 0.5, y).l(x + w, y).l(x + w, y + h).l(x, y + h).z()
}

#[test]
fn a_rectangle_clip_cut_on_the_cpu_covers_what_the_stencil_covers() {
    let content = |clip_path: Path, inner: Option<Path>| {
        let mut ops = vec![
            group(translate(3.0, 2.0), 1.0, Some(clip_path), BlendMode::Normal),
            fill(circle(50.0, 40.0, 45.0), color(0.9, 0.2, 0.1, 0.8)),
            stroke(star(70.0, 30.0, 30.0), BLUE, 3.0, LineJoin::Round, LineCap::Round),
            fill_paint(rect(0.0, 0.0, 120.0, 80.0), linear(0.0, 0.0, 120.0, 0.0, &[(0.0, color(0.0, 1.0, 0.0, 0.3)), (1.0, color(0.0, 0.0, 1.0, 0.6))])),
        ];
        if let Some(inner) = inner {
            ops.push(group(rotate_about(10.0, 60.0, 40.0), 1.0, Some(inner), BlendMode::Normal));
            ops.push(fill(rect(-50.0, -50.0, 300.0, 300.0), color(1.0, 1.0, 0.0, 0.5)));
            ops.push(DrawOp::Pop);
        }
        ops.push(DrawOp::Pop);
        ops
    };
    // Fractional edges, so edge pixels are partly covered; then with a rotated (stencil)
    // clip nested inside the rectangle one.
    for inner in [None, Some(rect(40.0, 20.0, 40.0, 30.0))] {
        let cut = render(&content(rect(20.5, 10.25, 80.3, 50.6), inner.clone()), 128, 96);
        let stencil = render(&content(rect_via_stencil(20.5, 10.25, 80.3, 50.6), inner), 128, 96);
        // Cut vertices on the clip line are rounded, so a sample lying right on another
        // edge can flip: a few pixels may differ by one sample (a quarter of a pixel).
        let diffs: Vec<u8> = cut.pixels.chunks_exact(4).zip(stencil.pixels.chunks_exact(4)).map(|(a, b)| a.iter().zip(b).map(|(p, q)| p.abs_diff(*q)).max().unwrap_or(0)).collect();
        let differing = diffs.iter().filter(|&&d| d > 2).count();
        let worst = diffs.iter().copied().max().unwrap_or(0);
        assert!(differing <= 4 && worst <= 72, "{differing} pixels differ, by up to {worst}");
        assert_eq!(px(&cut, 10, 40), [0, 0, 0, 0], "left of the clip");
        assert!(px(&cut, 60, 40)[3] > 200, "inside the clip");
    }
}

#[test]
fn an_empty_clip_path_hides_the_group() {
    let ops = [clip(Path::default()), fill(rect(0.0, 0.0, 8.0, 8.0), RED), DrawOp::Pop, fill(rect(0.0, 0.0, 2.0, 2.0), BLUE)];
    let frame = render(&ops, 8, 8);
    assert_eq!(px(&frame, 5, 5), [0, 0, 0, 0]);
    assert_eq!(px(&frame, 1, 1), [0, 0, 255, 255]);
}

#[test]
fn a_half_transparent_group_of_overlapping_ops_is_isolated() {
    let ops = [push(Affine::IDENTITY, 0.5), fill(rect(0.0, 0.0, 12.0, 8.0), RED), fill(rect(4.0, 0.0, 12.0, 8.0), BLUE), DrawOp::Pop];
    let frame = render(&ops, 16, 8);
    assert_eq!(frame.stats.layers, 1);
    for (x, expected) in [(2, [255, 0, 0]), (8, [0, 0, 255]), (14, [0, 0, 255])] {
        let [r, g, b, a] = px(&frame, x, 4);
        assert!((127..=128).contains(&a), "alpha {a} at x = {x}: overlaps do not show");
        assert_eq!([r, g, b], expected, "colour at x = {x}");
    }
}

#[test]
fn layers_nest_inside_clips_and_other_layers() {
    let ops = [
        clip(rect(0.0, 0.0, 24.0, 32.0)),
        push(translate(8.0, 0.0), 0.5),
        fill(rect(0.0, 0.0, 32.0, 32.0), RED),
        push(Affine::IDENTITY, 0.5),
        fill(rect(0.0, 0.0, 8.0, 8.0), BLUE),
        fill(rect(4.0, 0.0, 8.0, 8.0), BLUE),
        DrawOp::Pop,
        DrawOp::Pop,
        DrawOp::Pop,
    ];
    let frame = render(&ops, 32, 32);
    assert_eq!(frame.stats.layers, 2);
    assert_eq!(px(&frame, 4, 16), [0, 0, 0, 0], "left of the translated layer");
    let [r, _, _, a] = px(&frame, 16, 16);
    assert!((r, a) == (255, 127) || (r, a) == (255, 128), "red at half: {:?}", px(&frame, 16, 16));
    assert_eq!(px(&frame, 28, 16), [0, 0, 0, 0], "clipped at 24");
    // Blue at half over red inside the outer layer, then the outer layer at half: 0.5 · 1.
    let [r, _, b, a] = px(&frame, 14, 4);
    assert!((127..=128).contains(&a) && r > 120 && b > 120, "{:?}", px(&frame, 14, 4));
}
