//! Flattening: walks a validated draw list in painter's order, keeps the group stack
//! (transform, opacity, blend mode, clip level, layer) and emits a [`Scene`]: one
//! vertex and index list in device pixels, and passes of draws with their pipeline
//! state. Counts what it leaves out.
//!
//! Groups: a group whose opacity is below 1 or whose blend mode is not normal, and
//! that holds two or more drawing ops, is isolated: its content is drawn into a layer
//! of its own (normal blending, full opacity) that is then composited onto what is
//! below with the group's opacity and blend mode, so overlaps inside it do not show
//! (as CSS and SVG do). A group with a single drawing op gets the same result by
//! applying opacity and blend mode to that op. Past [`MAX_LAYERS`] layers in one list,
//! further groups are drawn op by op (counted in [`Skipped::isolation`]).
//! Clip paths (non-zero fill, in the group's coordinates) are drawn into the stencil
//! buffer: nested clips intersect by counting the nesting level. A clip that is an
//! axis-aligned rectangle on the target is not: the triangles inside are cut to it
//! ([`crate::rect_clip`]), which covers the same samples without two stencil passes.
//!
//! It must not touch the GPU and must not panic: an op it cannot draw is counted in
//! [`Skipped`] and left out.

use std::sync::Arc;

use showrunner_core::{Affine, BlendMode, DrawOp, FillRule, Paint};

use crate::emit::{At, Emitter, PaintPlan};
use crate::paint::{compose, is_finite};
use crate::rect_clip::{ClipRect, device_rect};
use crate::scene::{Bounds, DrawState, Pass, PixelRect, Scene, Shader, StencilMode, TexRef};
use crate::tessellate::{Cache, Dash, Mesh, Style};

/// Ops, or parts of ops, this renderer did not draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Text runs not drawn (no text engine, or the glyph atlas overflowed).
    pub text: usize,
    /// Image ops not drawn because no asset store is set (missing assets are counted
    /// in `RenderStats::missing_assets`).
    pub image: usize,
    /// Video ops not drawn because no live-input registry is set, or their input shows
    /// no frame (not started, or cleared).
    pub video: usize,
    /// Fills or strokes past the [`crate::paint::MAX_RAMPS`] distinct gradients of a list.
    pub gradient: usize,
    /// Fills, strokes or text with an image paint and no asset store set.
    pub image_paint: usize,
    /// Groups that should have been isolated but were drawn op by op because the list
    /// already used [`MAX_LAYERS`] layers (overlaps inside them show).
    pub isolation: usize,
    /// Paths lyon could not tessellate, or ops whose transform overflowed.
    pub failed: usize,
    /// Ops left out because the frame hit [`MAX_FRAME_VERTICES`].
    pub over_budget: usize,
}

impl Skipped {
    /// Everything counted, in ops or groups.
    pub fn total(&self) -> usize {
        self.text + self.image + self.video + self.gradient + self.image_paint + self.isolation + self.failed + self.over_budget
    }
}

/// Most vertices one frame may upload (about 192 MB); ops past it are skipped and
/// counted, so a list of huge, finely flattened shapes cannot exhaust memory.
pub const MAX_FRAME_VERTICES: usize = 4_000_000;
/// Most offscreen layers (isolated groups) one draw list may use.
pub const MAX_LAYERS: usize = 32;
/// Layer sizes are rounded up to this many pixels, so layers of similar size share
/// their multisampled targets across frames.
const LAYER_GRANULE: u32 = 64;

/// Flattening tolerance in device pixels.
const TOLERANCE_PX: f32 = 0.1;

/// Path-unit tolerance giving `TOLERANCE_PX` on screen under `t`, kept to a sane range
/// (a vanishing scale would ask for an astronomically fine flattening).
pub fn tolerance(t: &Affine) -> f32 {
    let sx = (t.a * t.a + t.b * t.b).sqrt();
    let sy = (t.c * t.c + t.d * t.d).sqrt();
    let scale = sx.max(sy);
    if scale.is_finite() && scale > 0.0 { (TOLERANCE_PX / scale).clamp(1.0e-3, 1.0e3) } else { 1.0e3 }
}

/// What a texture lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageLookup {
    /// Texture-cache key and size in pixels.
    Found { key: (u64, usize), width: u32, height: u32 },
    /// The store has no such asset.
    Missing,
    /// No asset store is set.
    NoStore,
}

/// One glyph quad in the run's local space with its atlas coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Glyph {
    pub rect: [f32; 4],
    pub uv: [f32; 4],
    pub color: bool,
}

/// What the walk needs from outside: images by name, live inputs' frames and the
/// glyphs of text ops.
pub trait Resources {
    fn image(&mut self, name: &str) -> ImageLookup;
    /// True when live input `input` shows a frame this list can draw.
    fn live(&mut self, input: &str) -> bool;
    /// Glyphs of the text op at `op`; `None` when text cannot be drawn.
    fn glyphs(&mut self, op: usize) -> Option<&[Glyph]>;
}

/// Resources of a renderer with no asset store and no text engine.
pub struct NoResources;

impl Resources for NoResources {
    fn image(&mut self, _: &str) -> ImageLookup {
        ImageLookup::NoStore
    }
    fn live(&mut self, _: &str) -> bool {
        false
    }
    fn glyphs(&mut self, _: usize) -> Option<&[Glyph]> {
        None
    }
}

/// The result of a walk.
#[derive(Default)]
pub struct Flattened {
    pub scene: Scene,
    /// Fills, strokes, text runs, images and video frames drawn.
    pub drawn: usize,
    /// Offscreen layers used.
    pub layers: usize,
    pub skipped: Skipped,
    /// Image ops and paints whose asset the store does not have.
    pub missing_uses: usize,
    /// Their asset names, each once.
    pub missing: Vec<String>,
}

/// One open group.
#[derive(Clone)]
struct Level {
    transform: Affine,
    /// Multiplied into each op (1 inside a fresh layer).
    opacity: f32,
    /// Blend mode each op is drawn with.
    blend: BlendMode,
    /// Stencil value content must match.
    clip_level: u32,
    pass: usize,
    /// The clip to undo at pop (not needed when the level is a layer of its own).
    clip: Option<(Arc<Mesh>, Affine)>,
    /// Rectangle clips in force (cut on the CPU, no stencil; see `rect_clip`).
    rect: Option<ClipRect>,
    /// For a layer: opacity and blend mode to composite it with.
    layer: Option<(f32, BlendMode)>,
    /// Nothing inside is visible (opacity 0, an empty or failed clip).
    hidden: bool,
}

impl Level {
    /// Content draws of this level with `shader`.
    fn at(&self, shader: Shader) -> At {
        let state = DrawState { shader, blend: self.blend.into(), stencil: StencilMode::Content };
        At { pass: self.pass, clip_level: self.clip_level, rect: self.rect, state, textures: NO_TEXTURES }
    }
}

/// Drawing ops (fills, strokes, text, images, video) inside each group, by the index
/// of its push.
fn ops_inside_groups(ops: &[DrawOp]) -> Vec<usize> {
    let mut inside = vec![0usize; ops.len()];
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut drawing = 0usize;
    for (i, op) in ops.iter().enumerate() {
        match op {
            DrawOp::Push(_) => open.push((i, drawing)),
            DrawOp::Pop => {
                if let Some((at, before)) = open.pop()
                    && let Some(slot) = inside.get_mut(at)
                {
                    *slot = drawing - before;
                }
            }
            _ => drawing += 1,
        }
    }
    for (at, before) in open {
        if let Some(slot) = inside.get_mut(at) {
            *slot = drawing - before;
        }
    }
    inside
}

/// Flattens `ops` for a `width`×`height` target, tessellating through `cache`;
/// `max_side` bounds layer sizes.
pub fn flatten(ops: &[DrawOp], width: u32, height: u32, max_side: u32, cache: &mut Cache, res: &mut dyn Resources) -> Flattened {
    let mut out = Flattened::default();
    let frame = PixelRect { x: 0, y: 0, width, height };
    out.scene.passes.push(Pass { rect: frame, draws: Vec::new() });
    let mut em = Emitter::new(&mut out, ops.len(), res);
    let inside = ops_inside_groups(ops);
    let root = Level { transform: Affine::IDENTITY, opacity: 1.0, blend: BlendMode::Normal, clip_level: 0, pass: 0, clip: None, rect: None, layer: None, hidden: false };
    let mut stack: Vec<Level> = vec![root.clone()];
    for (i, op) in ops.iter().enumerate() {
        let top = stack.last().cloned().unwrap_or_else(|| root.clone());
        match op {
            DrawOp::Push(group) => {
                let transform = compose(&top.transform, &group.transform);
                let mut level = Level { transform, clip: None, layer: None, ..top.clone() };
                level.hidden = top.hidden || group.opacity <= 0.0;
                if !level.hidden && !is_finite(&transform) {
                    em.out.skipped.failed += 1;
                    level.hidden = true;
                }
                let blend = if group.blend == BlendMode::Normal { top.blend } else { group.blend };
                let wants_layer = (group.opacity < 1.0 || group.blend != BlendMode::Normal) && inside.get(i).copied().unwrap_or(0) >= 2;
                if !level.hidden && wants_layer && em.layers() < MAX_LAYERS {
                    level.pass = em.open_layer();
                    level.layer = Some((top.opacity * group.opacity, blend));
                    (level.opacity, level.blend, level.clip_level) = (1.0, BlendMode::Normal, 0);
                } else if !level.hidden {
                    if wants_layer {
                        em.out.skipped.isolation += 1;
                    }
                    (level.opacity, level.blend) = (top.opacity * group.opacity, blend);
                }
                let rect = group.clip.as_ref().filter(|_| !level.hidden).and_then(|clip| device_rect(clip, &transform));
                if let Some(rect) = rect {
                    let rect = level.rect.map_or(rect, |outer| outer.intersect(rect));
                    level.hidden = rect.is_empty();
                    level.rect = Some(rect);
                } else if let Some(clip) = group.clip.as_ref().filter(|_| !level.hidden) {
                    match cache.get(clip, Style::Fill(FillRule::NonZero), None, tolerance(&transform)) {
                        Some(mesh) if !mesh.indices.is_empty() && level.clip_level < u32::from(u8::MAX) => {
                            em.stencil(level.pass, &mesh, &transform, StencilMode::ClipPush, level.clip_level);
                            level.clip_level += 1;
                            level.clip = Some((mesh, transform));
                        }
                        Some(_) => level.hidden = true,
                        None => {
                            em.out.skipped.failed += 1;
                            level.hidden = true;
                        }
                    }
                }
                stack.push(level);
            }
            DrawOp::Pop => {
                // Validated lists are balanced; an extra pop is ignored.
                if stack.len() <= 1 {
                    continue;
                }
                let Some(level) = stack.pop() else { continue };
                let parent = stack.last().cloned().unwrap_or_else(|| root.clone());
                if let Some((opacity, blend)) = level.layer {
                    let state = DrawState { shader: Shader::Mask, blend: blend.into(), stencil: StencilMode::Content };
                    let at = At { pass: parent.pass, clip_level: parent.clip_level, rect: parent.rect, state, textures: NO_TEXTURES };
                    em.close_layer(level.pass, (width, height, max_side), at, opacity);
                } else if let Some((mesh, transform)) = &level.clip {
                    em.stencil(level.pass, mesh, transform, StencilMode::ClipPop, level.clip_level);
                }
            }
            _ if top.hidden => {}
            DrawOp::Fill(f) => shape(&mut em, cache, &top, &f.path, &f.paint, Style::Fill(f.rule), None),
            DrawOp::Stroke(s) => {
                let style = Style::Stroke { width: s.width, join: s.join, cap: s.cap, miter_limit: s.miter_limit };
                let dash = (!s.dash.is_empty()).then_some(Dash { pattern: &s.dash, offset: s.dash_offset });
                shape(&mut em, cache, &top, &s.path, &s.paint, style, dash);
            }
            DrawOp::Text(run) => {
                let Some(plan) = em.plan(&run.paint, top.opacity) else { continue };
                em.text(i, &plan, &top.transform, top.at(Shader::Paint));
            }
            DrawOp::Image(image) => em.image(image, &top.transform, top.opacity, top.at(Shader::Mask)),
            DrawOp::Video(video) => em.video(video, &top.transform, top.opacity, top.at(Shader::Mask)),
        }
    }
    em.finish();
    out
}

/// Draws one fill or stroke.
fn shape(em: &mut Emitter<'_>, cache: &mut Cache, top: &Level, path: &showrunner_core::Path, paint: &Paint, style: Style, dash: Option<Dash<'_>>) {
    let Some(plan) = em.plan(paint, top.opacity) else { return };
    let Some(mesh) = cache.get(path, style, dash, tolerance(&top.transform)) else {
        em.out.skipped.failed += 1;
        return;
    };
    let shader = if matches!(plan, PaintPlan::Solid(_)) { Shader::Solid } else { Shader::Paint };
    if em.mesh(&mesh, &top.transform, &plan, top.at(shader)) {
        em.out.drawn += 1;
    }
}

/// Layer bounds of a pass, for [`Emitter`].
pub(crate) fn layer_rect(bounds: &Bounds, width: u32, height: u32, max_side: u32) -> Option<PixelRect> {
    let mut rect = bounds.pixels_within(width, height)?;
    rect.width = rect.width.next_multiple_of(LAYER_GRANULE).min(max_side);
    rect.height = rect.height.next_multiple_of(LAYER_GRANULE).min(max_side);
    Some(rect)
}

/// Shorthand for a texture pair with no paint texture.
pub(crate) const NO_TEXTURES: (TexRef, TexRef) = (TexRef::None, TexRef::None);
