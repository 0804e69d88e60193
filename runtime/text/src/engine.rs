//! `TextEngine`: turns a draw-list `TextRun` into positioned glyph quads whose pixels live in
//! the engine's glyph atlas, with a bounded cache of finished layouts.
//!
//! Owns one font system, the swash rasterizer, the atlas and the layout cache, all used from
//! one render thread through `&mut self`. It must not know about the GPU or Wasm: the
//! renderer uploads `GlyphAtlas::take_dirty` regions and draws the returned quads.

use std::collections::HashSet;

use cosmic_text::{CacheKey, FontSystem, SwashCache, SwashContent};
use showrunner_core::{TextAlign, TextRun};

use crate::TextError;
use crate::atlas::{AtlasEntry, GlyphAtlas, GlyphImage, InsertRefused};
use crate::cache::{BoundedCache, hash_key};
use crate::fonts::{BundledFamily, bundled_font_system, resolve_family, snap_weight};
use crate::measure::MeasureCache;
use crate::shaping::{
    LINE_HEIGHT_EM, ShapeRequest, Shaper, finite_or_zero, single_line, usable_max_width,
    usable_size, within_limit,
};

/// Smallest raster size drawn, px; text smaller than this on screen yields no glyphs.
pub const MIN_RASTER_PX: f32 = 1.0;
/// Largest raster size, px; larger text is rasterized at this size and its quads scaled up.
pub const MAX_RASTER_PX: f32 = 512.0;
/// Layouts kept in the cache.
const LAYOUT_CACHE_ENTRIES: usize = 1024;
/// Glyphs kept in the layout cache, all layouts together.
const LAYOUT_CACHE_GLYPHS: usize = 256 * 1024;
/// Unknown family names remembered for the once-per-family report.
const MAX_REPORTED_FAMILIES: usize = 1024;

/// One glyph quad of a laid-out run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlacedGlyph {
    /// `x0, y0, x1, y1` in the run's local pixel space (before the group transform), already
    /// positioned: anchor, alignment and baseline applied.
    pub rect: [f32; 4],
    /// `u0, v0, u1, v1`, normalized atlas coordinates.
    pub uv: [f32; 4],
    /// True for colour glyphs (emoji): draw the atlas texels as they are, not tinted by paint.
    pub color: bool,
    /// Byte offset in `TextRun::text` of the first character this glyph draws (for the
    /// ellipsis glyph: where the cut text began).
    pub cluster: u32,
}

/// A laid-out run: the glyph quads and the run's size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextLayout {
    pub glyphs: Vec<PlacedGlyph>,
    /// Advance width of the shaped (and, if needed, ellipsised) line, px.
    pub width: f32,
    /// Line height, px (`size * 1.2`).
    pub height: f32,
    /// The run's family string, the first time this engine met it and had no such family
    /// (Inter was used instead). `None` on later runs with the same family.
    pub missing_family: Option<String>,
}

/// Everything that changes the shape or the raster of a run (not its position).
#[derive(Clone, Debug, Hash, PartialEq)]
struct LayoutKey<T> {
    text: T,
    family: BundledFamily,
    weight: u16,
    size_bits: u32,
    max_width_bits: Option<u32>,
    raster_scale_bits: u32,
}

/// A layout with its left edge at x = 0 and its baseline at y = 0.
struct CachedLayout {
    key: LayoutKey<String>,
    glyphs: Vec<PlacedGlyph>,
    width: f32,
    height: f32,
}

impl CachedLayout {
    fn matches(&self, key: &LayoutKey<&str>) -> bool {
        self.key.text == key.text
            && self.key.family == key.family
            && self.key.weight == key.weight
            && self.key.size_bits == key.size_bits
            && self.key.max_width_bits == key.max_width_bits
            && self.key.raster_scale_bits == key.raster_scale_bits
    }

    fn place(&self, run: &TextRun, missing_family: Option<String>) -> TextLayout {
        let anchor_x = finite_or_zero(run.x);
        let left = match run.align {
            TextAlign::Start => anchor_x,
            TextAlign::Center => anchor_x - self.width / 2.0,
            TextAlign::End => anchor_x - self.width,
        };
        let baseline = finite_or_zero(run.y);
        let glyphs = self
            .glyphs
            .iter()
            .map(|glyph| {
                let [x0, y0, x1, y1] = glyph.rect;
                PlacedGlyph {
                    rect: [x0 + left, y0 + baseline, x1 + left, y1 + baseline],
                    ..*glyph
                }
            })
            .collect();
        TextLayout {
            glyphs,
            width: self.width,
            height: self.height,
            missing_family,
        }
    }
}

/// A shaped glyph before rasterization: raster-space pen position and atlas key.
struct ShapedGlyph {
    key: CacheKey,
    x: i32,
    y: i32,
    cluster: u32,
}

/// Shapes and rasterizes text for one render thread. See the crate doc.
pub struct TextEngine {
    font_system: FontSystem,
    swash: SwashCache,
    shaper: Shaper,
    atlas: GlyphAtlas,
    layouts: BoundedCache<CachedLayout>,
    /// Atlas generation the cached layouts' UVs belong to.
    layouts_generation: u64,
    measures: MeasureCache,
    /// Hashes of the family names already reported (hashes: a name can be long).
    reported_families: HashSet<u64>,
}

impl Default for TextEngine {
    fn default() -> Self {
        TextEngine::new()
    }
}

impl TextEngine {
    /// An engine over the bundled fonts with a 2048 × 2048 atlas.
    pub fn new() -> TextEngine {
        TextEngine::with_atlas(GlyphAtlas::with_default_side())
    }

    /// An engine whose atlas is `side` × `side` px (see `GlyphAtlas::new` for the range).
    pub fn with_atlas_side(side: u32) -> Result<TextEngine, TextError> {
        Ok(TextEngine::with_atlas(GlyphAtlas::new(side)?))
    }

    fn with_atlas(atlas: GlyphAtlas) -> TextEngine {
        TextEngine {
            font_system: bundled_font_system(),
            swash: SwashCache::new(),
            shaper: Shaper::new(),
            layouts_generation: atlas.generation(),
            atlas,
            layouts: BoundedCache::new(LAYOUT_CACHE_ENTRIES, LAYOUT_CACHE_GLYPHS),
            measures: MeasureCache::new(),
            reported_families: HashSet::new(),
        }
    }

    pub fn atlas(&self) -> &GlyphAtlas {
        &self.atlas
    }

    /// Mutable access for `GlyphAtlas::take_dirty`.
    pub fn atlas_mut(&mut self) -> &mut GlyphAtlas {
        &mut self.atlas
    }

    /// Advance width and line height, px, of `text` in `family` at `size` px, regular weight,
    /// on one line. `(0, 0)` for a size that is zero, negative or not finite. Identical to
    /// `SharedMeasurer::measure`.
    pub fn measure(&mut self, text: &str, family: &str, size: f32) -> (f32, f32) {
        self.measures
            .measure(&mut self.shaper, &mut self.font_system, text, family, size)
    }

    /// Shapes `run` on one line, rasterizes its glyphs at `run.size * scale` px into the atlas
    /// and returns their quads in the run's local space. `scale` is the uniform scale of the
    /// transform the run is drawn under, so scaled text stays crisp.
    pub fn layout(&mut self, run: &TextRun, scale: f32) -> TextLayout {
        let resolved = resolve_family(&run.family);
        let missing_family = if resolved.missing {
            self.report_missing(&run.family)
        } else {
            None
        };
        let Some(size) = usable_size(run.size) else {
            return TextLayout {
                missing_family,
                ..TextLayout::default()
            };
        };
        let max_width = usable_max_width(run.max_width);
        let raster_scale = raster_scale(size, scale);
        let key = LayoutKey {
            text: within_limit(&run.text),
            family: resolved.family,
            weight: snap_weight(run.weight),
            size_bits: size.to_bits(),
            max_width_bits: max_width.map(f32::to_bits),
            raster_scale_bits: raster_scale.map_or(0, f32::to_bits),
        };
        let hash = hash_key(&key);
        self.drop_stale_layouts();
        if let Some(cached) = self.layouts.get(hash).filter(|cached| cached.matches(&key)) {
            return cached.place(run, missing_family);
        }
        let fresh = self.build_layout(&key, size, max_width, raster_scale);
        let placed = fresh.place(run, missing_family);
        self.drop_stale_layouts();
        let weight = fresh.glyphs.len() + 1;
        self.layouts.insert(hash, fresh, weight);
        placed
    }

    /// Cached layouts hold UVs of one atlas generation; a reset makes them all stale.
    fn drop_stale_layouts(&mut self) {
        if self.layouts_generation != self.atlas.generation() {
            self.layouts.clear();
            self.layouts_generation = self.atlas.generation();
        }
    }

    fn report_missing(&mut self, family: &str) -> Option<String> {
        let family_hash = hash_key(family);
        if self.reported_families.contains(&family_hash)
            || self.reported_families.len() >= MAX_REPORTED_FAMILIES
        {
            return None;
        }
        self.reported_families.insert(family_hash);
        tracing::warn!(family, "font family is not bundled; drawing with Inter");
        Some(family.to_owned())
    }

    fn build_layout(
        &mut self,
        key: &LayoutKey<&str>,
        size: f32,
        max_width: Option<f32>,
        raster_scale: Option<f32>,
    ) -> CachedLayout {
        let line_text = single_line(key.text);
        let request = ShapeRequest {
            text: &line_text.text,
            family: key.family,
            weight: key.weight,
            size,
            max_width,
        };
        let mut width = 0.0;
        let mut shaped = Vec::new();
        let shaped_line = self.shaper.shape(&mut self.font_system, &request);
        // Ellipsising keeps at least "…"; when even that is wider than the limit, draw nothing.
        let fits = |line: &&cosmic_text::LayoutLine| max_width.is_none_or(|limit| line.w <= limit);
        if let Some(line) = shaped_line.filter(fits) {
            width = finite_or_zero(line.w);
            if let Some(scale) = raster_scale {
                shaped = line
                    .glyphs
                    .iter()
                    .map(|glyph| {
                        let physical = glyph.physical((0.0, 0.0), scale);
                        ShapedGlyph {
                            key: physical.cache_key,
                            x: physical.x,
                            y: physical.y,
                            cluster: line_text.original_offset(glyph.start),
                        }
                    })
                    .collect();
            }
        }
        let glyphs = match raster_scale {
            Some(scale) => self.rasterize(&shaped, scale),
            None => Vec::new(),
        };
        CachedLayout {
            key: LayoutKey {
                text: key.text.to_owned(),
                family: key.family,
                weight: key.weight,
                size_bits: key.size_bits,
                max_width_bits: key.max_width_bits,
                raster_scale_bits: key.raster_scale_bits,
            },
            glyphs,
            width,
            height: size * LINE_HEIGHT_EM,
        }
    }

    /// Finds or rasterizes every glyph. When the atlas fills up, it is cleared once and this
    /// layout starts over; glyphs that still do not fit are left out.
    fn rasterize(&mut self, shaped: &[ShapedGlyph], raster_scale: f32) -> Vec<PlacedGlyph> {
        let mut placed = Vec::with_capacity(shaped.len());
        let mut reset_done = false;
        'attempt: loop {
            placed.clear();
            for glyph in shaped {
                let entry = match self.atlas.get(&glyph.key) {
                    Some(entry) => Some(entry),
                    None => match self.store_glyph(glyph.key) {
                        Ok(entry) => Some(entry),
                        Err(InsertRefused::Full) if !reset_done => {
                            self.atlas.reset();
                            reset_done = true;
                            continue 'attempt;
                        }
                        Err(_) => None,
                    },
                };
                let Some(AtlasEntry::Stored(stored)) = entry else {
                    continue;
                };
                let x0 = (glyph.x + stored.left) as f32;
                let y0 = (glyph.y - stored.top) as f32;
                placed.push(PlacedGlyph {
                    rect: [
                        x0 / raster_scale,
                        y0 / raster_scale,
                        (x0 + stored.width as f32) / raster_scale,
                        (y0 + stored.height as f32) / raster_scale,
                    ],
                    uv: self.atlas.uv(&stored),
                    color: stored.color,
                    cluster: glyph.cluster,
                });
            }
            return placed;
        }
    }

    fn store_glyph(&mut self, key: CacheKey) -> Result<AtlasEntry, InsertRefused> {
        let Some(image) = self.swash.get_image_uncached(&mut self.font_system, key) else {
            self.atlas.insert_blank(key)?;
            return Ok(AtlasEntry::Blank);
        };
        let color = match image.content {
            SwashContent::Mask => false,
            SwashContent::Color => true,
            SwashContent::SubpixelMask => {
                tracing::debug!(
                    glyph = key.glyph_id,
                    "subpixel glyph image not expected; skipped"
                );
                self.atlas.insert_blank(key)?;
                return Ok(AtlasEntry::Blank);
            }
        };
        if image.placement.width == 0 || image.placement.height == 0 {
            self.atlas.insert_blank(key)?;
            return Ok(AtlasEntry::Blank);
        }
        let glyph_image = GlyphImage {
            width: image.placement.width,
            height: image.placement.height,
            left: image.placement.left,
            top: image.placement.top,
            data: &image.data,
            color,
        };
        self.atlas.insert(key, &glyph_image).map(AtlasEntry::Stored)
    }
}

/// Raster px per layout px, or `None` when the text would be under [`MIN_RASTER_PX`] on
/// screen (or `scale` is unusable). Capped so no glyph is rasterized above [`MAX_RASTER_PX`].
fn raster_scale(size: f32, scale: f32) -> Option<f32> {
    if !scale.is_finite() || scale <= 0.0 {
        return None;
    }
    let raster_px = size * scale;
    if !raster_px.is_finite() || raster_px < MIN_RASTER_PX {
        return None;
    }
    Some(raster_px.min(MAX_RASTER_PX) / size)
}
