//! The compositor's GPU pieces: the textured-quad shader and pipeline (premultiplied
//! "over", a clip mask sampled in frame space) and the textures it draws into.

use std::borrow::Cow;

use crate::COLOR_FORMAT;
use crate::pipeline::texture_entry;

const SHADER: &str = r#"
struct VOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) muv: vec2<f32>,
    @location(2) opacity: f32,
};

@group(0) @binding(0) var src: texture_2d<f32>;
@group(0) @binding(1) var mask: texture_2d<f32>;
@group(0) @binding(2) var samp: sampler;

@vertex
fn vs(@location(0) pos: vec2<f32>, @location(1) uv: vec2<f32>, @location(2) muv: vec2<f32>, @location(3) opacity: f32) -> VOut {
    var out: VOut;
    out.pos = vec4<f32>(pos, 0.0, 1.0);
    out.uv = uv;
    out.muv = muv;
    out.opacity = opacity;
    return out;
}

@fragment
fn fs_masked(in: VOut) -> @location(0) vec4<f32> {
    let c = textureSample(src, samp, in.uv);
    let m = textureSample(mask, samp, in.muv).a;
    return c * (in.opacity * m);
}

@fragment
fn fs_plain(in: VOut) -> @location(0) vec4<f32> {
    return textureSample(src, samp, in.uv) * in.opacity;
}

// Texels land on pixels one to one: fetch instead of filtering.
@fragment
fn fs_exact(in: VOut) -> @location(0) vec4<f32> {
    let texel = vec2<i32>(in.uv * vec2<f32>(textureDimensions(src)));
    return textureLoad(src, texel, 0) * in.opacity;
}
"#;

/// The fragment shader a quad needs; cheaper ones skip the mask and the filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum QuadShader {
    /// Filtered source times a clip mask sampled in frame space.
    Masked,
    /// Filtered source, no mask.
    Plain,
    /// Whole-pixel placement, no mask: texels fetched, not filtered.
    Exact,
    /// Filtered source written as it is, no blending (fills a repainted box).
    Replace,
}

impl QuadShader {
    fn entry_point(self) -> &'static str {
        match self {
            QuadShader::Masked => "fs_masked",
            QuadShader::Plain | QuadShader::Replace => "fs_plain",
            QuadShader::Exact => "fs_exact",
        }
    }
}

/// Floats per composite vertex: clip-space pos (2), source uv (2), mask uv (2), opacity (1).
pub(super) const VERTEX_FLOATS: usize = 7;
pub(super) const VERTEX_SIZE: u64 = (VERTEX_FLOATS * 4) as u64;

/// A GPU texture the compositor owns, sized to the frame.
pub(super) struct Surface {
    pub texture: wgpu::Texture,
    pub view: wgpu::TextureView,
}

pub(super) fn surface(device: &wgpu::Device, width: u32, height: u32, label: &str) -> Surface {
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: COLOR_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
    Surface { texture, view }
}

pub(super) fn bind_group_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("composite"),
        entries: &[
            texture_entry(0),
            texture_entry(1),
            wgpu::BindGroupLayoutEntry {
                binding: 2,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                count: None,
            },
        ],
    })
}

fn build_pipeline(device: &wgpu::Device, layout: &wgpu::BindGroupLayout, shader: QuadShader) -> wgpu::RenderPipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("composite"),
        source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(SHADER)),
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("composite"),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    let attributes = [
        wgpu::VertexAttribute { format: wgpu::VertexFormat::Float32x2, offset: 0, shader_location: 0 },
        wgpu::VertexAttribute { format: wgpu::VertexFormat::Float32x2, offset: 8, shader_location: 1 },
        wgpu::VertexAttribute { format: wgpu::VertexFormat::Float32x2, offset: 16, shader_location: 2 },
        wgpu::VertexAttribute { format: wgpu::VertexFormat::Float32, offset: 24, shader_location: 3 },
    ];
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("composite"),
        layout: Some(&pipeline_layout),
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
        primitive: wgpu::PrimitiveState { topology: wgpu::PrimitiveTopology::TriangleList, cull_mode: None, ..wgpu::PrimitiveState::default() },
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some(shader.entry_point()),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: COLOR_FORMAT,
                blend: (shader != QuadShader::Replace).then_some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

/// One composite pipeline per [`QuadShader`].
pub(super) struct QuadPipelines {
    masked: wgpu::RenderPipeline,
    plain: wgpu::RenderPipeline,
    exact: wgpu::RenderPipeline,
    replace: wgpu::RenderPipeline,
}

impl QuadPipelines {
    pub fn new(device: &wgpu::Device, layout: &wgpu::BindGroupLayout) -> QuadPipelines {
        QuadPipelines {
            masked: build_pipeline(device, layout, QuadShader::Masked),
            plain: build_pipeline(device, layout, QuadShader::Plain),
            exact: build_pipeline(device, layout, QuadShader::Exact),
            replace: build_pipeline(device, layout, QuadShader::Replace),
        }
    }

    pub fn get(&self, shader: QuadShader) -> &wgpu::RenderPipeline {
        match shader {
            QuadShader::Masked => &self.masked,
            QuadShader::Plain => &self.plain,
            QuadShader::Exact => &self.exact,
            QuadShader::Replace => &self.replace,
        }
    }
}
