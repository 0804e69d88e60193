//! [`Canvas`]: collects draw ops for one frame; groups are closed for you.

use crate::scene_bindings::showrunner::scene::types::{
    self as wit, ImageDraw, TextRun, VideoDraw,
};
use crate::{Affine, BlendMode, Color, DrawOp, FillRule, LineCap, LineJoin, Paint, Path, Rect, TextAlign};

/// Collects the draw ops of one frame, in painting order.
pub struct Canvas {
    ops: Vec<DrawOp>,
    depth: usize,
}

/// Group settings for [`Canvas::group`].
#[derive(Clone, Debug)]
pub struct Group {
    pub transform: Affine,
    pub opacity: f32,
    pub clip: Option<Path>,
    pub blend: BlendMode,
}

impl Default for Group {
    fn default() -> Self {
        Group { transform: Affine::IDENTITY, opacity: 1.0, clip: None, blend: BlendMode::Normal }
    }
}

impl Group {
    pub fn transform(transform: Affine) -> Group {
        Group { transform, ..Group::default() }
    }
    pub fn opacity(mut self, opacity: f32) -> Group {
        self.opacity = opacity.clamp(0.0, 1.0);
        self
    }
    pub fn clip(mut self, clip: Path) -> Group {
        self.clip = Some(clip);
        self
    }
    pub fn blend(mut self, blend: BlendMode) -> Group {
        self.blend = blend;
        self
    }
}

/// Stroke settings for [`Canvas::stroke`].
#[derive(Clone, Debug)]
pub struct StrokeStyle {
    pub width: f32,
    pub join: LineJoin,
    pub cap: LineCap,
    pub miter_limit: f32,
    pub dash: Vec<f32>,
    pub dash_offset: f32,
}

impl StrokeStyle {
    pub fn width(width: f32) -> StrokeStyle {
        StrokeStyle { width, join: LineJoin::Miter, cap: LineCap::Butt, miter_limit: 4.0, dash: Vec::new(), dash_offset: 0.0 }
    }
    pub fn join(mut self, join: LineJoin) -> Self {
        self.join = join;
        self
    }
    pub fn cap(mut self, cap: LineCap) -> Self {
        self.cap = cap;
        self
    }
    pub fn dash(mut self, pattern: &[f32], offset: f32) -> Self {
        self.dash = pattern.to_vec();
        self.dash_offset = offset;
        self
    }
}

/// Text settings for [`Canvas::text`].
#[derive(Clone, Debug)]
pub struct TextStyle {
    pub family: String,
    pub weight: u16,
    pub size: f32,
    pub align: TextAlign,
    pub paint: Paint,
    pub max_width: Option<f32>,
}

impl TextStyle {
    /// `size` pixels in the default family ("Inter"), regular weight, white.
    pub fn new(size: f32) -> TextStyle {
        TextStyle { family: "Inter".into(), weight: 400, size, align: TextAlign::Start, paint: Paint::Solid(Color::WHITE), max_width: None }
    }
    pub fn family(mut self, family: &str) -> Self {
        self.family = family.to_string();
        self
    }
    pub fn weight(mut self, weight: u16) -> Self {
        self.weight = weight;
        self
    }
    pub fn align(mut self, align: TextAlign) -> Self {
        self.align = align;
        self
    }
    pub fn paint(mut self, paint: impl Into<Paint>) -> Self {
        self.paint = paint.into();
        self
    }
    pub fn max_width(mut self, width: f32) -> Self {
        self.max_width = Some(width);
        self
    }
    /// Width and height of `text` in this style, as the host measures it.
    pub fn measure(&self, text: &str) -> (f32, f32) {
        crate::measure_text(text, &self.family, self.size)
    }
}

impl Default for Canvas {
    fn default() -> Self {
        Self::new()
    }
}

impl Canvas {
    pub const fn new() -> Canvas {
        Canvas { ops: Vec::new(), depth: 0 }
    }

    /// Fills `path` (non-zero rule).
    pub fn fill(&mut self, path: Path, paint: impl Into<Paint>) -> &mut Self {
        self.fill_with_rule(path, paint, FillRule::NonZero)
    }

    pub fn fill_with_rule(&mut self, path: Path, paint: impl Into<Paint>, rule: FillRule) -> &mut Self {
        self.ops.push(DrawOp::Fill(wit::Fill { path, paint: paint.into(), rule }));
        self
    }

    /// Fills a rectangle.
    pub fn fill_rect(&mut self, rect: Rect, paint: impl Into<Paint>) -> &mut Self {
        self.fill(Path::rect(rect), paint)
    }

    /// Strokes `path`.
    pub fn stroke(&mut self, path: Path, paint: impl Into<Paint>, style: &StrokeStyle) -> &mut Self {
        self.ops.push(DrawOp::Stroke(wit::Stroke {
            path,
            paint: paint.into(),
            width: style.width,
            join: style.join,
            cap: style.cap,
            miter_limit: style.miter_limit,
            dash: style.dash.clone(),
            dash_offset: style.dash_offset,
        }));
        self
    }

    /// Draws `text` with its anchor at (x, baseline y).
    pub fn text(&mut self, text: &str, x: f32, y: f32, style: &TextStyle) -> &mut Self {
        self.ops.push(DrawOp::Text(TextRun {
            text: text.to_string(),
            family: style.family.clone(),
            weight: style.weight,
            size: style.size,
            x,
            y,
            align: style.align,
            paint: style.paint.clone(),
            max_width: style.max_width,
        }));
        self
    }

    /// Draws an image asset scaled into `dest`.
    pub fn image(&mut self, asset: &str, dest: Rect, opacity: f32) -> &mut Self {
        self.ops.push(DrawOp::Image(ImageDraw { asset: asset.to_string(), dest, opacity }));
        self
    }

    /// Draws the current frame of a live input (RTMP ingest, file, URL) into `dest`.
    pub fn video(&mut self, input: &str, dest: Rect, opacity: f32) -> &mut Self {
        self.ops.push(DrawOp::Video(VideoDraw { input: input.to_string(), dest, opacity }));
        self
    }

    /// Draws whatever `body` draws through a group (transform, opacity, clip, blend).
    pub fn group(&mut self, group: Group, body: impl FnOnce(&mut Canvas)) -> &mut Self {
        self.push(group);
        body(self);
        self.pop();
        self
    }

    /// Opens a group by hand; prefer [`Canvas::group`]. Unclosed groups are closed
    /// when the frame ends.
    pub fn push(&mut self, group: Group) -> &mut Self {
        self.ops.push(DrawOp::Push(wit::Group {
            transform: group.transform,
            opacity: group.opacity,
            clip: group.clip,
            blend: group.blend,
        }));
        self.depth += 1;
        self
    }

    /// Closes the innermost group; does nothing if none is open.
    pub fn pop(&mut self) -> &mut Self {
        if self.depth > 0 {
            self.depth -= 1;
            self.ops.push(DrawOp::Pop);
        }
        self
    }

    /// Number of ops drawn so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The ops drawn so far, for inspection in tests.
    pub fn ops(&self) -> &[DrawOp] {
        &self.ops
    }

    /// Closes open groups and hands over the ops, leaving the canvas empty.
    pub fn take_ops(&mut self) -> Vec<DrawOp> {
        while self.depth > 0 {
            self.pop();
        }
        std::mem::take(&mut self.ops)
    }

    pub(crate) fn clear(&mut self) {
        self.ops.clear();
        self.depth = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_groups_are_closed_and_extra_pops_ignored() {
        let mut c = Canvas::new();
        c.pop();
        c.push(Group::default()).push(Group::default().opacity(0.5));
        c.fill_rect(Rect::new(0.0, 0.0, 1.0, 1.0), Color::WHITE);
        let ops = c.take_ops();
        let pushes = ops.iter().filter(|o| matches!(o, DrawOp::Push(_))).count();
        let pops = ops.iter().filter(|o| matches!(o, DrawOp::Pop)).count();
        assert_eq!((pushes, pops), (2, 2));
        assert!(c.is_empty());
    }
}
