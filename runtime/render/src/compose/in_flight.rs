//! Frames in flight: two frame targets, each with its own readback buffer, so frame
//! n+1 can be ticked and recorded while the GPU (or lavapipe's threads) still draws
//! and copies frame n. A slot is reused only after its frame was received.
//!
//! It must not draw; it only owns the frame targets, records the copies and maps them.

use std::collections::VecDeque;
use std::sync::mpsc;

use super::pipeline::{Surface, surface};
use crate::gpu::RenderError;
use crate::readback::{packed_rows, padded_row, straight_rows};

/// Frames that may be submitted before the oldest must be received.
pub const MAX_IN_FLIGHT: usize = 2;

struct Slot {
    target: Surface,
    buffer: wgpu::Buffer,
    size: (u32, u32),
    padded_row: u32,
}

/// A submitted frame waiting to be received.
pub(super) enum Pending {
    Drawn(DrawnFrame),
    /// Same pixels as the frame before it (the plan did not change).
    Same,
}

/// A frame drawn into a slot, its copy being mapped.
pub(super) struct DrawnFrame {
    pub slot: usize,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
    pub drawn: usize,
    pub triangles: usize,
    /// Composited over an opaque background: read back without un-premultiplying.
    pub opaque: bool,
    /// For a repainted frame, the row bands copied back (the other rows are the
    /// previous frame's); `None`: every row.
    pub rows: Option<Vec<(u32, u32)>>,
}

#[derive(Default)]
pub(super) struct InFlight {
    slots: Vec<Option<Slot>>,
    next: usize,
    pub queue: VecDeque<Pending>,
}

impl InFlight {
    /// The slot the next frame is drawn into, its target made (or remade) at `width`×`height`.
    /// `None` when every slot still holds a frame not yet received.
    pub fn next_slot(&mut self, device: &wgpu::Device, width: u32, height: u32) -> Option<usize> {
        let drawn = self.queue.iter().filter(|p| matches!(p, Pending::Drawn(_))).count();
        if drawn >= MAX_IN_FLIGHT {
            return None;
        }
        if self.slots.len() < MAX_IN_FLIGHT {
            self.slots.resize_with(MAX_IN_FLIGHT, || None);
        }
        let index = self.next % MAX_IN_FLIGHT;
        self.next += 1;
        let slot = self.slots.get_mut(index)?;
        if slot.as_ref().is_none_or(|s| s.size != (width, height)) {
            let padded_row = padded_row(width);
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("frame readback"),
                size: u64::from(padded_row) * u64::from(height),
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            });
            *slot = Some(Slot { target: surface(device, width, height, "frame"), buffer, size: (width, height), padded_row });
        }
        slot.as_ref().map(|_| index)
    }

    /// The frame target of slot `index`.
    pub fn target(&self, index: usize) -> Option<&Surface> {
        self.slots.get(index)?.as_ref().map(|s| &s.target)
    }

    /// Records the copy of slot `index`'s target into its readback buffer: every row,
    /// or only the bands `rows` (each at the offset it has in a whole copy).
    pub fn record_copy(&self, encoder: &mut wgpu::CommandEncoder, index: usize, rows: Option<&[(u32, u32)]>) {
        let Some(Some(s)) = self.slots.get(index) else { return };
        let whole = [(0, s.size.1)];
        for &(y0, y1) in rows.unwrap_or(&whole) {
            let y1 = y1.min(s.size.1);
            if y0 >= y1 {
                continue;
            }
            encoder.copy_texture_to_buffer(
                wgpu::TexelCopyTextureInfo { texture: &s.target.texture, mip_level: 0, origin: wgpu::Origin3d { x: 0, y: y0, z: 0 }, aspect: wgpu::TextureAspect::All },
                wgpu::TexelCopyBufferInfo {
                    buffer: &s.buffer,
                    layout: wgpu::TexelCopyBufferLayout { offset: u64::from(y0) * u64::from(s.padded_row), bytes_per_row: Some(s.padded_row), rows_per_image: Some(y1 - y0) },
                },
                wgpu::Extent3d { width: s.size.0, height: y1 - y0, depth_or_array_layers: 1 },
            );
        }
    }

    /// After the submit: asks for slot `index`'s buffer to be mapped once the copy ran.
    pub fn start_map(&mut self, index: usize, drawn: usize, triangles: usize, opaque: bool, rows: Option<Vec<(u32, u32)>>) {
        let Some(Some(s)) = self.slots.get(index) else { return };
        let (tx, rx) = mpsc::sync_channel(1);
        s.buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.queue.push_back(Pending::Drawn(DrawnFrame { slot: index, mapped: rx, drawn, triangles, opaque, rows }));
    }

    /// Waits for `frame`'s copy and returns its pixels as straight-alpha RGBA8
    /// (opaque frames as they are, every alpha being 255). A frame copied back in row
    /// bands starts from `previous`, the frame before it.
    pub fn read(&self, device: &wgpu::Device, frame: &DrawnFrame, previous: Option<&[u8]>) -> Result<(u32, u32, Vec<u8>), RenderError> {
        let (index, mapped, opaque) = (frame.slot, &frame.mapped, frame.opaque);
        let Some(Some(s)) = self.slots.get(index) else {
            return Err(RenderError::Readback("frame slot vanished".into()));
        };
        // Waiting for the device runs the map callback; a second poll covers a callback
        // that lands just after the first returned.
        let mut result = mapped.try_recv().ok();
        for _ in 0..2 {
            if result.is_some() {
                break;
            }
            device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| RenderError::Readback(e.to_string()))?;
            result = mapped.try_recv().ok();
        }
        let result = result.ok_or_else(|| RenderError::Readback("the frame copy was not mapped after the GPU finished".into()))?;
        result.map_err(|e| RenderError::Readback(e.to_string()))?;
        let (width, height) = s.size;
        let convert = |mapped: &[u8], rows: u32| if opaque { packed_rows(mapped, s.padded_row, width, rows) } else { straight_rows(mapped, s.padded_row, width, rows) };
        let pixels = {
            let view = s.buffer.slice(..).get_mapped_range().map_err(|e| RenderError::Readback(e.to_string()))?;
            match &frame.rows {
                None => Ok(convert(&view, height)),
                Some(bands) => match previous.filter(|p| p.len() == (width * height * 4) as usize) {
                    None => Err(RenderError::Readback("the frame before a repainted frame was not received".into())),
                    Some(previous) => {
                        let mut pixels = previous.to_vec();
                        let row = (width * 4) as usize;
                        for &(y0, y1) in bands {
                            let y1 = y1.min(height);
                            let from = y0 as usize * s.padded_row as usize;
                            if y0 >= y1 || from >= view.len() {
                                continue;
                            }
                            let band = convert(&view[from..], y1 - y0);
                            if let Some(dst) = pixels.get_mut(y0 as usize * row..y1 as usize * row) {
                                dst.copy_from_slice(&band);
                            }
                        }
                        Ok(pixels)
                    }
                },
            }
        };
        s.buffer.unmap();
        let pixels = pixels?;
        Ok((width, height, pixels))
    }
}
