//! Sample count of a draw list: whether it needs the 4× multisampled targets or can be
//! rasterized single-sample, straight into its target with no resolve.
//!
//! A list qualifies for one sample only when every edge it draws lands on whole device
//! pixels: then every pixel is either wholly covered by a triangle or wholly missed,
//! all its samples agree, and the resolve of a multisampled pass would give the very
//! pixels a single-sample pass gives (the fragment shader runs once per pixel, at its
//! centre, in both). Qualifying ops: fills whose path is one axis-aligned rectangle,
//! `image` and `video` ops, all under a transform with no rotation or skew and with
//! every edge within [`EDGE_TOLERANCE_PX`] of a pixel boundary; groups whose clip, if
//! any, is such a rectangle (cut on the CPU by [`crate::rect_clip`], no stencil).
//! Anything else (strokes, text, other paths, rotated or fractional geometry, stencil
//! clips) keeps the list multisampled.
//!
//! It must not draw or touch the GPU: it only reads the list. It errs on the side of
//! multisampling: a list it cannot prove pixel-aligned is multisampled.

use showrunner_core::{Affine, DrawOp, Path, Rect};

use crate::paint::{compose, is_finite};
use crate::rect_clip::{ClipRect, device_rect};

/// How far from a whole pixel an edge may land and still count as on it: far below
/// the 1/8-pixel spacing of sample positions, so no sample or pixel centre can fall
/// between the edge and the pixel boundary.
pub const EDGE_TOLERANCE_PX: f32 = 1.0e-3;

fn on_pixel(v: f32) -> bool {
    v.is_finite() && (v - v.round()).abs() <= EDGE_TOLERANCE_PX
}

fn aligned(rect: &ClipRect) -> bool {
    [rect.x0, rect.y0, rect.x1, rect.y1].into_iter().all(on_pixel)
}

fn axis_aligned(t: &Affine) -> bool {
    t.b == 0.0 && t.c == 0.0 && is_finite(t)
}

/// The device rectangle a picture's `dest` covers under `t`, when `t` keeps it
/// axis-aligned.
fn picture_rect(dest: &Rect, t: &Affine) -> Option<ClipRect> {
    if !axis_aligned(t) {
        return None;
    }
    let (xa, xb) = (t.a * dest.x + t.e, t.a * (dest.x + dest.width) + t.e);
    let (ya, yb) = (t.d * dest.y + t.f, t.d * (dest.y + dest.height) + t.f);
    Some(ClipRect { x0: xa.min(xb), y0: ya.min(yb), x1: xa.max(xb), y1: ya.max(yb) })
}

fn aligned_rect_path(path: &Path, t: &Affine) -> bool {
    axis_aligned(t) && device_rect(path, t).is_some_and(|r| aligned(&r))
}

/// True when `ops` needs multisampling to draw as the multisampled path draws it;
/// false when every drawing op lands on whole pixels (see the module docs).
pub fn needs_multisample(ops: &[DrawOp]) -> bool {
    let mut transforms: Vec<Affine> = vec![Affine::IDENTITY];
    for op in ops {
        let t = transforms.last().copied().unwrap_or(Affine::IDENTITY);
        let qualifies = match op {
            DrawOp::Push(group) => {
                let inner = compose(&t, &group.transform);
                transforms.push(inner);
                axis_aligned(&inner) && group.clip.as_ref().is_none_or(|clip| aligned_rect_path(clip, &inner))
            }
            DrawOp::Pop => {
                if transforms.len() > 1 {
                    transforms.pop();
                }
                true
            }
            DrawOp::Fill(fill) => aligned_rect_path(&fill.path, &t),
            DrawOp::Image(image) => picture_rect(&image.dest, &t).is_some_and(|r| aligned(&r)),
            DrawOp::Video(video) => picture_rect(&video.dest, &t).is_some_and(|r| aligned(&r)),
            DrawOp::Stroke(_) | DrawOp::Text(_) => false,
        };
        if !qualifies {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use showrunner_core::{BlendMode, Color, Fill, FillRule, Group, Paint, VideoDraw, verb};

    use super::*;

    fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Path {
        Path { verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE], points: vec![x, y, x + w, y, x + w, y + h, x, y + h] }
    }

    fn fill(x: f32, y: f32, w: f32, h: f32) -> DrawOp {
        DrawOp::Fill(Fill { path: rect_path(x, y, w, h), paint: Paint::Solid(Color { r: 1.0, g: 0.0, b: 0.0, a: 1.0 }), rule: FillRule::NonZero })
    }

    fn push(transform: Affine, clip: Option<Path>) -> DrawOp {
        DrawOp::Push(Group { transform, opacity: 0.5, clip, blend: BlendMode::Screen })
    }

    fn video(x: f32, y: f32, w: f32, h: f32) -> DrawOp {
        DrawOp::Video(VideoDraw { input: "cam".into(), dest: Rect { x, y, width: w, height: h }, opacity: 1.0 })
    }

    #[test]
    fn pixel_aligned_rectangles_and_pictures_need_one_sample() {
        assert!(!needs_multisample(&[]));
        assert!(!needs_multisample(&[fill(0.0, 0.0, 1920.0, 1080.0), video(0.0, 0.0, 1920.0, 1080.0)]));
        let scale = Affine { a: 2.0, d: -3.0, e: 10.0, f: 500.0, ..Affine::IDENTITY };
        let ops = [push(scale, Some(rect_path(0.0, 0.0, 100.0, 100.0))), fill(1.5, 2.0, 10.0, 7.0), video(0.5, 1.0, 3.0, 4.0), DrawOp::Pop, fill(3.0, 4.0, 5.0, 6.0)];
        assert!(!needs_multisample(&ops), "half units times 2 land on whole pixels");
        assert!(!needs_multisample(&[fill(10.0004, 0.0, 5.0, 5.0)]), "within the tolerance");
    }

    #[test]
    fn anything_off_the_pixel_grid_needs_multisampling() {
        assert!(needs_multisample(&[fill(0.5, 0.0, 10.0, 10.0)]), "fractional edge");
        assert!(needs_multisample(&[video(0.0, 0.0, 10.25, 10.0)]), "fractional picture edge");
        let rotated = Affine { a: 0.0, b: 1.0, c: -1.0, d: 0.0, e: 0.0, f: 0.0 };
        assert!(needs_multisample(&[push(rotated, None), fill(0.0, 0.0, 10.0, 10.0), DrawOp::Pop]), "rotation");
        let half = Affine { a: 0.5, ..Affine::IDENTITY };
        assert!(needs_multisample(&[push(half, None), fill(0.0, 0.0, 3.0, 4.0), DrawOp::Pop]), "scaled onto half pixels");
        assert!(needs_multisample(&[push(Affine::IDENTITY, Some(rect_path(0.0, 0.0, 10.5, 10.0))), DrawOp::Pop]), "fractional clip");
        let triangle = Path { verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::CLOSE], points: vec![0.0, 0.0, 10.0, 0.0, 0.0, 10.0] };
        assert!(needs_multisample(&[push(Affine::IDENTITY, Some(triangle.clone())), DrawOp::Pop]), "stencil clip");
        let fill_triangle = DrawOp::Fill(Fill { path: triangle, paint: Paint::Solid(Color { r: 0.0, g: 0.0, b: 0.0, a: 1.0 }), rule: FillRule::NonZero });
        assert!(needs_multisample(&[fill(0.0, 0.0, 4.0, 4.0), fill_triangle]), "one non-rectangle is enough");
        let after_pop = [push(Affine { e: 0.5, ..Affine::IDENTITY }, None), DrawOp::Pop, fill(0.0, 0.0, 4.0, 4.0)];
        assert!(!needs_multisample(&after_pop), "a pop restores the outer transform");
    }
}
