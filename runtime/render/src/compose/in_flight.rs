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
    /// Drawn into slot `slot`; its copy is mapped when received.
    /// `opaque`: composited over an opaque background, read back without un-premultiplying.
    Drawn { slot: usize, mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>, drawn: usize, triangles: usize, opaque: bool },
    /// Same pixels as the frame before it (the plan did not change).
    Same,
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
        let drawn = self.queue.iter().filter(|p| matches!(p, Pending::Drawn { .. })).count();
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

    /// Records the copy of slot `index`'s target into its readback buffer.
    pub fn record_copy(&self, encoder: &mut wgpu::CommandEncoder, index: usize) {
        let Some(Some(s)) = self.slots.get(index) else { return };
        encoder.copy_texture_to_buffer(
            s.target.texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &s.buffer,
                layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(s.padded_row), rows_per_image: Some(s.size.1) },
            },
            wgpu::Extent3d { width: s.size.0, height: s.size.1, depth_or_array_layers: 1 },
        );
    }

    /// After the submit: asks for slot `index`'s buffer to be mapped once the copy ran.
    pub fn start_map(&mut self, index: usize, drawn: usize, triangles: usize, opaque: bool) {
        let Some(Some(s)) = self.slots.get(index) else { return };
        let (tx, rx) = mpsc::sync_channel(1);
        s.buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.queue.push_back(Pending::Drawn { slot: index, mapped: rx, drawn, triangles, opaque });
    }

    /// Waits for slot `index`'s copy and returns its pixels as straight-alpha RGBA8
    /// (`opaque`: as they are, every alpha being 255).
    pub fn read(
        &self,
        device: &wgpu::Device,
        index: usize,
        mapped: &mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
        opaque: bool,
    ) -> Result<(u32, u32, Vec<u8>), RenderError> {
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
        let pixels = {
            let view = s.buffer.slice(..).get_mapped_range().map_err(|e| RenderError::Readback(e.to_string()))?;
            if opaque { packed_rows(&view, s.padded_row, width, height) } else { straight_rows(&view, s.padded_row, width, height) }
        };
        s.buffer.unmap();
        Ok((width, height, pixels))
    }
}
