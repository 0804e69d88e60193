//! Readback: copies a premultiplied `Rgba8Unorm` texture into a mappable buffer, waits
//! for it and returns tightly packed straight-alpha RGBA8.
//!
//! It must not draw, and must not block on anything but the GPU finishing the copy.

use std::sync::mpsc;

use crate::gpu::{Gpu, RenderError};
use crate::targets::Targets;

/// A recorded texture-to-buffer copy waiting to be mapped.
pub struct Readback {
    buffer: wgpu::Buffer,
    width: u32,
    height: u32,
    padded_row: u32,
}

/// Records a copy of `texture`'s top-left `width`×`height` into the kept readback
/// buffer.
pub fn encode_copy(gpu: &Gpu, targets: &mut Targets, encoder: &mut wgpu::CommandEncoder, texture: &wgpu::Texture, width: u32, height: u32) -> Readback {
    let padded_row = padded_row(width);
    let buffer = targets.readback(gpu, u64::from(padded_row) * u64::from(height));
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo { texture, mip_level: 0, origin: wgpu::Origin3d::ZERO, aspect: wgpu::TextureAspect::All },
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(padded_row), rows_per_image: Some(height) },
        },
        wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
    );
    Readback { buffer, width, height, padded_row }
}

/// Waits for the copy, strips the row padding and un-premultiplies.
pub fn map(gpu: &Gpu, r: &Readback) -> Result<Vec<u8>, RenderError> {
    let size = u64::from(r.padded_row) * u64::from(r.height);
    let slice = r.buffer.slice(..size);
    let (tx, rx) = mpsc::sync_channel(1);
    slice.map_async(wgpu::MapMode::Read, move |result| {
        let _ = tx.send(result);
    });
    gpu.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| RenderError::Readback(e.to_string()))?;
    rx.recv().map_err(|e| RenderError::Readback(e.to_string()))?.map_err(|e| RenderError::Readback(e.to_string()))?;
    let pixels = {
        let view = slice.get_mapped_range().map_err(|e| RenderError::Readback(e.to_string()))?;
        straight_rows(&view, r.padded_row, r.width, r.height)
    };
    r.buffer.unmap();
    Ok(pixels)
}

/// Bytes per row of a texture-to-buffer copy `width` pixels wide (rows are padded to
/// wgpu's copy alignment).
pub fn padded_row(width: u32) -> u32 {
    (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT
}

/// Frames of at least this many bytes are converted on several threads.
const PARALLEL_BYTES: usize = 1 << 20;

/// A mapped copy (`padded_row` bytes per row, premultiplied) as tightly packed
/// straight-alpha RGBA8, `width * 4` bytes per row. Each row is converted right
/// after it is copied, while it is still in cache; a large frame is split into bands
/// converted in parallel (the GPU is idle while a frame is read back, so on a CPU
/// renderer its cores are free).
pub fn straight_rows(mapped: &[u8], padded_row: u32, width: u32, height: u32) -> Vec<u8> {
    let row = (width * 4) as usize;
    let (padded_row, height) = (padded_row as usize, height as usize);
    let mut pixels = vec![0u8; row * height];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let convert = |rows: &[u8], out: &mut [u8]| {
        for (padded, dst) in rows.chunks(padded_row).zip(out.chunks_exact_mut(row)) {
            if let Some(src) = padded.get(..row) {
                dst.copy_from_slice(src);
                unpremultiply(dst);
            }
        }
    };
    if threads < 2 || pixels.len() < PARALLEL_BYTES || row == 0 {
        convert(mapped, &mut pixels);
        return pixels;
    }
    let band = height.div_ceil(threads);
    std::thread::scope(|scope| {
        for (i, out) in pixels.chunks_mut(band * row).enumerate() {
            let rows = mapped.get(i * band * padded_row..).unwrap_or_default();
            scope.spawn(move || convert(rows, out));
        }
    });
    pixels
}

/// A mapped copy as tightly packed RGBA8 left premultiplied: for opaque frames
/// (composited over an opaque background) both forms are the same bytes.
pub fn packed_rows(mapped: &[u8], padded_row: u32, width: u32, height: u32) -> Vec<u8> {
    let row = (width * 4) as usize;
    if padded_row as usize == row {
        return mapped.get(..row * height as usize).unwrap_or(mapped).to_vec();
    }
    let mut pixels = Vec::with_capacity(row * height as usize);
    for padded in mapped.chunks(padded_row as usize).take(height as usize) {
        pixels.extend_from_slice(padded.get(..row).unwrap_or_default());
    }
    pixels
}

/// Alpha bytes of four RGBA8 pixels read as one little-endian `u128`.
const ALPHA_LANES: u128 = 0xff00_0000_ff00_0000_ff00_0000_ff00_0000;

/// Premultiplied to straight alpha, rounding to nearest. Runs of four pixels that are
/// all transparent black or all opaque (most of an overlay frame) are left as they are.
pub fn unpremultiply(pixels: &mut [u8]) {
    let mut quads = pixels.chunks_exact_mut(16);
    for quad in &mut quads {
        let Ok(bytes) = <[u8; 16]>::try_from(&*quad) else { continue };
        let lanes = u128::from_le_bytes(bytes);
        if lanes == 0 || lanes & ALPHA_LANES == ALPHA_LANES {
            continue;
        }
        quad.chunks_exact_mut(4).for_each(unpremultiply_pixel);
    }
    quads.into_remainder().chunks_exact_mut(4).for_each(unpremultiply_pixel);
}

fn unpremultiply_pixel(px: &mut [u8]) {
    let a = px[3];
    if a < 255 {
        let row = &UNPREMULTIPLIED[usize::from(a)];
        for c in &mut px[..3] {
            *c = row[usize::from(*c)];
        }
    }
}

/// `UNPREMULTIPLIED[a][c]`: premultiplied channel `c` under alpha `a` as straight
/// alpha, rounded to nearest (0 under alpha 0); a table instead of three divisions
/// per pixel.
static UNPREMULTIPLIED: [[u8; 256]; 256] = unpremultiply_table();

const fn unpremultiply_table() -> [[u8; 256]; 256] {
    let mut table = [[0u8; 256]; 256];
    let mut a = 1;
    while a < 256 {
        let mut c = 0;
        while c < 256 {
            let straight = (c * 255 + a / 2) / a;
            table[a][c] = if straight > 255 { 255 } else { straight as u8 };
            c += 1;
        }
        a += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: every pixel on its own, with divisions.
    fn slow(pixels: &[u8]) -> Vec<u8> {
        let mut out = pixels.to_vec();
        for px in out.chunks_exact_mut(4) {
            let a = u32::from(px[3]);
            for c in &mut px[..3] {
                *c = (u32::from(*c) * 255 + a / 2).checked_div(a).map_or(0, |v| v.min(255) as u8);
            }
        }
        out
    }

    #[test]
    fn the_table_matches_division_for_every_alpha_and_channel() {
        let pixels: Vec<u8> = (0..=255u8).flat_map(|a| (0..=255u8).flat_map(move |c| [c, c, c, a])).collect();
        let mut fast = pixels.clone();
        unpremultiply(&mut fast);
        assert_eq!(fast, slow(&pixels));
    }

    #[test]
    fn runs_of_opaque_or_clear_pixels_match_the_per_pixel_conversion() {
        // Mixed runs: transparent, opaque, partial, additive leftovers (colour with
        // alpha 0), and a tail shorter than four pixels.
        let mut pixels = Vec::new();
        for i in 0..67u32 {
            let px = match i % 7 {
                0 | 1 => [0, 0, 0, 0],
                2 | 3 => [200, 100, 50, 255],
                4 => [64, 32, 16, 128],
                5 => [9, 0, 0, 0],
                _ => [255, 255, 255, 255],
            };
            pixels.extend_from_slice(&px);
        }
        let mut fast = pixels.clone();
        unpremultiply(&mut fast);
        assert_eq!(fast, slow(&pixels));
        assert_eq!(&fast[16..20], &[128, 64, 32, 128], "half-alpha pixel doubled");
        assert_eq!(&fast[20..24], &[0, 0, 0, 0], "colour under zero alpha cleared");
    }

    #[test]
    fn padded_rows_are_stripped() {
        let mapped: Vec<u8> = (0..2 * 256).map(|i| if i % 256 < 8 { 255 } else { 7 }).collect();
        assert_eq!(packed_rows(&mapped, 256, 2, 2), vec![255; 16]);
        assert_eq!(straight_rows(&mapped, 256, 2, 2), vec![255; 16]);
        let tight: Vec<u8> = (0..64).collect();
        assert_eq!(packed_rows(&tight, 64, 16, 1), tight);
    }

    #[test]
    fn a_large_frame_converted_in_bands_matches_row_by_row() {
        // 700×500, rows padded to 2816 bytes: past the parallel threshold, uneven bands.
        let (width, height, padded) = (700u32, 500u32, 2816usize);
        let mapped: Vec<u8> = (0..padded * height as usize).map(|i| (i * 7 % 251) as u8).collect();
        let expected: Vec<u8> = mapped.chunks(padded).flat_map(|r| slow(&r[..700 * 4])).collect();
        assert_eq!(straight_rows(&mapped, padded as u32, width, height), expected);
    }
}
