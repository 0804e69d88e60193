//! Helpers shared by the integration tests: building runs and reading glyph pixels back
//! out of the atlas.
#![allow(dead_code)]

use showrunner_core::{Color, Paint, TextAlign, TextRun};
use showrunner_text::{GlyphAtlas, PlacedGlyph};

pub fn run(text: &str, size: f32) -> TextRun {
    TextRun {
        text: text.to_owned(),
        family: "Inter".to_owned(),
        weight: 400,
        size,
        x: 0.0,
        y: 0.0,
        align: TextAlign::Start,
        paint: Paint::Solid(Color {
            r: 1.0,
            g: 1.0,
            b: 1.0,
            a: 1.0,
        }),
        max_width: None,
    }
}

/// The glyph's texels (RGBA8 rows) as stored in the atlas, and its size in atlas px.
pub fn glyph_texels(atlas: &GlyphAtlas, glyph: &PlacedGlyph) -> (u32, u32, Vec<[u8; 4]>) {
    let side = atlas.side() as f32;
    let x0 = (glyph.uv[0] * side).round() as u32;
    let y0 = (glyph.uv[1] * side).round() as u32;
    let x1 = (glyph.uv[2] * side).round() as u32;
    let y1 = (glyph.uv[3] * side).round() as u32;
    let pixels = atlas.pixels();
    let mut texels = Vec::new();
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * atlas.side() + x) * 4) as usize;
            texels.push([pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]]);
        }
    }
    (x1 - x0, y1 - y0, texels)
}

/// Sum of alpha over the glyph's texels.
pub fn coverage(atlas: &GlyphAtlas, glyph: &PlacedGlyph) -> u64 {
    glyph_texels(atlas, glyph)
        .2
        .iter()
        .map(|t| u64::from(t[3]))
        .sum()
}

pub fn min_x(glyphs: &[PlacedGlyph]) -> f32 {
    glyphs
        .iter()
        .map(|g| g.rect[0])
        .fold(f32::INFINITY, f32::min)
}

pub fn max_x(glyphs: &[PlacedGlyph]) -> f32 {
    glyphs
        .iter()
        .map(|g| g.rect[2])
        .fold(f32::NEG_INFINITY, f32::max)
}
