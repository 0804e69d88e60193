//! The glyph atlas: dirty regions, resets when full, glyphs too big for it, side limits.

mod common;

use common::{coverage, run};
use showrunner_text::{GlyphAtlas, TextEngine, TextError};

fn assert_glyphs_valid(engine: &TextEngine, layout: &showrunner_text::TextLayout) {
    for glyph in &layout.glyphs {
        assert!(
            glyph.uv.iter().all(|v| (0.0..=1.0).contains(v)),
            "uv {:?}",
            glyph.uv
        );
        assert!(glyph.rect.iter().all(|v| v.is_finite()));
        assert!(
            coverage(engine.atlas(), glyph) > 0,
            "glyph pixels were cleared"
        );
    }
}

#[test]
fn dirty_regions_carry_the_new_pixels_once() {
    let mut engine = TextEngine::new();
    assert!(engine.atlas_mut().take_dirty().is_empty());
    let layout = engine.layout(&run("Dirty", 30.0), 1.0);
    let regions = engine.atlas_mut().take_dirty();
    assert_eq!(regions.len(), layout.glyphs.len());
    let side = engine.atlas().side();
    for region in &regions {
        assert_eq!(
            region.pixels.len(),
            (region.width * region.height * 4) as usize
        );
        assert!(region.x + region.width <= side && region.y + region.height <= side);
        for row in 0..region.height {
            let start = (((region.y + row) * side + region.x) * 4) as usize;
            let atlas_row = &engine.atlas().pixels()[start..start + (region.width * 4) as usize];
            let region_row = &region.pixels
                [(row * region.width * 4) as usize..((row + 1) * region.width * 4) as usize];
            assert_eq!(atlas_row, region_row);
        }
        // The 1-px padding ring is transparent.
        assert!(
            region.pixels[..(region.width * 4) as usize]
                .iter()
                .all(|&b| b == 0)
        );
    }
    assert!(engine.atlas_mut().take_dirty().is_empty(), "taken once");
    engine.layout(&run("Dirty", 30.0), 1.0);
    assert!(
        engine.atlas_mut().take_dirty().is_empty(),
        "cached glyphs add nothing"
    );
}

#[test]
fn thousands_of_sizes_fill_the_atlas_which_resets_and_keeps_working() {
    let mut engine = TextEngine::with_atlas_side(256).expect("256 is a valid side");
    let mut resets = 0;
    let mut generation = engine.atlas().generation();
    for step in 0..3000u32 {
        let size = 10.0 + step as f32 * 0.01;
        let layout = engine.layout(&run("Fill up", size), 1.0);
        assert_eq!(layout.glyphs.len(), 6);
        assert_glyphs_valid(&engine, &layout);
        let now = engine.atlas().generation();
        assert!(now <= generation + 1, "at most one reset per layout");
        if now != generation {
            resets += 1;
            let regions = engine.atlas_mut().take_dirty();
            assert_eq!(regions.len(), 1, "one region after a reset");
            generation = now;
        }
        assert!(engine.atlas().glyph_count() <= showrunner_text::MAX_ATLAS_GLYPHS);
    }
    assert!(resets >= 10, "only {resets} resets");
}

#[test]
fn a_layout_bigger_than_the_atlas_drops_what_does_not_fit() {
    let mut engine = TextEngine::with_atlas_side(64).expect("64 is a valid side");
    let too_big = engine.layout(&run("W", 200.0), 1.0);
    assert!(too_big.glyphs.is_empty());
    assert!(too_big.width > 100.0);
    assert_eq!(
        engine.atlas().generation(),
        0,
        "a glyph bigger than the atlas does not reset it"
    );

    let many = engine.layout(&run("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 20.0), 1.0);
    assert!(
        !many.glyphs.is_empty() && many.glyphs.len() < 26,
        "{} glyphs kept",
        many.glyphs.len()
    );
    assert_eq!(
        engine.atlas().generation(),
        1,
        "one reset, then glyphs that do not fit are dropped"
    );
    assert_glyphs_valid(&engine, &many);
}

#[test]
fn atlas_side_must_be_in_range() {
    for side in [0, 1, 63, 8193, u32::MAX] {
        assert!(
            matches!(GlyphAtlas::new(side), Err(TextError::AtlasSide { .. })),
            "side {side}"
        );
        assert!(TextEngine::with_atlas_side(side).is_err());
    }
    let atlas = GlyphAtlas::new(128).expect("128 is valid");
    assert_eq!(atlas.side(), 128);
    assert_eq!(atlas.pixels().len(), 128 * 128 * 4);
    assert_eq!(TextEngine::new().atlas().side(), 2048);
}

#[test]
fn stale_cached_layouts_are_rebuilt_after_a_reset() {
    let mut engine = TextEngine::with_atlas_side(128).expect("valid side");
    let before = engine.layout(&run("Keep", 20.0), 1.0);
    // Fill the atlas with other glyphs until it resets.
    let mut step = 0;
    while engine.atlas().generation() == 0 {
        engine.layout(&run("XYZ", 20.0 + step as f32 * 0.5), 1.0);
        step += 1;
        assert!(step < 10_000);
    }
    let after = engine.layout(&run("Keep", 20.0), 1.0);
    assert_eq!(before.glyphs.len(), after.glyphs.len());
    assert_glyphs_valid(&engine, &after);
}
