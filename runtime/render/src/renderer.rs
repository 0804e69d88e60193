//! The headless wgpu compositor: owns the device, the pipeline, the render targets and
//! the readback; draws one frame's flattened geometry with 4× MSAA and reads it back
//! as tightly packed RGBA8.
//!
//! Colour: draw-list colours are sRGB with straight alpha. They are premultiplied on the
//! CPU and blended premultiplied (`One, OneMinusSrcAlpha`) over a transparent
//! background in sRGB space, as browsers and CSS do, so a colour picked in a design
//! tool comes out as the same bytes. The target is `Rgba8Unorm` holding sRGB values;
//! readback un-premultiplies, so [`Frame::pixels`] is straight-alpha sRGB RGBA8, the
//! layout PNG and the `image` crate use.
//!
//! It must not panic on a validated draw list; GPU errors inside a frame are caught by
//! an error scope and returned as [`RenderError::Gpu`].

use std::borrow::Cow;
use std::sync::mpsc;

use showrunner_core::DrawOp;

use crate::flatten::{Geometry, Skipped, Vertex, flatten};
use crate::gpu::{AdapterSummary, Gpu, RenderError};
use crate::tessellate::Cache;

/// Samples per pixel.
pub const MSAA_SAMPLES: u32 = 4;
const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
const VERTEX_SIZE: u64 = std::mem::size_of::<Vertex>() as u64;

const SHADER: &str = r#"
struct Out {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vs(@location(0) pos: vec3<f32>, @location(1) color: vec4<f32>) -> Out {
    var out: Out;
    out.pos = vec4<f32>(pos, 1.0);
    out.color = color;
    return out;
}

@fragment
fn fs(in: Out) -> @location(0) vec4<f32> {
    return in.color;
}
"#;

/// One rendered frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Straight-alpha sRGB RGBA8, `width * 4` bytes per row, top row first.
    pub pixels: Vec<u8>,
    pub stats: RenderStats,
}

impl Frame {
    /// The RGBA of pixel (x, y); `None` outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = ((y * self.width + x) * 4) as usize;
        self.pixels.get(i..i + 4).and_then(|p| p.try_into().ok())
    }
}

/// What one frame cost and what it left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Fills and strokes drawn.
    pub drawn: usize,
    pub skipped: Skipped,
    pub triangles: usize,
}

/// Targets for one frame size.
struct Targets {
    width: u32,
    height: u32,
    msaa: wgpu::TextureView,
    depth: wgpu::TextureView,
    resolve: wgpu::Texture,
    resolve_view: wgpu::TextureView,
    readback: wgpu::Buffer,
    padded_row: u32,
}

/// A headless renderer. Cheap to reuse across frames: targets, buffers and the
/// tessellation cache are kept.
pub struct Renderer {
    gpu: Gpu,
    pipeline: wgpu::RenderPipeline,
    targets: Option<Targets>,
    vertices: Option<(wgpu::Buffer, u64)>,
    indices: Option<(wgpu::Buffer, u64)>,
    cache: Cache,
}

impl Renderer {
    /// Opens a GPU (or lavapipe) and builds the pipeline.
    pub fn new() -> Result<Renderer, RenderError> {
        let gpu = Gpu::open()?;
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = build_pipeline(&gpu.device);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        Ok(Renderer { gpu, pipeline, targets: None, vertices: None, indices: None, cache: Cache::default() })
    }

    /// The adapter this renderer draws on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.gpu.adapter
    }

    /// Tessellation cache (hits, misses) since the renderer was made.
    pub fn cache_counters(&self) -> (u64, u64) {
        self.cache.counters()
    }

    /// Renders a validated draw list onto a transparent `width`×`height` frame.
    pub fn render(&mut self, ops: &[DrawOp], width: u32, height: u32) -> Result<Frame, RenderError> {
        let max = self.gpu.max_texture_side;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(RenderError::BadSize { width, height, max });
        }
        let geometry = flatten(ops, width, height, &mut self.cache);
        self.cache.end_frame();
        let stats = RenderStats { drawn: geometry.drawn, skipped: geometry.skipped, triangles: geometry.indices.len() / 3 };

        let scope = self.gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = self.gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        self.ensure_targets(width, height);
        self.upload(&geometry);
        let submitted = self.encode(geometry.indices.len());
        let oom = pollster::block_on(oom.pop());
        let invalid = pollster::block_on(scope.pop());
        if let Some(e) = oom.or(invalid) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        let pixels = self.read_back(submitted)?;
        Ok(Frame { width, height, pixels, stats })
    }

    fn ensure_targets(&mut self, width: u32, height: u32) {
        if self.targets.as_ref().is_some_and(|t| t.width == width && t.height == height) {
            return;
        }
        let device = &self.gpu.device;
        let size = wgpu::Extent3d { width, height, depth_or_array_layers: 1 };
        let texture = |label, format, samples, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: samples,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let msaa = texture("msaa colour", COLOR_FORMAT, MSAA_SAMPLES, wgpu::TextureUsages::RENDER_ATTACHMENT);
        let depth = texture("msaa depth", DEPTH_FORMAT, MSAA_SAMPLES, wgpu::TextureUsages::RENDER_ATTACHMENT);
        let resolve =
            texture("resolved colour", COLOR_FORMAT, 1, wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC);
        let padded_row = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        self.targets = Some(Targets {
            width,
            height,
            msaa: msaa.create_view(&wgpu::TextureViewDescriptor::default()),
            depth: depth.create_view(&wgpu::TextureViewDescriptor::default()),
            resolve_view: resolve.create_view(&wgpu::TextureViewDescriptor::default()),
            resolve,
            readback,
            padded_row,
        });
    }

    fn upload(&mut self, g: &Geometry) {
        if g.indices.is_empty() {
            return;
        }
        let mut vbytes = Vec::with_capacity(g.vertices.len() * VERTEX_SIZE as usize);
        for v in &g.vertices {
            for f in v.pos.iter().chain(&v.color) {
                vbytes.extend_from_slice(&f.to_ne_bytes());
            }
        }
        let mut ibytes = Vec::with_capacity(g.indices.len() * 4);
        for i in &g.indices {
            ibytes.extend_from_slice(&i.to_ne_bytes());
        }
        // wgpu writes must be a multiple of 4 bytes, which both already are.
        write_growing(&self.gpu, &mut self.vertices, wgpu::BufferUsages::VERTEX, &vbytes);
        write_growing(&self.gpu, &mut self.indices, wgpu::BufferUsages::INDEX, &ibytes);
    }

    /// Records and submits the draw and the copy into the readback buffer.
    fn encode(&self, index_count: usize) -> Option<wgpu::SubmissionIndex> {
        let t = self.targets.as_ref()?;
        let mut encoder = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("frame") });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("draw list"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &t.msaa,
                    depth_slice: None,
                    resolve_target: Some(&t.resolve_view),
                    ops: wgpu::Operations { load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT), store: wgpu::StoreOp::Discard },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &t.depth,
                    depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(0.0), store: wgpu::StoreOp::Discard }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            if let (Some((vb, _)), Some((ib, _)), Ok(count)) = (&self.vertices, &self.indices, u32::try_from(index_count))
                && count > 0
            {
                pass.set_pipeline(&self.pipeline);
                pass.set_vertex_buffer(0, vb.slice(..));
                pass.set_index_buffer(ib.slice(..), wgpu::IndexFormat::Uint32);
                pass.draw_indexed(0..count, 0, 0..1);
            }
        }
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &t.resolve,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &t.readback,
                layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(t.padded_row), rows_per_image: Some(t.height) },
            },
            wgpu::Extent3d { width: t.width, height: t.height, depth_or_array_layers: 1 },
        );
        Some(self.gpu.queue.submit([encoder.finish()]))
    }

    /// Maps the readback buffer, strips the row padding and un-premultiplies.
    fn read_back(&self, submitted: Option<wgpu::SubmissionIndex>) -> Result<Vec<u8>, RenderError> {
        let t = self.targets.as_ref().ok_or_else(|| RenderError::Readback("no render target".into()))?;
        submitted.ok_or_else(|| RenderError::Readback("nothing was submitted".into()))?;
        let slice = t.readback.slice(..);
        let (tx, rx) = mpsc::sync_channel(1);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.gpu.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| RenderError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let row = (t.width * 4) as usize;
        let mut pixels = Vec::with_capacity(row * t.height as usize);
        {
            let view = slice.get_mapped_range().map_err(|e| RenderError::Readback(e.to_string()))?;
            for padded in view.chunks(t.padded_row as usize).take(t.height as usize) {
                pixels.extend_from_slice(padded.get(..row).unwrap_or_default());
            }
        }
        t.readback.unmap();
        unpremultiply(&mut pixels);
        Ok(pixels)
    }
}

/// Premultiplied to straight alpha, rounding to nearest.
fn unpremultiply(pixels: &mut [u8]) {
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

/// Writes `bytes` into `slot`'s buffer, replacing it with a bigger one when needed.
fn write_growing(gpu: &Gpu, slot: &mut Option<(wgpu::Buffer, u64)>, usage: wgpu::BufferUsages, bytes: &[u8]) {
    let len = bytes.len() as u64;
    if slot.as_ref().is_none_or(|(_, cap)| *cap < len) {
        let cap = len.next_power_of_two().max(4096);
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("geometry"),
            size: cap,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        *slot = Some((buffer, cap));
    }
    if let Some((buffer, _)) = slot {
        gpu.queue.write_buffer(buffer, 0, bytes);
    }
}

fn build_pipeline(device: &wgpu::Device) -> wgpu::RenderPipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("solid"),
        source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(SHADER)),
    });
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("solid"),
        bind_group_layouts: &[],
        immediate_size: 0,
    });
    let attributes = [
        wgpu::VertexAttribute { format: wgpu::VertexFormat::Float32x3, offset: 0, shader_location: 0 },
        wgpu::VertexAttribute { format: wgpu::VertexFormat::Float32x4, offset: 12, shader_location: 1 },
    ];
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("solid"),
        layout: Some(&layout),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: VERTEX_SIZE,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &attributes,
            })],
        },
        primitive: wgpu::PrimitiveState {
            topology: wgpu::PrimitiveTopology::TriangleList,
            cull_mode: None,
            ..wgpu::PrimitiveState::default()
        },
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(true),
            depth_compare: Some(wgpu::CompareFunction::Greater),
            stencil: wgpu::StencilState::default(),
            bias: wgpu::DepthBiasState::default(),
        }),
        multisample: wgpu::MultisampleState { count: MSAA_SAMPLES, mask: !0, alpha_to_coverage_enabled: false },
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: COLOR_FORMAT,
                blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}
