//! What a draw list needs besides geometry: images from the asset store (looked up by
//! name, the frame picked by the renderer's time), the newest frames of live inputs
//! (each input's frame pinned once per list, so every `video` op of a list shows the
//! same one) and glyphs from the text engine (every run laid out before flattening),
//! plus the glyph atlas texture.
//!
//! Text runs are laid out at `sqrt(|det|)` of their transform, so scaled text is
//! rasterized at its drawn size. When the atlas fills up while a list is laid out, it
//! is cleared and the list laid out once more; runs that still do not fit in one
//! atlas generation are not drawn (counted in `Skipped::text`).
//!
//! It must not record passes and must not block on decoding: an asset still decoding
//! is missing for this frame.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use showrunner_assets::{AssetStore, Image, LiveFrame, LiveInputs};
use showrunner_core::{Affine, DrawOp};
use showrunner_text::TextEngine;

use crate::flatten::{Glyph, ImageLookup, Resources};
use crate::gpu::Gpu;
use crate::images::frame_index;
use crate::paint::compose;
use crate::targets::COLOR_FORMAT;

/// Images, live frames and glyphs of one draw list.
pub struct FrameResources<'a> {
    pub store: Option<&'a AssetStore>,
    pub live: Option<&'a LiveInputs>,
    pub time: Duration,
    pub max_side: u32,
    /// Images found, by texture key, for upload after flattening.
    pub found: HashMap<(u64, usize), Arc<Image>>,
    /// Live frames found, by input name, for upload after flattening.
    pub live_found: HashMap<String, Arc<LiveFrame>>,
    /// Glyphs by op index; a text op without an entry is not drawn.
    pub glyphs: HashMap<usize, Vec<Glyph>>,
}

impl Resources for FrameResources<'_> {
    fn image(&mut self, name: &str) -> ImageLookup {
        let Some(store) = self.store else { return ImageLookup::NoStore };
        let Some(image) = store.get(name) else { return ImageLookup::Missing };
        if image.frames.is_empty() || image.width == 0 || image.height == 0 || image.width > self.max_side || image.height > self.max_side {
            return ImageLookup::Missing;
        }
        let key = (image.hash.id(), frame_index(&image, self.time));
        let (width, height) = (image.width, image.height);
        self.found.insert(key, image);
        ImageLookup::Found { key, width, height }
    }

    fn live(&mut self, input: &str) -> bool {
        if self.live_found.contains_key(input) {
            return true;
        }
        let Some(frame) = self.live.and_then(|live| live.get(input)) else { return false };
        if frame.width == 0 || frame.height == 0 || frame.width > self.max_side || frame.height > self.max_side {
            return false;
        }
        self.live_found.insert(input.to_string(), frame);
        true
    }

    fn glyphs(&mut self, op: usize) -> Option<&[Glyph]> {
        self.glyphs.get(&op).map(Vec::as_slice)
    }
}

/// Uniform scale of `t` (the square root of its area factor).
pub(crate) fn uniform_scale(t: &Affine) -> f32 {
    let det = (t.a * t.d - t.b * t.c).abs().sqrt();
    if det.is_finite() { det } else { 0.0 }
}

/// Lays out every text run of `ops`; returns glyphs by op index and the font
/// families reported missing for the first time.
pub fn lay_out_text(engine: &mut TextEngine, ops: &[DrawOp]) -> (HashMap<usize, Vec<Glyph>>, Vec<String>) {
    let mut missing = Vec::new();
    let mut result = HashMap::new();
    for attempt in 0..2 {
        let start = engine.atlas().generation();
        let mut laid_out: Vec<(usize, u64, Vec<Glyph>)> = Vec::new();
        let mut stack: Vec<Affine> = Vec::new();
        let mut transform = Affine::IDENTITY;
        for (i, op) in ops.iter().enumerate() {
            match op {
                DrawOp::Push(g) => {
                    stack.push(transform);
                    transform = compose(&transform, &g.transform);
                }
                DrawOp::Pop => transform = stack.pop().unwrap_or(Affine::IDENTITY),
                DrawOp::Text(run) => {
                    let layout = engine.layout(run, uniform_scale(&transform));
                    missing.extend(layout.missing_family);
                    let glyphs = layout.glyphs.iter().map(|g| Glyph { rect: g.rect, uv: g.uv, color: g.color }).collect();
                    laid_out.push((i, engine.atlas().generation(), glyphs));
                }
                _ => {}
            }
        }
        let end = engine.atlas().generation();
        if end == start || attempt == 1 {
            // Runs laid out before the last reset point into a cleared atlas.
            result = laid_out.into_iter().filter(|(_, generation, _)| *generation == end).map(|(i, _, g)| (i, g)).collect();
            break;
        }
    }
    (result, missing)
}

/// The glyph atlas on the GPU, one texture per atlas generation.
#[derive(Default)]
pub struct AtlasTexture {
    current: Option<(u64, u32, wgpu::Texture, wgpu::TextureView)>,
}

impl AtlasTexture {
    /// Brings the texture up to date with `engine`'s atlas: a new generation (or size)
    /// gets a new texture with the whole atlas, otherwise the dirty regions are written.
    /// A new texture leaves the old one to passes recorded earlier that still use it.
    pub fn sync(&mut self, gpu: &Gpu, engine: &mut TextEngine) -> Option<wgpu::TextureView> {
        let atlas = engine.atlas_mut();
        let (generation, side) = (atlas.generation(), atlas.side());
        let regions = atlas.take_dirty();
        let fresh = !matches!(&self.current, Some((g, s, _, _)) if *g == generation && *s == side);
        if fresh {
            let texture = sampled_texture(gpu, "glyph atlas", side, side);
            write(gpu, &texture, 0, 0, side, side, atlas.pixels());
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            self.current = Some((generation, side, texture, view));
        } else if let Some((_, _, texture, _)) = &self.current {
            for r in &regions {
                write(gpu, texture, r.x, r.y, r.width, r.height, &r.pixels);
            }
        }
        self.current.as_ref().map(|(_, _, _, view)| view.clone())
    }
}

/// Writes a tightly packed RGBA8 region, skipping one whose bytes do not match its size
/// or that does not fit the texture.
/// A `width`×`height` texture the shaders sample and the queue writes.
pub(crate) fn sampled_texture(gpu: &Gpu, label: &str, width: u32, height: u32) -> wgpu::Texture {
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: COLOR_FORMAT,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

/// Writes tightly packed RGBA8 `pixels` into `texture` at (x, y); does nothing when
/// they do not fit or their length is not `width * height * 4`.
pub(crate) fn write(gpu: &Gpu, texture: &wgpu::Texture, x: u32, y: u32, width: u32, height: u32, pixels: &[u8]) {
    let fits = x.checked_add(width).is_some_and(|r| r <= texture.width()) && y.checked_add(height).is_some_and(|b| b <= texture.height());
    if width == 0 || height == 0 || !fits || pixels.len() as u64 != u64::from(width) * u64::from(height) * 4 {
        return;
    }
    gpu.queue.write_texture(
        wgpu::TexelCopyTextureInfo { texture, mip_level: 0, origin: wgpu::Origin3d { x, y, z: 0 }, aspect: wgpu::TextureAspect::All },
        pixels,
        wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(width * 4), rows_per_image: Some(height) },
        wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
    );
}
