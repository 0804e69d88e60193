//! Decoding through `AssetStore::insert`: formats, premultiplied pixels, animation timing,
//! and the error kind for each kind of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{close, gif, gradient, jpeg, pixel_at, png, png_claiming, rgba, webp_lossless};
use image::ImageEncoder;
use showrunner_assets::{AssetError, AssetLimits, AssetStore, LimitKind};

/// 4×3 image: top-left half-transparent red, top-right opaque green, rest opaque blue.
fn test_pattern() -> Vec<u8> {
    rgba(4, 3, |x, y| match (x, y) {
        (0, 0) => [255, 0, 0, 128],
        (3, 0) => [0, 255, 0, 255],
        _ => [0, 0, 255, 255],
    })
}

#[test]
fn png_round_trips_size_and_premultiplied_pixels() {
    let store = AssetStore::default();
    let info = store.insert("pattern", &png(4, 3, &test_pattern())).unwrap();
    assert_eq!((info.width, info.height, info.frames, info.decoded_bytes), (4, 3, 1, 4 * 3 * 4));
    let image = store.get("pattern").unwrap();
    let frame = &image.frames[0];
    assert_eq!(frame.pixels.len(), 4 * 3 * 4);
    assert_eq!(frame.delay, Duration::ZERO);
    assert_eq!(pixel_at(&frame.pixels, 4, 0, 0), [128, 0, 0, 128]);
    assert_eq!(pixel_at(&frame.pixels, 4, 3, 0), [0, 255, 0, 255]);
    assert_eq!(pixel_at(&frame.pixels, 4, 1, 2), [0, 0, 255, 255]);
    assert_eq!(store.size("pattern"), Some((4, 3)));
}

#[test]
fn grey_alpha_and_rgb_pngs_convert_to_premultiplied_rgba() {
    let store = AssetStore::default();
    let mut grey_alpha = Vec::new();
    image::codecs::png::PngEncoder::new(&mut grey_alpha)
        .write_image(&[200, 128, 50, 255], 2, 1, image::ExtendedColorType::La8)
        .unwrap();
    store.insert("grey", &grey_alpha).unwrap();
    let pixels = &store.get("grey").unwrap().frames[0].pixels;
    assert_eq!(&pixels[..], &[100, 100, 100, 128, 50, 50, 50, 255]);

    let mut rgb = Vec::new();
    image::codecs::png::PngEncoder::new(&mut rgb).write_image(&[1, 2, 3, 4, 5, 6], 2, 1, image::ExtendedColorType::Rgb8).unwrap();
    store.insert("rgb", &rgb).unwrap();
    assert_eq!(&store.get("rgb").unwrap().frames[0].pixels[..], &[1, 2, 3, 255, 4, 5, 6, 255]);
}

#[test]
fn exif_orientation_is_applied() {
    // 2×1: red, green; EXIF orientation 6 (rotate 90° clockwise) makes it 1×2, red on top.
    let exif = [
        0x49, 0x49, 42, 0, 8, 0, 0, 0, // little-endian TIFF header, IFD at 8
        1, 0, // one entry
        0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // orientation = 6
        0, 0, 0, 0, // no next IFD
    ];
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
    encoder.set_exif_metadata(exif.to_vec()).unwrap();
    encoder.write_image(&[255, 0, 0, 255, 0, 255, 0, 255], 2, 1, image::ExtendedColorType::Rgba8).unwrap();
    let store = AssetStore::default();
    let info = store.insert("rotated", &bytes).unwrap();
    assert_eq!((info.width, info.height), (1, 2));
    assert_eq!(&store.get("rotated").unwrap().frames[0].pixels[..], &[255, 0, 0, 255, 0, 255, 0, 255]);
}

#[test]
fn jpeg_round_trips_size_and_colour() {
    let store = AssetStore::default();
    let solid = rgba(64, 48, |_, _| [200, 40, 30, 255]);
    let info = store.insert("photo", &jpeg(64, 48, &solid)).unwrap();
    assert_eq!((info.width, info.height, info.frames), (64, 48, 1));
    let image = store.get("photo").unwrap();
    let px = pixel_at(&image.frames[0].pixels, 64, 32, 24);
    assert!(close(px, [200, 40, 30, 255], 6), "jpeg pixel {px:?}");
}

#[test]
fn webp_round_trips_size_and_exact_lossless_pixels() {
    let store = AssetStore::default();
    let info = store.insert("sprite", &webp_lossless(4, 3, &test_pattern())).unwrap();
    assert_eq!((info.width, info.height, info.frames), (4, 3, 1));
    let image = store.get("sprite").unwrap();
    assert_eq!(pixel_at(&image.frames[0].pixels, 4, 0, 0), [128, 0, 0, 128]);
    assert_eq!(pixel_at(&image.frames[0].pixels, 4, 3, 0), [0, 255, 0, 255]);
}

#[test]
fn gif_keeps_all_frames_and_delays_and_frame_at_loops() {
    let store = AssetStore::default();
    let bytes = gif(8, 8, &[([255, 0, 0, 255], 100), ([0, 255, 0, 255], 200), ([0, 0, 255, 255], 300)]);
    let info = store.insert("blink", &bytes).unwrap();
    assert_eq!((info.width, info.height, info.frames), (8, 8, 3));
    let image = store.get("blink").unwrap();
    let delays: Vec<_> = image.frames.iter().map(|f| f.delay).collect();
    assert_eq!(delays, [100, 200, 300].map(Duration::from_millis));
    assert_eq!(image.duration(), Duration::from_millis(600));
    let colour_at = |ms: u64| pixel_at(&image.frame_at(Duration::from_millis(ms)).pixels, 8, 4, 4);
    assert_eq!(colour_at(0), [255, 0, 0, 255]);
    assert_eq!(colour_at(99), [255, 0, 0, 255]);
    assert_eq!(colour_at(100), [0, 255, 0, 255]);
    assert_eq!(colour_at(299), [0, 255, 0, 255]);
    assert_eq!(colour_at(300), [0, 0, 255, 255]);
    assert_eq!(colour_at(599), [0, 0, 255, 255]);
    assert_eq!(colour_at(600), [255, 0, 0, 255], "loops back to frame 0");
    assert_eq!(colour_at(6 * 600 + 150), [0, 255, 0, 255]);
}

#[test]
fn gif_frames_of_ten_ms_or_less_play_for_a_hundred_ms() {
    let store = AssetStore::default();
    store.insert("fast", &gif(2, 2, &[([255, 0, 0, 255], 0), ([0, 255, 0, 255], 10)])).unwrap();
    let image = store.get("fast").unwrap();
    assert!(image.frames.iter().all(|frame| frame.delay == Duration::from_millis(100)));
}

#[test]
fn still_image_frame_at_is_always_frame_zero() {
    let store = AssetStore::default();
    store.insert("still", &png(2, 2, &gradient(2, 2))).unwrap();
    let image = store.get("still").unwrap();
    assert!(std::ptr::eq(image.frame_at(Duration::from_secs(1000)), &image.frames[0]));
    assert!(!image.is_animated());
}

fn expect_corrupt(result: Result<impl std::fmt::Debug, AssetError>) {
    match result {
        Err(AssetError::Corrupt { name, reason }) => assert!(!name.is_empty() && !reason.is_empty()),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn truncated_png_and_jpeg_are_corrupt() {
    let store = AssetStore::default();
    let png_bytes = png(32, 32, &gradient(32, 32));
    expect_corrupt(store.insert("cut-png", &png_bytes[..png_bytes.len() / 2]));
    let jpeg_bytes = jpeg(32, 32, &gradient(32, 32));
    expect_corrupt(store.insert("cut-jpeg", &jpeg_bytes[..jpeg_bytes.len() / 2]));
    assert!(store.list().is_empty());
}

#[test]
fn garbage_after_a_png_signature_is_corrupt() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..200u32).map(|i| (i * 7 + 3) as u8));
    expect_corrupt(AssetStore::default().insert("garbage", &bytes));
}

#[test]
fn zero_bytes_are_an_error() {
    expect_corrupt(AssetStore::default().insert("empty", &[]));
}

#[test]
fn html_named_png_is_unsupported_and_says_what_is() {
    let html = b"<!DOCTYPE html><html><body>not an image</body></html>";
    let error = AssetStore::default().insert("logo.png", html).unwrap_err();
    assert!(matches!(error, AssetError::Unsupported { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("PNG, JPEG, WebP and GIF") && message.contains("logo.png"), "{message}");
}

#[test]
fn png_claiming_100000_pixels_square_is_too_large_before_decoding() {
    let store = AssetStore::default();
    let bytes = png_claiming(100_000, 100_000);
    let started = Instant::now();
    let error = store.insert("bomb", &bytes).unwrap_err();
    let elapsed = started.elapsed();
    match error {
        AssetError::TooLarge { what: LimitKind::Width, actual: Some(100_000), limit: 8192, .. } => {}
        other => panic!("expected TooLarge width, got {other:?}"),
    }
    assert!(elapsed < Duration::from_millis(50), "took {elapsed:?}");
}

#[test]
fn per_asset_decoded_budget_is_checked_from_the_header() {
    let limits = AssetLimits { max_decoded_bytes: 1024 * 1024, ..AssetLimits::default() };
    let store = AssetStore::new(limits, Default::default());
    // 1024 × 1024 × 4 = 4 MiB decoded from a small file.
    let bytes = png(1024, 1024, &vec![0; 1024 * 1024 * 4]);
    assert!(bytes.len() < 64 * 1024);
    let error = store.insert("flat", &bytes).unwrap_err();
    assert!(matches!(error, AssetError::TooLarge { what: LimitKind::DecodedBytes, actual: Some(4_194_304), .. }), "{error:?}");
}

#[test]
fn gif_frame_count_and_decoded_bytes_limits_stop_animations() {
    let bytes = gif(16, 16, &[([255, 0, 0, 255], 50), ([0, 255, 0, 255], 50), ([0, 0, 255, 255], 50)]);
    let few_frames = AssetStore::new(AssetLimits { max_frames: 2, ..AssetLimits::default() }, Default::default());
    let error = few_frames.insert("anim", &bytes).unwrap_err();
    assert!(matches!(error, AssetError::TooLarge { what: LimitKind::Frames, limit: 2, .. }), "{error:?}");

    // Two 16×16 frames fit in 2 KiB + 100 bytes, three do not.
    let small = AssetStore::new(AssetLimits { max_decoded_bytes: 2 * 1024 + 100, ..AssetLimits::default() }, Default::default());
    let error = small.insert("anim", &bytes).unwrap_err();
    assert!(matches!(error, AssetError::TooLarge { what: LimitKind::DecodedBytes, actual: Some(3072), .. }), "{error:?}");
}

#[test]
fn encoded_size_limit_is_checked_before_anything_else() {
    let store = AssetStore::new(AssetLimits { max_encoded_bytes: 100, ..AssetLimits::default() }, Default::default());
    let bytes = png(64, 64, &gradient(64, 64));
    let error = store.insert("big", &bytes).unwrap_err();
    assert!(matches!(error, AssetError::TooLarge { what: LimitKind::EncodedBytes, limit: 100, .. }), "{error:?}");
}

#[test]
fn bad_names_are_rejected() {
    let store = AssetStore::default();
    let bytes = png(1, 1, &[1, 2, 3, 255]);
    for name in ["", "tab\there", &"x".repeat(257)] {
        assert!(matches!(store.insert(name, &bytes), Err(AssetError::BadName { .. })), "{name:?}");
    }
    assert!(store.insert(&"x".repeat(256), &bytes).is_ok());
}
