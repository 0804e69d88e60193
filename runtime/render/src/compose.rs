//! The layer compositor: turns a [`FramePlan`] (scenes of layers, a transition's
//! views, an overlay) into one frame.
//!
//! Each layer is rasterized by the [`Renderer`] into its own texture covering where it
//! can have ink, and kept: a layer whose `version` and size did not change is neither
//! re-tessellated nor re-rasterized, its texture is composited again (damage
//! tracking, as a browser does for unchanged layers), unless a picture it draws
//! changed ([`Renderer::image_state`]: a GIF advanced, an image arrived, a live input
//! showed a new frame). A frame whose whole plan and pictures are unchanged is not
//! drawn at all: the previous pixels are returned. Layers are
//! composited as textured quads with their transform, opacity (applied to the layer as
//! a whole) and crop; when only a few layers changed, the frame starts from a copy of
//! the previous one and only their boxes are composited again (`damage`). A scene
//! shown through a transition view that is not the identity is composited into a
//! scene texture first, then placed with the view's transform, opacity and clip mask,
//! so a crossfade fades each scene as one picture.
//!
//! It must not touch Wasm, and must not panic on any plan: sizes and numbers come
//! from validated draw lists and the engine's show state.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{Affine, BlendMode, Color, DrawOp, Fill, FillRule, FramePlan, Group, LayerPlan, Paint, Rect, SceneView};

mod bounds;
mod damage;
mod geometry;
mod in_flight;
mod passes;
mod pipeline;

pub use in_flight::MAX_IN_FLIGHT;

use crate::gpu::RenderError;
use crate::renderer::{Frame, RenderStats, Renderer};
use damage::{LayerKey, PixelBox};
use crate::paint::compose as concat;
use geometry::{bucket, intersect, is_exact, rect_corners};
use passes::{Quad, QuadPass, QuadRecorder, Repaint};
use pipeline::{QuadPipelines, Surface, bind_group_layout, surface};


/// What one composed frame cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeStats {
    /// Layers (and overlays, scene clip masks) rasterized this frame.
    pub layers_drawn: usize,
    /// Layers whose cached texture was reused.
    pub layers_reused: usize,
    /// True when the whole plan was unchanged and the previous frame was returned.
    pub frame_reused: bool,
    /// Pixels composited again when the frame was repainted on a copy of the previous
    /// one (only a few layers changed); `None` when it was composited whole.
    pub repainted_pixels: Option<u64>,
    /// Fills and strokes drawn, summed over the layers drawn this frame.
    pub ops_drawn: usize,
    pub triangles: usize,
    /// Ops (or parts) the renderer left out, summed (see [`crate::Skipped`]).
    pub ops_skipped: usize,
    /// Render passes drawn single-sample, summed (see
    /// [`RenderStats::single_sample_passes`]).
    pub single_sample_passes: usize,
    /// Asset names found missing for the first time this frame (one warning each).
    pub newly_missing_assets: Vec<String>,
    /// Font families met for the first time this frame and not bundled (drawn with
    /// the default family).
    pub missing_families: Vec<String>,
}

/// A layer's last rasterization. Only the part of the canvas that can hold ink is
/// rasterized, into a texture whose top-left is canvas pixel `origin`; texture sides
/// are rounded up to a few bucket sizes so layers share multisampled targets.
struct CachedLayer {
    /// `None` when the layer draws nothing.
    surface: Option<(Surface, (u32, u32))>,
    origin: (f32, f32),
    /// Where the layer's canvas can hold ink, in canvas pixels.
    ink: Option<Rect>,
    version: u64,
    ops: Arc<Vec<DrawOp>>,
    size: (u32, u32),
    /// What its images and live inputs showed (see [`Renderer::image_state`]).
    images: Vec<Option<(u64, usize)>>,
}

/// A texture holding canvas pixels from `origin` on.
#[derive(Clone, Copy)]
struct Window<'a> {
    view: &'a wgpu::TextureView,
    origin: (f32, f32),
    texture_size: (f32, f32),
}


/// A plan reduced to what decides its pixels; equal keys draw equal frames.
#[derive(PartialEq)]
struct PlanKey {
    size: (u32, u32),
    background: Option<[u8; 3]>,
    scenes: Vec<(SceneView, Vec<LayerKey>)>,
    overlay: Arc<Vec<DrawOp>>,
    /// What the pictures of every layer and the overlay show (animations, late
    /// arrivals, live inputs' frames).
    images: Vec<Vec<Option<(u64, usize)>>>,
}

/// Composites frame plans; owns the renderer, per-layer textures and the last frame.
pub struct Compositor {
    renderer: Renderer,
    pipelines: QuadPipelines,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    nearest: wgpu::Sampler,
    white: Surface,
    /// 1×1, rewritten before a repaint: what a repainted box is filled with.
    clear_texel: Surface,
    layers: HashMap<String, CachedLayer>,
    /// Scratch surfaces by role ("scene0", "mask0"), kept across frames.
    scratch: HashMap<&'static str, (Surface, (u32, u32))>,
    /// The plan last submitted: an equal plan reuses its pixels.
    last_key: Option<PlanKey>,
    /// The frame last received, for plans that did not change.
    last_frame: Option<Frame>,
    /// The last frame drawn with plain scenes, for repainting only what changed.
    last_drawn: Option<damage::Drawn>,
    in_flight: in_flight::InFlight,
    stats: ComposeStats,
    /// Opaque sRGB colour frames are composited over; `None`: transparent.
    background: Option<[u8; 3]>,
}

impl Compositor {
    /// Wraps a renderer; builds the composite pipeline.
    pub fn new(renderer: Renderer) -> Result<Compositor, RenderError> {
        let device = &renderer.gpu().device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let layout = bind_group_layout(device);
        let pipelines = QuadPipelines::new(device, &layout);
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("composite"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..wgpu::SamplerDescriptor::default()
        });
        let nearest = device.create_sampler(&wgpu::SamplerDescriptor { label: Some("composite exact"), ..wgpu::SamplerDescriptor::default() });
        let white = surface(device, 1, 1, "white");
        let clear_texel = surface(device, 1, 1, "repaint fill");
        crate::resources::write(renderer.gpu(), &white.texture, 0, 0, 1, 1, &[255, 255, 255, 255]);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        Ok(Compositor {
            renderer,
            pipelines,
            layout,
            sampler,
            nearest,
            white,
            clear_texel,
            layers: HashMap::new(),
            scratch: HashMap::new(),
            last_key: None,
            last_frame: None,
            last_drawn: None,
            in_flight: in_flight::InFlight::default(),
            stats: ComposeStats::default(),
            background: None,
        })
    }

    /// The renderer underneath (for assets, the adapter, single draw lists).
    pub fn renderer(&mut self) -> &mut Renderer {
        &mut self.renderer
    }

    /// Composites frames over an opaque sRGB `background` (what a video encoder takes:
    /// H.264 has no alpha), or over transparent black with `None` (the default). Over a
    /// background every pixel comes out opaque, so the readback skips un-premultiplying
    /// and an encoder can take the pixels as they are.
    pub fn set_background(&mut self, background: Option<[u8; 3]>) {
        self.background = background;
    }

    /// What the last [`Compositor::compose`] cost.
    pub fn stats(&self) -> &ComposeStats {
        &self.stats
    }

    /// Composes one frame of `width`×`height` from `plan` and waits for its pixels.
    /// Frames submitted earlier with [`Compositor::submit`] and not yet received are
    /// received first and dropped.
    pub fn compose(&mut self, plan: &FramePlan, width: u32, height: u32) -> Result<Frame, RenderError> {
        self.submit(plan, width, height)?;
        let mut newest = None;
        while let Some(frame) = self.receive()? {
            newest = Some(frame);
        }
        newest.ok_or_else(|| RenderError::Readback("the submitted frame was not received".into()))
    }

    /// Records and submits one frame without waiting for it: the GPU draws and copies
    /// it while the caller ticks the next one. At most [`MAX_IN_FLIGHT`] frames may be
    /// waiting; [`Compositor::receive`] returns them in order.
    pub fn submit(&mut self, plan: &FramePlan, width: u32, height: u32) -> Result<(), RenderError> {
        let _submit = tracing::trace_span!("compose_submit", frame = plan.frame.index).entered();
        let max = self.renderer.gpu().max_texture_side;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(RenderError::BadSize { width, height, max });
        }
        self.renderer.set_time(Duration::from_secs_f64(plan.frame.time.max(0.0)));
        // Pictures are looked at before drawing: a live frame published in between is
        // drawn but not in the key, so the next frame draws its layer again rather than
        // keep a stale picture.
        let key = plan_key(plan, width, height, self.background, &self.renderer);
        if self.last_key.as_ref() == Some(&key) {
            self.stats = ComposeStats { frame_reused: true, layers_reused: count_layers(plan), ..ComposeStats::default() };
            self.in_flight.queue.push_back(in_flight::Pending::Same);
            return Ok(());
        }
        let device = self.renderer.gpu().device.clone();
        let slot = self
            .in_flight
            .next_slot(&device, width, height)
            .ok_or_else(|| RenderError::Readback(format!("{MAX_IN_FLIGHT} frames are already in flight: receive one before submitting more")))?;
        self.stats = ComposeStats::default();
        self.layers.retain(|id, _| id == OVERLAY || plan.scenes.iter().any(|s| s.layers.iter().any(|l| &l.id == id)));

        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("compose") });
        // The key holds each list's image state: layers in order, then the overlay.
        let mut images = key.images.iter().cloned();
        let mut redrawn = Vec::new();
        for layer in plan.scenes.iter().flat_map(|s| &s.layers) {
            if self.rasterize_layer(&mut encoder, layer, images.next().unwrap_or_default(), width, height)? {
                redrawn.push(layer.id.clone());
            }
        }
        for (i, scene) in plan.scenes.iter().enumerate() {
            // A rectangle clip cuts the scene's quad instead (see `rect_scene_quad`).
            if let Some(clip) = scene.view.clip.as_ref().filter(|_| rect_scene_quad(&scene.view, (width, height)).is_none()) {
                let mask = [DrawOp::Fill(Fill { path: clip.clone(), paint: Paint::Solid(Color { r: 1.0, g: 1.0, b: 1.0, a: 1.0 }), rule: FillRule::NonZero })];
                self.draw_scratch(&mut encoder, MASKS[i % MASKS.len()], &mask, width, height)?;
            }
        }
        // The overlay is rasterized like a layer (only its ink box; kept while the
        // transition hands over the same list).
        let overlay = overlay_layer(plan);
        if !plan.overlay.is_empty() {
            self.rasterize_layer(&mut encoder, &overlay, images.next().unwrap_or_default(), width, height)?;
        }
        for name in SCENES.iter().take(plan.scenes.len()) {
            self.ensure_scratch(name, width, height);
        }
        let (drawn, repainted) = self.composite(&mut encoder, plan, (width, height), slot, &redrawn);
        self.last_drawn = drawn;
        self.stats.repainted_pixels = repainted.as_ref().map(|boxes| boxes.iter().map(PixelBox::area).sum());
        // A repainted frame is read back only where it was repainted.
        let rows = repainted.map(|boxes| damage::row_bands(&boxes));
        self.in_flight.record_copy(&mut encoder, slot, rows.as_deref());
        self.renderer.end_frame();
        self.renderer.gpu().queue.submit([encoder.finish()]);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        self.in_flight.start_map(slot, self.stats.ops_drawn, self.stats.triangles, self.background.is_some(), rows);
        self.last_key = Some(key);
        Ok(())
    }

    /// Frames submitted and not yet received.
    pub fn in_flight(&self) -> usize {
        self.in_flight.queue.len()
    }

    /// Waits for the oldest submitted frame and returns it; `None` when none is waiting.
    pub fn receive(&mut self) -> Result<Option<Frame>, RenderError> {
        let Some(pending) = self.in_flight.queue.pop_front() else { return Ok(None) };
        let _receive = tracing::trace_span!("compose_receive").entered();
        let frame = match pending {
            in_flight::Pending::Same => self.last_frame.clone().ok_or_else(|| RenderError::Readback("no earlier frame to repeat".into()))?,
            in_flight::Pending::Drawn(drawn) => {
                let previous = self.last_frame.as_ref().map(|f| &f.pixels[..]);
                let read = tracing::trace_span!("compose_readback").in_scope(|| self.in_flight.read(&self.renderer.gpu().device, &drawn, previous));
                let (width, height, pixels) = match read {
                    Ok(read) => read,
                    Err(e) => {
                        // Later frames must not be built on pixels that never arrived.
                        (self.last_frame, self.last_drawn) = (None, None);
                        return Err(e);
                    }
                };
                let stats = RenderStats { drawn: drawn.drawn, triangles: drawn.triangles, ..RenderStats::default() };
                let frame = Frame { width, height, pixels: pixels.into(), stats };
                self.last_frame = Some(frame.clone());
                frame
            }
        };
        Ok(Some(frame))
    }

    /// Draws a layer into its cached texture unless the cache already holds this
    /// version with its pictures showing `images` (see [`Renderer::image_state`]); true
    /// when it drew.
    fn rasterize_layer(&mut self, encoder: &mut wgpu::CommandEncoder, layer: &LayerPlan, images: Vec<Option<(u64, usize)>>, width: u32, height: u32) -> Result<bool, RenderError> {
        if let Some(c) = self.layers.get(&layer.id)
            && c.version == layer.version
            && c.size == (width, height)
            && Arc::ptr_eq(&c.ops, &layer.ops)
            && c.images == images
        {
            self.stats.layers_reused += 1;
            return Ok(false);
        }
        let old = self.layers.remove(&layer.id).and_then(|c| c.surface);
        let ink = bounds::laid_out_bounds(&layer.ops, self.renderer.text_engine()).to_frame_rect(width, height);
        let mut cached = CachedLayer { surface: None, origin: (0.0, 0.0), ink, version: layer.version, ops: layer.ops.clone(), size: (width, height), images };
        if let Some(ink) = ink {
            let size = (bucket(ink.width, width), bucket(ink.height, height));
            let surface = match old {
                Some((s, old_size)) if old_size == size => s,
                _ => surface(&self.renderer.gpu().device, size.0, size.1, "layer"),
            };
            // Shift the canvas so the ink's top-left lands on the texture's.
            let shift = Affine { e: -ink.x, f: -ink.y, ..Affine::IDENTITY };
            let mut shifted = Vec::with_capacity(layer.ops.len() + 2);
            shifted.push(DrawOp::Push(Group { transform: shift, opacity: 1.0, clip: None, blend: BlendMode::Normal }));
            shifted.extend(layer.ops.iter().cloned());
            shifted.push(DrawOp::Pop);
            let stats = self.renderer.draw_into(encoder, &shifted, &surface.view, size.0, size.1, true)?;
            self.add_stats(stats);
            cached.surface = Some((surface, size));
            cached.origin = (ink.x, ink.y);
        } else {
            self.stats.layers_drawn += 1;
        }
        self.layers.insert(layer.id.clone(), cached);
        Ok(true)
    }

    fn draw_scratch(&mut self, encoder: &mut wgpu::CommandEncoder, name: &'static str, ops: &[DrawOp], width: u32, height: u32) -> Result<(), RenderError> {
        self.ensure_scratch(name, width, height);
        let Some((surface, _)) = self.scratch.get(name) else {
            return Err(RenderError::Gpu(format!("scratch surface {name} missing")));
        };
        let stats = self.renderer.draw_into(encoder, ops, &surface.view, width, height, true)?;
        self.add_stats(stats);
        Ok(())
    }

    fn add_stats(&mut self, s: RenderStats) {
        self.stats.layers_drawn += 1;
        self.stats.ops_drawn += s.drawn;
        self.stats.triangles += s.triangles;
        self.stats.ops_skipped += s.skipped.total();
        self.stats.single_sample_passes += s.single_sample_passes;
        self.stats.newly_missing_assets.extend(s.newly_missing);
        self.stats.missing_families.extend(s.missing_families);
    }

    fn ensure_scratch(&mut self, name: &'static str, width: u32, height: u32) {
        if self.scratch.get(name).is_some_and(|(_, size)| *size == (width, height)) {
            return;
        }
        let s = surface(&self.renderer.gpu().device, width, height, name);
        self.scratch.insert(name, (s, (width, height)));
    }

    /// Records the composite passes: isolated scenes into their scene textures, then
    /// everything onto the frame in `slot`. A frame of plain scenes that differs from
    /// the frame before in a few boxes only is repainted there on a copy of it.
    /// Returns what a later frame compares against, and the boxes repainted.
    fn composite(&self, encoder: &mut wgpu::CommandEncoder, plan: &FramePlan, size: (u32, u32), slot: usize, redrawn: &[String]) -> (Option<damage::Drawn>, Option<Vec<PixelBox>>) {
        let (width, height) = size;
        let fsize = (width as f32, height as f32);
        let Some(frame) = self.in_flight.target(slot) else { return (None, None) };
        let plain = plan.overlay.is_empty() && plan.scenes.iter().all(|s| is_plain(&s.view));
        let mut passes: Vec<QuadPass<'_>> = Vec::new();
        let mut frame_quads = Vec::new();
        // For a plain frame: each layer's key and box, and each frame quad's box.
        let mut layers: Vec<(LayerKey, Option<PixelBox>)> = Vec::new();
        let mut quad_boxes = Vec::new();
        for (i, scene) in plan.scenes.iter().enumerate() {
            let layer_quad_of = |l: &LayerPlan, outer: Affine| {
                let cached = self.layers.get(&l.id)?;
                let (surface, tex) = cached.surface.as_ref()?;
                let window = Window { view: &surface.view, origin: cached.origin, texture_size: (tex.0 as f32, tex.1 as f32) };
                layer_quad(window, cached.ink?, l, outer)
            };
            if plain {
                for l in &scene.layers {
                    let quad = layer_quad_of(l, Affine::IDENTITY);
                    let quad_box = quad.as_ref().and_then(|q| PixelBox::around(&q.corners, size));
                    layers.push((layer_key(l), quad_box));
                    if let Some(q) = quad {
                        frame_quads.push(q);
                        quad_boxes.push(quad_box);
                    }
                }
                continue;
            }
            if is_plain(&scene.view) {
                frame_quads.extend(scene.layers.iter().filter_map(|l| layer_quad_of(l, Affine::IDENTITY)));
                continue;
            }
            let Some((scene_surface, _)) = self.scratch.get(SCENES[i % SCENES.len()]) else {
                continue;
            };
            let quads = scene.layers.iter().filter_map(|l| layer_quad_of(l, Affine::IDENTITY)).collect();
            passes.push(QuadPass { target: &scene_surface.view, clear: wgpu::Color::TRANSPARENT, quads });
            let opacity = scene.view.opacity.clamp(0.0, 1.0);
            let exact = is_exact(&scene.view.transform);
            match rect_scene_quad(&scene.view, size) {
                Some(Some((corners, uv))) => frame_quads.push(Quad { source: &scene_surface.view, mask: None, exact, corners, uv, opacity }),
                Some(None) => {}
                None => {
                    let mask = scene.view.clip.as_ref().map(|_| self.scratch.get(MASKS[i % MASKS.len()]).map_or(&self.white.view, |(s, _)| &s.view));
                    let corners = rect_corners(Rect { x: 0.0, y: 0.0, width: fsize.0, height: fsize.1 }, scene.view.transform);
                    frame_quads.push(Quad { source: &scene_surface.view, mask, exact, corners, uv: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], opacity });
                }
            }
        }
        if !plan.overlay.is_empty()
            && let Some(cached) = self.layers.get(OVERLAY)
            && let (Some((surface, tex)), Some(ink)) = (&cached.surface, cached.ink)
        {
            let window = Window { view: &surface.view, origin: cached.origin, texture_size: (tex.0 as f32, tex.1 as f32) };
            frame_quads.extend(layer_quad(window, ink, &overlay_layer(plan), Affine::IDENTITY));
        }
        let frame_clear = match self.background {
            Some([r, g, b]) => wgpu::Color { r: f64::from(r) / 255.0, g: f64::from(g) / 255.0, b: f64::from(b) / 255.0, a: 1.0 },
            None => wgpu::Color::TRANSPARENT,
        };
        passes.push(QuadPass { target: &frame.view, clear: frame_clear, quads: frame_quads });

        let previous = self.last_drawn.as_ref().filter(|d| plain && d.slot != slot);
        let repaint = previous.and_then(|d| {
            let boxes = damage::between(d, size, self.background, &layers, redrawn)?;
            let previous = self.in_flight.target(d.slot)?;
            Some(Repaint { previous: &previous.texture, current: &frame.texture, boxes, quad_boxes, clear_texel: &self.clear_texel.view })
        });
        let repainted = repaint.as_ref().map(|r| r.boxes.clone());
        if repaint.is_some() {
            let texel = self.background.map_or([0, 0, 0, 0], |[r, g, b]| [r, g, b, 255]);
            crate::resources::write(self.renderer.gpu(), &self.clear_texel.texture, 0, 0, 1, 1, &texel);
        }
        let gpu = self.renderer.gpu();
        let recorder = QuadRecorder {
            device: &gpu.device,
            queue: &gpu.queue,
            pipelines: &self.pipelines,
            layout: &self.layout,
            sampler: &self.sampler,
            nearest: &self.nearest,
            white: &self.white.view,
        };
        recorder.record(encoder, &passes, size, repaint);
        (plain.then_some(damage::Drawn { slot, size, background: self.background, layers }), repainted)
    }
}

/// A scene view whose clip is a rectangle in frame space and whose transform keeps
/// axes: the scene's quad cut to the clip, as corners and texture coordinates, so no
/// clip mask is drawn (`Some(None)`: nothing of the scene is inside). `None` for any
/// other view. The cut edge is not anti-aliased; a wipe's edge moves in whole pixels.
/// Corners and texture coordinates of a quad.
type CornersUv = ([[f32; 2]; 4], [[f32; 2]; 4]);

fn rect_scene_quad(view: &SceneView, (width, height): (u32, u32)) -> Option<Option<CornersUv>> {
    let t = view.transform;
    let clip = crate::rect_clip::device_rect(view.clip.as_ref()?, &Affine::IDENTITY)?;
    if t.b != 0.0 || t.c != 0.0 || t.a == 0.0 || t.d == 0.0 {
        return None;
    }
    let (w, h) = (width as f32, height as f32);
    let placed = crate::rect_clip::ClipRect { x0: t.e.min(t.a * w + t.e), y0: t.f.min(t.d * h + t.f), x1: t.e.max(t.a * w + t.e), y1: t.f.max(t.d * h + t.f) };
    let cut = placed.intersect(clip);
    if cut.is_empty() {
        return Some(None);
    }
    // Frame point → texture coordinate of the scene texture under `t`.
    let uv = |x: f32, y: f32| [(x - t.e) / t.a / w, (y - t.f) / t.d / h];
    let corners = [[cut.x0, cut.y0], [cut.x1, cut.y0], [cut.x1, cut.y1], [cut.x0, cut.y1]];
    Some(Some((corners, corners.map(|[x, y]| uv(x, y)))))
}

/// The key the transition overlay's texture is kept under among the layers' (no
/// layer id starts with a control character).
const OVERLAY: &str = "\u{1}overlay";

/// The transition overlay as a layer drawn above every scene.
fn overlay_layer(plan: &FramePlan) -> LayerPlan {
    LayerPlan::full(OVERLAY, plan.overlay.clone(), 0)
}

/// Scratch names for up to two isolated scenes and their clip masks (a transition
/// shows two scenes; more are composited with the same pair of names reused).
const SCENES: [&str; 2] = ["scene0", "scene1"];
const MASKS: [&str; 2] = ["mask0", "mask1"];

fn is_plain(view: &SceneView) -> bool {
    view.transform == Affine::IDENTITY && view.opacity >= 1.0 && view.clip.is_none()
}

fn layer_key(l: &LayerPlan) -> LayerKey {
    (l.id.clone(), l.version, l.transform, l.opacity.to_bits(), l.crop)
}

fn count_layers(plan: &FramePlan) -> usize {
    plan.scenes.iter().map(|s| s.layers.len()).sum()
}

fn plan_key(plan: &FramePlan, width: u32, height: u32, background: Option<[u8; 3]>, renderer: &Renderer) -> PlanKey {
    let lists = plan.scenes.iter().flat_map(|s| s.layers.iter().map(|l| &l.ops[..])).chain([&plan.overlay[..]]);
    PlanKey {
        size: (width, height),
        background,
        scenes: plan
            .scenes
            .iter()
            .map(|s| {
                let layers = s.layers.iter().map(layer_key).collect();
                (s.view.clone(), layers)
            })
            .collect(),
        overlay: plan.overlay.clone(),
        images: lists.map(|ops| renderer.image_state(ops)).collect(),
    }
}

/// A layer's quad: the part of its canvas that has ink and is inside its crop,
/// placed by its transform, then `outer`. `None` when nothing is left to show.
fn layer_quad<'a>(source: Window<'a>, ink: Rect, l: &LayerPlan, outer: Affine) -> Option<Quad<'a>> {
    let crop = l.crop.map_or(ink, |c| intersect(c, ink));
    if crop.width <= 0.0 || crop.height <= 0.0 || l.opacity <= 0.0 {
        return None;
    }
    let transform = concat(&outer, &l.transform);
    let (ox, oy) = source.origin;
    let (tw, th) = source.texture_size;
    let u0 = (crop.x - ox) / tw;
    let v0 = (crop.y - oy) / th;
    let u1 = (crop.x + crop.width - ox) / tw;
    let v1 = (crop.y + crop.height - oy) / th;
    Some(Quad {
        source: source.view,
        mask: None,
        exact: is_exact(&transform),
        corners: rect_corners(crop, transform),
        uv: [[u0, v0], [u1, v0], [u1, v1], [u0, v1]],
        opacity: l.opacity.clamp(0.0, 1.0),
    })
}
