//! What one preview image costs on the worker thread: box downscale and downscale plus
//! JPEG encode, for 1080p and 4K UHD programme frames fitted into 640x360.
//! Run: `cargo run --release -p showrunner-media --example preview_cost [images] [quality]`
//!
//! Frames go through the real `PreviewEncoder` (offer, then wait for the image); the
//! times are the encoder's own `last_downscale_time` / `last_encode_time`, summed over
//! the images, so the hand-off between threads is not counted. Also prints the cost of
//! an `offer` the rate limit ignores, which is what the render thread pays most frames.

use std::time::{Duration, Instant};

use bytes::Bytes;
use showrunner_media::{OfferOutcome, PreviewEncoder, PreviewSettings};

/// Distinct frames cycled through, so the encoder sees changing content.
const DISTINCT_FRAMES: u32 = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let images: u32 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(60);
    let quality: u8 = std::env::args().nth(2).map(|a| a.parse()).transpose()?.unwrap_or(70);
    let settings = PreviewSettings { fps: 30.0, quality, ..PreviewSettings::default() };
    println!("{images} images per case, quality {quality}, fitted into {}x{}", settings.max_width, settings.max_height);
    for (label, width, height, opaque) in [
        ("1080p RGBx", 1920, 1080, true),
        ("1080p RGBA (over black)", 1920, 1080, false),
        ("4K RGBx", 3840, 2160, true),
        ("4K RGBA (over black)", 3840, 2160, false),
    ] {
        measure(label, width, height, opaque, images.max(1), settings)?;
    }
    measure_ignored_offer(settings)?;
    Ok(())
}

fn measure(
    label: &str,
    width: u32,
    height: u32,
    opaque: bool,
    images: u32,
    settings: PreviewSettings,
) -> Result<(), Box<dyn std::error::Error>> {
    let frames: Vec<Bytes> = (0..DISTINCT_FRAMES).map(|seed| graphics_frame(width, height, seed)).collect();
    let encoder = PreviewEncoder::start("program", settings)?;
    let (mut downscale, mut total, mut jpeg_bytes) = (Duration::ZERO, Duration::ZERO, 0usize);
    let (mut out_width, mut out_height) = (0, 0);
    let mut last_sequence = None;
    for n in 0..images {
        let pts = Duration::from_secs(u64::from(n));
        let frame = &frames[(n % DISTINCT_FRAMES) as usize];
        if encoder.offer(frame, width, height, opaque, u64::from(n), pts) != OfferOutcome::Accepted {
            return Err(format!("{label}: frame {n} was not accepted").into());
        }
        let image = encoder
            .wait_newer(last_sequence, Duration::from_secs(30))
            .ok_or_else(|| format!("{label}: no image for frame {n} within 30 s"))?;
        last_sequence = Some(image.sequence);
        (out_width, out_height) = (image.width, image.height);
        jpeg_bytes += image.jpeg.len();
        let stats = encoder.stats();
        downscale += stats.last_downscale_time.unwrap_or_default();
        total += stats.last_encode_time.unwrap_or_default();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(images);
    println!(
        "{label:<24} {width}x{height} -> {out_width}x{out_height}: {:6.2} ms per image \
         (downscale {:5.2} ms, JPEG {:5.2} ms), {:.1} KiB per image",
        ms(total),
        ms(downscale),
        ms(total.saturating_sub(downscale)),
        jpeg_bytes as f64 / 1024.0 / f64::from(images)
    );
    Ok(())
}

/// Cost on the caller's thread of offers that the rate limit ignores.
fn measure_ignored_offer(settings: PreviewSettings) -> Result<(), Box<dyn std::error::Error>> {
    const OFFERS: u32 = 1_000_000;
    let encoder = PreviewEncoder::start("program", PreviewSettings { fps: 0.2, ..settings })?;
    let frame = graphics_frame(1920, 1080, 0);
    encoder.offer(&frame, 1920, 1080, true, 0, Duration::ZERO);
    let started = Instant::now();
    for n in 1..=OFFERS {
        let outcome = encoder.offer(&frame, 1920, 1080, true, u64::from(n), Duration::from_millis(u64::from(n % 1000)));
        if outcome != OfferOutcome::TooSoon {
            return Err(format!("offer {n}: expected TooSoon, got {outcome:?}").into());
        }
    }
    let ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(OFFERS);
    println!("ignored offer (too soon): {ns:.0} ns on the caller's thread");
    Ok(())
}

/// A frame with gradients, hard-edged boxes and noise, like broadcast graphics over video.
fn graphics_frame(width: u32, height: u32, seed: u32) -> Bytes {
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height {
        for x in 0..width {
            let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed.wrapping_mul(97)) >> 27;
            let in_box = (x / 160 + y / 90 + seed).is_multiple_of(5);
            let r = if in_box { 240 } else { (x * 255 / width) as u8 };
            let g = ((y * 255 / height) as u8).wrapping_add(noise as u8);
            let b = ((x + y + seed * 40) % 256) as u8;
            let a = if in_box { 255 } else { 128 + ((x / 7) % 128) as u8 };
            pixels.extend_from_slice(&[r, g, b, a]);
        }
    }
    Bytes::from(pixels)
}
