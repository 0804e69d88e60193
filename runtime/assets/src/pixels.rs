//! Pixel conversions into the store's format, premultiplied-alpha RGBA8, written straight into
//! the shared `Arc<[u8]>` a frame keeps (one fresh buffer per frame, no extra copy). Owns only
//! per-pixel arithmetic; it must not decode or know about limits.

use std::sync::Arc;

use image::DynamicImage;

/// A new `len`-byte buffer filled by `fill`, and what `fill` returned.
pub(crate) fn filled<T>(len: usize, fill: impl FnOnce(&mut [u8]) -> T) -> (Arc<[u8]>, T) {
    // `RepeatN` has a trusted length, so this is one allocation with no intermediate `Vec`.
    let mut pixels: Arc<[u8]> = std::iter::repeat_n(0u8, len).collect();
    let result = match Arc::get_mut(&mut pixels) {
        Some(buffer) => fill(buffer),
        None => {
            let mut owned = vec![0u8; len];
            let result = fill(&mut owned);
            pixels = Arc::from(owned);
            result
        }
    };
    (pixels, result)
}

/// Any decoded image as premultiplied RGBA8.
pub(crate) fn from_dynamic(image: DynamicImage) -> Arc<[u8]> {
    let len = image.width() as usize * image.height() as usize * 4;
    let (pixels, ()) = match image {
        DynamicImage::ImageRgba8(rgba) => filled(len, |out| premultiply_copy(rgba.as_raw(), out)),
        DynamicImage::ImageRgb8(rgb) => filled(len, |out| expand_rgb(rgb.as_raw(), out)),
        other => {
            let rgba = other.into_rgba8();
            filled(len, |out| premultiply_copy(rgba.as_raw(), out))
        }
    };
    pixels
}

/// Straight-alpha RGBA8 to premultiplied, in place, rounding to nearest: `c × a / 255`.
pub(crate) fn premultiply(rgba: &mut [u8]) {
    for pixel in rgba.chunks_exact_mut(4) {
        let alpha = pixel[3];
        if alpha != 255 {
            for channel in &mut pixel[..3] {
                *channel = times_alpha(*channel, alpha);
            }
        }
    }
}

/// Straight-alpha RGBA8 `src` into premultiplied `dst` (same length).
pub(crate) fn premultiply_copy(src: &[u8], dst: &mut [u8]) {
    for (from, to) in src.chunks_exact(4).zip(dst.chunks_exact_mut(4)) {
        let alpha = from[3];
        if alpha == 255 {
            to.copy_from_slice(from);
        } else {
            to[0] = times_alpha(from[0], alpha);
            to[1] = times_alpha(from[1], alpha);
            to[2] = times_alpha(from[2], alpha);
            to[3] = alpha;
        }
    }
}

/// RGB8 `src` into opaque RGBA8 `dst` (4/3 of its length).
pub(crate) fn expand_rgb(src: &[u8], dst: &mut [u8]) {
    for (from, to) in src.chunks_exact(3).zip(dst.chunks_exact_mut(4)) {
        to[0] = from[0];
        to[1] = from[1];
        to[2] = from[2];
        to[3] = 255;
    }
}

/// `round(channel × alpha / 255)`, exact for all inputs.
fn times_alpha(channel: u8, alpha: u8) -> u8 {
    let product = u16::from(channel) * u16::from(alpha) + 128;
    ((product + (product >> 8)) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::{expand_rgb, premultiply, premultiply_copy};

    #[test]
    fn premultiply_rounds_to_nearest_and_keeps_opaque_and_clear() {
        let mut pixels = [255, 0, 0, 128, 10, 20, 30, 255, 200, 100, 50, 0, 255, 255, 255, 1];
        let mut copied = [0u8; 16];
        premultiply_copy(&pixels, &mut copied);
        premultiply(&mut pixels);
        assert_eq!(pixels, [128, 0, 0, 128, 10, 20, 30, 255, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(copied, pixels);
    }

    #[test]
    fn premultiply_matches_exact_rounding_for_every_pair() {
        for alpha in 0..=255u32 {
            for channel in 0..=255u32 {
                let mut pixel = [channel as u8, 0, 0, alpha as u8];
                premultiply(&mut pixel);
                assert_eq!(u32::from(pixel[0]), (channel * alpha + 127) / 255, "c={channel} a={alpha}");
            }
        }
    }

    #[test]
    fn expand_rgb_adds_opaque_alpha() {
        let mut out = [0u8; 8];
        expand_rgb(&[1, 2, 3, 4, 5, 6], &mut out);
        assert_eq!(out, [1, 2, 3, 255, 4, 5, 6, 255]);
    }
}
