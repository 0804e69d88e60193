//! Pixel tests of the renderer on whatever adapter the machine has (lavapipe in CI):
//! `cargo test -p showrunner-render`. Re-bless the golden images with
//! `UPDATE_GOLDEN=1 cargo test -p showrunner-render`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use showrunner_core::*;
use showrunner_render::RenderError;

#[test]
fn a_red_square_has_exact_inside_outside_and_antialiased_edges() {
    // Edges on pixel centres: the edge pixels are half covered.
    let frame = render(&[fill(rect(16.5, 16.5, 31.0, 31.0), RED)], 64, 64);
    assert_eq!(frame.pixels.len(), 64 * 64 * 4);
    assert_eq!(px(&frame, 32, 32), [255, 0, 0, 255], "inside");
    assert_eq!(px(&frame, 17, 17), [255, 0, 0, 255], "first full pixel");
    assert_eq!(px(&frame, 47 - 1, 40), [255, 0, 0, 255], "last full pixel");
    for (x, y) in [(2, 2), (15, 32), (32, 15), (48, 32), (32, 48), (63, 63)] {
        assert_eq!(px(&frame, x, y), CLEAR, "outside at ({x}, {y})");
    }
    // Half-covered edge pixels: 2 of 4 samples → alpha 127 or 128, colour still pure red
    // once un-premultiplied.
    for (x, y) in [(16, 32), (47, 32), (32, 16), (32, 47)] {
        let [r, g, b, a] = px(&frame, x, y);
        assert!((127..=128).contains(&a), "edge alpha at ({x}, {y}) is {a}");
        assert_eq!([r, g, b], [255, 0, 0], "edge colour at ({x}, {y})");
    }
    // Corners are a quarter covered.
    let [_, _, _, a] = px(&frame, 16, 16);
    assert!((63..=64).contains(&a), "corner alpha is {a}");
}

#[test]
fn even_odd_leaves_the_middle_of_a_star_empty_and_non_zero_fills_it() {
    let nonzero = render(&[fill_rule(star(32.0, 32.0, 28.0), RED, FillRule::NonZero)], 64, 64);
    let evenodd = render(&[fill_rule(star(32.0, 32.0, 28.0), RED, FillRule::EvenOdd)], 64, 64);
    assert_eq!(px(&nonzero, 32, 33), [255, 0, 0, 255]);
    assert_eq!(px(&evenodd, 32, 33), CLEAR);
    // A point in one of the star's tips is filled either way.
    assert_eq!(px(&nonzero, 32, 8), [255, 0, 0, 255]);
    assert_eq!(px(&evenodd, 32, 8), [255, 0, 0, 255]);
}

#[test]
fn a_translated_group_moves_its_content_and_pop_restores() {
    let frame = render(
        &[push(translate(20.0, 30.0), 1.0), fill(rect(0.0, 0.0, 10.0, 10.0), RED), DrawOp::Pop, fill(rect(0.0, 0.0, 4.0, 4.0), RED)],
        64,
        64,
    );
    assert_eq!(px(&frame, 25, 35), [255, 0, 0, 255]);
    assert_eq!(px(&frame, 8, 8), CLEAR, "the group's square is not at the origin");
    assert_eq!(px(&frame, 2, 2), [255, 0, 0, 255], "after pop, the identity transform is back");
    assert_eq!(px(&frame, 31, 41), CLEAR);
}

#[test]
fn group_opacity_half_gives_alpha_128() {
    let frame = render(&[push(Affine::IDENTITY, 0.5), fill(rect(0.0, 0.0, 64.0, 64.0), RED), DrawOp::Pop], 64, 64);
    let [r, g, b, a] = px(&frame, 32, 32);
    assert!((127..=128).contains(&a), "alpha {a}");
    assert_eq!([r, g, b], [255, 0, 0]);
    // Nested opacity multiplies; colour alpha multiplies too.
    let frame = render(
        &[push(Affine::IDENTITY, 0.5), push(Affine::IDENTITY, 0.5), fill(rect(0.0, 0.0, 64.0, 64.0), color(0.0, 0.0, 1.0, 0.5))],
        64,
        64,
    );
    let [_, _, b, a] = px(&frame, 32, 32);
    assert!((31..=32).contains(&a), "alpha {a}");
    assert_eq!(b, 255);
}

#[test]
fn straight_alpha_colours_blend_over_each_other() {
    // 50% white over opaque black is mid grey (sRGB-space blending, as browsers do).
    let frame = render(&[fill(rect(0.0, 0.0, 8.0, 8.0), color(0.0, 0.0, 0.0, 1.0)), fill(rect(0.0, 0.0, 8.0, 8.0), color(1.0, 1.0, 1.0, 0.5))], 8, 8);
    let [r, g, b, a] = px(&frame, 4, 4);
    assert_eq!(a, 255);
    assert!([r, g, b].iter().all(|c| (127..=128).contains(c)), "{:?}", [r, g, b]);
}

#[test]
fn strokes_have_width_and_caps() {
    let line = || P::default().m(8.0, 32.0).l(56.0, 32.0).open();
    let butt = render(&[stroke(line(), RED, 4.0, LineJoin::Miter, LineCap::Butt)], 64, 64);
    assert_eq!(px(&butt, 32, 31), [255, 0, 0, 255]);
    assert_eq!(px(&butt, 32, 32), [255, 0, 0, 255]);
    assert_eq!(px(&butt, 32, 35), CLEAR, "wider than 4 px");
    assert_eq!(px(&butt, 6, 32), CLEAR, "a butt cap ends at the point");
    let square = render(&[stroke(line(), RED, 4.0, LineJoin::Miter, LineCap::Square)], 64, 64);
    assert_eq!(px(&square, 6, 32), [255, 0, 0, 255], "a square cap reaches half the width past the end");
    // Miter joins fill a right-angle corner; bevel joins cut it.
    let corner = || P::default().m(16.0, 48.0).l(16.0, 16.0).l(48.0, 16.0).open();
    let miter = render(&[stroke(corner(), RED, 8.0, LineJoin::Miter, LineCap::Butt)], 64, 64);
    let bevel = render(&[stroke(corner(), RED, 8.0, LineJoin::Bevel, LineCap::Butt)], 64, 64);
    assert_eq!(px(&miter, 12, 12), [255, 0, 0, 255]);
    assert_eq!(px(&bevel, 12, 12), CLEAR);
}

#[test]
fn dashed_strokes_alternate_and_honour_the_offset() {
    let dashed = |offset: f32| {
        DrawOp::Stroke(Stroke {
            path: P::default().m(0.0, 32.0).l(64.0, 32.0).open(),
            paint: Paint::Solid(RED),
            width: 4.0,
            join: LineJoin::Miter,
            cap: LineCap::Butt,
            miter_limit: 4.0,
            dash: vec![8.0],
            dash_offset: offset,
        })
    };
    let frame = render(&[dashed(0.0)], 64, 64);
    assert_eq!(px(&frame, 4, 32), [255, 0, 0, 255]);
    assert_eq!(px(&frame, 12, 32), CLEAR);
    assert_eq!(px(&frame, 20, 32), [255, 0, 0, 255]);
    let shifted = render(&[dashed(4.0)], 64, 64);
    assert_eq!(px(&shifted, 2, 32), [255, 0, 0, 255]);
    assert_eq!(px(&shifted, 6, 32), CLEAR);
    assert_eq!(px(&shifted, 14, 32), [255, 0, 0, 255]);
}

#[test]
fn a_half_transparent_stroke_crossing_itself_blends_once() {
    let cross = P::default().m(8.0, 8.0).l(56.0, 56.0).l(56.0, 8.0).l(8.0, 56.0).open();
    let frame = render(&[stroke(cross, color(1.0, 0.0, 0.0, 0.5), 6.0, LineJoin::Round, LineCap::Butt)], 64, 64);
    let [_, _, _, a] = px(&frame, 32, 32);
    assert!((127..=128).contains(&a), "the crossing is as opaque as the rest: {a}");
}

#[test]
fn ops_this_renderer_cannot_draw_are_counted_not_drawn() {
    let stops = vec![GradientStop { offset: 0.0, color: RED }, GradientStop { offset: 1.0, color: RED }];
    let ops = vec![
        DrawOp::Push(Group { transform: Affine::IDENTITY, opacity: 1.0, clip: Some(rect(0.0, 0.0, 4.0, 4.0)), blend: BlendMode::Screen }),
        DrawOp::Text(TextRun {
            text: "hi".into(),
            family: "Inter".into(),
            weight: 400,
            size: 12.0,
            x: 0.0,
            y: 0.0,
            align: TextAlign::Start,
            paint: Paint::Solid(RED),
            max_width: None,
        }),
        DrawOp::Image(ImageDraw { asset: "logo".into(), dest: Rect { x: 0.0, y: 0.0, width: 8.0, height: 8.0 }, opacity: 1.0 }),
        DrawOp::Video(VideoDraw { input: "cam".into(), dest: Rect { x: 0.0, y: 0.0, width: 8.0, height: 8.0 }, opacity: 1.0 }),
        DrawOp::Fill(Fill { path: rect(0.0, 0.0, 8.0, 8.0), paint: Paint::Linear(LinearGradient { x0: 0.0, y0: 0.0, x1: 8.0, y1: 0.0, stops }), rule: FillRule::NonZero }),
        DrawOp::Fill(Fill { path: rect(0.0, 0.0, 8.0, 8.0), paint: Paint::Image(ImageFill { asset: "a".into(), transform: Affine::IDENTITY, opacity: 1.0 }), rule: FillRule::NonZero }),
        DrawOp::Stroke(Stroke { path: rect(1.0, 1.0, 6.0, 6.0), paint: Paint::Solid(RED), width: 1.0, join: LineJoin::Miter, cap: LineCap::Butt, miter_limit: 4.0, dash: vec![2.0, 1.0], dash_offset: 0.0 }),
        DrawOp::Pop,
    ];
    let frame = render(&ops, 8, 8);
    let s = frame.stats.skipped;
    // No asset store is set: images are skipped; text, gradients and clips are drawn.
    assert_eq!((s.text, s.image, s.video, s.gradient, s.image_paint, s.isolation, s.failed, s.over_budget), (0, 1, 1, 0, 1, 0, 0, 0));
    assert_eq!(s.total(), 3);
    assert_eq!(frame.stats.drawn, 3, "the text, the gradient fill and the dashed stroke are drawn");
    assert_eq!(frame.stats.layers, 1, "a screen-blended group of several ops is isolated");
}

#[test]
fn hostile_geometry_renders_without_panic() {
    let huge = 1.0e6;
    let squash = Affine { a: 0.0, b: 0.0, c: 0.0, d: 0.0, e: 0.0, f: 0.0 };
    let blow_up = Affine { a: huge, b: 0.0, c: 0.0, d: huge, e: -huge, f: huge };
    let ops = vec![
        fill(rect(-huge, -huge, 2.0 * huge - 1.0, 2.0 * huge - 1.0), color(0.0, 1.0, 0.0, 1.0)),
        fill(Path { verbs: vec![0], points: vec![1.0, 1.0] }, RED),
        fill(Path::default(), RED),
        fill(P::default().m(3.0, 3.0).l(3.0, 3.0).l(3.0, 3.0).z(), RED),
        stroke(P::default().m(0.0, 0.0).l(0.0, 0.0).open(), RED, 3.0, LineJoin::Round, LineCap::Round),
        stroke(circle(0.0, 0.0, huge), RED, huge, LineJoin::Miter, LineCap::Square),
        push(squash, 1.0),
        fill(circle(10.0, 10.0, 5.0), RED),
        DrawOp::Pop,
        push(blow_up, 1.0),
        fill(circle(0.0, 0.0, 1.0), RED),
        stroke(P::default().m(0.0, 0.0).q(huge, -huge, 1.0, 1.0).l(-1.0, 0.0).open(), RED, 0.001, LineJoin::Miter, LineCap::Butt),
    ];
    let frame = render(&ops, 16, 16);
    assert_eq!(frame.pixels.len(), 16 * 16 * 4);
    assert!(matches!(renderer().render(&[], 0, 16), Err(RenderError::BadSize { .. })));
    assert!(matches!(renderer().render(&[], 16, 1_000_000), Err(RenderError::BadSize { .. })));
}

#[test]
fn a_frame_over_the_vertex_budget_skips_the_rest_and_counts_it() {
    // 50 000 dashes of 4 vertices each per op: the budget runs out after 20 ops.
    let dashed = DrawOp::Stroke(Stroke {
        path: P::default().m(0.0, 8.0).l(100_000.0, 8.0).open(),
        paint: Paint::Solid(RED),
        width: 2.0,
        join: LineJoin::Miter,
        cap: LineCap::Butt,
        miter_limit: 4.0,
        dash: vec![1.0, 1.0],
        dash_offset: 0.0,
    });
    let frame = render(&vec![dashed; 30], 16, 16);
    assert!(frame.stats.skipped.over_budget > 0, "{:?}", frame.stats);
    assert!(frame.stats.drawn > 0);
    assert_eq!(px(&frame, 0, 8), [255, 0, 0, 255]);
}

#[test]
fn the_no_adapter_error_says_what_to_install() {
    let e = RenderError::NoAdapter { detail: "none".into() };
    assert!(e.to_string().contains("mesa-vulkan-drivers"), "{e}");
}

#[test]
fn frames_of_other_sizes_and_repeated_frames_work_and_reuse_tessellation() {
    let ops = [fill(circle(50.0, 30.0, 20.0), RED)];
    {
        // One lock for both frames: the cache keeps only what the previous frame used.
        let mut r = renderer();
        let a = r.render(&ops, 100, 60).unwrap();
        let (_, misses) = r.cache_counters();
        let b = r.render(&ops, 100, 60).unwrap();
        assert_eq!(a, b);
        assert_eq!(r.cache_counters().1, misses, "the second frame tessellated nothing");
    }
    let odd = render(&ops, 67, 33);
    assert_eq!(odd.pixels.len(), 67 * 33 * 4);
    assert_eq!(px(&odd, 50, 30 - 20 + 5), [255, 0, 0, 255]);
    println!("adapter: {}", renderer().adapter());
}

/// A lower-third-like composition touching every op of this slice.
fn composition() -> Vec<DrawOp> {
    let navy = color(0.07, 0.12, 0.30, 0.92);
    let amber = color(1.0, 0.72, 0.10, 1.0);
    let white = color(1.0, 1.0, 1.0, 1.0);
    let bar = P::default().m(20.0, 110.0).l(250.0, 110.0).q(270.0, 110.0, 270.0, 130.0).l(270.0, 150.0).l(20.0, 150.0).z();
    vec![
        fill(rect(0.0, 0.0, 320.0, 180.0), color(0.15, 0.6, 0.45, 0.25)),
        fill(bar, navy),
        fill(rect(20.0, 100.0, 120.0, 10.0), amber),
        stroke(P::default().m(30.0, 140.0).l(150.0, 140.0).open(), white, 3.0, LineJoin::Round, LineCap::Round),
        stroke(P::default().m(30.0, 125.0).l(60.0, 118.0).l(90.0, 132.0).l(120.0, 118.0).open(), amber, 4.0, LineJoin::Miter, LineCap::Butt),
        DrawOp::Stroke(Stroke {
            path: P::default().m(20.0, 166.0).l(300.0, 166.0).open(),
            paint: Paint::Solid(white),
            width: 3.0,
            join: LineJoin::Round,
            cap: LineCap::Round,
            miter_limit: 4.0,
            dash: vec![10.0, 7.0],
            dash_offset: 0.0,
        }),
        stroke(P::default().m(160.0, 120.0).l(180.0, 140.0).l(200.0, 120.0).l(220.0, 140.0).open(), white, 5.0, LineJoin::Bevel, LineCap::Square),
        push(rotate_about(20.0, 250.0, 50.0), 0.8),
        fill_rule(star(250.0, 50.0, 36.0), amber, FillRule::EvenOdd),
        stroke(star(250.0, 50.0, 36.0), white, 2.0, LineJoin::Round, LineCap::Butt),
        DrawOp::Pop,
        push(translate(70.0, 50.0), 1.0),
        fill(circle(0.0, 0.0, 34.0), color(0.85, 0.1, 0.2, 1.0)),
        push(Affine { a: 1.0, b: 0.0, c: 0.0, d: 0.5, e: 0.0, f: 0.0 }, 0.5),
        stroke(circle(0.0, 0.0, 24.0), white, 6.0, LineJoin::Round, LineCap::Butt),
        DrawOp::Pop,
        DrawOp::Pop,
    ]
}

#[test]
fn golden_lower_third_composition() {
    let frame = render(&composition(), 320, 180);
    assert_eq!(frame.stats.skipped.total(), 0);
    check_golden("composition-320x180", &frame, 8, 0.002);
}

#[test]
fn several_draw_into_calls_before_one_submit_each_keep_their_own_geometry() {
    let mut r = renderer();
    let (a, b) = (target_texture(&r, 32, 32), target_texture(&r, 48, 24));
    let (va, vb) = (a.create_view(&Default::default()), b.create_view(&Default::default()));
    let blue = color(0.0, 0.0, 1.0, 1.0);
    let mut encoder = r.gpu().device.create_command_encoder(&Default::default());
    let sa = r.draw_into(&mut encoder, &[fill(rect(0.0, 0.0, 16.0, 32.0), RED)], &va, 32, 32, true).unwrap();
    let sb = r.draw_into(&mut encoder, &[fill(rect(24.0, 0.0, 24.0, 24.0), blue)], &vb, 48, 24, true).unwrap();
    // Drawn over the first target's content: its left half stays red.
    r.draw_into(&mut encoder, &[fill(rect(16.0, 0.0, 16.0, 16.0), blue)], &va, 32, 32, false).unwrap();
    assert_eq!((sa.drawn, sb.drawn), (1, 1));
    r.gpu().queue.submit([encoder.finish()]);
    let pa = r.read_back_texture(&a, 32, 32).unwrap();
    let pb = r.read_back_texture(&b, 48, 24).unwrap();
    let at = |p: &[u8], w: u32, x: u32, y: u32| -> [u8; 4] { p[((y * w + x) * 4) as usize..][..4].try_into().unwrap() };
    assert_eq!(at(&pa, 32, 4, 20), [255, 0, 0, 255]);
    assert_eq!(at(&pa, 32, 24, 4), [0, 0, 255, 255], "drawn over without clearing");
    assert_eq!(at(&pa, 32, 24, 24), CLEAR);
    assert_eq!(at(&pb, 48, 4, 4), CLEAR);
    assert_eq!(at(&pb, 48, 40, 12), [0, 0, 255, 255]);
    // A target the renderer cannot read is a typed error, not a panic.
    let small = target_texture(&r, 8, 8);
    assert!(matches!(r.read_back_texture(&small, 16, 16), Err(RenderError::Readback(_))));
}
