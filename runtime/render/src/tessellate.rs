//! Tessellation: draw-list paths to triangles with lyon, in the path's own
//! coordinates (the group transform is applied afterwards, so stroke widths scale with
//! it as in SVG), plus a frame-coherent cache of the results.
//!
//! It must not panic on any path that passed validation: lyon errors become `None`
//! (the op is counted as failed and skipped). It knows nothing of paint or the GPU.

use std::collections::HashMap;
use std::sync::Arc;

use lyon::math::point;
use lyon::path::Path as LyonPath;
use lyon::tessellation::{
    BuffersBuilder, FillOptions, FillTessellator, FillVertex, StrokeOptions, StrokeTessellator, StrokeVertex, VertexBuffers,
};
use showrunner_core::{FillRule, LineCap, LineJoin, Path, verb};

/// Triangles in path coordinates: positions and indices into them.
pub type Mesh = VertexBuffers<[f32; 2], u32>;

/// How a path is turned into triangles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    Fill(FillRule),
    Stroke { width: f32, join: LineJoin, cap: LineCap, miter_limit: f32 },
}

/// Converts a validated flat path into a lyon path. Sub-paths are opened by move-to;
/// drawing after a close starts again from the closed sub-path's first point (as SVG).
pub fn to_lyon(path: &Path) -> LyonPath {
    let mut b = LyonPath::builder();
    let mut pts = path.points.chunks_exact(2).map(|p| point(p[0], p[1]));
    let mut open = false;
    let mut start = point(0.0, 0.0);
    let mut current = start;
    for v in &path.verbs {
        if *v == verb::CLOSE {
            if open {
                b.end(true);
                open = false;
                current = start;
            }
            continue;
        }
        if *v == verb::MOVE {
            let Some(p) = pts.next() else { break };
            if open {
                b.end(false);
            }
            b.begin(p);
            open = true;
            start = p;
            current = p;
            continue;
        }
        if !open {
            b.begin(current);
            open = true;
            start = current;
        }
        match *v {
            verb::LINE => {
                let Some(p) = pts.next() else { break };
                b.line_to(p);
                current = p;
            }
            verb::QUAD => {
                let (Some(c), Some(p)) = (pts.next(), pts.next()) else { break };
                b.quadratic_bezier_to(c, p);
                current = p;
            }
            verb::CUBIC => {
                let (Some(c1), Some(c2), Some(p)) = (pts.next(), pts.next(), pts.next()) else { break };
                b.cubic_bezier_to(c1, c2, p);
                current = p;
            }
            _ => break,
        }
    }
    if open {
        b.end(false);
    }
    b.build()
}

/// A stroke's dash pattern: lengths alternately on and off, and where in it to start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dash<'a> {
    pub pattern: &'a [f32],
    pub offset: f32,
}

/// Most dashes one stroke may turn into; a longer pattern run is drawn solid (a tiny
/// pattern on a long path would otherwise cost millions of segments).
pub const MAX_DASHES: f32 = 100_000.0;

/// Cuts `path` into its dashes (as SVG: the pattern restarts on each sub-path, an odd
/// pattern is repeated twice). `None` when there is nothing to cut or the cut would be
/// too fine, in which case the stroke is drawn solid.
pub fn dashed(path: &LyonPath, dash: Dash<'_>, tolerance: f32) -> Option<LyonPath> {
    use lyon::path::PathEvent;
    use lyon::path::iterator::PathIterator;
    let mut pattern: Vec<f32> = dash.pattern.to_vec();
    if !pattern.len().is_multiple_of(2) {
        pattern.extend_from_slice(dash.pattern);
    }
    let total: f32 = pattern.iter().sum();
    if pattern.is_empty() || !total.is_finite() || total <= 0.0 {
        return None;
    }
    let length: f32 = path
        .iter()
        .flattened(tolerance)
        .map(|e| match e {
            PathEvent::Line { from, to } => (to - from).length(),
            PathEvent::End { last, first, close: true } => (first - last).length(),
            _ => 0.0,
        })
        .sum();
    if !length.is_finite() || length / total * pattern.len() as f32 > MAX_DASHES {
        return None;
    }
    let start_offset = dash.offset.rem_euclid(total);
    let mut b = LyonPath::builder();
    // Position in the pattern: entry index and what is left of it.
    let mut index = 0usize;
    let mut left = 0.0f32;
    let mut drawing = false;
    // Pattern steps allowed for the whole path: a backstop against float steps too
    // small to move `t` (the length check above already keeps real inputs far below).
    let mut budget = 4 * MAX_DASHES as usize;
    let mut segment = |b: &mut lyon::path::path::Builder, from: lyon::math::Point, to: lyon::math::Point, index: &mut usize, left: &mut f32, drawing: &mut bool| {
        let len = (to - from).length();
        let mut t = 0.0f32;
        while len - t > 0.0 {
            if budget == 0 {
                return None;
            }
            budget -= 1;
            let on = index.is_multiple_of(2);
            let step = left.min(len - t);
            let a = from.lerp(to, t / len);
            t += step;
            *left -= step;
            let z = from.lerp(to, (t / len).min(1.0));
            if on {
                if !*drawing {
                    b.begin(a);
                    *drawing = true;
                }
                b.line_to(z);
            }
            if *left <= 0.0 {
                if on && *drawing {
                    b.end(false);
                    *drawing = false;
                }
                *index = (*index + 1) % pattern.len();
                *left = pattern[*index];
            }
        }
        Some(())
    };
    for event in path.iter().flattened(tolerance) {
        match event {
            PathEvent::Begin { .. } => {
                // Restart the pattern at the offset.
                index = 0;
                left = pattern[0];
                let mut skip = start_offset;
                while skip > 0.0 {
                    if skip < left {
                        left -= skip;
                        break;
                    }
                    skip -= left;
                    index = (index + 1) % pattern.len();
                    left = pattern[index];
                }
            }
            PathEvent::Line { from, to } => segment(&mut b, from, to, &mut index, &mut left, &mut drawing)?,
            PathEvent::End { last, first, close } => {
                if close {
                    segment(&mut b, last, first, &mut index, &mut left, &mut drawing)?;
                }
                if drawing {
                    b.end(false);
                    drawing = false;
                }
            }
            _ => {}
        }
    }
    Some(b.build())
}

/// Tessellates `path` with `style` (and `dash`, for strokes); `tolerance` is the largest
/// allowed distance between a curve and its flattening, in path units. `None` when lyon
/// refuses the geometry.
pub fn tessellate(path: &Path, style: Style, dash: Option<Dash<'_>>, tolerance: f32) -> Option<Mesh> {
    // lyon is not known to panic on finite input, but guest geometry reaches it: a panic
    // costs this op, never the frame.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tessellate_unguarded(path, style, dash, tolerance))).ok().flatten()
}

fn tessellate_unguarded(path: &Path, style: Style, dash: Option<Dash<'_>>, tolerance: f32) -> Option<Mesh> {
    let mut lyon_path = to_lyon(path);
    if let (Style::Stroke { .. }, Some(dash)) = (style, dash)
        && let Some(cut) = dashed(&lyon_path, dash, tolerance)
    {
        lyon_path = cut;
    }
    let mut mesh = Mesh::new();
    match style {
        Style::Fill(rule) => {
            let rule = match rule {
                FillRule::NonZero => lyon::tessellation::FillRule::NonZero,
                FillRule::EvenOdd => lyon::tessellation::FillRule::EvenOdd,
            };
            let options = FillOptions::tolerance(tolerance).with_fill_rule(rule);
            FillTessellator::new()
                .tessellate_path(&lyon_path, &options, &mut BuffersBuilder::new(&mut mesh, |v: FillVertex| v.position().to_array()))
                .ok()?;
        }
        Style::Stroke { width, join, cap, miter_limit } => {
            let join = match join {
                LineJoin::Miter => lyon::tessellation::LineJoin::Miter,
                LineJoin::Round => lyon::tessellation::LineJoin::Round,
                LineJoin::Bevel => lyon::tessellation::LineJoin::Bevel,
            };
            let cap = match cap {
                LineCap::Butt => lyon::tessellation::LineCap::Butt,
                LineCap::Round => lyon::tessellation::LineCap::Round,
                LineCap::Square => lyon::tessellation::LineCap::Square,
            };
            let options = StrokeOptions::tolerance(tolerance)
                .with_line_width(width)
                .with_line_join(join)
                .with_line_cap(cap)
                // lyon wants >= 1; validation already enforces 1..=100.
                .with_miter_limit(miter_limit.max(StrokeOptions::MINIMUM_MITER_LIMIT));
            StrokeTessellator::new()
                .tessellate_path(&lyon_path, &options, &mut BuffersBuilder::new(&mut mesh, |v: StrokeVertex| v.position().to_array()))
                .ok()?;
        }
    }
    Some(mesh)
}

/// Exact key of one tessellation: the path's bits, the style's bits and the tolerance.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    verbs: Vec<u8>,
    points: Vec<u32>,
    style: [u32; 5],
    dash: Vec<u32>,
    tolerance: u32,
}

impl Key {
    fn new(path: &Path, style: Style, dash: Option<Dash<'_>>, tolerance: f32) -> Key {
        let style = match style {
            Style::Fill(rule) => [0, rule as u32, 0, 0, 0],
            Style::Stroke { width, join, cap, miter_limit } => [1, width.to_bits(), join as u32, cap as u32, miter_limit.to_bits()],
        };
        let dash = dash.map(|d| d.pattern.iter().chain([&d.offset]).map(|v| v.to_bits()).collect()).unwrap_or_default();
        Key { verbs: path.verbs.clone(), points: path.points.iter().map(|p| p.to_bits()).collect(), style, dash, tolerance: tolerance.to_bits() }
    }
}

/// Tessellation results reused across frames. Keys compare the full path (not just a
/// hash), so a crafted collision cannot swap one layer's geometry for another's. An
/// entry not used during a frame is dropped at the end of it, which bounds the cache by
/// one frame's geometry.
#[derive(Default)]
pub struct Cache {
    entries: HashMap<Key, (Option<Arc<Mesh>>, bool)>,
    hits: u64,
    misses: u64,
}

impl Cache {
    /// The mesh for `path` in `style`, tessellating on a miss.
    pub fn get(&mut self, path: &Path, style: Style, dash: Option<Dash<'_>>, tolerance: f32) -> Option<Arc<Mesh>> {
        let key = Key::new(path, style, dash, tolerance);
        if let Some((mesh, used)) = self.entries.get_mut(&key) {
            *used = true;
            self.hits += 1;
            return mesh.clone();
        }
        self.misses += 1;
        let mesh = tessellate(path, style, dash, tolerance).map(Arc::new);
        self.entries.insert(key, (mesh.clone(), true));
        mesh
    }

    /// Ends a frame: forgets what it did not use.
    pub fn end_frame(&mut self) {
        self.entries.retain(|_, (_, used)| std::mem::take(used));
    }

    /// (hits, misses) since the cache was made.
    pub fn counters(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square() -> Path {
        Path { verbs: vec![0, 1, 1, 1, 4], points: vec![0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0] }
    }

    #[test]
    fn a_square_fills_with_two_triangles() {
        let mesh = tessellate(&square(), Style::Fill(FillRule::NonZero), None, 0.1).unwrap_or_default();
        assert_eq!(mesh.indices.len(), 6);
    }

    #[test]
    fn drawing_after_close_and_degenerate_paths_do_not_panic() {
        let after_close = Path { verbs: vec![0, 1, 4, 1, 1], points: vec![0.0, 0.0, 5.0, 0.0, 5.0, 5.0, 0.0, 5.0] };
        assert!(tessellate(&after_close, Style::Fill(FillRule::EvenOdd), None, 0.1).is_some());
        let stroke = Style::Stroke { width: 2.0, join: LineJoin::Miter, cap: LineCap::Round, miter_limit: 4.0 };
        for p in [Path::default(), Path { verbs: vec![0], points: vec![1.0, 1.0] }, Path { verbs: vec![0, 1, 1], points: vec![0.0; 6] }] {
            let _ = tessellate(&p, Style::Fill(FillRule::NonZero), None, 0.1);
            let _ = tessellate(&p, stroke, None, 0.1);
            let _ = tessellate(&p, stroke, Some(Dash { pattern: &[1.0, 0.0, 2.0], offset: -3.0 }), 0.1);
        }
    }

    #[test]
    fn dashes_cut_a_line_into_pieces_and_tiny_patterns_fall_back_to_solid() {
        let line = to_lyon(&Path { verbs: vec![0, 1], points: vec![0.0, 0.0, 10.0, 0.0] });
        let cut = dashed(&line, Dash { pattern: &[2.0, 1.0], offset: 0.0 }, 0.1).unwrap_or_default();
        let begins = cut.iter().filter(|e| matches!(e, lyon::path::PathEvent::Begin { .. })).count();
        assert_eq!(begins, 4, "0-2, 3-5, 6-8, 9-10");
        assert!(dashed(&line, Dash { pattern: &[1.0e-6, 1.0e-6], offset: 0.0 }, 0.1).is_none());
    }

    #[test]
    fn the_cache_reuses_and_then_forgets() {
        let mut cache = Cache::default();
        let style = Style::Fill(FillRule::NonZero);
        assert!(cache.get(&square(), style, None, 0.1).is_some());
        assert!(cache.get(&square(), style, None, 0.1).is_some());
        assert_eq!(cache.counters(), (1, 1));
        cache.end_frame();
        assert_eq!(cache.len(), 1);
        cache.end_frame();
        assert!(cache.is_empty());
    }
}
