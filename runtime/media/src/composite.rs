//! CPU compositing of straight-alpha sRGB RGBA8 frames over an opaque background
//! colour, into the RGBx frames the encoder pipeline takes (H.264 has no alpha).
//! Blending is done on the sRGB-encoded values, as video tools and browsers do. At 1080p
//! this costs a few milliseconds, well under GStreamer's `compositor` element with a
//! solid-colour layer (`examples/encode_speed.rs` measures both). It owns only this pixel
//! arithmetic and must not allocate: the caller gives both buffers.

/// Pixels per block: blocks whose pixels are all transparent or all opaque are filled
/// or copied, the others blended lane by lane (which the compiler vectorises).
const BLOCK_PIXELS: usize = 16;
const BLOCK_BYTES: usize = BLOCK_PIXELS * 4;

/// Composites `rgba` (straight alpha) over `background` into `rgbx` (fourth byte 255).
/// Both slices should be the same length, a multiple of 4; extra bytes of the longer
/// one are left untouched.
pub fn composite_over_background(rgba: &[u8], rgbx: &mut [u8], background: [u8; 3]) {
    let len = rgba.len().min(rgbx.len()) / 4 * 4;
    let (rgba, rgbx) = (&rgba[..len], &mut rgbx[..len]);
    let background_pixel = [background[0], background[1], background[2], 255];
    let background_block: [u8; BLOCK_BYTES] = std::array::from_fn(|i| background_pixel[i % 4]);
    let background_lanes: [u16; BLOCK_BYTES] = std::array::from_fn(|i| u16::from(background_pixel[i % 4]));

    let (src_blocks, src_rest) = rgba.as_chunks::<BLOCK_BYTES>();
    let (dst_blocks, dst_rest) = rgbx.as_chunks_mut::<BLOCK_BYTES>();
    for (src, dst) in src_blocks.iter().zip(dst_blocks.iter_mut()) {
        let (mut all, mut any) = (255u8, 0u8);
        for pixel in 0..BLOCK_PIXELS {
            all &= src[pixel * 4 + 3];
            any |= src[pixel * 4 + 3];
        }
        if any == 0 {
            *dst = background_block;
        } else if all == 255 {
            *dst = *src;
        } else {
            blend_block(src, dst, &background_lanes);
        }
    }
    for (src, dst) in src_rest.chunks_exact(4).zip(dst_rest.chunks_exact_mut(4)) {
        let alpha = u16::from(src[3]);
        for c in 0..3 {
            dst[c] = blend(u16::from(src[c]), background_lanes[c], alpha);
        }
        dst[3] = 255;
    }
}

/// Blends one block. The alpha lane of each pixel gets weight 0, so it takes the
/// background's 255.
#[inline(always)]
fn blend_block(src: &[u8; BLOCK_BYTES], dst: &mut [u8; BLOCK_BYTES], background: &[u16; BLOCK_BYTES]) {
    let mut alpha = [0u16; BLOCK_BYTES];
    for pixel in 0..BLOCK_PIXELS {
        let a = u16::from(src[pixel * 4 + 3]);
        alpha[pixel * 4..pixel * 4 + 3].fill(a);
    }
    for lane in 0..BLOCK_BYTES {
        dst[lane] = blend(u16::from(src[lane]), background[lane], alpha[lane]);
    }
}

/// `(fg * a + bg * (255 - a)) / 255`, rounded to nearest, exact for all 8-bit inputs.
/// Every intermediate fits a u16 (at most 65407), so the compiler can use 16-bit lanes.
#[inline(always)]
fn blend(foreground: u16, background: u16, alpha: u16) -> u8 {
    let sum = foreground * alpha + background * (255 - alpha) + 128;
    // (sum + sum / 256) / 256 equals round(x / 255) for x = sum - 128 in 0..=65025.
    ((sum + (sum >> 8)) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blend_matches_exact_rounding_for_every_input() {
        for a in 0..=255u32 {
            for f in 0..=255u32 {
                for b in [0u32, 1, 77, 128, 254, 255] {
                    let exact = ((f * a + b * (255 - a)) as f64 / 255.0).round() as u8;
                    assert_eq!(blend(f as u16, b as u16, a as u16), exact, "f={f} b={b} a={a}");
                }
            }
        }
    }

    /// Whole blocks (transparent, opaque, mixed) and a tail shorter than a block give
    /// the same pixels as blending each pixel on its own.
    #[test]
    fn block_paths_and_tail_match_per_pixel_blending() {
        let pixels = BLOCK_PIXELS * 3 + 5;
        let mut rgba = vec![0u8; pixels * 4];
        for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
            let alpha = match i / BLOCK_PIXELS {
                0 => 0,
                1 => 255,
                _ => (i * 37 % 256) as u8,
            };
            px.copy_from_slice(&[(i * 11) as u8, (i * 29) as u8, (i * 53) as u8, alpha]);
        }
        let background = [12, 34, 250];
        let mut out = vec![7u8; pixels * 4];
        composite_over_background(&rgba, &mut out, background);
        for (i, (src, dst)) in rgba.chunks_exact(4).zip(out.chunks_exact(4)).enumerate() {
            let a = src[3] as f64 / 255.0;
            for c in 0..3 {
                let exact = (src[c] as f64 * a + background[c] as f64 * (1.0 - a)).round();
                assert!((dst[c] as f64 - exact).abs() <= 0.5, "pixel {i} channel {c}: {dst:?} vs {src:?}");
            }
            assert_eq!(dst[3], 255, "pixel {i}");
        }
    }

    #[test]
    fn opaque_keeps_colour_transparent_gives_background_half_blends() {
        let rgba = [255, 0, 0, 255, 10, 20, 30, 0, 200, 100, 0, 128];
        let mut out = [0u8; 12];
        composite_over_background(&rgba, &mut out, [0, 0, 255]);
        assert_eq!(out, [255, 0, 0, 255, 0, 0, 255, 255, 100, 50, 127, 255]);
    }
}
