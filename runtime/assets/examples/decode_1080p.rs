//! Times decoding a 1920×1080 PNG and JPEG through `AssetStore::insert`, against a baseline
//! measured in the same run: the `image` crate's own `load_from_memory` (native pixel format,
//! no hashing, no premultiplication).
//!
//! Run: `cargo run --release -p showrunner-assets --example decode_1080p`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use showrunner_assets::AssetStore;

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;
const RUNS: u32 = 10;

fn main() {
    // A gradient with some noise, so neither encoder gets an unrealistically easy image.
    let mut seed = 0x2545_F491u32;
    let mut rgb = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed & 15) as u8;
            rgb.extend_from_slice(&[(x * 255 / WIDTH) as u8 ^ noise, (y * 255 / HEIGHT) as u8, ((x + y) / 8) as u8]);
        }
    }
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(&rgb, WIDTH, HEIGHT, ExtendedColorType::Rgb8).unwrap();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90).write_image(&rgb, WIDTH, HEIGHT, ExtendedColorType::Rgb8).unwrap();

    for (label, bytes) in [("PNG", &png), ("JPEG", &jpeg)] {
        let baseline = time(|| {
            image::load_from_memory(bytes).unwrap();
        });
        // A fresh store each run, so the content-hash cache never skips the decode.
        let store = time(|| {
            AssetStore::default().insert("frame", bytes).unwrap();
        });
        println!(
            "{label} ({} KiB): AssetStore::insert best {:.1} ms, mean {:.1} ms; image::load_from_memory best {:.1} ms, mean {:.1} ms; ratio of bests {:.2}",
            bytes.len() / 1024,
            ms(store.0),
            ms(store.1),
            ms(baseline.0),
            ms(baseline.1),
            store.0.as_secs_f64() / baseline.0.as_secs_f64()
        );
    }
}

/// Best and mean of `RUNS` runs of `run`.
fn time(mut run: impl FnMut()) -> (Duration, Duration) {
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for _ in 0..RUNS {
        let started = Instant::now();
        run();
        let elapsed = started.elapsed();
        best = best.min(elapsed);
        total += elapsed;
    }
    (best, total / RUNS)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
