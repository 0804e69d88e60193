//! Plane geometry for compositing: quad corners, quads in clip space, crops, texture
//! bucket sizes (affine maths is `crate::paint`'s). Pure functions, no GPU.

use showrunner_core::{Affine, Rect};

use crate::paint::apply;

/// Texture side for `needed` pixels, at most `frame`: rounded up to a multiple of 32
/// (up to 256), 64 (up to 1024) or 128, so layers of similar sizes share multisampled
/// targets while a texture wastes little (multisampled pixels are what a layer's
/// redraw costs on a CPU renderer).
pub(super) fn bucket(needed: f32, frame: u32) -> u32 {
    let needed = needed.ceil().max(1.0) as u32;
    let step = match needed {
        0..=256 => 32,
        257..=1024 => 64,
        _ => 128,
    };
    needed.div_ceil(step).saturating_mul(step).min(frame).max(needed.min(frame))
}

/// True for a whole-pixel translation: texels land on pixels one to one.
pub(super) fn is_exact(t: &Affine) -> bool {
    t.a == 1.0 && t.b == 0.0 && t.c == 0.0 && t.d == 1.0 && t.e.fract() == 0.0 && t.f.fract() == 0.0
}

pub(super) fn intersect(a: Rect, b: Rect) -> Rect {
    let x0 = a.x.max(b.x);
    let y0 = a.y.max(b.y);
    let x1 = (a.x + a.width).min(b.x + b.width).max(x0);
    let y1 = (a.y + a.height).min(b.y + b.height).max(y0);
    Rect { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }
}

/// Corners of `r` under `t`, clockwise from the top left, in frame pixels.
pub(super) fn rect_corners(r: Rect, t: Affine) -> [[f32; 2]; 4] {
    let (x0, y0, x1, y1) = (r.x, r.y, r.x + r.width, r.y + r.height);
    [apply(&t, x0, y0), apply(&t, x1, y0), apply(&t, x1, y1), apply(&t, x0, y1)]
}

/// Appends a quad as two triangles: clip-space position, uv, mask uv, opacity.
pub(super) fn push_quad(out: &mut Vec<f32>, corners: [[f32; 2]; 4], uv: [[f32; 2]; 4], opacity: f32, size: (f32, f32)) {
    for i in [0, 1, 2, 0, 2, 3] {
        let [x, y] = corners[i];
        let [u, v] = uv[i];
        out.extend([x / size.0 * 2.0 - 1.0, 1.0 - y / size.1 * 2.0, u, v, x / size.0, y / size.1, opacity]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::pipeline::VERTEX_FLOATS;

    #[test]
    fn composition_applies_the_inner_transform_first() {
        use crate::paint::compose as concat;
        let translate = Affine { e: 10.0, ..Affine::IDENTITY };
        let scale = Affine { a: 2.0, d: 2.0, ..Affine::IDENTITY };
        // scale then translate: (1,1) → (2,2) → (12,2)
        assert_eq!(apply(&concat(&translate, &scale), 1.0, 1.0), [12.0, 2.0]);
        // translate then scale: (1,1) → (11,1) → (22,2)
        assert_eq!(apply(&concat(&scale, &translate), 1.0, 1.0), [22.0, 2.0]);
    }

    #[test]
    fn crop_outside_the_canvas_is_empty_not_negative() {
        let r = intersect(Rect { x: 500.0, y: 500.0, width: 10.0, height: 10.0 }, Rect { x: 0.0, y: 0.0, width: 100.0, height: 100.0 });
        assert_eq!((r.width, r.height), (0.0, 0.0));
    }

    #[test]
    fn clip_space_maps_the_frame_corners() {
        let mut out = Vec::new();
        let corners = rect_corners(Rect { x: 0.0, y: 0.0, width: 200.0, height: 100.0 }, Affine::IDENTITY);
        push_quad(&mut out, corners, [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], 0.5, (200.0, 100.0));
        assert_eq!(out.len(), 6 * VERTEX_FLOATS);
        // top left → (-1, 1), mask uv (0, 0); bottom right → (1, -1), mask uv (1, 1)
        assert_eq!(&out[0..VERTEX_FLOATS], &[-1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.5]);
        assert_eq!(&out[2 * VERTEX_FLOATS..3 * VERTEX_FLOATS], &[1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 0.5]);
    }
}
