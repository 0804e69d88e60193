//! Run: `cargo run --release -p showrunner-text --example render_sample -- sample.ppm`
//!
//! Lays out a few runs (Latin, bold, Arabic, Hebrew, emoji, ellipsis, alignment, scale 2)
//! and composites their glyph quads on the CPU into a binary PPM, to look at what the
//! renderer will get. Sampling is nearest-texel; a real renderer filters bilinearly.

use showrunner_core::{Color, Paint, TextAlign, TextRun};
use showrunner_text::{PlacedGlyph, TextEngine};

const WIDTH: usize = 900;
const HEIGHT: usize = 560;

fn text_run(text: &str, size: f32, x: f32, y: f32) -> TextRun {
    TextRun {
        text: text.to_owned(),
        family: "Inter".to_owned(),
        weight: 400,
        size,
        x,
        y,
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

/// Draws `glyph` (premultiplied texels, tinted white-on-dark for masks) over `canvas`.
fn draw(canvas: &mut [f32], engine: &TextEngine, glyph: &PlacedGlyph, scale: f32, tint: [f32; 3]) {
    let side = engine.atlas().side() as f32;
    let pixels = engine.atlas().pixels();
    let [x0, y0, x1, y1] = glyph.rect.map(|v| v * scale);
    let [u0, v0, u1, v1] = glyph.uv;
    for y in y0.floor().max(0.0) as usize..(y1.ceil() as usize).min(HEIGHT) {
        for x in x0.floor().max(0.0) as usize..(x1.ceil() as usize).min(WIDTH) {
            let fx = ((x as f32 + 0.5 - x0) / (x1 - x0)).clamp(0.0, 0.999);
            let fy = ((y as f32 + 0.5 - y0) / (y1 - y0)).clamp(0.0, 0.999);
            let tx = ((u0 + fx * (u1 - u0)) * side) as usize;
            let ty = ((v0 + fy * (v1 - v0)) * side) as usize;
            let texel = &pixels[(ty * side as usize + tx) * 4..][..4];
            let alpha = f32::from(texel[3]) / 255.0;
            for channel in 0..3 {
                let source = f32::from(texel[channel]) / 255.0
                    * if glyph.color { 1.0 } else { tint[channel] };
                let target = &mut canvas[(y * WIDTH + x) * 3 + channel];
                *target = source + *target * (1.0 - alpha);
            }
        }
    }
}

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sample.ppm".to_owned());
    let mut engine = TextEngine::new();
    let mut canvas = vec![0.08_f32; WIDTH * HEIGHT * 3];
    let white = [1.0, 1.0, 1.0];
    let mut runs = vec![
        (
            text_run("The quick brown fox → AV Wa To", 36.0, 20.0, 50.0),
            1.0,
            white,
        ),
        (
            TextRun {
                weight: 700,
                ..text_run("Bold headline 2024", 36.0, 20.0, 100.0)
            },
            1.0,
            [1.0, 0.8, 0.2],
        ),
        (
            text_run("مرحبا بالعالم — שלום עולם", 36.0, 20.0, 150.0),
            1.0,
            white,
        ),
        (
            text_run("Emoji 😀🎉🚀 inline", 36.0, 20.0, 200.0),
            1.0,
            white,
        ),
        (
            TextRun {
                max_width: Some(300.0),
                ..text_run(
                    "Breaking: a headline far too long to fit",
                    28.0,
                    20.0,
                    245.0,
                )
            },
            1.0,
            white,
        ),
        (
            TextRun {
                align: TextAlign::Center,
                ..text_run("centred on 450", 24.0, 450.0, 290.0)
            },
            1.0,
            white,
        ),
        (
            TextRun {
                align: TextAlign::End,
                ..text_run("ends at 880", 24.0, 880.0, 290.0)
            },
            1.0,
            white,
        ),
        (
            text_run("small 11 px text: Hamburgefonstiv", 11.0, 20.0, 320.0),
            1.0,
            white,
        ),
    ];
    // Scale 2: laid out in local px, drawn at twice the size (as under a 2× group transform).
    runs.push((
        text_run("scale 2 ×", 40.0, 10.0, 230.0),
        2.0,
        [0.5, 0.9, 1.0],
    ));
    for (run, scale, tint) in &runs {
        let layout = engine.layout(run, *scale);
        for glyph in &layout.glyphs {
            draw(&mut canvas, &engine, glyph, *scale, *tint);
        }
    }
    let mut ppm = format!("P6\n{WIDTH} {HEIGHT}\n255\n").into_bytes();
    ppm.extend(
        canvas
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
    );
    std::fs::write(&path, ppm)?;
    println!(
        "wrote {path}; atlas holds {} glyphs",
        engine.atlas().glyph_count()
    );
    Ok(())
}
