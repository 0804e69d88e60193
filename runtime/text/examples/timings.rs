//! Run: `cargo run --release -p showrunner-text --example timings`
//!
//! Prints how long layout and measure take for a 40-character run: cold (fresh engine, glyphs
//! rasterized), shaped again (glyphs already in the atlas), cached, and measure uncached and
//! cached. Medians over repeated runs; numbers depend on the machine.

use std::time::{Duration, Instant};

use showrunner_core::{Color, Paint, TextAlign, TextRun};
use showrunner_text::{SharedMeasurer, TextEngine};

const TEXT: &str = "Jane Doe, Head of Graphics, Showrunner 1"; // 40 characters

fn text_run(text: String) -> TextRun {
    TextRun {
        text,
        family: "Inter".to_owned(),
        weight: 400,
        size: 32.0,
        x: 100.0,
        y: 900.0,
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

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

/// A different 40-character string for each `index`, drawn from the same glyphs.
fn variant(index: usize) -> String {
    let mut chars: Vec<char> = TEXT.chars().collect();
    let len = chars.len();
    chars.rotate_left(index % len);
    chars.swap(index % len, (index / len + 1) % len);
    let mut text: String = chars.into_iter().collect();
    text.push_str(&index.to_string());
    text.truncate(40);
    text
}

fn main() {
    assert_eq!(TEXT.chars().count(), 40);
    let mut construct = Vec::new();
    let mut cold = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        let mut engine = TextEngine::new();
        construct.push(start.elapsed());
        let run = text_run(TEXT.to_owned());
        let start = Instant::now();
        std::hint::black_box(engine.layout(&run, 1.0));
        cold.push(start.elapsed());
    }

    let mut engine = TextEngine::new();
    engine.layout(&text_run(TEXT.to_owned()), 1.0);
    let runs: Vec<TextRun> = (0..2000).map(|i| text_run(variant(i))).collect();
    let shaped: Vec<Duration> = runs
        .iter()
        .map(|run| {
            let start = Instant::now();
            std::hint::black_box(engine.layout(run, 1.0));
            start.elapsed()
        })
        .collect();
    let run = text_run(TEXT.to_owned());
    let cached: Vec<Duration> = (0..20_000)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(engine.layout(&run, 1.0));
            start.elapsed()
        })
        .collect();

    let texts: Vec<String> = (0..2000).map(|i| variant(i + 5000)).collect();
    let measure_uncached: Vec<Duration> = texts
        .iter()
        .map(|text| {
            let start = Instant::now();
            std::hint::black_box(engine.measure(text, "Inter", 32.0));
            start.elapsed()
        })
        .collect();
    let measure_cached: Vec<Duration> = (0..20_000)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(engine.measure(TEXT, "Inter", 32.0));
            start.elapsed()
        })
        .collect();
    let shared = SharedMeasurer::new();
    let shared_uncached: Vec<Duration> = texts
        .iter()
        .map(|text| {
            let start = Instant::now();
            std::hint::black_box(shared.measure(&format!("{text}!"), "Inter", 32.0));
            start.elapsed()
        })
        .collect();
    let shared_cached: Vec<Duration> = (0..20_000)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(shared.measure(TEXT, "Inter", 32.0));
            start.elapsed()
        })
        .collect();

    println!(
        "TextEngine::new                          {:>9.1} µs",
        median(construct)
    );
    println!(
        "layout, 40 chars, cold (rasterize)       {:>9.1} µs",
        median(cold)
    );
    println!(
        "layout, 40 chars, new text, warm atlas   {:>9.1} µs",
        median(shaped)
    );
    println!(
        "layout, 40 chars, cached                 {:>9.2} µs",
        median(cached)
    );
    println!(
        "measure, 40 chars, uncached              {:>9.1} µs",
        median(measure_uncached)
    );
    println!(
        "measure, 40 chars, cached                {:>9.2} µs",
        median(measure_cached)
    );
    println!(
        "SharedMeasurer::measure, uncached        {:>9.1} µs",
        median(shared_uncached)
    );
    println!(
        "SharedMeasurer::measure, cached          {:>9.2} µs",
        median(shared_cached)
    );
}
