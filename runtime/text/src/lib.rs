//! Text for showrunner: bundled OFL fonts, shaping, a glyph atlas and `measure-text`.
//! Knows no GPU and no Wasm.
//!
//! # Fonts: bundled only
//! Every font comes from `assets/fonts/` and is compiled in with `include_bytes!`: Inter
//! (regular and bold; the SDKs' default family), Noto Sans Arabic and Noto Sans Hebrew
//! (fallback for right-to-left scripts) and Noto Color Emoji. System fonts are never
//! loaded, so the same draw list gives the same pixels on every machine, CI included.
//! Family names resolve as follows: `""`, `sans-serif`, `sans`, `system-ui`,
//! `ui-sans-serif`, `Inter` and `monospace` (no mono font is bundled) → Inter; the bundled
//! Noto family names (and `emoji`) → themselves; a CSS-like list (`"Foo, sans-serif"`) uses
//! its first bundled name. Anything else draws with Inter and is reported once per engine
//! in [`TextLayout::missing_family`] and with `tracing::warn!`. Weights snap to the bundled
//! faces: below 550 → regular (400), from 550 → bold (700).
//!
//! # Shaping and layout
//! [`TextEngine::layout`] shapes one line with cosmic-text (kerning, ligatures, fallback to
//! the bundled fonts, bidi), ellipsises it with "…" past `max_width`, aligns it on `x`
//! (start = left edge at `x`, centre, end = right edge at `x`) with `y` as the baseline,
//! and rasterizes each glyph with swash at `size * scale` px (clamped to
//! [`MAX_RASTER_PX`]; under [`MIN_RASTER_PX`] nothing is drawn). Quads come back in the
//! run's local space, so a renderer draws them under the run's group transform. Line breaks
//! and tabs become spaces, other control characters are dropped, characters no bundled font
//! has draw as a "□" box, and text past 4096 bytes is ignored. Line height is `1.2 * size`. Finished layouts are cached per text, family,
//! weight, size, max width and raster scale (not position), bounded in entries and glyphs.
//!
//! # The atlas
//! [`GlyphAtlas`] is one square RGBA8 image (2048 px by default). Mask glyphs are stored as
//! premultiplied white `(c, c, c, c)`, `c` the coverage, for the renderer to multiply by the
//! run's paint; colour glyphs (emoji) as premultiplied RGBA, drawn as they are
//! ([`PlacedGlyph::color`]). Each glyph has a 1-px transparent border. Glyphs are keyed by
//! font, glyph id, raster size and subpixel-x bin. When it is full the atlas is cleared, its
//! [`GlyphAtlas::generation`] bumps, cached layouts are dropped and the current layout is
//! rasterized again; the renderer uploads what [`GlyphAtlas::take_dirty`] returns.
//!
//! # Threads
//! [`TextEngine`] is used through `&mut self`: one per render thread. [`SharedMeasurer`] is
//! `Send + Sync` (a mutex around its own font system) for the Wasm host's `measure-text`
//! on worker threads; it returns exactly what [`TextEngine::measure`] returns. Font bytes
//! are `'static` and shared by all of them.

mod atlas;
mod cache;
mod engine;
mod fonts;
mod measure;
mod shaping;

pub use atlas::{
    AtlasRegion, DEFAULT_ATLAS_SIDE, GlyphAtlas, MAX_ATLAS_GLYPHS, MAX_ATLAS_SIDE, MIN_ATLAS_SIDE,
};
pub use engine::{MAX_RASTER_PX, MIN_RASTER_PX, PlacedGlyph, TextEngine, TextLayout};
pub use fonts::bundled_font_bytes;
pub use measure::SharedMeasurer;
pub use shaping::{LINE_HEIGHT_EM, MAX_FONT_SIZE_PX, MAX_TEXT_BYTES};

/// What can go wrong setting up text.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("glyph atlas side {side} px is out of range: choose {min}..={max} px (default 2048)")]
    AtlasSide { side: u32, min: u32, max: u32 },
}
