//! The flattened form of one draw list: vertices, indices, gradient ramps and the
//! passes that draw them, each pass a list of draws with their pipeline state.
//!
//! Plain CPU data; it must not touch the GPU. `flatten` fills it, the renderer uploads
//! and records it. Positions are device pixels; each pass maps its own pixel rectangle
//! to clip space (a layer pass covers only its content's bounds).

use std::ops::Range;

use showrunner_core::BlendMode;

/// One vertex (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vertex {
    /// Device pixels.
    pub pos: [f32; 2],
    /// Per-op depth in 0..1: later ops are larger (painter's order, see `flatten`).
    pub z: f32,
    /// Premultiplied colour, or the multiplier (opacity in all four channels) of a
    /// gradient, image or layer.
    pub color: [f32; 4],
    /// Paint coordinates: `(t, 0)` for a linear gradient, the offset from the centre
    /// in radii for a radial one, texture coordinates for an image paint.
    pub local: [f32; 2],
    /// Texture coordinates into the mask texture (image, glyph atlas, layer).
    pub uv: [f32; 2],
    /// [`kind`] bits and the gradient ramp index above them.
    pub paint: u32,
}

/// Bits of [`Vertex::paint`].
pub mod kind {
    /// The vertex colour as is.
    pub const SOLID: u32 = 0;
    /// Ramp at `local.x`.
    pub const LINEAR: u32 = 1;
    /// Ramp at `length(local)`.
    pub const RADIAL: u32 = 2;
    /// The paint texture at `local`, transparent outside 0..1.
    pub const IMAGE: u32 = 3;
    /// Multiply by the mask texture at `uv`.
    pub const MASK: u32 = 4;
    /// The ramp index starts at this bit.
    pub const RAMP_SHIFT: u32 = 3;
}

/// Texels per gradient ramp.
pub const RAMP_TEXELS: usize = 256;

/// Which fragment shader a draw needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shader {
    /// Vertex colour only: the fast path for solid fills and strokes.
    Solid,
    /// Vertex colour times the mask texture: solid text, image ops, layers.
    Mask,
    /// Gradients, textures and masks.
    Paint,
}

/// How a draw uses the stencil (clip nesting level) and depth buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StencilMode {
    /// Drawn where the stencil equals the reference; depth-tested and written.
    Content,
    /// No colour: where the stencil equals the reference, increment it.
    ClipPush,
    /// No colour: where the stencil equals the reference, decrement it.
    ClipPop,
}

/// Blend mode of a draw (the draw list's [`BlendMode`], hashable for pipeline keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blend {
    Normal,
    Add,
    Multiply,
    Screen,
}

impl From<BlendMode> for Blend {
    fn from(mode: BlendMode) -> Blend {
        match mode {
            BlendMode::Normal => Blend::Normal,
            BlendMode::Add => Blend::Add,
            BlendMode::Multiply => Blend::Multiply,
            BlendMode::Screen => Blend::Screen,
        }
    }
}

/// Pipeline state of a draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DrawState {
    pub shader: Shader,
    pub blend: Blend,
    pub stencil: StencilMode,
}

/// A texture a draw samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TexRef {
    None,
    /// Index into [`Scene::images`] (an asset frame or a live input's frame).
    Image(usize),
    /// The glyph atlas.
    Atlas,
    /// The resolved texture of [`Scene::passes`]`[i]`.
    Layer(usize),
}

/// One draw call.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    pub state: DrawState,
    pub stencil_ref: u32,
    pub paint_texture: TexRef,
    pub mask_texture: TexRef,
    pub indices: Range<u32>,
}

/// A rectangle of device pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelRect {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// A render pass: the main one (last in [`Scene::passes`]) draws into the caller's
/// target; the others are group layers, each drawn before the pass that samples it.
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    pub rect: PixelRect,
    pub draws: Vec<Draw>,
}

/// A picture a scene samples ([`TexRef::Image`]) and where the renderer finds its
/// texture.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImageUse {
    /// An asset frame, by its image-cache key (content hash id, frame index).
    Asset((u64, usize)),
    /// The newest frame of the live input of this name.
    Live(String),
}

/// Everything one draw list needs on the GPU.
#[derive(Default)]
pub struct Scene {
    pub vertices: Vec<Vertex>,
    pub indices: Vec<u32>,
    /// [`RAMP_TEXELS`] premultiplied colours per gradient.
    pub ramps: Vec<[f32; 4]>,
    /// Pass 0 is the main pass; layers follow in the order their groups opened.
    pub passes: Vec<Pass>,
    /// Indices into `passes` in recording order: every layer before the pass that
    /// samples it, the main pass last.
    pub order: Vec<usize>,
    pub images: Vec<ImageUse>,
}

/// Bounds of device-pixel points, empty until the first point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: [f32; 2],
    pub max: [f32; 2],
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { min: [f32::INFINITY; 2], max: [f32::NEG_INFINITY; 2] }
    }
}

impl Bounds {
    pub fn add(&mut self, p: [f32; 2]) {
        self.min = [self.min[0].min(p[0]), self.min[1].min(p[1])];
        self.max = [self.max[0].max(p[0]), self.max[1].max(p[1])];
    }

    /// Whole pixels covering these bounds inside a `width`×`height` frame; `None` when
    /// nothing of them is inside.
    pub fn pixels_within(&self, width: u32, height: u32) -> Option<PixelRect> {
        let x0 = self.min[0].floor().max(0.0);
        let y0 = self.min[1].floor().max(0.0);
        let x1 = self.max[0].ceil().min(width as f32);
        let y1 = self.max[1].ceil().min(height as f32);
        if !(x1 > x0 && y1 > y0) {
            return None;
        }
        Some(PixelRect { x: x0 as i32, y: y0 as i32, width: (x1 - x0) as u32, height: (y1 - y0) as u32 })
    }
}

impl Scene {
    /// Appends `indices` (already offset) as a draw in pass `pass`, merging with the
    /// previous draw when the state, textures and stencil reference match.
    pub fn add_draw(&mut self, pass: usize, state: DrawState, stencil_ref: u32, textures: (TexRef, TexRef), first_index: u32) {
        let Ok(end) = u32::try_from(self.indices.len()) else { return };
        if end <= first_index {
            return;
        }
        let Some(p) = self.passes.get_mut(pass) else { return };
        if let Some(last) = p.draws.last_mut()
            && last.state == state
            && last.stencil_ref == stencil_ref
            && (last.paint_texture, last.mask_texture) == textures
            && last.indices.end == first_index
        {
            last.indices.end = end;
            return;
        }
        p.draws.push(Draw { state, stencil_ref, paint_texture: textures.0, mask_texture: textures.1, indices: first_index..end });
    }
}
