//! Pipelines: the draw-list pipelines (one per shader, blend mode, stencil use and
//! sample count, built on first use) and the pass that loads a caller's target into
//! the multisampled colour target. WGSL lives in `shaders/`.
//!
//! Blend modes use the premultiplied equations: normal `src + dst·(1 − αs)`, add
//! `src + dst` (CSS plus-lighter), screen `src + dst − src·dst`, multiply
//! `src·dst + src·(1 − αd) + dst·(1 − αs)`. Multiply needs dual-source blending; on
//! an adapter without it, the `src·(1 − αd)` term is dropped, which is exact over
//! opaque pixels only.
//!
//! It must not decide what to draw: it only builds pipeline state and records the
//! load pass it owns.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::gpu::RenderError;
use crate::scene::{Blend, DrawState, Shader, StencilMode, Vertex};
use crate::targets::{COLOR_FORMAT, DEPTH_STENCIL_FORMAT, MSAA_SAMPLES};

const VERTEX_SIZE: u64 = std::mem::size_of::<Vertex>() as u64;
const VERTEX_ATTRIBUTES: [wgpu::VertexAttribute; 6] = wgpu::vertex_attr_array![
    0 => Float32x2, 1 => Float32, 2 => Float32x4, 3 => Float32x2, 4 => Float32x2, 5 => Uint32
];

/// Size of one pass's view uniform (origin and scale), padded to the offset alignment.
pub const VIEW_SIZE: u64 = 16;

/// The draw-list pipelines and their bind-group layouts.
pub struct DrawPipelines {
    module: wgpu::ShaderModule,
    /// Holds the multiply entry points when dual-source blending is on.
    dual: Option<wgpu::ShaderModule>,
    /// Group 0: view uniform (dynamic offset), ramps, sampler.
    pub shared_layout: wgpu::BindGroupLayout,
    /// Group 1: paint texture, mask texture.
    pub texture_layout: wgpu::BindGroupLayout,
    layout: wgpu::PipelineLayout,
    built: HashMap<(DrawState, u32), wgpu::RenderPipeline>,
}

/// A filterable 2D float texture read by the fragment stage.
pub(crate) fn texture_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: true },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

impl DrawPipelines {
    pub fn new(device: &wgpu::Device, dual_source_blending: bool) -> DrawPipelines {
        let source = include_str!("shaders/draw.wgsl");
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("draw"), source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(source)) });
        let dual = dual_source_blending.then(|| {
            let text = format!("enable dual_source_blending;\n{source}\n{}", include_str!("shaders/dual.wgsl"));
            device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("draw multiply"), source: wgpu::ShaderSource::Wgsl(Cow::Owned(text)) })
        });
        let shared_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("draw shared"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX,
                    ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Uniform, has_dynamic_offset: true, min_binding_size: wgpu::BufferSize::new(VIEW_SIZE) },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Storage { read_only: true }, has_dynamic_offset: false, min_binding_size: None },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let texture_layout =
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("draw textures"), entries: &[texture_entry(0), texture_entry(1)] });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("draw"),
            bind_group_layouts: &[Some(&shared_layout), Some(&texture_layout)],
            immediate_size: 0,
        });
        DrawPipelines { module, dual, shared_layout, texture_layout, layout, built: HashMap::new() }
    }

    /// The pipeline for `state` drawing `samples` per pixel ([`MSAA_SAMPLES`] or 1),
    /// built on first use (at most 3 × 4 + 2 of them per sample count).
    pub fn get(&mut self, device: &wgpu::Device, state: DrawState, samples: u32) -> &wgpu::RenderPipeline {
        let state = match state.stencil {
            // Stencil-only draws write no colour: shader and blend do not matter.
            StencilMode::ClipPush | StencilMode::ClipPop => DrawState { shader: Shader::Solid, blend: Blend::Normal, ..state },
            StencilMode::Content => state,
        };
        let (module, dual, layout) = (&self.module, self.dual.as_ref(), &self.layout);
        self.built.entry((state, samples)).or_insert_with(|| build_draw(device, module, dual, layout, state, samples))
    }
}

fn blend_state(blend: Blend, dual: bool) -> wgpu::BlendState {
    use wgpu::{BlendComponent, BlendFactor as F, BlendOperation};
    let component = |src_factor, dst_factor| BlendComponent { src_factor, dst_factor, operation: BlendOperation::Add };
    let over_alpha = component(F::One, F::OneMinusSrcAlpha);
    match blend {
        Blend::Normal => wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING,
        Blend::Add => wgpu::BlendState { color: component(F::One, F::One), alpha: component(F::One, F::One) },
        Blend::Screen => wgpu::BlendState { color: component(F::One, F::OneMinusSrc), alpha: over_alpha },
        Blend::Multiply if dual => wgpu::BlendState { color: component(F::OneMinusDstAlpha, F::Src1), alpha: over_alpha },
        Blend::Multiply => wgpu::BlendState { color: component(F::Dst, F::OneMinusSrcAlpha), alpha: over_alpha },
    }
}

fn stencil_state(mode: StencilMode) -> (wgpu::StencilState, bool, wgpu::CompareFunction) {
    let face = |pass_op| wgpu::StencilFaceState { compare: wgpu::CompareFunction::Equal, fail_op: wgpu::StencilOperation::Keep, depth_fail_op: wgpu::StencilOperation::Keep, pass_op };
    let (op, depth_write, depth_compare) = match mode {
        StencilMode::Content => (wgpu::StencilOperation::Keep, true, wgpu::CompareFunction::Greater),
        StencilMode::ClipPush => (wgpu::StencilOperation::IncrementClamp, false, wgpu::CompareFunction::Always),
        StencilMode::ClipPop => (wgpu::StencilOperation::DecrementClamp, false, wgpu::CompareFunction::Always),
    };
    (wgpu::StencilState { front: face(op), back: face(op), read_mask: 0xff, write_mask: 0xff }, depth_write, depth_compare)
}

fn build_draw(device: &wgpu::Device, module: &wgpu::ShaderModule, dual: Option<&wgpu::ShaderModule>, layout: &wgpu::PipelineLayout, state: DrawState, samples: u32) -> wgpu::RenderPipeline {
    let multiply = state.blend == Blend::Multiply && state.stencil == StencilMode::Content;
    let (fs_module, vs, fs) = match (state.shader, multiply.then_some(dual).flatten()) {
        (Shader::Solid, Some(d)) => (d, "vs_solid", "fs_solid_multiply"),
        (Shader::Mask, Some(d)) => (d, "vs_mask", "fs_mask_multiply"),
        (Shader::Paint, Some(d)) => (d, "vs_paint", "fs_paint_multiply"),
        (Shader::Solid, None) => (module, "vs_solid", "fs_solid"),
        (Shader::Mask, None) => (module, "vs_mask", "fs_mask"),
        (Shader::Paint, None) => (module, "vs_paint", "fs_paint"),
    };
    let (stencil, depth_write_enabled, depth_compare) = stencil_state(state.stencil);
    let write_mask = if state.stencil == StencilMode::Content { wgpu::ColorWrites::ALL } else { wgpu::ColorWrites::empty() };
    let mask_attributes = [VERTEX_ATTRIBUTES[0], VERTEX_ATTRIBUTES[1], VERTEX_ATTRIBUTES[2], VERTEX_ATTRIBUTES[4]];
    let attributes: &[wgpu::VertexAttribute] = match state.shader {
        Shader::Solid => &VERTEX_ATTRIBUTES[..3],
        Shader::Mask => &mask_attributes,
        Shader::Paint => &VERTEX_ATTRIBUTES,
    };
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("draw"),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module: fs_module,
            entry_point: Some(vs),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            buffers: &[Some(wgpu::VertexBufferLayout { array_stride: VERTEX_SIZE, step_mode: wgpu::VertexStepMode::Vertex, attributes })],
        },
        primitive: wgpu::PrimitiveState { topology: wgpu::PrimitiveTopology::TriangleList, cull_mode: None, ..wgpu::PrimitiveState::default() },
        depth_stencil: Some(wgpu::DepthStencilState {
            format: DEPTH_STENCIL_FORMAT,
            depth_write_enabled: Some(depth_write_enabled),
            depth_compare: Some(depth_compare),
            stencil,
            bias: wgpu::DepthBiasState::default(),
        }),
        multisample: wgpu::MultisampleState { count: samples, mask: !0, alpha_to_coverage_enabled: false },
        fragment: Some(wgpu::FragmentState {
            module: fs_module,
            entry_point: Some(fs),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            targets: &[Some(wgpu::ColorTargetState { format: COLOR_FORMAT, blend: Some(blend_state(state.blend, dual.is_some())), write_mask })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

/// Copies a single-sample target into every sample of a multisampled one.
pub struct LoadPipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

impl LoadPipeline {
    pub fn new(device: &wgpu::Device) -> LoadPipeline {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("load"),
            source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(include_str!("shaders/load.wgsl"))),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("load"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: false },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
                count: None,
            }],
        });
        let pipeline_layout =
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("load"), bind_group_layouts: &[Some(&layout)], immediate_size: 0 });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("load"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState { count: MSAA_SAMPLES, mask: !0, alpha_to_coverage_enabled: false },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs"),
                compilation_options: wgpu::PipelineCompilationOptions::default(),
                targets: &[Some(wgpu::ColorTargetState { format: COLOR_FORMAT, blend: None, write_mask: wgpu::ColorWrites::ALL })],
            }),
            multiview_mask: None,
            cache: None,
        });
        LoadPipeline { pipeline, layout }
    }

    /// A bind group reading `target`, after checking it can be read and is big enough.
    pub fn bind(&self, device: &wgpu::Device, target: &wgpu::TextureView, width: u32, height: u32) -> Result<wgpu::BindGroup, RenderError> {
        let texture = target.texture();
        if !texture.usage().contains(wgpu::TextureUsages::TEXTURE_BINDING) || texture.width() < width || texture.height() < height {
            return Err(RenderError::Gpu(format!(
                "drawing over a target's content (clear = false) needs a target of at least {width}x{height} with \
                 TEXTURE_BINDING usage; this one is {}x{} with {:?}",
                texture.width(),
                texture.height(),
                texture.usage()
            )));
        }
        Ok(device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("load"),
            layout: &self.layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(target) }],
        }))
    }

    /// Records a pass filling `msaa_color` with the bound texture's content.
    pub fn record(&self, encoder: &mut wgpu::CommandEncoder, msaa_color: &wgpu::TextureView, bind_group: &wgpu::BindGroup) {
        let mut pass = cleared_pass(encoder, msaa_color, "load target");
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// Begins a pass over `view` alone (no depth), cleared to transparent and stored.
pub(crate) fn cleared_pass<'e>(encoder: &'e mut wgpu::CommandEncoder, view: &wgpu::TextureView, label: &str) -> wgpu::RenderPass<'e> {
    pass_cleared_to(encoder, view, label, wgpu::Color::TRANSPARENT)
}

/// A single-sample pass on `view`, cleared to `clear` (premultiplied).
pub(crate) fn pass_cleared_to<'e>(encoder: &'e mut wgpu::CommandEncoder, view: &wgpu::TextureView, label: &str, clear: wgpu::Color) -> wgpu::RenderPass<'e> {
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations { load: wgpu::LoadOp::Clear(clear), store: wgpu::StoreOp::Store },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}
