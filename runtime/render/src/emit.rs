//! Emitting: turns one op's triangles (a tessellated mesh, glyph quads, an image,
//! video or layer quad) into [`crate::scene::Scene`] vertices and draws, with its
//! paint, depth and stencil state; keeps the per-pass bounds that size layers, the
//! gradient ramps and the pictures (asset frames, live inputs) a list samples.
//!
//! It must not touch the GPU and must not panic; ops it cannot place (non-finite
//! positions, the vertex budget) are counted by the caller's [`Flattened`].

use std::collections::HashMap;

use showrunner_core::{Affine, ImageDraw, Paint, Rect, VideoDraw};

use crate::flatten::{Flattened, ImageLookup, MAX_FRAME_VERTICES, NO_TEXTURES, Resources, layer_rect};
use crate::paint::{Ramps, apply, compose, invert, linear_map, premultiplied, radial_map};
use crate::rect_clip::{ClipRect, clip_triangles};
use crate::scene::{Blend, Bounds, DrawState, ImageUse, Pass, PixelRect, Shader, StencilMode, TexRef, Vertex, kind};
use crate::tessellate::Mesh;

/// How an op's paint becomes vertex attributes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PaintPlan {
    /// Premultiplied colour, opacity folded in.
    Solid([f32; 4]),
    /// A gradient: `map` takes local coordinates to the shader's gradient coordinates.
    Ramp { kind: u32, ramp: u32, map: Affine, opacity: f32 },
    /// An image paint: `map` takes local coordinates to texture coordinates.
    Image { texture: usize, map: Affine, opacity: f32 },
}

impl PaintPlan {
    fn color(&self) -> [f32; 4] {
        match self {
            PaintPlan::Solid(c) => *c,
            PaintPlan::Ramp { opacity, .. } | PaintPlan::Image { opacity, .. } => [*opacity; 4],
        }
    }

    fn bits(&self) -> u32 {
        match self {
            PaintPlan::Solid(_) => kind::SOLID,
            PaintPlan::Ramp { kind, ramp, .. } => kind | (ramp << kind::RAMP_SHIFT),
            PaintPlan::Image { .. } => kind::IMAGE,
        }
    }

    fn local(&self, x: f32, y: f32) -> [f32; 2] {
        match self {
            PaintPlan::Solid(_) => [0.0; 2],
            PaintPlan::Ramp { map, .. } | PaintPlan::Image { map, .. } => apply(map, x, y),
        }
    }

    fn paint_texture(&self) -> TexRef {
        match self {
            PaintPlan::Image { texture, .. } => TexRef::Image(*texture),
            _ => TexRef::None,
        }
    }

    /// Alpha a colour glyph is drawn with.
    fn alpha(&self) -> f32 {
        self.color()[3]
    }
}

/// Where and how an op's triangles are drawn: pass, stencil level, pipeline state and
/// textures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct At {
    pub pass: usize,
    pub clip_level: u32,
    /// Rectangle clips in force, intersected (device pixels): triangles are cut to it.
    pub rect: Option<ClipRect>,
    pub state: DrawState,
    pub textures: (TexRef, TexRef),
}

/// Where a quad's corners come from: local rectangle and texture rectangle.
struct Quad {
    rect: [f32; 4],
    uv: [f32; 4],
}

/// Writes ops into a [`Flattened`].
pub struct Emitter<'a> {
    pub out: &'a mut Flattened,
    res: &'a mut dyn Resources,
    /// Depth steps: one per drawn op or layer quad.
    z_step: f32,
    z_count: u32,
    bounds: Vec<Bounds>,
    ramps: Ramps,
    /// Index of each picture in `Scene::images`.
    images: HashMap<ImageUse, usize>,
}

impl<'a> Emitter<'a> {
    pub fn new(out: &'a mut Flattened, op_count: usize, res: &'a mut dyn Resources) -> Emitter<'a> {
        Emitter { out, res, z_step: 1.0 / (op_count as f32 + 2.0), z_count: 0, bounds: vec![Bounds::default()], ramps: Ramps::default(), images: HashMap::new() }
    }

    pub fn layers(&self) -> usize {
        self.out.layers
    }

    fn next_z(&mut self) -> f32 {
        self.z_count += 1;
        (self.z_count as f32 * self.z_step).min(1.0)
    }

    /// The index of `picture` in the scene's texture list, added on first use.
    fn texture_index(&mut self, picture: ImageUse) -> usize {
        let next = self.out.scene.images.len();
        *self.images.entry(picture).or_insert_with_key(|picture| {
            self.out.scene.images.push(picture.clone());
            next
        })
    }

    /// The texture index of an image, registering it on first use; `None` (and
    /// counted) when there is none.
    fn image_texture(&mut self, name: &str, paint: bool) -> Option<(usize, u32, u32)> {
        match self.res.image(name) {
            ImageLookup::Found { key, width, height } => Some((self.texture_index(ImageUse::Asset(key)), width, height)),
            ImageLookup::Missing => {
                self.out.missing_uses += 1;
                if !self.out.missing.iter().any(|n| n == name) {
                    self.out.missing.push(name.to_string());
                }
                None
            }
            ImageLookup::NoStore => {
                if paint {
                    self.out.skipped.image_paint += 1;
                } else {
                    self.out.skipped.image += 1;
                }
                None
            }
        }
    }

    /// How `paint` is drawn at `opacity`; `None` when nothing would show or it cannot be
    /// drawn (counted).
    pub fn plan(&mut self, paint: &Paint, opacity: f32) -> Option<PaintPlan> {
        let plan = match paint {
            Paint::Solid(c) => PaintPlan::Solid(premultiplied(c, opacity)),
            Paint::Linear(g) => match self.ramps.get(&g.stops) {
                Some(ramp) => PaintPlan::Ramp { kind: kind::LINEAR, ramp, map: linear_map(g.x0, g.y0, g.x1, g.y1), opacity },
                None => {
                    self.out.skipped.gradient += 1;
                    return None;
                }
            },
            Paint::Radial(g) => match self.ramps.get(&g.stops) {
                Some(ramp) => PaintPlan::Ramp { kind: kind::RADIAL, ramp, map: radial_map(g.cx, g.cy, g.radius), opacity },
                None => {
                    self.out.skipped.gradient += 1;
                    return None;
                }
            },
            Paint::Image(fill) => {
                let (texture, width, height) = self.image_texture(&fill.asset, true)?;
                let scale = Affine { a: 1.0 / width.max(1) as f32, b: 0.0, c: 0.0, d: 1.0 / height.max(1) as f32, e: 0.0, f: 0.0 };
                // A singular placement shows no image.
                let map = compose(&scale, &invert(&fill.transform)?);
                PaintPlan::Image { texture, map, opacity: opacity * fill.opacity }
            }
        };
        (plan.alpha() > 0.0).then_some(plan)
    }

    /// Checks the budget for `count` more vertices, counting the op when it is over.
    fn room_for(&mut self, count: usize) -> bool {
        if self.out.scene.vertices.len() + count > MAX_FRAME_VERTICES {
            self.out.skipped.over_budget += 1;
            return false;
        }
        true
    }

    /// Draws `mesh` under `t` with `plan`. False when nothing was emitted.
    pub fn mesh(&mut self, mesh: &Mesh, t: &Affine, plan: &PaintPlan, at: At) -> bool {
        if mesh.indices.is_empty() || !self.room_for(mesh.vertices.len()) {
            return false;
        }
        let z = self.next_z();
        let (color, paint) = (plan.color(), plan.bits());
        let start = self.out.scene.vertices.len();
        let mut bounds = Bounds::default();
        for [x, y] in mesh.vertices.iter().copied() {
            let pos = apply(t, x, y);
            bounds.add(pos);
            self.out.scene.vertices.push(Vertex { pos, z, color, local: plan.local(x, y), uv: [0.0; 2], paint });
        }
        self.finish_op(start, &mesh.indices, bounds, At { textures: (plan.paint_texture(), TexRef::None), ..at })
    }

    /// Adds indices for vertices pushed from `start`, or drops them when a position is
    /// not finite (counted as failed).
    fn finish_op(&mut self, start: usize, indices: &[u32], mut bounds: Bounds, at: At) -> bool {
        let finite = bounds.min.iter().chain(&bounds.max).all(|v| v.is_finite());
        let Ok(base) = u32::try_from(start) else { return false };
        let Ok(first) = u32::try_from(self.out.scene.indices.len()) else { return false };
        if !finite {
            self.out.scene.vertices.truncate(start);
            self.out.skipped.failed += 1;
            return false;
        }
        let cut;
        let indices = match at.rect {
            Some(rect) if !(bounds.min[0] >= rect.x0 && bounds.min[1] >= rect.y0 && bounds.max[0] <= rect.x1 && bounds.max[1] <= rect.y1) => {
                cut = clip_triangles(&mut self.out.scene.vertices, start, indices, rect);
                if cut.is_empty() {
                    self.out.scene.vertices.truncate(start);
                    return false;
                }
                bounds.min = [bounds.min[0].max(rect.x0), bounds.min[1].max(rect.y0)];
                bounds.max = [bounds.max[0].min(rect.x1), bounds.max[1].min(rect.y1)];
                &cut[..]
            }
            _ => indices,
        };
        self.out.scene.indices.extend(indices.iter().map(|i| i + base));
        self.out.scene.add_draw(at.pass, at.state, at.clip_level, at.textures, first);
        if at.state.stencil == StencilMode::Content
            && let Some(b) = self.bounds.get_mut(at.pass)
        {
            b.add(bounds.min);
            b.add(bounds.max);
        }
        true
    }

    /// Draws `mesh` into the stencil only (clip push or pop at `level`).
    pub fn stencil(&mut self, pass: usize, mesh: &Mesh, t: &Affine, mode: StencilMode, level: u32) {
        if !self.room_for(mesh.vertices.len()) {
            return;
        }
        let start = self.out.scene.vertices.len();
        let mut bounds = Bounds::default();
        for [x, y] in mesh.vertices.iter().copied() {
            let pos = apply(t, x, y);
            bounds.add(pos);
            self.out.scene.vertices.push(Vertex { pos, ..Vertex::default() });
        }
        let state = DrawState { shader: Shader::Solid, blend: Blend::Normal, stencil: mode };
        self.finish_op(start, &mesh.indices, bounds, At { pass, clip_level: level, rect: None, state, textures: NO_TEXTURES });
    }

    /// Emits axis-aligned quads (in local space) under `t`, each with its own colour
    /// and paint bits.
    fn quads(&mut self, quads: &[(Quad, [f32; 4], u32)], t: &Affine, plan: Option<&PaintPlan>, at: At) -> bool {
        if quads.is_empty() || !self.room_for(quads.len() * 4) {
            return false;
        }
        let z = self.next_z();
        let start = self.out.scene.vertices.len();
        let mut bounds = Bounds::default();
        let mut indices = Vec::with_capacity(quads.len() * 6);
        for (k, (q, color, paint)) in quads.iter().enumerate() {
            let Ok(base) = u32::try_from(k * 4) else { return false };
            let [x0, y0, x1, y1] = q.rect;
            let [u0, v0, u1, v1] = q.uv;
            for (x, y, u, v) in [(x0, y0, u0, v0), (x1, y0, u1, v0), (x1, y1, u1, v1), (x0, y1, u0, v1)] {
                let pos = apply(t, x, y);
                bounds.add(pos);
                let local = plan.map_or([0.0; 2], |p| p.local(x, y));
                self.out.scene.vertices.push(Vertex { pos, z, color: *color, local, uv: [u, v], paint: *paint });
            }
            indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        }
        self.finish_op(start, &indices, bounds, at)
    }

    /// Draws the glyphs of the text op at `op`; `at` gives pass, clip level and blend.
    pub fn text(&mut self, op: usize, plan: &PaintPlan, t: &Affine, at: At) {
        let Some(glyphs) = self.res.glyphs(op) else {
            self.out.skipped.text += 1;
            return;
        };
        let quads: Vec<(Quad, [f32; 4], u32)> = glyphs
            .iter()
            .map(|g| {
                let (color, bits) = if g.color { ([plan.alpha(); 4], kind::SOLID) } else { (plan.color(), plan.bits()) };
                (Quad { rect: g.rect, uv: g.uv }, color, bits | kind::MASK)
            })
            .collect();
        let shader = if matches!(plan, PaintPlan::Solid(_)) { Shader::Mask } else { Shader::Paint };
        let state = DrawState { shader, ..at.state };
        if self.quads(&quads, t, Some(plan), At { state, textures: (plan.paint_texture(), TexRef::Atlas), ..at }) {
            self.out.drawn += 1;
        }
    }

    /// Draws an image op into its destination rectangle; `at` gives pass, clip level
    /// and blend.
    pub fn image(&mut self, image: &ImageDraw, t: &Affine, opacity: f32, at: At) {
        let Some((texture, _, _)) = self.image_texture(&image.asset, false) else { return };
        self.picture(texture, &image.dest, opacity * image.opacity, t, at);
    }

    /// Draws the newest frame of a video op's live input into its destination
    /// rectangle, as [`Emitter::image`] draws an image; an input without a frame draws
    /// nothing (counted in `Skipped::video`).
    pub fn video(&mut self, video: &VideoDraw, t: &Affine, opacity: f32, at: At) {
        if !self.res.live(&video.input) {
            self.out.skipped.video += 1;
            return;
        }
        let texture = self.texture_index(ImageUse::Live(video.input.clone()));
        self.picture(texture, &video.dest, opacity * video.opacity, t, at);
    }

    /// Draws texture `texture` stretched bilinearly over `dest` at `alpha`.
    fn picture(&mut self, texture: usize, dest: &Rect, alpha: f32, t: &Affine, at: At) {
        let alpha = alpha.clamp(0.0, 1.0);
        if dest.width <= 0.0 || dest.height <= 0.0 || alpha <= 0.0 {
            return;
        }
        let quad = Quad { rect: [dest.x, dest.y, dest.x + dest.width, dest.y + dest.height], uv: [0.0, 0.0, 1.0, 1.0] };
        let state = DrawState { shader: Shader::Mask, ..at.state };
        if self.quads(&[(quad, [alpha; 4], kind::SOLID | kind::MASK)], t, None, At { state, textures: (TexRef::None, TexRef::Image(texture)), ..at }) {
            self.out.drawn += 1;
        }
    }

    /// Starts a layer pass; returns its index.
    pub fn open_layer(&mut self) -> usize {
        self.out.layers += 1;
        self.out.scene.passes.push(Pass { rect: PixelRect { x: 0, y: 0, width: 1, height: 1 }, draws: Vec::new() });
        self.bounds.push(Bounds::default());
        self.out.scene.passes.len() - 1
    }

    /// Ends layer `pass`: sizes it to its content (inside a `frame` of width, height
    /// and largest texture side) and composites it where `parent` says.
    pub fn close_layer(&mut self, pass: usize, frame: (u32, u32, u32), parent: At, opacity: f32) {
        let Some(bounds) = self.bounds.get(pass).copied() else { return };
        let Some(rect) = layer_rect(&bounds, frame.0, frame.1, frame.2) else { return };
        let Some(p) = self.out.scene.passes.get_mut(pass) else { return };
        p.rect = rect;
        self.out.scene.order.push(pass);
        let (x0, y0) = (rect.x as f32, rect.y as f32);
        let quad = Quad { rect: [x0, y0, x0 + rect.width as f32, y0 + rect.height as f32], uv: [0.0, 0.0, 1.0, 1.0] };
        let alpha = opacity.clamp(0.0, 1.0);
        let state = DrawState { shader: Shader::Mask, ..parent.state };
        self.quads(&[(quad, [alpha; 4], kind::SOLID | kind::MASK)], &Affine::IDENTITY, None, At { state, textures: (TexRef::None, TexRef::Layer(pass)), ..parent });
    }

    /// Hands over the ramps and puts the main pass last.
    pub fn finish(&mut self) {
        self.out.scene.ramps = std::mem::take(&mut self.ramps.texels);
        self.out.scene.order.push(0);
    }
}
