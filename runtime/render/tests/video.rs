//! Pixel tests of `video` ops: the newest frame of a live input drawn into its
//! rectangle (opacity, stretching), new frames and new sizes, uploads once per frame,
//! inputs without frames, the texture limit, and the compositor redrawing a layer
//! whose input showed a new frame:
//! `cargo test --release -p showrunner-render --test video`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::*;
use showrunner_assets::LiveInputs;
use showrunner_core::*;
use showrunner_render::live_textures::MAX_LIVE_TEXTURES;
use showrunner_render::{Compositor, Frame, Renderer};

const GREEN: [u8; 4] = [0, 200, 0, 255];
const BLUE: [u8; 4] = [0, 0, 255, 255];
const RED_PX: [u8; 4] = [255, 0, 0, 255];

fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Bytes {
    Bytes::from(rgba.repeat((width * height) as usize))
}

fn video(input: &str, x: f32, y: f32, w: f32, h: f32, opacity: f32) -> DrawOp {
    DrawOp::Video(VideoDraw { input: input.into(), dest: Rect { x, y, width: w, height: h }, opacity })
}

fn draw(r: &mut Renderer, ops: &[DrawOp], width: u32, height: u32) -> Frame {
    let mut ops = ops.to_vec();
    validate(&mut ops, &DrawListLimits::default()).unwrap();
    r.render(&ops, width, height).unwrap()
}

/// The shared renderer with a fresh registry set.
fn with_inputs() -> (std::sync::MutexGuard<'static, Renderer>, LiveInputs) {
    let mut r = renderer();
    let inputs = LiveInputs::new();
    r.set_live_inputs(inputs.clone());
    (r, inputs)
}

#[test]
fn a_video_op_draws_its_input_into_its_rectangle_at_its_opacity() {
    let (mut r, inputs) = with_inputs();
    inputs.publish("cam", 4, 4, solid(4, 4, GREEN)).unwrap();
    let background = fill(rect(0.0, 0.0, 32.0, 32.0), color(0.0, 0.0, 1.0, 1.0));
    let frame = draw(&mut r, &[background.clone(), video("cam", 8.0, 8.0, 16.0, 16.0, 1.0)], 32, 32);
    assert_eq!(frame.stats.drawn, 2);
    assert_eq!(frame.stats.skipped.video, 0);
    for (x, y) in [(8, 8), (16, 16), (23, 23)] {
        assert_eq!(px(&frame, x, y), GREEN, "inside at ({x},{y})");
    }
    for (x, y) in [(7, 16), (24, 16), (16, 7), (16, 24), (0, 0), (31, 31)] {
        assert_eq!(px(&frame, x, y), BLUE, "outside at ({x},{y})");
    }
    // Op opacity 0.5 over blue: half green, half blue.
    let half = draw(&mut r, &[background.clone(), video("cam", 8.0, 8.0, 16.0, 16.0, 0.5)], 32, 32);
    assert_near(px(&half, 16, 16), [0, 100, 128, 255], 2, "op opacity 0.5");
    // Group opacity multiplies in: 0.5 × 0.5 over transparent.
    let group = draw(&mut r, &[push(Affine::IDENTITY, 0.5), video("cam", 8.0, 8.0, 16.0, 16.0, 0.5), DrawOp::Pop], 32, 32);
    let [red, green, blue, alpha] = px(&group, 16, 16);
    assert!((63..=65).contains(&alpha) && red == 0 && blue == 0 && green.abs_diff(200) <= 4, "0.25 of green: {:?}", [red, green, blue, alpha]);
    assert_eq!(px(&group, 4, 4), CLEAR);
}

#[test]
fn a_new_frame_is_shown_and_uploaded_once() {
    let (mut r, inputs) = with_inputs();
    let ops = [video("cam", 0.0, 0.0, 16.0, 16.0, 1.0)];
    inputs.publish("cam", 4, 4, solid(4, 4, RED_PX)).unwrap();
    let (_, before) = r.live_texture_counters();
    assert_eq!(px(&draw(&mut r, &ops, 16, 16), 8, 8), RED_PX);
    assert_eq!(r.live_texture_counters(), (1, before + 1), "one texture, one upload");
    assert_eq!(px(&draw(&mut r, &ops, 16, 16), 8, 8), RED_PX);
    assert_eq!(r.live_texture_counters().1, before + 1, "the same frame drawn again uploads nothing");
    inputs.publish("cam", 4, 4, solid(4, 4, BLUE)).unwrap();
    assert_eq!(px(&draw(&mut r, &ops, 16, 16), 8, 8), BLUE, "the new frame shows");
    assert_eq!(r.live_texture_counters(), (1, before + 2), "the texture is reused, the frame uploaded once");
    // Two ops on one input in one list share the texture and the upload.
    inputs.publish("cam", 4, 4, solid(4, 4, GREEN)).unwrap();
    let twice = draw(&mut r, &[video("cam", 0.0, 0.0, 8.0, 8.0, 1.0), video("cam", 8.0, 8.0, 8.0, 8.0, 1.0)], 16, 16);
    assert_eq!((px(&twice, 4, 4), px(&twice, 12, 12), px(&twice, 12, 4)), (GREEN, GREEN, CLEAR));
    assert_eq!(r.live_texture_counters().1, before + 3);
}

#[test]
fn a_frame_of_another_size_is_drawn_whole() {
    let (mut r, inputs) = with_inputs();
    let ops = [video("cam", 0.0, 0.0, 16.0, 16.0, 1.0)];
    inputs.publish("cam", 4, 4, solid(4, 4, RED_PX)).unwrap();
    assert_eq!(px(&draw(&mut r, &ops, 16, 16), 8, 8), RED_PX);
    // 2×8: top half yellow, bottom half cyan.
    let mut pixels = [255, 255, 0, 255].repeat(8);
    pixels.extend([0, 255, 255, 255].repeat(8));
    inputs.publish("cam", 2, 8, Bytes::from(pixels)).unwrap();
    let frame = draw(&mut r, &ops, 16, 16);
    assert_eq!(px(&frame, 1, 1), [255, 255, 0, 255]);
    assert_eq!(px(&frame, 14, 5), [255, 255, 0, 255]);
    assert_eq!(px(&frame, 1, 14), [0, 255, 255, 255]);
    assert_eq!(px(&frame, 14, 10), [0, 255, 255, 255]);
    assert_eq!(r.live_texture_counters().0, 1, "the texture was replaced, not added");
}

#[test]
fn a_stretched_frame_samples_its_own_halves() {
    let (mut r, inputs) = with_inputs();
    // 4×2: the left two columns red, the right two blue, into 200×100.
    let row = [RED_PX, RED_PX, BLUE, BLUE].concat();
    inputs.publish("wide", 4, 2, Bytes::from(row.repeat(2))).unwrap();
    let frame = draw(&mut r, &[video("wide", 0.0, 0.0, 200.0, 100.0, 1.0)], 200, 100);
    for y in [0, 50, 99] {
        for x in [0, 40, 70] {
            assert_eq!(px(&frame, x, y), RED_PX, "left half at ({x},{y})");
        }
        for x in [130, 160, 199] {
            assert_eq!(px(&frame, x, y), BLUE, "right half at ({x},{y})");
        }
        // Bilinear between the texel centres at x = 75 and 125.
        let [red, _, blue, _] = px(&frame, 100, y);
        assert!(red.abs_diff(128) <= 3 && blue.abs_diff(128) <= 3, "the middle blends: {:?}", px(&frame, 100, y));
    }
}

#[test]
fn inputs_without_a_frame_draw_nothing_and_are_counted() {
    let mut r = Renderer::new().unwrap();
    let ops = [fill(rect(0.0, 0.0, 4.0, 4.0), RED), video("cam", 0.0, 0.0, 16.0, 16.0, 1.0)];
    let none = draw(&mut r, &ops, 16, 16);
    assert_eq!((none.stats.drawn, none.stats.skipped.video), (1, 1), "no registry set");
    assert_eq!((px(&none, 2, 2), px(&none, 8, 8)), (RED_PX, CLEAR));
    let inputs = LiveInputs::new();
    r.set_live_inputs(inputs.clone());
    let unknown = draw(&mut r, &ops, 16, 16);
    assert_eq!((unknown.stats.drawn, unknown.stats.skipped.video, px(&unknown, 8, 8)), (1, 1, CLEAR), "an input never published");
    inputs.publish("cam", 1, 1, solid(1, 1, BLUE)).unwrap();
    let shown = draw(&mut r, &ops, 16, 16);
    assert_eq!((shown.stats.drawn, shown.stats.skipped.video, px(&shown, 8, 8)), (2, 0, BLUE));
    inputs.clear("cam");
    let cleared = draw(&mut r, &ops, 16, 16);
    assert_eq!((cleared.stats.drawn, cleared.stats.skipped.video, px(&cleared, 8, 8)), (1, 1, CLEAR), "a cleared input");
    assert_eq!(r.image_state(&ops), vec![None], "a video op without a frame shows nothing");
}

/// Frame ids are unique within one registry only: a new registry's first frame must
/// not be mistaken for the uploaded frame of the same id from the old one.
#[test]
fn a_new_registry_does_not_show_the_old_registry_frames() {
    let (mut r, first) = with_inputs();
    let ops = [video("cam", 0.0, 0.0, 8.0, 8.0, 1.0)];
    let id = first.publish("cam", 2, 2, solid(2, 2, RED_PX)).unwrap();
    assert_eq!(px(&draw(&mut r, &ops, 8, 8), 4, 4), RED_PX);
    let state = r.image_state(&ops);
    let second = LiveInputs::new();
    assert_eq!(second.publish("cam", 2, 2, solid(2, 2, BLUE)).unwrap(), id);
    r.set_live_inputs(second);
    assert_eq!(px(&draw(&mut r, &ops, 8, 8), 4, 4), BLUE);
    assert_ne!(r.image_state(&ops), state, "a layer cache sees the change");
}

#[test]
fn past_the_texture_limit_the_least_recently_used_inputs_go_but_never_the_current_ones() {
    let (mut r, inputs) = with_inputs();
    let count = MAX_LIVE_TEXTURES + 4;
    let colour = |i: usize| [(i * 10) as u8, 255 - (i * 10) as u8, 7, 255];
    let mut ops = Vec::new();
    for i in 0..count {
        inputs.publish(&format!("in{i}"), 1, 1, solid(1, 1, colour(i))).unwrap();
        ops.push(video(&format!("in{i}"), (i * 4) as f32, 0.0, 4.0, 4.0, 1.0));
    }
    let all = draw(&mut r, &ops, (count * 4) as u32, 4);
    for i in 0..count {
        assert_eq!(px(&all, (i * 4 + 2) as u32, 2), colour(i), "input {i} of a list using {count}");
    }
    assert_eq!(r.live_texture_counters().0, count, "a list keeps every input it uses");
    let last = &ops[count - 1..];
    let uploads = r.live_texture_counters().1;
    draw(&mut r, last, 4, 4);
    assert_eq!(r.live_texture_counters(), (MAX_LIVE_TEXTURES, uploads), "the list after it drops the excess, keeping its own input");
}

#[test]
fn the_compositor_redraws_an_unchanged_layer_when_its_input_shows_a_new_frame() {
    let mut renderer = Renderer::new().unwrap();
    let inputs = LiveInputs::new();
    renderer.set_live_inputs(inputs.clone());
    let mut c = Compositor::new(renderer).unwrap();
    let (w, h) = (160, 90);
    let mut camera = vec![video("cam", 10.0, 10.0, 30.0, 20.0, 1.0)];
    validate(&mut camera, &DrawListLimits::default()).unwrap();
    let camera = LayerPlan::full("camera", Arc::new(camera), 1);
    let still = LayerPlan::full("still", Arc::new(vec![fill(rect(100.0, 50.0, 20.0, 20.0), RED)]), 1);
    let plan = FramePlan {
        frame: FrameInfo::at(0, w, h, 30, 1),
        scenes: vec![ScenePlan { name: "s".into(), view: SceneView::IDENTITY, layers: vec![camera, still] }],
        overlay: Arc::new(vec![]),
    };
    inputs.publish("cam", 4, 4, solid(4, 4, GREEN)).unwrap();
    let first = c.compose(&plan, w, h).unwrap();
    assert_eq!((px(&first, 25, 20), px(&first, 110, 60)), (GREEN, RED_PX));
    let again = c.compose(&plan, w, h).unwrap();
    assert!(c.stats().frame_reused, "nothing changed");
    assert_eq!(px(&again, 25, 20), GREEN);
    inputs.publish("cam", 4, 4, solid(4, 4, BLUE)).unwrap();
    let next = c.compose(&plan, w, h).unwrap();
    let stats = c.stats().clone();
    assert!(!stats.frame_reused, "a new frame is a new picture");
    assert_eq!((stats.layers_drawn, stats.layers_reused), (1, 1), "only the camera layer is drawn again");
    assert!(stats.repainted_pixels.is_some(), "the frame is repainted where the camera is");
    assert_eq!((px(&next, 25, 20), px(&next, 110, 60), px(&next, 60, 40)), (BLUE, RED_PX, CLEAR));
    inputs.clear("cam");
    let gone = c.compose(&plan, w, h).unwrap();
    assert_eq!((px(&gone, 25, 20), px(&gone, 110, 60)), (CLEAR, RED_PX), "a cleared input disappears");
}
