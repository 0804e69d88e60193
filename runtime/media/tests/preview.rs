//! PreviewEncoder behaviour: sizes, colours, straight alpha, the pts rate limit, busy
//! drops, malformed frames and settings validation, checked by decoding the JPEGs with
//! the image crate. Run: `cargo test --release -p showrunner-media --test preview`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use image::{ImageFormat, RgbImage};
use showrunner_media::{OfferOutcome, PreviewEncoder, PreviewError, PreviewImage, PreviewSettings};

const WAIT: Duration = Duration::from_secs(30);

fn encoder(settings: PreviewSettings) -> PreviewEncoder {
    PreviewEncoder::start("program", settings).unwrap()
}

/// A frame whose pixel at (x, y) is `colour(x, y)`.
fn frame(width: u32, height: u32, colour: impl Fn(u32, u32) -> [u8; 4]) -> Bytes {
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&colour(x, y));
        }
    }
    Bytes::from(pixels)
}

fn decode(image: &PreviewImage) -> RgbImage {
    image::load_from_memory_with_format(&image.jpeg, ImageFormat::Jpeg).unwrap().to_rgb8()
}

fn assert_near(actual: [u8; 3], expected: [u8; 3], tolerance: u8, what: &str) {
    for c in 0..3 {
        assert!(
            actual[c].abs_diff(expected[c]) <= tolerance,
            "{what}: got {actual:?}, want {expected:?} ± {tolerance}"
        );
    }
}

/// Offers one frame at pts 0 and returns its published image.
fn encode_one(encoder: &PreviewEncoder, pixels: &Bytes, width: u32, height: u32, opaque: bool) -> PreviewImage {
    assert_eq!(encoder.offer(pixels, width, height, opaque, 0, Duration::ZERO), OfferOutcome::Accepted);
    encoder.wait_newer(None, WAIT).expect("no preview image was published")
}

#[test]
fn red_left_blue_right_1080p_becomes_640x360_with_both_halves() {
    let encoder = encoder(PreviewSettings::default());
    // The fourth byte is 0 everywhere: an opaque (RGBx) frame ignores it.
    let pixels = frame(1920, 1080, |x, _| if x < 960 { [255, 0, 0, 0] } else { [0, 0, 255, 0] });
    let image = encode_one(&encoder, &pixels, 1920, 1080, true);
    assert_eq!(
        (image.width, image.height, image.frame_index, image.pts, image.sequence),
        (640, 360, 0, Duration::ZERO, 1)
    );
    let decoded = decode(&image);
    assert_eq!(decoded.dimensions(), (640, 360));
    for y in [0, 90, 180, 359] {
        for x in [0, 150, 300] {
            assert_near(decoded.get_pixel(x, y).0, [255, 0, 0], 24, &format!("left pixel ({x},{y})"));
        }
        for x in [340, 490, 639] {
            assert_near(decoded.get_pixel(x, y).0, [0, 0, 255], 24, &format!("right pixel ({x},{y})"));
        }
    }
    let stats = encoder.stats();
    assert_eq!(stats.encoded, 1);
    assert!(stats.last_encode_time.unwrap() >= stats.last_downscale_time.unwrap());
    assert_eq!(encoder.latest(), Some(image));
}

#[test]
fn straight_alpha_is_composited_over_black() {
    let encoder = encoder(PreviewSettings::default());
    // Top half: white with alpha 0; bottom half: white with alpha 128.
    let pixels = frame(800, 400, |_, y| if y < 200 { [255, 255, 255, 0] } else { [255, 255, 255, 128] });
    let decoded = decode(&encode_one(&encoder, &pixels, 800, 400, false));
    assert_eq!(decoded.dimensions(), (640, 320));
    for x in [0, 320, 639] {
        assert_near(decoded.get_pixel(x, 40).0, [0, 0, 0], 6, "alpha 0 pixel");
        assert_near(decoded.get_pixel(x, 280).0, [128, 128, 128], 6, "alpha 128 pixel");
    }
    // The same bytes offered as opaque keep their colour.
    let encoder = self::encoder(PreviewSettings::default());
    let decoded = decode(&encode_one(&encoder, &pixels, 800, 400, true));
    assert_near(decoded.get_pixel(320, 40).0, [255, 255, 255], 6, "opaque pixel");
}

#[test]
fn aspect_ratio_is_kept_and_small_frames_are_not_upscaled() {
    for ((width, height), expected) in [((1000, 100), (640, 64)), ((100, 1000), (36, 360)), ((320, 180), (320, 180))] {
        let encoder = encoder(PreviewSettings::default());
        let pixels = frame(width, height, |_, _| [0, 200, 0, 255]);
        let image = encode_one(&encoder, &pixels, width, height, true);
        assert_eq!((image.width, image.height), expected, "{width}x{height}");
        let decoded = decode(&image);
        assert_eq!(decoded.dimensions(), expected, "{width}x{height}");
        assert_near(decoded.get_pixel(expected.0 / 2, expected.1 / 2).0, [0, 200, 0], 16, "green");
    }
}

#[test]
fn thirty_frames_a_second_at_fps_5_encodes_every_sixth_frame() {
    let encoder = encoder(PreviewSettings { fps: 5.0, ..PreviewSettings::default() });
    let pixels = frame(320, 180, |_, _| [9, 9, 9, 255]);
    let mut taken = Vec::new();
    for index in 0..30u64 {
        // pts rounded down to whole nanoseconds, as a renderer at 30 fps computes them.
        let pts = Duration::from_nanos(index * 1_000_000_000 / 30);
        match encoder.offer(&pixels, 320, 180, true, index, pts) {
            OfferOutcome::Accepted => {
                let image = encoder.wait_newer(taken.last().map(|(_, seq)| *seq), WAIT).unwrap();
                assert_eq!(image.frame_index, index);
                taken.push((index, image.sequence));
            }
            OfferOutcome::TooSoon => {}
            other => panic!("frame {index}: unexpected {other:?}"),
        }
    }
    let frames: Vec<u64> = taken.iter().map(|(frame, _)| *frame).collect();
    assert_eq!(frames, [0, 6, 12, 18, 24]);
    let stats = encoder.stats();
    assert_eq!((stats.encoded, stats.skipped_rate, stats.skipped_busy), (5, 25, 0));
}

#[test]
fn pts_going_back_starts_a_new_schedule() {
    let encoder = encoder(PreviewSettings { fps: 1.0, ..PreviewSettings::default() });
    let pixels = frame(64, 36, |_, _| [1, 2, 3, 255]);
    let offer = |index: u64, secs: f64| encoder.offer(&pixels, 64, 36, true, index, Duration::from_secs_f64(secs));
    assert_eq!(offer(0, 100.0), OfferOutcome::Accepted);
    let first = encoder.wait_newer(None, WAIT).unwrap();
    assert_eq!(offer(1, 100.5), OfferOutcome::TooSoon);
    assert_eq!(offer(0, 0.0), OfferOutcome::Accepted, "a restart at pts 0 is taken at once");
    let second = encoder.wait_newer(Some(first.sequence), WAIT).unwrap();
    assert_eq!((second.frame_index, second.pts, second.sequence), (0, Duration::ZERO, 2));
    assert_eq!(offer(1, 0.5), OfferOutcome::TooSoon);
    assert_eq!(offer(2, 1.0), OfferOutcome::Accepted);
}

#[test]
fn offers_while_busy_are_counted_not_queued() {
    let encoder = encoder(PreviewSettings::default());
    // An 8K frame keeps the worker busy for milliseconds; the next offers come within
    // microseconds.
    let big = frame(7680, 4320, |x, _| [(x % 256) as u8, 0, 0, 255]);
    let small = frame(320, 180, |_, _| [0, 0, 255, 255]);
    assert_eq!(encoder.offer(&big, 7680, 4320, true, 0, Duration::ZERO), OfferOutcome::Accepted);
    for index in 1..=3u64 {
        let pts = Duration::from_secs(index);
        assert_eq!(encoder.offer(&small, 320, 180, true, index, pts), OfferOutcome::Busy, "offer {index}");
    }
    let image = encoder.wait_newer(None, WAIT).unwrap();
    assert_eq!((image.frame_index, image.width, image.height), (0, 640, 360));
    // Nothing was queued behind the big frame.
    assert!(encoder.wait_newer(Some(image.sequence), Duration::from_millis(300)).is_none());
    let stats = encoder.stats();
    assert_eq!((stats.encoded, stats.skipped_busy), (1, 3));
    // A busy drop does not use up the slot: the next offer is taken.
    assert_eq!(encoder.offer(&small, 320, 180, true, 4, Duration::from_secs(1)), OfferOutcome::Accepted);
    assert_eq!(encoder.wait_newer(Some(image.sequence), WAIT).unwrap().frame_index, 4);
}

#[test]
fn malformed_frames_are_rejected_and_counted() {
    let encoder = encoder(PreviewSettings::default());
    let pixels = frame(64, 36, |_, _| [200, 100, 50, 255]);
    let short = pixels.slice(..pixels.len() - 1);
    assert_eq!(encoder.offer(&short, 64, 36, true, 0, Duration::ZERO), OfferOutcome::Rejected);
    assert_eq!(encoder.offer(&pixels, 0, 36, true, 0, Duration::ZERO), OfferOutcome::Rejected);
    assert_eq!(encoder.offer(&pixels, 64, 0, true, 0, Duration::ZERO), OfferOutcome::Rejected);
    assert_eq!(encoder.offer(&pixels, u32::MAX, u32::MAX, true, 0, Duration::ZERO), OfferOutcome::Rejected);
    assert_eq!(
        encoder.offer(&pixels, 36, 64, true, 0, Duration::ZERO),
        OfferOutcome::Accepted,
        "same byte count, other shape"
    );
    let image = encoder.wait_newer(None, WAIT).unwrap();
    assert_eq!((image.width, image.height), (36, 64));
    // A 16385x1 frame (one side over the limit) is rejected even with the right length.
    let wide = Bytes::from(vec![0u8; 16_385 * 4]);
    assert_eq!(encoder.offer(&wide, 16_385, 1, true, 1, Duration::from_secs(5)), OfferOutcome::Rejected);
    let stats = encoder.stats();
    assert_eq!((stats.rejected_frames, stats.encoded, stats.failed), (5, 1, 0));
}

#[test]
fn nothing_offered_means_no_image_and_wait_times_out() {
    let encoder = encoder(PreviewSettings::default());
    assert_eq!(encoder.latest(), None);
    let started = Instant::now();
    assert_eq!(encoder.wait_newer(None, Duration::from_millis(100)), None);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[test]
fn higher_quality_gives_larger_files() {
    let noise = frame(640, 360, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
        [v, v.wrapping_mul(3), v ^ 0x5a, 255]
    });
    let size = |quality: u8| {
        let encoder = encoder(PreviewSettings { quality, ..PreviewSettings::default() });
        encode_one(&encoder, &noise, 640, 360, true).jpeg.len()
    };
    let (low, high) = (size(10), size(95));
    assert!(high > low * 2, "quality 95: {high} bytes, quality 10: {low} bytes");
}

#[test]
fn invalid_settings_and_names_are_rejected_naming_the_field() {
    let base = PreviewSettings::default();
    let cases = [
        (PreviewSettings { max_width: 15, ..base }, "max_width"),
        (PreviewSettings { max_width: 3841, ..base }, "max_width"),
        (PreviewSettings { max_height: 0, ..base }, "max_height"),
        (PreviewSettings { max_height: 2161, ..base }, "max_height"),
        (PreviewSettings { fps: 0.1, ..base }, "fps"),
        (PreviewSettings { fps: 31.0, ..base }, "fps"),
        (PreviewSettings { fps: f32::NAN, ..base }, "fps"),
        (PreviewSettings { quality: 0, ..base }, "quality"),
        (PreviewSettings { quality: 101, ..base }, "quality"),
    ];
    for (settings, field) in cases {
        match PreviewEncoder::start("program", settings) {
            Err(PreviewError::InvalidSettings { field: got, .. }) => assert_eq!(got, field, "{settings:?}"),
            Err(other) => panic!("{settings:?}: unexpected error {other}"),
            Ok(_) => panic!("{settings:?} was accepted"),
        }
    }
    for settings in [
        PreviewSettings { fps: 0.2, quality: 1, max_width: 16, max_height: 16 },
        PreviewSettings { fps: 30.0, quality: 100, max_width: 3840, max_height: 2160 },
    ] {
        PreviewEncoder::start("preview", settings).unwrap();
    }
    for name in ["", "pro gram", "a\0b", &"x".repeat(33)] {
        assert!(matches!(PreviewEncoder::start(name, base), Err(PreviewError::InvalidName { .. })), "{name:?}");
    }
    assert_eq!(PreviewSettings { fps: f32::NAN, ..base }.interval(), Duration::from_secs(5));
    assert_eq!(PreviewSettings { fps: 1000.0, ..base }.interval(), Duration::from_micros(33_333));
    let message = PreviewEncoder::start("program", PreviewSettings { fps: 60.0, ..base }).err().unwrap().to_string();
    assert!(message.contains("fps") && message.contains("0.2 to 30"), "{message}");
}
