//! The headless wgpu compositor's public face: owns the device, pipelines, targets and
//! caches; turns a draw list into a [`Frame`] ([`Renderer::render`]) or records it into
//! a caller's texture ([`Renderer::draw_into`]).
//!
//! Colour: draw-list colours are sRGB with straight alpha. They are premultiplied on the
//! CPU and blended premultiplied over a transparent background in sRGB space, as
//! browsers and CSS do, so a colour picked in a design tool comes out as the same
//! bytes. Targets are `Rgba8Unorm` holding sRGB values; readback un-premultiplies, so
//! [`Frame::pixels`] is straight-alpha sRGB RGBA8, the layout PNG and the `image` crate
//! use.
//!
//! It must not panic on a validated draw list; GPU errors inside a frame are caught by
//! an error scope and returned as [`RenderError::Gpu`].

use std::collections::HashMap;
use std::time::Duration;

use showrunner_assets::{AssetStore, LiveInputs};
use showrunner_core::{DrawOp, Fill, Paint, Stroke, TextRun};
use showrunner_text::TextEngine;

use crate::flatten::{Skipped, flatten};
use crate::images::ImageCache;
use crate::live_textures::LiveTextures;
use crate::resources::{AtlasTexture, FrameResources, lay_out_text};
use crate::scene::ImageUse;
use bytes::Bytes;

use crate::gpu::{AdapterSummary, Gpu, RenderError};
use crate::pipeline::{DrawPipelines, LoadPipeline};
use crate::readback;
use crate::record::{self, Context};
use crate::sample_count::needs_multisample;
use crate::targets::{COLOR_FORMAT, MSAA_SAMPLES, Targets};
use crate::tessellate::Cache;

/// One rendered frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Straight-alpha sRGB RGBA8, `width * 4` bytes per row, top row first (opaque
    /// when a compositor background is set: see [`crate::Compositor::set_background`]).
    /// Shared: cloning a frame, or handing its pixels to an encoder, copies nothing.
    pub pixels: Bytes,
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Fills, strokes, text runs, images and video frames drawn.
    pub drawn: usize,
    pub skipped: Skipped,
    pub triangles: usize,
    /// Offscreen layers used for isolated groups.
    pub layers: usize,
    /// Image ops and image paints whose asset the store does not have.
    pub missing_assets: usize,
    /// Missing asset names the asset store had not reported before (each name once,
    /// for the engine to raise one warning per name).
    pub newly_missing: Vec<String>,
    /// Font families this renderer's text engine met for the first time and does not
    /// have (drawn with the default family instead).
    pub missing_families: Vec<String>,
    /// Render passes (the list's own and its group layers) drawn with one sample per
    /// pixel, straight into their texture, because every edge of the list lands on
    /// whole pixels ([`crate::sample_count`]); 0 when the list was multisampled.
    pub single_sample_passes: usize,
}

/// A headless renderer. Cheap to reuse across frames: pipelines, targets and the
/// tessellation cache are kept.
pub struct Renderer {
    gpu: Gpu,
    pipelines: DrawPipelines,
    load: LoadPipeline,
    sampler: wgpu::Sampler,
    blank: wgpu::TextureView,
    targets: Targets,
    cache: Cache,
    assets: Option<AssetStore>,
    time: Duration,
    images: ImageCache,
    live: Option<LiveInputs>,
    /// [`Renderer::set_live_inputs`] calls so far: frame ids are unique within one
    /// registry only.
    live_generation: usize,
    live_textures: LiveTextures,
    text: TextEngine,
    atlas: AtlasTexture,
    /// Multisample every list, even one that lands on whole pixels.
    force_multisample: bool,
}

impl Renderer {
    /// Opens a GPU (or lavapipe) and builds the pipelines.
    pub fn new() -> Result<Renderer, RenderError> {
        let gpu = Gpu::open()?;
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipelines = DrawPipelines::new(&gpu.device, gpu.dual_source_blending);
        let load = LoadPipeline::new(&gpu.device);
        let sampler = gpu.device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("bilinear"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..wgpu::SamplerDescriptor::default()
        });
        let blank = gpu
            .device
            .create_texture(&wgpu::TextureDescriptor {
                label: Some("blank"),
                size: wgpu::Extent3d { width: 1, height: 1, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: COLOR_FORMAT,
                usage: wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            })
            .create_view(&wgpu::TextureViewDescriptor::default());
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        Ok(Renderer {
            gpu,
            pipelines,
            load,
            sampler,
            blank,
            targets: Targets::default(),
            cache: Cache::default(),
            assets: None,
            time: Duration::ZERO,
            images: ImageCache::default(),
            live: None,
            live_generation: 0,
            live_textures: LiveTextures::default(),
            text: TextEngine::new(),
            atlas: AtlasTexture::default(),
            force_multisample: false,
        })
    }

    /// The adapter this renderer draws on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.gpu.adapter
    }

    /// The device and queue this renderer draws with, for code that records its own
    /// passes around [`Renderer::draw_into`].
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// With `true`, every list is drawn multisampled, even one whose edges all land on
    /// whole pixels and would otherwise be drawn single-sample (the pixels are the
    /// same; this exists to compare the two paths). Off by default.
    pub fn set_force_multisample(&mut self, on: bool) {
        self.force_multisample = on;
    }

    /// Sets the asset store `image` ops and image paints draw from. Without one they
    /// are skipped (counted in [`Skipped`]).
    pub fn set_assets(&mut self, store: AssetStore) {
        self.assets = Some(store);
    }

    /// Sets the registry `video` ops draw live inputs from: each draws the newest frame
    /// of its input. Without one, or while an input shows no frame, they draw nothing
    /// (counted in [`Skipped`]).
    pub fn set_live_inputs(&mut self, inputs: LiveInputs) {
        self.live = Some(inputs);
        self.live_generation += 1;
        self.live_textures.clear();
    }

    /// Sets the time animated images are shown at (their frame is picked by it;
    /// animations loop). Zero (frame 0) until set.
    pub fn set_time(&mut self, time: Duration) {
        self.time = time;
    }

    /// What the pictures `ops` use show now: per image reference (while an asset store
    /// is set), its content and the animation frame showing at the current time; per
    /// video op (while a live-input registry is set), its input's newest frame id and
    /// how many registries were set so far; `None` while an image is missing (not
    /// loaded or still decoding) or an input shows no frame. A list drawn before is
    /// drawn again when this changes: an animated GIF advances, an image that finished
    /// loading appears and a live input shows its new frame, even when the list itself
    /// did not change.
    pub fn image_state(&self, ops: &[DrawOp]) -> Vec<Option<(u64, usize)>> {
        let image = |name: &str| {
            let store = self.assets.as_ref()?;
            Some(store.get(name).map(|image| (image.hash.id(), crate::images::frame_index(&image, self.time))))
        };
        let mut state = Vec::new();
        for op in ops {
            let shown = match op {
                DrawOp::Image(image_op) => image(&image_op.asset),
                DrawOp::Fill(Fill { paint: Paint::Image(fill), .. }) | DrawOp::Stroke(Stroke { paint: Paint::Image(fill), .. }) => image(&fill.asset),
                DrawOp::Text(TextRun { paint: Paint::Image(fill), .. }) => image(&fill.asset),
                DrawOp::Video(video) => self.live.as_ref().map(|live| live.get(&video.input).map(|frame| (frame.id, self.live_generation))),
                _ => None,
            };
            state.extend(shown);
        }
        state
    }

    /// Sets the byte budget of uploaded image textures (default 512 MiB); least
    /// recently used textures are dropped past it.
    pub fn set_image_budget(&mut self, bytes: u64) {
        self.images.set_budget(bytes);
    }

    /// Image textures (kept, bytes, uploads since the renderer was made).
    pub fn image_cache_counters(&self) -> (usize, u64, u64) {
        self.images.counters()
    }

    /// Live-input textures (kept, frames uploaded since the renderer was made).
    pub fn live_texture_counters(&self) -> (usize, u64) {
        self.live_textures.counters()
    }

    /// The text engine runs are laid out with (for measuring with the same fonts).
    pub fn text_engine(&mut self) -> &mut TextEngine {
        &mut self.text
    }

    /// Tessellation cache (hits, misses) since the renderer was made.
    pub fn cache_counters(&self) -> (u64, u64) {
        self.cache.counters()
    }

    fn check_size(&self, width: u32, height: u32) -> Result<(), RenderError> {
        let max = self.gpu.max_texture_side;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(RenderError::BadSize { width, height, max });
        }
        Ok(())
    }

    /// Ends a frame for the tessellation cache: paths not drawn since the last call are
    /// forgotten. Called once per output frame (after every `draw_into` of it), so
    /// several layers drawn in one frame keep each other's tessellations.
    pub fn end_frame(&mut self) {
        self.cache.end_frame();
    }

    /// Renders a validated draw list onto a transparent `width`×`height` frame and
    /// reads it back.
    pub fn render(&mut self, ops: &[DrawOp], width: u32, height: u32) -> Result<Frame, RenderError> {
        self.check_size(width, height)?;
        let scope = self.gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = self.gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut encoder = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("frame") });
        let resolve = self.targets.resolve(&self.gpu, width, height);
        let (texture, view) = (resolve.texture.clone(), resolve.view.clone());
        let stats = self.draw_into(&mut encoder, ops, &view, width, height, true);
        self.end_frame();
        let copy = readback::encode_copy(&self.gpu, &mut self.targets, &mut encoder, &texture, width, height);
        self.gpu.queue.submit([encoder.finish()]);
        let oom = pollster::block_on(oom.pop());
        let invalid = pollster::block_on(scope.pop());
        if let Some(e) = oom.or(invalid) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        let stats = stats?;
        let pixels = readback::map(&self.gpu, &copy)?;
        Ok(Frame { width, height, pixels: Bytes::from(pixels), stats })
    }

    /// Records the drawing of a validated draw list into `target` (single-sample
    /// [`COLOR_FORMAT`], premultiplied, `width`×`height`) on `encoder`, without
    /// submitting. With `clear` the target is cleared to transparent first; without,
    /// the list is drawn over what the target holds, which then needs
    /// `TEXTURE_BINDING` usage (its content is copied into the multisampled target
    /// first). The multisampled targets are the renderer's own and are resolved into
    /// `target`; a list whose edges all land on whole pixels is drawn single-sample
    /// straight into `target` instead, with the same pixels
    /// ([`RenderStats::single_sample_passes`]).
    ///
    /// May be called several times before one submit, with the same or different
    /// targets: every call uploads its geometry into buffers of its own, so a later
    /// call never overwrites what an earlier, not yet submitted one reads. Call
    /// [`Renderer::end_frame`] once per output frame so the tessellation cache drops
    /// what the frame did not use.
    pub fn draw_into(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        ops: &[DrawOp],
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
        clear: bool,
    ) -> Result<RenderStats, RenderError> {
        self.check_size(width, height)?;
        let t = target.texture();
        let usable = t.format() == COLOR_FORMAT && t.sample_count() == 1 && t.usage().contains(wgpu::TextureUsages::RENDER_ATTACHMENT);
        if !usable || (t.width(), t.height()) != (width, height) {
            return Err(RenderError::Gpu(format!(
                "draw_into needs a single-sample {COLOR_FORMAT:?} target of {width}x{height} with RENDER_ATTACHMENT usage; \
                 this one is {}x{} {:?} with {} samples and {:?}",
                t.width(),
                t.height(),
                t.format(),
                t.sample_count(),
                t.usage()
            )));
        }
        let keep = if clear { None } else { Some(self.load.bind(&self.gpu.device, target, width, height)?) };
        let has_text = ops.iter().any(|op| matches!(op, DrawOp::Text(_)));
        let (glyphs, missing_families) = if has_text { lay_out_text(&mut self.text, ops) } else { (HashMap::new(), Vec::new()) };
        let max_side = self.gpu.max_texture_side;
        let mut res = FrameResources {
            store: self.assets.as_ref(),
            live: self.live.as_ref(),
            time: self.time,
            max_side,
            found: HashMap::new(),
            live_found: HashMap::new(),
            glyphs,
        };
        let flat = flatten(ops, width, height, max_side, &mut self.cache, &mut res);
        self.images.begin();
        self.live_textures.begin();
        let images: Vec<Option<wgpu::TextureView>> = flat
            .scene
            .images
            .iter()
            .map(|picture| match picture {
                ImageUse::Asset(key) => res.found.get(key).and_then(|image| self.images.view(&self.gpu, image, key.1)),
                ImageUse::Live(input) => res.live_found.get(input).and_then(|frame| self.live_textures.view(&self.gpu, input, frame)),
            })
            .collect();
        self.live_textures.end();
        let atlas = if has_text { self.atlas.sync(&self.gpu, &mut self.text) } else { None };
        let newly_missing = match &self.assets {
            Some(store) => flat.missing.iter().filter(|name| store.note_missing(name)).cloned().collect(),
            None => Vec::new(),
        };
        let samples = if self.force_multisample || needs_multisample(ops) { MSAA_SAMPLES } else { 1 };
        let stats = RenderStats {
            single_sample_passes: if samples == 1 { flat.scene.order.len() } else { 0 },
            drawn: flat.drawn,
            skipped: flat.skipped,
            triangles: flat.scene.indices.len() / 3,
            layers: flat.layers,
            missing_assets: flat.missing_uses,
            newly_missing,
            missing_families,
        };
        let mut cx = Context {
            gpu: &self.gpu,
            pipelines: &mut self.pipelines,
            targets: &mut self.targets,
            sampler: &self.sampler,
            blank: &self.blank,
            images: &images,
            atlas: atlas.as_ref(),
            samples,
        };
        record::record(&mut cx, encoder, &flat.scene, target, keep.as_ref().map(|g| (&self.load, g)));
        Ok(stats)
    }

    /// Reads `texture` (`Rgba8Unorm`, premultiplied, at least `width`×`height`, made
    /// with `COPY_SRC`) back as straight-alpha RGBA8, `width * 4` bytes per row. Waits
    /// for everything submitted so far.
    pub fn read_back_texture(&mut self, texture: &wgpu::Texture, width: u32, height: u32) -> Result<Vec<u8>, RenderError> {
        self.check_size(width, height)?;
        if texture.format() != COLOR_FORMAT {
            return Err(RenderError::Readback(format!("texture format is {:?}, only {COLOR_FORMAT:?} can be read back", texture.format())));
        }
        if texture.width() < width || texture.height() < height || !texture.usage().contains(wgpu::TextureUsages::COPY_SRC) {
            return Err(RenderError::Readback(format!(
                "texture is {}x{} with usage {:?}; reading {width}x{height} needs at least that size and COPY_SRC",
                texture.width(),
                texture.height(),
                texture.usage()
            )));
        }
        let scope = self.gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut encoder = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        let copy = readback::encode_copy(&self.gpu, &mut self.targets, &mut encoder, texture, width, height);
        self.gpu.queue.submit([encoder.finish()]);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(RenderError::Readback(e.to_string()));
        }
        readback::map(&self.gpu, &copy)
    }
}
