//! Inputs a guest could send on purpose or by mistake: none may panic, and what comes back
//! stays finite and inside the atlas.

mod common;

use common::run;
use showrunner_core::TextRun;
use showrunner_text::{MAX_RASTER_PX, TextEngine, TextLayout};

fn assert_sane(layout: &TextLayout, what: &str) {
    assert!(
        layout.width.is_finite() && layout.width >= 0.0,
        "{what}: width {}",
        layout.width
    );
    assert!(
        layout.height.is_finite() && layout.height >= 0.0,
        "{what}: height {}",
        layout.height
    );
    for glyph in &layout.glyphs {
        assert!(
            glyph.rect.iter().all(|v| v.is_finite()),
            "{what}: rect {:?}",
            glyph.rect
        );
        assert!(
            glyph.uv.iter().all(|v| (0.0..=1.0).contains(v)),
            "{what}: uv {:?}",
            glyph.uv
        );
        assert!(glyph.rect[0] <= glyph.rect[2] && glyph.rect[1] <= glyph.rect[3]);
    }
}

#[test]
fn odd_sizes_and_scales_do_not_panic() {
    let mut engine = TextEngine::new();
    for size in [
        0.0,
        -0.0,
        -12.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e-6,
        0.5,
        1e6,
        f32::MAX,
    ] {
        for scale in [1.0, 0.0, -1.0, f32::NAN, f32::INFINITY, 1e-6, 1e6] {
            let layout = engine.layout(&run("Size", size), scale);
            assert_sane(&layout, &format!("size {size} scale {scale}"));
        }
        let (width, height) = engine.measure("Size", "Inter", size);
        assert!(width.is_finite() && height.is_finite());
    }
    for size in [0.0, -3.0, f32::NAN] {
        assert_eq!(
            engine.layout(&run("Size", size), 1.0),
            TextLayout::default()
        );
    }
}

#[test]
fn huge_text_is_rasterized_at_the_cap_and_scaled_up() {
    let mut engine = TextEngine::new();
    let layout = engine.layout(&run("H", 2000.0), 1.0);
    assert_eq!(layout.glyphs.len(), 1);
    let glyph = layout.glyphs[0];
    let height_local = glyph.rect[3] - glyph.rect[1];
    let height_atlas = (glyph.uv[3] - glyph.uv[1]) * engine.atlas().side() as f32;
    assert!(
        (height_local - 0.73 * 2000.0).abs() < 100.0,
        "cap height {height_local}"
    );
    assert!(
        height_atlas <= MAX_RASTER_PX,
        "rasterized {height_atlas} px tall"
    );
    assert!(
        engine.layout(&run("H", 0.5), 1.0).glyphs.is_empty(),
        "under 1 px on screen: nothing drawn"
    );
    assert_eq!(
        engine.layout(&run("H", 0.5), 40.0).glyphs.len(),
        1,
        "scaled up past 1 px: drawn"
    );
}

#[test]
fn odd_text_does_not_panic() {
    let mut engine = TextEngine::new();
    let combining = format!("a{}", "\u{0301}".repeat(2047));
    let texts: Vec<String> = vec![
        String::new(),
        " ".to_owned(),
        "\u{0}".to_owned(),
        "\u{1}\u{7}\u{1b}\u{7f}\u{9b}".to_owned(),
        "\n".to_owned(),
        "a\r\nb\tc\u{2028}d".to_owned(),
        "\u{0301}".to_owned(),
        combining.clone(),
        "\u{0301}".repeat(2048),
        "\u{200f}\u{202e}abc\u{202c}\u{2066}שלום\u{2069}".to_owned(),
        "مرحبا 123 hello שלום 😀 ".repeat(60),
        "\u{fffd}\u{ffff}\u{10ffff}\u{e000}".to_owned(),
        "😀".repeat(1024),
        "\u{1}".repeat(4096),
        "é".repeat(5000),
        "ﷺ".repeat(100),
    ];
    for text in &texts {
        for max_width in [
            None,
            Some(0.0),
            Some(-5.0),
            Some(f32::NAN),
            Some(f32::INFINITY),
            Some(50.0),
        ] {
            let text_run = TextRun {
                max_width,
                ..run(text, 24.0)
            };
            let layout = engine.layout(&text_run, 1.0);
            assert_sane(
                &layout,
                &format!(
                    "{:?}… max {max_width:?}",
                    text.chars().take(8).collect::<String>()
                ),
            );
            if let Some(limit) = max_width.filter(|w| w.is_finite()) {
                assert!(
                    layout.width <= limit.max(0.0) + 0.01,
                    "width {} over {limit}",
                    layout.width
                );
            }
            for glyph in &layout.glyphs {
                assert!((glyph.cluster as usize) <= text.len());
            }
        }
        let (width, _) = engine.measure(text, "Inter", 24.0);
        assert!(width.is_finite());
    }
    let lone_controls = engine.layout(&run("\u{1}\u{2}\u{3}", 24.0), 1.0);
    assert!(
        lone_controls.glyphs.is_empty() && lone_controls.width == 0.0,
        "control chars draw nothing"
    );
}

#[test]
fn odd_weights_and_families_do_not_panic_and_reports_stay_bounded() {
    let mut engine = TextEngine::new();
    for weight in [0, 1, 399, 549, 550, 1000, u16::MAX] {
        let layout = engine.layout(
            &TextRun {
                weight,
                ..run("Weight", 20.0)
            },
            1.0,
        );
        assert_sane(&layout, &format!("weight {weight}"));
        assert_eq!(layout.glyphs.len(), 6);
    }
    let long_family = "F".repeat(10_000);
    let layout = engine.layout(
        &TextRun {
            family: long_family.clone(),
            ..run("x", 20.0)
        },
        1.0,
    );
    assert_eq!(layout.missing_family.as_deref(), Some(long_family.as_str()));
    let mut reported = 0;
    for index in 0..5000 {
        let family = format!("Font {index}");
        if engine
            .layout(
                &TextRun {
                    family,
                    ..run("x", 20.0)
                },
                1.0,
            )
            .missing_family
            .is_some()
        {
            reported += 1;
        }
    }
    assert!((1000..5000).contains(&reported), "{reported} reported");
    for family in [",", " , ", "\"\"", "'Inter'", "\u{0}"] {
        let layout = engine.layout(
            &TextRun {
                family: family.to_owned(),
                ..run("x", 20.0)
            },
            1.0,
        );
        assert_sane(&layout, family);
    }
}
