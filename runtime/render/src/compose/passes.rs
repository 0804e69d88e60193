//! Records the composite passes: textured quads drawn "over" into scene textures and
//! the frame, and the frame's repaint, where only damaged boxes are composited again
//! on top of a copy of the previous frame.
//!
//! It must not decide what to draw (the compositor does); it only records.

use super::damage::PixelBox;
use super::geometry::push_quad;
use super::pipeline::{QuadPipelines, QuadShader, VERTEX_SIZE};

/// One textured quad in a composite pass.
pub(super) struct Quad<'a> {
    pub source: &'a wgpu::TextureView,
    /// A clip mask in frame space; `None`: nothing clipped.
    pub mask: Option<&'a wgpu::TextureView>,
    /// Pixel-exact placement: texels fetched (or sampled nearest) instead of bilinear.
    pub exact: bool,
    pub corners: [[f32; 2]; 4],
    pub uv: [[f32; 2]; 4],
    pub opacity: f32,
}

impl Quad<'_> {
    fn shader(&self) -> QuadShader {
        match (self.mask, self.exact) {
            (Some(_), _) => QuadShader::Masked,
            (None, true) => QuadShader::Exact,
            (None, false) => QuadShader::Plain,
        }
    }
}

/// Quads drawn into `target`, cleared to `clear` first.
pub(super) struct QuadPass<'a> {
    pub target: &'a wgpu::TextureView,
    pub clear: wgpu::Color,
    pub quads: Vec<Quad<'a>>,
}

/// The frame pass redone only inside `boxes`: `previous` (the last frame, same size) is
/// copied into `current` first, each box is filled with `clear_texel` and the quads
/// whose box meets it (`quad_boxes`, one per quad of the frame pass) drawn again.
pub(super) struct Repaint<'a> {
    pub previous: &'a wgpu::Texture,
    pub current: &'a wgpu::Texture,
    pub boxes: Vec<PixelBox>,
    pub quad_boxes: Vec<Option<PixelBox>>,
    /// 1×1: the background colour, or transparent.
    pub clear_texel: &'a wgpu::TextureView,
}

/// What recording needs from the compositor.
pub(super) struct QuadRecorder<'a> {
    pub device: &'a wgpu::Device,
    pub queue: &'a wgpu::Queue,
    pub pipelines: &'a QuadPipelines,
    pub layout: &'a wgpu::BindGroupLayout,
    pub sampler: &'a wgpu::Sampler,
    pub nearest: &'a wgpu::Sampler,
    pub white: &'a wgpu::TextureView,
}

impl QuadRecorder<'_> {
    /// Records `passes` in order; the last is the frame, repainted when `repaint` is given.
    pub fn record(&self, encoder: &mut wgpu::CommandEncoder, passes: &[QuadPass<'_>], size: (u32, u32), repaint: Option<Repaint<'_>>) {
        let fsize = (size.0 as f32, size.1 as f32);
        let mut floats: Vec<f32> = Vec::new();
        for q in passes.iter().flat_map(|p| &p.quads) {
            push_quad(&mut floats, q.corners, q.uv, q.opacity, fsize);
        }
        // The repaint's fill: the whole frame, cut to each box by the scissor.
        let whole = [[0.0, 0.0], [fsize.0, 0.0], [fsize.0, fsize.1], [0.0, fsize.1]];
        let fill_vertex = (floats.len() / super::pipeline::VERTEX_FLOATS) as u32;
        push_quad(&mut floats, whole, [[0.5, 0.5]; 4], 1.0, fsize);
        let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_ne_bytes()).collect();
        let vertices = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("composite quads"),
            size: (bytes.len() as u64).max(VERTEX_SIZE),
            usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue.write_buffer(&vertices, 0, &bytes);

        let mut first_vertex = 0u32;
        let last = passes.len().saturating_sub(1);
        for (i, pass) in passes.iter().enumerate() {
            match repaint.as_ref().filter(|_| i == last) {
                Some(r) => self.repaint(encoder, pass, r, &vertices, first_vertex, fill_vertex, size),
                None => {
                    let mut rp = crate::pipeline::pass_cleared_to(encoder, pass.target, "composite", pass.clear);
                    rp.set_vertex_buffer(0, vertices.slice(..));
                    let mut bound = None;
                    for (k, q) in pass.quads.iter().enumerate() {
                        self.draw(&mut rp, &mut bound, q, first_vertex + 6 * k as u32);
                    }
                }
            }
            first_vertex += 6 * pass.quads.len() as u32;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn repaint(&self, encoder: &mut wgpu::CommandEncoder, pass: &QuadPass<'_>, r: &Repaint<'_>, vertices: &wgpu::Buffer, first_vertex: u32, fill_vertex: u32, size: (u32, u32)) {
        encoder.copy_texture_to_texture(
            r.previous.as_image_copy(),
            r.current.as_image_copy(),
            wgpu::Extent3d { width: size.0, height: size.1, depth_or_array_layers: 1 },
        );
        let mut rp = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("composite repaint"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: pass.target,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations { load: wgpu::LoadOp::Load, store: wgpu::StoreOp::Store },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        rp.set_vertex_buffer(0, vertices.slice(..));
        let fill = Quad { source: r.clear_texel, mask: None, exact: false, corners: [[0.0; 2]; 4], uv: [[0.0; 2]; 4], opacity: 1.0 };
        for b in &r.boxes {
            rp.set_scissor_rect(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
            rp.set_pipeline(self.pipelines.get(QuadShader::Replace));
            rp.set_bind_group(0, &self.bind_group(&fill), &[]);
            rp.draw(fill_vertex..fill_vertex + 6, 0..1);
            let mut bound = None;
            for (k, q) in pass.quads.iter().enumerate() {
                if r.quad_boxes.get(k).copied().flatten().is_some_and(|qb| qb.intersects(b)) {
                    self.draw(&mut rp, &mut bound, q, first_vertex + 6 * k as u32);
                }
            }
        }
    }

    fn draw(&self, rp: &mut wgpu::RenderPass<'_>, bound: &mut Option<QuadShader>, q: &Quad<'_>, first_vertex: u32) {
        if *bound != Some(q.shader()) {
            rp.set_pipeline(self.pipelines.get(q.shader()));
            *bound = Some(q.shader());
        }
        rp.set_bind_group(0, &self.bind_group(q), &[]);
        rp.draw(first_vertex..first_vertex + 6, 0..1);
    }

    fn bind_group(&self, q: &Quad<'_>) -> wgpu::BindGroup {
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("composite quad"),
            layout: self.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(q.source) },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(q.mask.unwrap_or(self.white)) },
                wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::Sampler(if q.exact { self.nearest } else { self.sampler }) },
            ],
        })
    }
}
