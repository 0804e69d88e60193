//! The glyph atlas: one square RGBA8 image that holds every rasterized glyph, packed with
//! etagere, plus the list of regions changed since the renderer last uploaded.
//!
//! Owns the pixels, the packing and the reset policy. Mask glyphs are stored as premultiplied
//! white `(c, c, c, c)` with `c` the coverage, so the renderer multiplies by its paint;
//! colour glyphs (emoji) as premultiplied RGBA. Every glyph has a 1-px transparent border so
//! bilinear sampling never bleeds a neighbour in. It must not know about shaping or the GPU.

use std::collections::HashMap;

use cosmic_text::CacheKey;
use etagere::{AtlasAllocator, size2};

use crate::TextError;

/// Default side of the atlas, in pixels.
pub const DEFAULT_ATLAS_SIDE: u32 = 2048;
/// Smallest accepted atlas side.
pub const MIN_ATLAS_SIDE: u32 = 64;
/// Largest accepted atlas side (etagere addresses in u16; 8192² RGBA is 256 MiB).
pub const MAX_ATLAS_SIDE: u32 = 8192;
/// Most glyphs held at once; reaching it resets the atlas (etagere's item indices are u16).
pub const MAX_ATLAS_GLYPHS: usize = 16_384;
/// Transparent border around every glyph, in pixels.
const PADDING: u32 = 1;
/// Separate dirty regions kept before they are merged into their bounding box.
const MAX_DIRTY_REGIONS: usize = 256;

/// A rectangle of the atlas that changed, with its pixels, for the renderer to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtlasRegion {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// Tightly packed RGBA8, `width * height * 4` bytes.
    pub pixels: Vec<u8>,
}

/// Where a glyph's pixels sit in the atlas and how they sit against the pen position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AtlasGlyph {
    /// Top-left of the glyph pixels (inside the padding), atlas px.
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// Offset of the image's left edge from the pen x, raster px.
    pub left: i32,
    /// Offset of the image's top edge above the baseline, raster px.
    pub top: i32,
    pub color: bool,
}

/// An atlas entry: pixels, or a glyph that draws nothing (a space) and needs no room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtlasEntry {
    Stored(AtlasGlyph),
    Blank,
}

/// A rasterized glyph ready to store.
pub(crate) struct GlyphImage<'a> {
    pub width: u32,
    pub height: u32,
    pub left: i32,
    pub top: i32,
    /// Coverage bytes (`width * height`) for a mask, straight-alpha RGBA for colour.
    pub data: &'a [u8],
    pub color: bool,
}

/// Why a glyph was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertRefused {
    /// No room left (or the glyph cap reached): a reset would make room.
    Full,
    /// Larger than an empty atlas, or malformed: a reset would not help.
    Unfit,
}

#[derive(Clone, Copy, Debug, Default)]
struct PixelBox {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl PixelBox {
    fn union(self, other: PixelBox) -> PixelBox {
        PixelBox {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }
}

/// Square RGBA8 glyph atlas. See the module doc for the pixel format.
pub struct GlyphAtlas {
    side: u32,
    pixels: Vec<u8>,
    allocator: AtlasAllocator,
    entries: HashMap<CacheKey, AtlasEntry>,
    stored: usize,
    generation: u64,
    dirty: Vec<PixelBox>,
    /// Set by a reset: the next `take_dirty` returns one region covering all that is used.
    reset_pending: bool,
    used_since_reset: Option<PixelBox>,
}

impl GlyphAtlas {
    /// An empty atlas `side` × `side` pixels, `MIN_ATLAS_SIDE..=MAX_ATLAS_SIDE`.
    pub fn new(side: u32) -> Result<GlyphAtlas, TextError> {
        if !(MIN_ATLAS_SIDE..=MAX_ATLAS_SIDE).contains(&side) {
            return Err(TextError::AtlasSide {
                side,
                min: MIN_ATLAS_SIDE,
                max: MAX_ATLAS_SIDE,
            });
        }
        Ok(GlyphAtlas::build(side))
    }

    /// The default-size atlas ([`DEFAULT_ATLAS_SIDE`], inside the accepted range).
    pub(crate) fn with_default_side() -> GlyphAtlas {
        GlyphAtlas::build(DEFAULT_ATLAS_SIDE)
    }

    fn build(side: u32) -> GlyphAtlas {
        let side_i32 = side as i32;
        GlyphAtlas {
            side,
            pixels: vec![0; (side as usize) * (side as usize) * 4],
            allocator: AtlasAllocator::new(size2(side_i32, side_i32)),
            entries: HashMap::new(),
            stored: 0,
            generation: 0,
            dirty: Vec::new(),
            reset_pending: false,
            used_since_reset: None,
        }
    }

    /// Side of the square atlas, in pixels.
    pub fn side(&self) -> u32 {
        self.side
    }

    /// Bumped every time the atlas is cleared; glyph UVs from an older generation are stale.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The whole atlas, RGBA8, row-major, `side * side * 4` bytes.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Number of glyphs with pixels in the atlas.
    pub fn glyph_count(&self) -> usize {
        self.stored
    }

    /// The regions changed since the last call, with their pixels. After a reset this is one
    /// region covering everything stored since the reset (or nothing if nothing was).
    pub fn take_dirty(&mut self) -> Vec<AtlasRegion> {
        let boxes: Vec<PixelBox> = if self.reset_pending {
            self.reset_pending = false;
            self.dirty.clear();
            self.used_since_reset.into_iter().collect()
        } else {
            std::mem::take(&mut self.dirty)
        };
        boxes
            .into_iter()
            .map(|pixel_box| self.copy_region(pixel_box))
            .collect()
    }

    pub(crate) fn get(&self, key: &CacheKey) -> Option<AtlasEntry> {
        self.entries.get(key).copied()
    }

    /// Records that `key` draws nothing.
    pub(crate) fn insert_blank(&mut self, key: CacheKey) -> Result<(), InsertRefused> {
        if self.entries.len() >= MAX_ATLAS_GLYPHS {
            return Err(InsertRefused::Full);
        }
        self.entries.insert(key, AtlasEntry::Blank);
        Ok(())
    }

    /// Copies `image` into free space and records it under `key`.
    pub(crate) fn insert(
        &mut self,
        key: CacheKey,
        image: &GlyphImage<'_>,
    ) -> Result<AtlasGlyph, InsertRefused> {
        let channels = if image.color { 4 } else { 1 };
        let expected_len = (image.width as usize) * (image.height as usize) * channels;
        let padded_width = image.width.saturating_add(2 * PADDING);
        let padded_height = image.height.saturating_add(2 * PADDING);
        if image.width == 0 || image.height == 0 || image.data.len() < expected_len {
            return Err(InsertRefused::Unfit);
        }
        if padded_width > self.side || padded_height > self.side {
            return Err(InsertRefused::Unfit);
        }
        if self.entries.len() >= MAX_ATLAS_GLYPHS {
            return Err(InsertRefused::Full);
        }
        let allocation = self
            .allocator
            .allocate(size2(padded_width as i32, padded_height as i32))
            .ok_or(InsertRefused::Full)?;
        let origin_x = allocation.rectangle.min.x.max(0) as u32;
        let origin_y = allocation.rectangle.min.y.max(0) as u32;
        let glyph = AtlasGlyph {
            x: origin_x + PADDING,
            y: origin_y + PADDING,
            width: image.width,
            height: image.height,
            left: image.left,
            top: image.top,
            color: image.color,
        };
        self.write_pixels(&glyph, image);
        self.entries.insert(key, AtlasEntry::Stored(glyph));
        self.stored += 1;
        let pixel_box = PixelBox {
            x0: origin_x,
            y0: origin_y,
            x1: origin_x + padded_width,
            y1: origin_y + padded_height,
        };
        self.mark_dirty(pixel_box);
        Ok(glyph)
    }

    /// Clears every glyph and bumps the generation.
    pub(crate) fn reset(&mut self) {
        self.allocator.clear();
        self.entries.clear();
        self.stored = 0;
        self.pixels.fill(0);
        self.generation += 1;
        self.dirty.clear();
        self.reset_pending = true;
        self.used_since_reset = None;
        tracing::debug!(
            generation = self.generation,
            side = self.side,
            "glyph atlas full: cleared"
        );
    }

    /// Normalized atlas coordinates `[u0, v0, u1, v1]` of a stored glyph.
    pub(crate) fn uv(&self, glyph: &AtlasGlyph) -> [f32; 4] {
        let side = self.side as f32;
        [
            glyph.x as f32 / side,
            glyph.y as f32 / side,
            (glyph.x + glyph.width) as f32 / side,
            (glyph.y + glyph.height) as f32 / side,
        ]
    }

    fn write_pixels(&mut self, glyph: &AtlasGlyph, image: &GlyphImage<'_>) {
        let side = self.side as usize;
        let width = image.width as usize;
        for row in 0..image.height as usize {
            let dst_start = ((glyph.y as usize + row) * side + glyph.x as usize) * 4;
            let dst = &mut self.pixels[dst_start..dst_start + width * 4];
            if image.color {
                let src = &image.data[row * width * 4..(row + 1) * width * 4];
                for (out, rgba) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                    let alpha = u16::from(rgba[3]);
                    for channel in 0..3 {
                        out[channel] = ((u16::from(rgba[channel]) * alpha + 127) / 255) as u8;
                    }
                    out[3] = rgba[3];
                }
            } else {
                let src = &image.data[row * width..(row + 1) * width];
                for (out, &coverage) in dst.chunks_exact_mut(4).zip(src) {
                    out.fill(coverage);
                }
            }
        }
    }

    fn mark_dirty(&mut self, pixel_box: PixelBox) {
        self.used_since_reset = Some(match self.used_since_reset {
            Some(used) => used.union(pixel_box),
            None => pixel_box,
        });
        if self.reset_pending {
            return;
        }
        self.dirty.push(pixel_box);
        if self.dirty.len() > MAX_DIRTY_REGIONS {
            let merged = self
                .dirty
                .iter()
                .fold(pixel_box, |acc, other| acc.union(*other));
            self.dirty.clear();
            self.dirty.push(merged);
        }
    }

    fn copy_region(&self, pixel_box: PixelBox) -> AtlasRegion {
        let side = self.side as usize;
        let width = (pixel_box.x1 - pixel_box.x0) as usize;
        let height = (pixel_box.y1 - pixel_box.y0) as usize;
        let mut pixels = Vec::with_capacity(width * height * 4);
        for row in pixel_box.y0 as usize..pixel_box.y1 as usize {
            let start = (row * side + pixel_box.x0 as usize) * 4;
            pixels.extend_from_slice(&self.pixels[start..start + width * 4]);
        }
        AtlasRegion {
            x: pixel_box.x0,
            y: pixel_box.y0,
            width: width as u32,
            height: height as u32,
            pixels,
        }
    }
}
