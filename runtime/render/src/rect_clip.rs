//! Rectangle clips without the stencil buffer: a group clipped to an axis-aligned
//! rectangle (the usual clip of a ticker crawl or a wipe-in) has its triangles cut to
//! the rectangle on the CPU instead of writing and testing the stencil. A sample is
//! covered exactly when it is inside both the triangle and the rectangle, as with
//! the stencil, but the two full-area stencil passes (push and pop), the costliest part
//! of a clip on a CPU renderer, are gone.
//!
//! It must not draw or allocate GPU resources: it only recognises rectangles and cuts
//! vertex lists.

use showrunner_core::{Affine, Path, verb};

use crate::scene::Vertex;

/// An axis-aligned rectangle in device pixels: `x0 <= x1`, `y0 <= y1` (empty when equal).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipRect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl ClipRect {
    pub fn intersect(self, o: ClipRect) -> ClipRect {
        let (x0, y0) = (self.x0.max(o.x0), self.y0.max(o.y0));
        ClipRect { x0, y0, x1: self.x1.min(o.x1).max(x0), y1: self.y1.min(o.y1).max(y0) }
    }

    pub fn is_empty(&self) -> bool {
        !(self.x0 < self.x1 && self.y0 < self.y1)
    }

    fn contains(&self, [x, y]: [f32; 2]) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// The device rectangle `path` covers under `t` when `path` is a rectangle (four
/// corners, edges alternately horizontal and vertical, closed) and `t` keeps it
/// axis-aligned (no rotation or skew); `None` otherwise.
pub fn device_rect(path: &Path, t: &Affine) -> Option<ClipRect> {
    if t.b != 0.0 || t.c != 0.0 {
        return None;
    }
    let corners = rect_corners(path)?;
    let (mut x0, mut y0, mut x1, mut y1) = (f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for [x, y] in corners {
        let (dx, dy) = (t.a * x + t.e, t.d * y + t.f);
        (x0, y0, x1, y1) = (x0.min(dx), y0.min(dy), x1.max(dx), y1.max(dy));
    }
    let rect = ClipRect { x0, y0, x1, y1 };
    [x0, y0, x1, y1].iter().all(|v| v.is_finite()).then_some(rect)
}

/// The four corners of a rectangle path: move, three lines (a fourth line back to the
/// start allowed), close.
fn rect_corners(path: &Path) -> Option<[[f32; 2]; 4]> {
    let four = [verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE];
    let five = [verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE];
    let p = |i: usize| -> Option<[f32; 2]> { Some([*path.points.get(2 * i)?, *path.points.get(2 * i + 1)?]) };
    let corners = [p(0)?, p(1)?, p(2)?, p(3)?];
    let shape_ok = if path.verbs == four {
        path.points.len() == 8
    } else if path.verbs == five {
        path.points.len() == 10 && p(4)? == corners[0]
    } else {
        false
    };
    if !shape_ok {
        return None;
    }
    let [a, b, c, d] = corners;
    let horizontal_first = a[1] == b[1] && b[0] == c[0] && c[1] == d[1] && d[0] == a[0];
    let vertical_first = a[0] == b[0] && b[1] == c[1] && c[0] == d[0] && d[1] == a[1];
    (horizontal_first || vertical_first).then_some(corners)
}

/// Cuts the triangles `indices` (into `vertices`, counted from `start`) to `rect`.
/// Vertices of cut triangles are appended to `vertices`; the returned indices (also
/// counted from `start`) draw what is inside. Triangles wholly inside are kept as
/// they are, triangles wholly outside are dropped.
pub fn clip_triangles(vertices: &mut Vec<Vertex>, start: usize, indices: &[u32], rect: ClipRect) -> Vec<u32> {
    let mut out = Vec::with_capacity(indices.len());
    for tri in indices.chunks_exact(3) {
        let Some(corners) = tri.iter().map(|&i| vertices.get(start + i as usize).copied()).collect::<Option<Vec<Vertex>>>() else { continue };
        if corners.iter().all(|v| rect.contains(v.pos)) {
            out.extend_from_slice(tri);
            continue;
        }
        let polygon = cut(corners, rect);
        if polygon.len() < 3 {
            continue;
        }
        let Ok(first) = u32::try_from(vertices.len() - start) else { break };
        vertices.extend_from_slice(&polygon);
        for k in 1..polygon.len() as u32 - 1 {
            out.extend([first, first + k, first + k + 1]);
        }
    }
    out
}

/// Sutherland–Hodgman: the part of a convex polygon inside `rect`.
fn cut(mut polygon: Vec<Vertex>, rect: ClipRect) -> Vec<Vertex> {
    // (axis, bound, keep values >= bound)
    let planes = [(0, rect.x0, true), (0, rect.x1, false), (1, rect.y0, true), (1, rect.y1, false)];
    for (axis, bound, keep_above) in planes {
        let inside = |v: &Vertex| if keep_above { v.pos[axis] >= bound } else { v.pos[axis] <= bound };
        let mut next = Vec::with_capacity(polygon.len() + 2);
        for (i, current) in polygon.iter().enumerate() {
            let previous = &polygon[(i + polygon.len() - 1) % polygon.len()];
            match (inside(previous), inside(current)) {
                (true, true) => next.push(*current),
                (true, false) => next.push(crossing(previous, current, axis, bound)),
                (false, true) => {
                    next.push(crossing(previous, current, axis, bound));
                    next.push(*current);
                }
                (false, false) => {}
            }
        }
        polygon = next;
        if polygon.is_empty() {
            break;
        }
    }
    polygon
}

/// The point where edge `a`→`b` crosses `pos[axis] == bound`, every attribute
/// interpolated (paint bits and depth are per op, so `a`'s).
fn crossing(a: &Vertex, b: &Vertex, axis: usize, bound: f32) -> Vertex {
    let span = b.pos[axis] - a.pos[axis];
    let t = if span == 0.0 { 0.0 } else { ((bound - a.pos[axis]) / span).clamp(0.0, 1.0) };
    let lerp = |x: f32, y: f32| x + (y - x) * t;
    let mut v = *a;
    v.pos = [lerp(a.pos[0], b.pos[0]), lerp(a.pos[1], b.pos[1])];
    v.pos[axis] = bound;
    for k in 0..4 {
        v.color[k] = lerp(a.color[k], b.color[k]);
    }
    v.local = [lerp(a.local[0], b.local[0]), lerp(a.local[1], b.local[1])];
    v.uv = [lerp(a.uv[0], b.uv[0]), lerp(a.uv[1], b.uv[1])];
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Path {
        Path { verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE], points: vec![x, y, x + w, y, x + w, y + h, x, y + h] }
    }

    fn vertex(x: f32, y: f32) -> Vertex {
        Vertex { pos: [x, y], uv: [x / 100.0, y / 100.0], ..Vertex::default() }
    }

    fn area(vertices: &[Vertex], start: usize, indices: &[u32]) -> f32 {
        indices
            .chunks_exact(3)
            .map(|t| {
                let [a, b, c] = [0, 1, 2].map(|k| vertices[start + t[k] as usize].pos);
                ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs() / 2.0
            })
            .sum()
    }

    #[test]
    fn rectangles_are_recognised_under_axis_aligned_transforms_only() {
        let scaled = Affine { a: 2.0, d: -1.0, e: 10.0, f: 100.0, ..Affine::IDENTITY };
        assert_eq!(device_rect(&rect_path(1.0, 2.0, 3.0, 4.0), &scaled), Some(ClipRect { x0: 12.0, y0: 94.0, x1: 18.0, y1: 98.0 }));
        let rotated = Affine { a: 0.0, b: 1.0, c: -1.0, d: 0.0, e: 0.0, f: 0.0 };
        assert_eq!(device_rect(&rect_path(1.0, 2.0, 3.0, 4.0), &rotated), None);
        let slanted = Path { verbs: rect_path(0.0, 0.0, 1.0, 1.0).verbs, points: vec![0.0, 0.0, 10.0, 0.0, 12.0, 10.0, 0.0, 10.0] };
        assert_eq!(device_rect(&slanted, &Affine::IDENTITY), None);
        let closed_back = Path {
            verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE],
            points: vec![0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 5.0, 0.0, 0.0, 0.0],
        };
        assert_eq!(device_rect(&closed_back, &Affine::IDENTITY), Some(ClipRect { x0: 0.0, y0: 0.0, x1: 5.0, y1: 5.0 }));
    }

    #[test]
    fn triangles_are_cut_to_the_rectangle_with_their_attributes() {
        // A 100×100 square as two triangles, clipped to x 25..75, y 0..50.
        let mut vertices = vec![Vertex::default(), vertex(0.0, 0.0), vertex(100.0, 0.0), vertex(100.0, 100.0), vertex(0.0, 100.0)];
        let rect = ClipRect { x0: 25.0, y0: 0.0, x1: 75.0, y1: 50.0 };
        let indices = clip_triangles(&mut vertices, 1, &[0, 1, 2, 0, 2, 3], rect);
        assert!((area(&vertices, 1, &indices) - 2500.0).abs() < 1e-3);
        for &i in &indices {
            let v = vertices[1 + i as usize];
            assert!(rect.contains(v.pos), "{:?} outside", v.pos);
            assert!((v.uv[0] - v.pos[0] / 100.0).abs() < 1e-5 && (v.uv[1] - v.pos[1] / 100.0).abs() < 1e-5, "uv follows the cut");
        }
    }

    #[test]
    fn inside_triangles_are_kept_and_outside_ones_dropped() {
        let mut vertices = vec![vertex(10.0, 10.0), vertex(20.0, 10.0), vertex(10.0, 20.0), vertex(200.0, 200.0), vertex(210.0, 200.0), vertex(200.0, 210.0)];
        let indices = clip_triangles(&mut vertices, 0, &[0, 1, 2, 3, 4, 5], ClipRect { x0: 0.0, y0: 0.0, x1: 100.0, y1: 100.0 });
        assert_eq!(indices, vec![0, 1, 2]);
        assert_eq!(vertices.len(), 6, "nothing appended");
    }
}
