//! Conservative content bounds of a draw list, in frame pixels: the compositor only
//! composites the part of a layer's texture that can hold ink. Cheap (no
//! tessellation, no shaping), never smaller than the real ink: curves are bounded by
//! their control points, strokes grow by their miter reach, text by its laid-out
//! glyph boxes, clips shrink the box of what they contain.

use showrunner_core::{Affine, DrawOp, Path, Rect, TextRun};
use showrunner_text::TextEngine;

use crate::paint::{apply, compose};

/// Extra pixels around every box, for anti-aliasing and filtering.
const MARGIN: f32 = 2.0;

/// Axis-aligned box; empty when `x0 >= x1` or `y0 >= y1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bounds {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Bounds {
    pub const EMPTY: Bounds = Bounds { x0: f32::INFINITY, y0: f32::INFINITY, x1: f32::NEG_INFINITY, y1: f32::NEG_INFINITY };

    pub fn is_empty(&self) -> bool {
        !(self.x0 < self.x1 && self.y0 < self.y1)
    }

    fn add_point(&mut self, [x, y]: [f32; 2]) {
        self.x0 = self.x0.min(x);
        self.y0 = self.y0.min(y);
        self.x1 = self.x1.max(x);
        self.y1 = self.y1.max(y);
    }

    fn union(self, o: Bounds) -> Bounds {
        Bounds { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }

    fn intersect(self, o: Bounds) -> Bounds {
        Bounds { x0: self.x0.max(o.x0), y0: self.y0.max(o.y0), x1: self.x1.min(o.x1), y1: self.y1.min(o.y1) }
    }

    fn grow(self, by: f32) -> Bounds {
        Bounds { x0: self.x0 - by, y0: self.y0 - by, x1: self.x1 + by, y1: self.y1 + by }
    }

    /// The box of this box's corners under `t`.
    fn transformed(self, t: &Affine) -> Bounds {
        let mut out = Bounds::EMPTY;
        for (x, y) in [(self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1)] {
            out.add_point(apply(t, x, y));
        }
        out
    }

    /// As a pixel-aligned rectangle inside a `width`×`height` frame; `None` if empty.
    pub fn to_frame_rect(self, width: u32, height: u32) -> Option<Rect> {
        let b = self.grow(MARGIN).intersect(Bounds { x0: 0.0, y0: 0.0, x1: width as f32, y1: height as f32 });
        if b.is_empty() {
            return None;
        }
        let (x0, y0) = (b.x0.floor(), b.y0.floor());
        Some(Rect { x: x0, y: y0, width: b.x1.ceil() - x0, height: b.y1.ceil() - y0 })
    }
}

fn path_bounds(path: &Path, t: &Affine) -> Bounds {
    let mut b = Bounds::EMPTY;
    for p in path.points.chunks_exact(2) {
        b.add_point(apply(t, p[0], p[1]));
    }
    b
}

/// Largest factor by which `t` stretches a length.
fn max_scale(t: &Affine) -> f32 {
    (t.a.hypot(t.b)).max(t.c.hypot(t.d))
}

/// The box that holds every pixel `ops` can touch, in frame pixels (before the
/// layer's own transform), text runs bounded by their laid-out glyphs (the layouts
/// land in `engine`'s cache for the draw that follows). Unbalanced groups are
/// tolerated.
pub(crate) fn laid_out_bounds(ops: &[DrawOp], engine: &mut TextEngine) -> Bounds {
    content_bounds_with(ops, &mut |run, t| {
        let layout = engine.layout(run, crate::resources::uniform_scale(t));
        let mut b = Bounds::EMPTY;
        for g in &layout.glyphs {
            b = b.union(Bounds { x0: g.rect[0], y0: g.rect[1], x1: g.rect[2], y1: g.rect[3] });
        }
        if b.is_empty() { b } else { b.grow(1.0).transformed(t) }
    })
}

fn content_bounds_with(ops: &[DrawOp], text: &mut dyn FnMut(&TextRun, &Affine) -> Bounds) -> Bounds {
    // (transform, clip box of this group in frame pixels)
    let mut stack: Vec<(Affine, Option<Bounds>)> = vec![(Affine::IDENTITY, None)];
    let mut total = Bounds::EMPTY;
    for op in ops {
        let Some(&(t, clip)) = stack.last() else { break };
        let ink = match op {
            DrawOp::Push(g) => {
                let inner = compose(&t, &g.transform);
                let group_clip = g.clip.as_ref().map(|c| path_bounds(c, &inner));
                let clip = match (clip, group_clip) {
                    (Some(a), Some(b)) => Some(a.intersect(b)),
                    (a, b) => a.or(b),
                };
                stack.push((inner, clip));
                continue;
            }
            DrawOp::Pop => {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            DrawOp::Fill(f) => path_bounds(&f.path, &t),
            DrawOp::Stroke(s) => {
                let reach = s.width * 0.5 * s.miter_limit.max(1.5) * max_scale(&t);
                path_bounds(&s.path, &t).grow(reach)
            }
            DrawOp::Text(run) => text(run, &t),
            DrawOp::Image(i) => rect_box(&i.dest).transformed(&t),
            DrawOp::Video(v) => rect_box(&v.dest).transformed(&t),
        };
        let ink = match clip {
            Some(c) => ink.intersect(c),
            None => ink,
        };
        if !ink.is_empty() {
            total = total.union(ink);
        }
    }
    total
}

fn rect_box(r: &Rect) -> Bounds {
    Bounds { x0: r.x, y0: r.y, x1: r.x + r.width, y1: r.y + r.height }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use showrunner_core::{BlendMode, Color, Fill, FillRule, Group, Paint, TextAlign, verb};

    fn content_bounds(ops: &[DrawOp]) -> Bounds {
        laid_out_bounds(ops, &mut TextEngine::new())
    }

    fn rect(x: f32, y: f32, w: f32, h: f32) -> Path {
        Path { verbs: vec![verb::MOVE, verb::LINE, verb::LINE, verb::LINE, verb::CLOSE], points: vec![x, y, x + w, y, x + w, y + h, x, y + h] }
    }

    fn fill(p: Path) -> DrawOp {
        DrawOp::Fill(Fill { path: p, paint: Paint::Solid(Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 }), rule: FillRule::NonZero })
    }

    fn push(t: Affine, clip: Option<Path>) -> DrawOp {
        DrawOp::Push(Group { transform: t, opacity: 1.0, clip, blend: BlendMode::Normal })
    }

    #[test]
    fn fills_under_group_transforms_and_clips() {
        let ops = vec![push(Affine { e: 100.0, f: 10.0, ..Affine::IDENTITY }, None), fill(rect(0.0, 0.0, 10.0, 10.0)), DrawOp::Pop];
        assert_eq!(content_bounds(&ops), Bounds { x0: 100.0, y0: 10.0, x1: 110.0, y1: 20.0 });
        let clipped = vec![push(Affine::IDENTITY, Some(rect(0.0, 0.0, 5.0, 5.0))), fill(rect(0.0, 0.0, 50.0, 50.0)), DrawOp::Pop];
        assert_eq!(content_bounds(&clipped), Bounds { x0: 0.0, y0: 0.0, x1: 5.0, y1: 5.0 });
    }

    #[test]
    fn text_is_bounded_by_its_laid_out_glyphs() {
        let run = showrunner_core::TextRun {
            text: "Hi".into(),
            x: 100.0,
            y: 200.0,
            size: 40.0,
            family: "Inter".into(),
            weight: 400,
            align: TextAlign::Start,
            paint: Paint::Solid(Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 }),
            max_width: None,
        };
        let ops = vec![push(Affine { e: 10.0, ..Affine::IDENTITY }, None), DrawOp::Text(run), DrawOp::Pop];
        let laid_out = content_bounds(&ops);
        // "Hi" at 40 px: two glyphs about 60 px wide together, cap height about 30 px.
        assert!(laid_out.x1 - laid_out.x0 < 60.0 && laid_out.y1 - laid_out.y0 < 40.0, "{laid_out:?}");
        // The glyphs sit right of the run's x (plus the group's shift) and around its baseline.
        assert!(laid_out.x0 >= 105.0 && laid_out.x0 <= 115.0 && laid_out.y0 < 200.0 && laid_out.y1 > 195.0, "{laid_out:?}");
    }

    #[test]
    fn empty_lists_have_no_frame_rect_and_boxes_are_clamped_to_the_frame() {
        assert!(content_bounds(&[]).to_frame_rect(100, 100).is_none());
        let r = content_bounds(&[fill(rect(-50.0, 90.0, 500.0, 50.0))]).to_frame_rect(100, 100).unwrap();
        assert_eq!((r.x, r.y, r.width, r.height), (0.0, 88.0, 100.0, 12.0));
    }
}
