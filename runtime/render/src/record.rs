//! Recording: uploads one [`Scene`] into buffers of its own and records its passes
//! (layers first, the main pass into the caller's target last) on a command encoder.
//!
//! A multisampled scene draws each pass into the renderer's multisampled targets and
//! resolves it into the layer or caller's texture; a single-sample one draws straight
//! into that texture, with no resolve.
//!
//! Every call gets fresh buffers and layer textures, so several scenes recorded before
//! one submit never overwrite each other's data. It must not decide what to draw and
//! must not submit.

use std::collections::HashMap;

use crate::gpu::Gpu;
use crate::pipeline::{DrawPipelines, LoadPipeline, VIEW_SIZE};
use crate::scene::{Scene, TexRef, Vertex};
use crate::targets::{COLOR_FORMAT, Targets};

/// What a scene's recording borrows from the renderer.
pub struct Context<'a> {
    pub gpu: &'a Gpu,
    pub pipelines: &'a mut DrawPipelines,
    pub targets: &'a mut Targets,
    pub sampler: &'a wgpu::Sampler,
    /// 1×1 transparent texture bound where a draw samples nothing.
    pub blank: &'a wgpu::TextureView,
    /// Views of `Scene::images`, in order (`None`: not uploaded, drawn blank).
    pub images: &'a [Option<wgpu::TextureView>],
    pub atlas: Option<&'a wgpu::TextureView>,
    /// Samples per pixel of every pass: [`crate::MSAA_SAMPLES`], or 1 for a scene
    /// that lands on whole pixels (see [`crate::sample_count`]).
    pub samples: u32,
}

/// A new buffer holding `bytes`, written at creation (zero-padded to the copy
/// alignment).
pub fn buffer_with(gpu: &Gpu, label: &str, usage: wgpu::BufferUsages, bytes: &[u8]) -> wgpu::Buffer {
    let size = (bytes.len() as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT).max(wgpu::COPY_BUFFER_ALIGNMENT);
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: true });
    if let Ok(mut view) = buffer.slice(..).get_mapped_range_mut() {
        let mut padded = view.slice(..);
        padded.slice(..bytes.len()).copy_from_slice(bytes);
    }
    buffer.unmap();
    buffer
}

fn vertex_bytes(vertices: &[Vertex]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(std::mem::size_of_val(vertices));
    for v in vertices {
        for f in v.pos.iter().chain([&v.z]).chain(&v.color).chain(&v.local).chain(&v.uv) {
            bytes.extend_from_slice(&f.to_ne_bytes());
        }
        bytes.extend_from_slice(&v.paint.to_ne_bytes());
    }
    bytes
}

fn floats_bytes<'a>(values: impl Iterator<Item = &'a f32>) -> Vec<u8> {
    values.flat_map(|f| f.to_ne_bytes()).collect()
}

fn layer_texture(gpu: &Gpu, width: u32, height: u32) -> wgpu::TextureView {
    gpu.device
        .create_texture(&wgpu::TextureDescriptor {
            label: Some("group layer"),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: COLOR_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        })
        .create_view(&wgpu::TextureViewDescriptor::default())
}

/// Records `scene` on `encoder`, drawing (or resolving) the main pass into `target`;
/// with `load` the target's content is kept instead of clearing (copied into the
/// multisampled target first when multisampled).
pub fn record(cx: &mut Context<'_>, encoder: &mut wgpu::CommandEncoder, scene: &Scene, target: &wgpu::TextureView, load: Option<(&LoadPipeline, &wgpu::BindGroup)>) {
    let gpu = cx.gpu;
    let usage = wgpu::BufferUsages::empty();
    let (vertices, indices) = if scene.indices.is_empty() {
        (None, None)
    } else {
        let v = buffer_with(gpu, "vertices", usage | wgpu::BufferUsages::VERTEX, &vertex_bytes(&scene.vertices));
        let i = buffer_with(gpu, "indices", usage | wgpu::BufferUsages::INDEX, &scene.indices.iter().flat_map(|i| i.to_ne_bytes()).collect::<Vec<u8>>());
        (Some(v), Some(i))
    };
    let ramp_bytes = if scene.ramps.is_empty() { vec![0u8; 16] } else { floats_bytes(scene.ramps.iter().flatten()) };
    let ramps = buffer_with(gpu, "gradient ramps", wgpu::BufferUsages::STORAGE, &ramp_bytes);
    let stride = u64::from(gpu.device.limits().min_uniform_buffer_offset_alignment).max(VIEW_SIZE);
    let mut view_bytes = vec![0u8; (stride * scene.passes.len().max(1) as u64) as usize];
    for (k, pass) in scene.passes.iter().enumerate() {
        let r = pass.rect;
        let view = [r.x as f32, r.y as f32, 2.0 / r.width.max(1) as f32, -2.0 / r.height.max(1) as f32];
        let at = k * stride as usize;
        if let Some(slot) = view_bytes.get_mut(at..at + 16) {
            slot.copy_from_slice(&floats_bytes(view.iter()));
        }
    }
    let views = buffer_with(gpu, "pass views", wgpu::BufferUsages::UNIFORM, &view_bytes);
    let shared = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("draw shared"),
        layout: &cx.pipelines.shared_layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding { buffer: &views, offset: 0, size: wgpu::BufferSize::new(VIEW_SIZE) }),
            },
            wgpu::BindGroupEntry { binding: 1, resource: ramps.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::Sampler(cx.sampler) },
        ],
    });
    let layers: HashMap<usize, wgpu::TextureView> =
        scene.order.iter().filter(|p| **p != 0).filter_map(|p| scene.passes.get(*p).map(|pass| (*p, layer_texture(gpu, pass.rect.width, pass.rect.height)))).collect();
    let mut texture_groups: HashMap<(TexRef, TexRef), wgpu::BindGroup> = HashMap::new();
    let resolve = |t: TexRef| -> &wgpu::TextureView {
        match t {
            TexRef::None => cx.blank,
            TexRef::Image(i) => cx.images.get(i).and_then(|v| v.as_ref()).unwrap_or(cx.blank),
            TexRef::Atlas => cx.atlas.unwrap_or(cx.blank),
            TexRef::Layer(p) => layers.get(&p).unwrap_or(cx.blank),
        }
    };
    for pass_index in &scene.order {
        let Some(pass) = scene.passes.get(*pass_index) else { continue };
        let main = *pass_index == 0;
        let output = if main { target } else { resolve(TexRef::Layer(*pass_index)) };
        let drawn = cx.targets.draw(gpu, pass.rect.width, pass.rect.height, cx.samples);
        let (multisampled, depth_stencil) = (drawn.color.clone(), drawn.depth_stencil.clone());
        let color_load = match (load.filter(|_| main), &multisampled) {
            (Some((pipeline, group)), Some(color)) => {
                pipeline.record(encoder, color, group);
                wgpu::LoadOp::Load
            }
            (Some(_), None) => wgpu::LoadOp::Load,
            (None, _) => wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
        };
        let color_attachment = match &multisampled {
            Some(color) => wgpu::RenderPassColorAttachment {
                view: color,
                depth_slice: None,
                resolve_target: Some(output),
                ops: wgpu::Operations { load: color_load, store: wgpu::StoreOp::Discard },
            },
            None => wgpu::RenderPassColorAttachment { view: output, depth_slice: None, resolve_target: None, ops: wgpu::Operations { load: color_load, store: wgpu::StoreOp::Store } },
        };
        let mut rp = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some(if main { "draw list" } else { "group layer" }),
            color_attachments: &[Some(color_attachment)],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &depth_stencil,
                depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(0.0), store: wgpu::StoreOp::Discard }),
                stencil_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(0), store: wgpu::StoreOp::Discard }),
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        let (Some(vb), Some(ib)) = (&vertices, &indices) else { continue };
        if pass.draws.is_empty() {
            continue;
        }
        rp.set_vertex_buffer(0, vb.slice(..));
        rp.set_index_buffer(ib.slice(..), wgpu::IndexFormat::Uint32);
        let Ok(offset) = u32::try_from(*pass_index as u64 * stride) else { continue };
        rp.set_bind_group(0, &shared, &[offset]);
        let mut bound: Option<(TexRef, TexRef)> = None;
        let mut state = None;
        let mut stencil_ref = None;
        for draw in &pass.draws {
            if state != Some(draw.state) {
                rp.set_pipeline(cx.pipelines.get(&gpu.device, draw.state, cx.samples));
                state = Some(draw.state);
            }
            let textures = (draw.paint_texture, draw.mask_texture);
            if bound != Some(textures) {
                let group = texture_groups.entry(textures).or_insert_with(|| {
                    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some("draw textures"),
                        layout: &cx.pipelines.texture_layout,
                        entries: &[
                            wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(resolve(textures.0)) },
                            wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(resolve(textures.1)) },
                        ],
                    })
                });
                rp.set_bind_group(1, &*group, &[]);
                bound = Some(textures);
            }
            if stencil_ref != Some(draw.stencil_ref) {
                rp.set_stencil_reference(draw.stencil_ref);
                stencil_ref = Some(draw.stencil_ref);
            }
            rp.draw_indexed(draw.indices.clone(), 0, 0..1);
        }
    }
}
