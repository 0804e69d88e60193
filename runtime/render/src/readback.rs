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

/// A mapped copy (`padded_row` bytes per row, premultiplied) as tightly packed
/// straight-alpha RGBA8, `width * 4` bytes per row.
pub fn straight_rows(mapped: &[u8], padded_row: u32, width: u32, height: u32) -> Vec<u8> {
    let row = (width * 4) as usize;
    let mut pixels = Vec::with_capacity(row * height as usize);
    for padded in mapped.chunks(padded_row as usize).take(height as usize) {
        pixels.extend_from_slice(padded.get(..row).unwrap_or_default());
    }
    unpremultiply(&mut pixels);
    pixels
}

/// Premultiplied to straight alpha, rounding to nearest.
pub fn unpremultiply(pixels: &mut [u8]) {
    for px in pixels.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        if a == 0 {
            px[..3].fill(0);
        } else if a < 255 {
            for c in &mut px[..3] {
                *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}
