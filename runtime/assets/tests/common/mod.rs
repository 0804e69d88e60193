//! Fixture images encoded in the test with the `image` crate's encoders (no binary files in
//! the repository), and small helpers the integration tests share.
#![allow(dead_code)]

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{Delay, ExtendedColorType, Frame, ImageEncoder, RgbaImage};

/// Straight-alpha RGBA8 pixels from `pixel(x, y)`.
pub fn rgba(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            out.extend_from_slice(&pixel(x, y));
        }
    }
    out
}

/// A smooth colour gradient, opaque, like a photo compresses.
pub fn gradient(width: u32, height: u32) -> Vec<u8> {
    rgba(width, height, |x, y| [(x * 255 / width.max(1)) as u8, (y * 255 / height.max(1)) as u8, ((x + y) % 256) as u8, 255])
}

pub fn png(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(rgba, width, height, ExtendedColorType::Rgba8).unwrap();
    out
}

pub fn jpeg(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90).write_image(&rgb, width, height, ExtendedColorType::Rgb8).unwrap();
    out
}

pub fn webp_lossless(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out).write_image(rgba, width, height, ExtendedColorType::Rgba8).unwrap();
    out
}

/// An animated GIF: one solid-colour frame per `(rgba, delay_ms)`.
pub fn gif(width: u32, height: u32, frames: &[([u8; 4], u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for (color, delay_ms) in frames {
            let buffer = RgbaImage::from_pixel(width, height, image::Rgba(*color));
            encoder.encode_frame(Frame::from_parts(buffer, 0, 0, Delay::from_numer_denom_ms(*delay_ms, 1))).unwrap();
        }
    }
    out
}

/// A valid 1×1 PNG whose IHDR claims `width × height` (CRC fixed up), so decoders read the
/// header and believe it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1, &[0, 0, 0, 255]);
    // Signature (8) + chunk length (4) + "IHDR" (4), then width and height.
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// CRC-32 (IEEE), as PNG chunks use.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The RGBA8 pixel at (x, y) of a tightly packed frame.
pub fn pixel_at(pixels: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
    let at = ((y * width + x) * 4) as usize;
    [pixels[at], pixels[at + 1], pixels[at + 2], pixels[at + 3]]
}

pub fn close(actual: [u8; 4], expected: [u8; 4], tolerance: u8) -> bool {
    actual.iter().zip(expected).all(|(a, e)| a.abs_diff(e) <= tolerance)
}
