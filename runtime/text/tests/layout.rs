//! `layout`: ligatures, right-to-left fallback, alignment, baseline, ellipsis, weight, scale,
//! emoji, family reports and the layout cache.

mod common;

use common::{coverage, glyph_texels, max_x, min_x, run};
use showrunner_core::TextAlign;
use showrunner_text::TextEngine;

#[test]
fn ligatures_draw_fewer_glyphs_than_characters() {
    // Inter has no "fi"/"ffi" ligatures (its f does not collide with i); it ligates arrows.
    let mut engine = TextEngine::new();
    for text in ["->", "-->", "=>", "<->"] {
        let layout = engine.layout(&run(text, 40.0), 1.0);
        assert_eq!(
            layout.glyphs.len(),
            1,
            "{text}: {} glyphs",
            layout.glyphs.len()
        );
        assert!(coverage(engine.atlas(), &layout.glyphs[0]) > 0);
    }
    // Spaced apart, the same characters are separate glyphs.
    assert_eq!(engine.layout(&run("- >", 40.0), 1.0).glyphs.len(), 2);
    assert_eq!(engine.layout(&run("fi", 40.0), 1.0).glyphs.len(), 2);
}

/// The glyph drawn for a character no bundled font has (a "□" box), after checking that
/// such characters draw exactly that box.
fn missing_glyph_texels(engine: &mut TextEngine) -> Vec<[u8; 4]> {
    let box_layout = engine.layout(&run("\u{25A1}", 40.0), 1.0);
    let han = engine.layout(&run("漢", 40.0), 1.0);
    assert_eq!(han.glyphs.len(), 1);
    assert_eq!(
        han.glyphs, box_layout.glyphs,
        "an uncovered character draws the box"
    );
    glyph_texels(engine.atlas(), &han.glyphs[0]).2
}

#[test]
fn arabic_is_laid_out_right_to_left_in_the_fallback_font() {
    let mut engine = TextEngine::new();
    let missing = missing_glyph_texels(&mut engine);
    let text = "مرحبا بالعالم";
    let layout = engine.layout(&run(text, 40.0), 1.0);
    assert!(layout.glyphs.len() >= 8, "{} glyphs", layout.glyphs.len());
    assert!(layout.missing_family.is_none());
    let first = layout
        .glyphs
        .iter()
        .find(|g| g.cluster == 0)
        .expect("a glyph for the first character");
    let rightmost = layout
        .glyphs
        .iter()
        .map(|g| g.rect[2])
        .fold(f32::MIN, f32::max);
    assert!(
        (first.rect[2] - rightmost).abs() < 1.0,
        "first char ends at {} of {rightmost}",
        first.rect[2]
    );
    let last_cluster = layout.glyphs.iter().map(|g| g.cluster).max().unwrap_or(0);
    let last = layout
        .glyphs
        .iter()
        .find(|g| g.cluster == last_cluster)
        .expect("last glyph");
    assert!(
        last.rect[0] < first.rect[0],
        "last logical char is left of the first"
    );
    let mut distinct = Vec::new();
    for glyph in &layout.glyphs {
        let texels = glyph_texels(engine.atlas(), glyph).2;
        assert!(
            coverage(engine.atlas(), glyph) > 0,
            "empty glyph at cluster {}",
            glyph.cluster
        );
        assert_ne!(
            texels, missing,
            "cluster {} drew the missing-glyph box",
            glyph.cluster
        );
        if !distinct.contains(&texels) {
            distinct.push(texels);
        }
    }
    assert!(
        distinct.len() >= 6,
        "only {} distinct glyph images",
        distinct.len()
    );
}

#[test]
fn hebrew_is_laid_out_right_to_left_in_the_fallback_font() {
    let mut engine = TextEngine::new();
    let missing = missing_glyph_texels(&mut engine);
    let layout = engine.layout(&run("שלום", 40.0), 1.0);
    assert_eq!(layout.glyphs.len(), 4);
    let mut by_cluster = layout.glyphs.clone();
    by_cluster.sort_by_key(|g| g.cluster);
    for pair in by_cluster.windows(2) {
        assert!(
            pair[1].rect[0] < pair[0].rect[0],
            "logical order runs right to left"
        );
    }
    for glyph in &layout.glyphs {
        assert_ne!(glyph_texels(engine.atlas(), glyph).2, missing);
    }
}

#[test]
fn alignment_puts_the_left_edge_at_x_minus_0_half_or_whole_width() {
    let mut engine = TextEngine::new();
    let mut text_run = run("Alignment", 30.0);
    text_run.x = 400.0;
    text_run.y = 100.0;
    let start = engine.layout(&text_run, 1.0);
    assert!(start.width > 100.0);
    let left_bearing = min_x(&start.glyphs) - 400.0;
    assert!(
        (-1.0..3.0).contains(&left_bearing),
        "left bearing {left_bearing}"
    );
    assert!((max_x(&start.glyphs) - (400.0 + start.width)).abs() < 3.0);
    for (align, shift) in [
        (TextAlign::Center, start.width / 2.0),
        (TextAlign::End, start.width),
    ] {
        text_run.align = align;
        let aligned = engine.layout(&text_run, 1.0);
        assert_eq!(aligned.glyphs.len(), start.glyphs.len());
        for (a, s) in aligned.glyphs.iter().zip(&start.glyphs) {
            assert!((a.rect[0] - (s.rect[0] - shift)).abs() < 1e-3, "{align:?}");
            assert!((a.rect[1] - s.rect[1]).abs() < 1e-3);
            assert_eq!(a.uv, s.uv);
        }
    }
}

#[test]
fn y_is_the_baseline() {
    let mut engine = TextEngine::new();
    for (size, y) in [(20.0, 50.0), (48.0, 200.0), (100.0, 333.5)] {
        let mut text_run = run("H", size);
        text_run.y = y;
        let layout = engine.layout(&text_run, 1.0);
        assert_eq!(layout.glyphs.len(), 1);
        let [_, top, _, bottom] = layout.glyphs[0].rect;
        assert!(
            (bottom - y).abs() <= 1.0,
            "size {size}: bottom {bottom} vs baseline {y}"
        );
        // Inter's cap height is about 0.73 em.
        let cap = bottom - top;
        assert!(
            (cap - 0.73 * size).abs() <= 0.05 * size + 1.0,
            "cap height {cap} at {size}"
        );
        assert!((layout.height - 1.2 * size).abs() < 1e-3);
    }
}

#[test]
fn max_width_ellipsises() {
    let mut engine = TextEngine::new();
    let text = "Breaking news: a very long headline that does not fit";
    let full = engine.layout(&run(text, 24.0), 1.0);
    for limit in [300.0_f32, 120.0, 40.0] {
        let mut text_run = run(text, 24.0);
        text_run.max_width = Some(limit);
        let cut = engine.layout(&text_run, 1.0);
        assert!(cut.width <= limit, "width {} over {limit}", cut.width);
        assert!(max_x(&cut.glyphs) <= limit + 1.0);
        assert!(cut.glyphs.len() < full.glyphs.len());
        assert!(!cut.glyphs.is_empty());
    }
    let mut roomy = run(text, 24.0);
    roomy.max_width = Some(full.width + 10.0);
    assert_eq!(
        engine.layout(&roomy, 1.0).glyphs.len(),
        full.glyphs.len(),
        "fits: not cut"
    );
}

#[test]
fn bold_is_wider_and_darker_than_regular() {
    let mut engine = TextEngine::new();
    let regular = engine.layout(&run("Headline", 40.0), 1.0);
    let regular_ink: u64 = regular
        .glyphs
        .iter()
        .map(|g| coverage(engine.atlas(), g))
        .sum();
    for weight in [600, 700, 900] {
        let mut text_run = run("Headline", 40.0);
        text_run.weight = weight;
        let bold = engine.layout(&text_run, 1.0);
        let bold_ink: u64 = bold
            .glyphs
            .iter()
            .map(|g| coverage(engine.atlas(), g))
            .sum();
        assert!(
            bold.width > regular.width * 1.03,
            "weight {weight}: {} vs {}",
            bold.width,
            regular.width
        );
        assert!(
            bold_ink as f64 > regular_ink as f64 * 1.2,
            "weight {weight}: ink {bold_ink} vs {regular_ink}"
        );
    }
    let mut medium = run("Headline", 40.0);
    medium.weight = 500;
    assert_eq!(
        engine.layout(&medium, 1.0).width,
        regular.width,
        "500 snaps to regular"
    );
}

#[test]
fn scale_two_doubles_atlas_pixels_but_not_local_rects() {
    let mut engine = TextEngine::new();
    let one = engine.layout(&run("Hg", 32.0), 1.0);
    let two = engine.layout(&run("Hg", 32.0), 2.0);
    assert_eq!(one.width, two.width);
    assert_eq!(one.glyphs.len(), two.glyphs.len());
    for (a, b) in one.glyphs.iter().zip(&two.glyphs) {
        let (wa, ha, _) = glyph_texels(engine.atlas(), a);
        let (wb, hb, _) = glyph_texels(engine.atlas(), b);
        assert!((wb as i32 - 2 * wa as i32).abs() <= 2, "width {wa} → {wb}");
        assert!((hb as i32 - 2 * ha as i32).abs() <= 2, "height {ha} → {hb}");
        for i in 0..4 {
            assert!(
                (a.rect[i] - b.rect[i]).abs() <= 1.0,
                "rect {:?} vs {:?}",
                a.rect,
                b.rect
            );
        }
    }
}

#[test]
fn emoji_is_a_colour_glyph_with_ink() {
    let mut engine = TextEngine::new();
    let layout = engine.layout(&run("Go 😀", 48.0), 1.0);
    let emoji: Vec<_> = layout.glyphs.iter().filter(|g| g.color).collect();
    assert_eq!(emoji.len(), 1, "one colour glyph");
    assert_eq!(emoji[0].cluster, 3);
    let (width, height, texels) = glyph_texels(engine.atlas(), emoji[0]);
    assert!(width >= 40 && height >= 40, "{width}x{height}");
    assert!(texels.iter().any(|t| t[3] > 200), "opaque texels");
    assert!(texels.iter().any(|t| t[0] != t[2]), "coloured texels");
    assert!(
        texels
            .iter()
            .all(|t| t[0] <= t[3] && t[1] <= t[3] && t[2] <= t[3]),
        "premultiplied"
    );
    for glyph in layout.glyphs.iter().filter(|g| !g.color) {
        let (_, _, texels) = glyph_texels(engine.atlas(), glyph);
        assert!(
            texels
                .iter()
                .all(|t| t[0] == t[3] && t[1] == t[3] && t[2] == t[3]),
            "mask is white"
        );
    }
}

#[test]
fn an_unknown_family_is_reported_once_and_drawn_with_inter() {
    let mut engine = TextEngine::new();
    let inter = engine.layout(&run("Hello", 20.0), 1.0);
    let mut text_run = run("Hello", 20.0);
    text_run.family = "Comic Sans".to_owned();
    let first = engine.layout(&text_run, 1.0);
    assert_eq!(first.missing_family.as_deref(), Some("Comic Sans"));
    assert_eq!(first.glyphs, inter.glyphs);
    text_run.text = "Other text".to_owned();
    assert_eq!(engine.layout(&text_run, 1.0).missing_family, None);
    for family in [
        "Inter",
        "sans-serif",
        "",
        "system-ui",
        "Comic Sans, sans-serif",
    ] {
        text_run.family = family.to_owned();
        assert_eq!(
            engine.layout(&text_run, 1.0).missing_family,
            None,
            "{family:?}"
        );
    }
    assert_eq!(
        TextEngine::new()
            .layout(&run_in("x", "Comic Sans"), 1.0)
            .missing_family
            .as_deref(),
        Some("Comic Sans")
    );
}

fn run_in(text: &str, family: &str) -> showrunner_core::TextRun {
    let mut text_run = run(text, 20.0);
    text_run.family = family.to_owned();
    text_run
}

#[test]
fn a_cached_layout_is_the_same_layout_moved() {
    let mut engine = TextEngine::new();
    let mut text_run = run("Lower third: Jane Doe", 28.0);
    let first = engine.layout(&text_run, 1.5);
    text_run.x = 25.0;
    text_run.y = 40.0;
    let moved = engine.layout(&text_run, 1.5);
    assert_eq!(first.glyphs.len(), moved.glyphs.len());
    for (a, b) in first.glyphs.iter().zip(&moved.glyphs) {
        assert!((b.rect[0] - a.rect[0] - 25.0).abs() < 1e-3);
        assert!((b.rect[3] - a.rect[3] - 40.0).abs() < 1e-3);
        assert_eq!(a.uv, b.uv);
    }
    let generation = engine.atlas().generation();
    let again = engine.layout(&text_run, 1.5);
    assert_eq!(again, moved);
    assert_eq!(engine.atlas().generation(), generation);
}
