//! Render-target bookkeeping: the multisampled colour and depth-stencil textures a
//! pass draws into, or for a single-sample pass its depth-stencil texture alone (one
//! set per frame size and sample count, a few kept), the renderer's own
//! single-sample resolve texture for [`crate::Renderer::render`], and the readback
//! buffer that copies a texture to the CPU.
//!
//! It must not draw: it only creates, keeps and evicts textures and buffers. Every
//! cache here is bounded (a handful of sizes, one readback buffer).

use crate::gpu::Gpu;

/// Samples per pixel.
pub const MSAA_SAMPLES: u32 = 4;
/// Format of every colour target: `Rgba8Unorm` holding sRGB values, premultiplied.
pub const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
/// Depth (painter's order, see `flatten`) and stencil (clip nesting level).
pub const DEPTH_STENCIL_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth24PlusStencil8;
/// Frame sizes and sample counts whose targets are kept at once (a compositor drawing
/// layers of a few sizes should not reallocate them every call)...
const KEPT_SIZES: usize = 12;
/// ...as long as they hold at most this many bytes together (colour and
/// depth-stencil, every sample).
const KEPT_BYTES: u64 = 256 << 20;

/// The targets a pass of one frame size and sample count draws into.
pub struct DrawTargets {
    pub width: u32,
    pub height: u32,
    pub samples: u32,
    /// The multisampled colour target; `None` for a single-sample pass, which draws
    /// into the caller's texture itself.
    pub color: Option<wgpu::TextureView>,
    pub depth_stencil: wgpu::TextureView,
    last_used: u64,
}

/// Bytes the targets of one size and sample count hold (4 per depth-stencil sample,
/// 4 more per colour sample when multisampled).
fn target_bytes(width: u32, height: u32, samples: u32) -> u64 {
    let per_sample = if samples > 1 { 8 } else { 4 };
    u64::from(width) * u64::from(height) * u64::from(samples) * per_sample
}

/// The renderer's own single-sample target for [`crate::Renderer::render`].
pub struct Resolve {
    pub width: u32,
    pub height: u32,
    pub texture: wgpu::Texture,
    pub view: wgpu::TextureView,
}

/// Kept targets and the readback buffer.
#[derive(Default)]
pub struct Targets {
    kept: Vec<DrawTargets>,
    clock: u64,
    resolve: Option<Resolve>,
    readback: Option<(wgpu::Buffer, u64)>,
}

fn texture(gpu: &Gpu, label: &str, size: (u32, u32), format: wgpu::TextureFormat, samples: u32, usage: wgpu::TextureUsages) -> wgpu::Texture {
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width: size.0, height: size.1, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: samples,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

impl Targets {
    /// Targets of `width`×`height` with `samples` per pixel ([`MSAA_SAMPLES`] or 1),
    /// made on first use; the least recently used set is dropped past `KEPT_SIZES` or
    /// `KEPT_BYTES` (textures still referenced by recorded commands stay alive until
    /// those finish).
    pub fn draw(&mut self, gpu: &Gpu, width: u32, height: u32, samples: u32) -> &DrawTargets {
        self.clock += 1;
        let clock = self.clock;
        let index = match self.kept.iter().position(|t| (t.width, t.height, t.samples) == (width, height, samples)) {
            Some(i) => i,
            None => {
                while self.kept.len() >= KEPT_SIZES || self.kept.iter().map(|t| target_bytes(t.width, t.height, t.samples)).sum::<u64>() + target_bytes(width, height, samples) > KEPT_BYTES {
                    let Some(oldest) = self.kept.iter().enumerate().min_by_key(|(_, t)| t.last_used).map(|(i, _)| i) else { break };
                    self.kept.swap_remove(oldest);
                }
                let usage = wgpu::TextureUsages::RENDER_ATTACHMENT;
                let color = (samples > 1).then(|| texture(gpu, "msaa colour", (width, height), COLOR_FORMAT, samples, usage));
                let depth = texture(gpu, "depth-stencil", (width, height), DEPTH_STENCIL_FORMAT, samples, usage);
                self.kept.push(DrawTargets {
                    width,
                    height,
                    samples,
                    color: color.map(|c| c.create_view(&wgpu::TextureViewDescriptor::default())),
                    depth_stencil: depth.create_view(&wgpu::TextureViewDescriptor::default()),
                    last_used: clock,
                });
                self.kept.len() - 1
            }
        };
        let t = &mut self.kept[index];
        t.last_used = clock;
        t
    }

    /// The renderer's own resolve texture of `width`×`height` (remade on a size change).
    pub fn resolve(&mut self, gpu: &Gpu, width: u32, height: u32) -> &Resolve {
        if !self.resolve.as_ref().is_some_and(|r| r.width == width && r.height == height) {
            self.resolve = None;
        }
        self.resolve.get_or_insert_with(|| {
            let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC | wgpu::TextureUsages::TEXTURE_BINDING;
            let texture = texture(gpu, "resolved colour", (width, height), COLOR_FORMAT, 1, usage);
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            Resolve { width, height, texture, view }
        })
    }

    /// A readback buffer of at least `size` bytes (grown, never shrunk below the
    /// largest frame read so far).
    pub fn readback(&mut self, gpu: &Gpu, size: u64) -> wgpu::Buffer {
        if let Some((buffer, cap)) = &self.readback
            && *cap >= size
        {
            return buffer.clone();
        }
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        self.readback = Some((buffer.clone(), size));
        buffer
    }
}
