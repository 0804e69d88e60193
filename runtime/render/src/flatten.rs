//! Flattening: walks a validated draw list in painter's order, keeps the group stack
//! (transform and opacity), and emits one triangle list in device pixels with a
//! premultiplied colour per vertex; counts what this slice cannot draw yet.
//!
//! It must not touch the GPU and must not panic: an op it cannot draw is counted in
//! [`Skipped`] and left out. Group opacity is applied per op (each op's alpha is
//! multiplied), so overlapping ops inside a half-transparent group show their overlap;
//! proper group layers come with clip and blend modes.

use showrunner_core::{Affine, BlendMode, DrawOp, Paint};

use crate::tessellate::{Cache, Dash, Mesh, Style};

/// One vertex: position in clip space, per-op depth (see `renderer`), premultiplied
/// sRGB colour.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vertex {
    pub pos: [f32; 3],
    pub color: [f32; 4],
}

/// Ops, or parts of ops, this renderer did not draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    pub text: usize,
    pub image: usize,
    pub video: usize,
    /// Fills or strokes with a linear or radial gradient.
    pub gradient: usize,
    /// Fills or strokes with an image paint.
    pub image_paint: usize,
    /// Groups whose clip path was ignored (their content is drawn unclipped).
    pub clip: usize,
    /// Groups whose blend mode was not normal (drawn with normal blending).
    pub blend: usize,
    /// Paths lyon could not tessellate.
    pub failed: usize,
    /// Fills and strokes left out because the frame hit [`MAX_FRAME_VERTICES`].
    pub over_budget: usize,
}

impl Skipped {
    /// Everything counted, in ops or groups.
    pub fn total(&self) -> usize {
        self.text + self.image + self.video + self.gradient + self.image_paint + self.clip + self.blend + self.failed + self.over_budget
    }
}

/// Triangles ready for upload.
#[derive(Default)]
pub struct Geometry {
    pub vertices: Vec<Vertex>,
    pub indices: Vec<u32>,
    /// Fills and strokes drawn.
    pub drawn: usize,
    pub skipped: Skipped,
}

/// Most vertices one frame may upload (about 112 MB); ops past it are skipped and
/// counted, so a list of huge, finely flattened shapes cannot exhaust memory.
pub const MAX_FRAME_VERTICES: usize = 4_000_000;

/// Flattening tolerance in device pixels.
const TOLERANCE_PX: f32 = 0.1;

fn compose(p: &Affine, c: &Affine) -> Affine {
    Affine {
        a: p.a * c.a + p.c * c.b,
        b: p.b * c.a + p.d * c.b,
        c: p.a * c.c + p.c * c.d,
        d: p.b * c.c + p.d * c.d,
        e: p.a * c.e + p.c * c.f + p.e,
        f: p.b * c.e + p.d * c.f + p.f,
    }
}

/// Path-unit tolerance giving `TOLERANCE_PX` on screen under `t`, kept to a sane range
/// (a vanishing scale would ask for an astronomically fine flattening).
fn tolerance(t: &Affine) -> f32 {
    let sx = (t.a * t.a + t.b * t.b).sqrt();
    let sy = (t.c * t.c + t.d * t.d).sqrt();
    let scale = sx.max(sy);
    if scale.is_finite() && scale > 0.0 { (TOLERANCE_PX / scale).clamp(1.0e-3, 1.0e3) } else { 1.0e3 }
}

/// Colour as premultiplied RGBA with `opacity` folded in.
fn premultiplied(c: &showrunner_core::Color, opacity: f32) -> [f32; 4] {
    let a = (c.a * opacity).clamp(0.0, 1.0);
    [c.r.clamp(0.0, 1.0) * a, c.g.clamp(0.0, 1.0) * a, c.b.clamp(0.0, 1.0) * a, a]
}

/// Flattens `ops` for a `width`×`height` target, tessellating through `cache`.
pub fn flatten(ops: &[DrawOp], width: u32, height: u32, cache: &mut Cache) -> Geometry {
    let mut g = Geometry::default();
    let mut stack: Vec<(Affine, f32)> = Vec::new();
    let mut transform = Affine::IDENTITY;
    let mut opacity = 1.0f32;
    let shapes = ops.iter().filter(|o| matches!(o, DrawOp::Fill(_) | DrawOp::Stroke(_))).count();
    let mut shape = 0usize;
    let (sx, sy) = (2.0 / width.max(1) as f32, 2.0 / height.max(1) as f32);
    for op in ops {
        let (path, paint, style, dash) = match op {
            DrawOp::Push(group) => {
                stack.push((transform, opacity));
                transform = compose(&transform, &group.transform);
                opacity *= group.opacity;
                if group.clip.is_some() {
                    g.skipped.clip += 1;
                }
                if group.blend != BlendMode::Normal {
                    g.skipped.blend += 1;
                }
                continue;
            }
            DrawOp::Pop => {
                // Validated lists are balanced; an extra pop just resets to the root.
                (transform, opacity) = stack.pop().unwrap_or((Affine::IDENTITY, 1.0));
                continue;
            }
            DrawOp::Text(_) => {
                g.skipped.text += 1;
                continue;
            }
            DrawOp::Image(_) => {
                g.skipped.image += 1;
                continue;
            }
            DrawOp::Video(_) => {
                g.skipped.video += 1;
                continue;
            }
            DrawOp::Fill(f) => (&f.path, &f.paint, Style::Fill(f.rule), None),
            DrawOp::Stroke(s) => (
                &s.path,
                &s.paint,
                Style::Stroke { width: s.width, join: s.join, cap: s.cap, miter_limit: s.miter_limit },
                (!s.dash.is_empty()).then_some(Dash { pattern: &s.dash, offset: s.dash_offset }),
            ),
        };
        shape += 1;
        let color = match paint {
            Paint::Solid(c) => premultiplied(c, opacity),
            Paint::Linear(_) | Paint::Radial(_) => {
                g.skipped.gradient += 1;
                continue;
            }
            Paint::Image(_) => {
                g.skipped.image_paint += 1;
                continue;
            }
        };
        if color[3] <= 0.0 {
            continue;
        }
        let Some(mesh) = cache.get(path, style, dash, tolerance(&transform)) else {
            g.skipped.failed += 1;
            continue;
        };
        if g.vertices.len() + mesh.vertices.len() > MAX_FRAME_VERTICES {
            g.skipped.over_budget += 1;
            continue;
        }
        // Later ops get a larger depth; the depth test (greater) lets each op touch a
        // sample once, so overlapping triangles of one stroke do not blend twice.
        let z = shape as f32 / (shapes + 1) as f32;
        push_mesh(&mut g, &mesh, &transform, z, color, sx, sy);
        g.drawn += 1;
    }
    g
}

fn push_mesh(g: &mut Geometry, mesh: &Mesh, t: &Affine, z: f32, color: [f32; 4], sx: f32, sy: f32) {
    let Ok(base) = u32::try_from(g.vertices.len()) else { return };
    g.vertices.extend(mesh.vertices.iter().map(|[x, y]| {
        let px = t.a * x + t.c * y + t.e;
        let py = t.b * x + t.d * y + t.f;
        Vertex { pos: [px * sx - 1.0, 1.0 - py * sy, z], color }
    }));
    g.indices.extend(mesh.indices.iter().map(|i| i + base));
}
