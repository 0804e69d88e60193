//! Splits one frame's time into stages around `Compositor::compose`, which does
//! tessellation, drawing, compositing and readback in one call.
//!
//! Per frame, [`StageMeter::frame`]:
//! 1. takes the plan from a [`FrameSource`] (its time is the *tick* stage);
//! 2. repeats the compositor's CPU preparation out of line, on a tessellation cache
//!    and text engine of its own that see the same lists in the same order: for
//!    each layer the compositor will re-rasterize (new version or list, as its
//!    damage tracking decides), text layout (`lay_out_text`) then `flatten` (lyon
//!    tessellation and the walk), ending a cache frame after each layer as
//!    `Renderer::draw_into` does. That is the *tessellate* stage;
//! 3. times `compose` itself;
//! 4. unless `compose` returned the previous frame, uploads the composed pixels
//!    into a texture of the same size, waits for the GPU to be idle, and times
//!    `Renderer::read_back_texture` on it: the copy, the map and the
//!    un-premultiply that `compose` ends with, without the wait for drawing. That is
//!    the *readback* stage;
//! 5. *draw+composite* = compose − tessellate − readback: recording and
//!    submitting the layer passes and the composite pass, and waiting for the GPU
//!    (lavapipe) to execute them. On a reused frame it is the copy of the previous
//!    frame's pixels that `compose` returns.
//!
//! Must not: change what `compose` does or time anything inside it but through
//! these out-of-line repeats.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_core::{DrawOp, FramePlan};
use showrunner_render::flatten::flatten;
use showrunner_render::resources::{FrameResources, lay_out_text};
use showrunner_render::tessellate::Cache;
use showrunner_render::{COLOR_FORMAT, Compositor, Frame, Renderer, wgpu};
use showrunner_text::TextEngine;

use crate::Result;
use crate::scenarios::FrameSource;

/// One measured frame, times in milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameSample {
    pub tick: f64,
    pub tessellate: f64,
    pub compose: f64,
    pub readback: f64,
    pub layers_drawn: usize,
    pub layers_reused: usize,
    pub frame_reused: bool,
    /// Layers the out-of-line repeat flattened (must equal `layers_drawn`).
    pub mirrored_layers: usize,
}

impl FrameSample {
    pub fn draw_composite(&self) -> f64 {
        self.compose - self.tessellate - self.readback
    }

    pub fn total(&self) -> f64 {
        self.tick + self.compose
    }
}

/// A compositor plus what it takes to time its stages.
pub struct StageMeter {
    compositor: Compositor,
    width: u32,
    height: u32,
    cache: Cache,
    text: TextEngine,
    /// The compositor's damage-tracking key per layer id, as the repeat saw it.
    seen: HashMap<String, (u64, Arc<Vec<DrawOp>>)>,
    readback: Option<wgpu::Texture>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl StageMeter {
    /// A fresh renderer and compositor (no cached layers, no previous frame).
    pub fn new(width: u32, height: u32) -> Result<StageMeter> {
        let renderer = Renderer::new().map_err(|e| e.to_string())?;
        let compositor = Compositor::new(renderer).map_err(|e| e.to_string())?;
        Ok(StageMeter { compositor, width, height, cache: Cache::default(), text: TextEngine::new(), seen: HashMap::new(), readback: None })
    }

    pub fn compositor(&mut self) -> &mut Compositor {
        &mut self.compositor
    }

    /// Makes, composes and times frame `index` of `source`.
    pub fn frame(&mut self, source: &mut dyn FrameSource, index: u64) -> Result<(FrameSample, Frame)> {
        let (plan, tick) = source.plan(index)?;
        let (tessellate, mirrored_layers) = self.prepare_like_compose(&plan);
        let started = Instant::now();
        let frame = self.compositor.compose(&plan, self.width, self.height).map_err(|e| format!("compose frame {index}: {e}"))?;
        let compose = started.elapsed();
        let stats = self.compositor.stats().clone();
        let readback = if stats.frame_reused { Duration::ZERO } else { self.time_readback(&frame)? };
        let sample = FrameSample {
            tick: ms(tick),
            tessellate: ms(tessellate),
            compose: ms(compose),
            readback: ms(readback),
            layers_drawn: stats.layers_drawn,
            layers_reused: stats.layers_reused,
            frame_reused: stats.frame_reused,
            mirrored_layers,
        };
        Ok((sample, frame))
    }

    /// Text layout and flattening of the layers `compose` will re-rasterize.
    fn prepare_like_compose(&mut self, plan: &FramePlan) -> (Duration, usize) {
        let max_side = self.compositor.renderer().gpu().max_texture_side;
        let layers: Vec<_> = plan.scenes.iter().flat_map(|s| &s.layers).collect();
        self.seen.retain(|id, _| layers.iter().any(|l| &l.id == id));
        let mut took = Duration::ZERO;
        let mut count = 0;
        for layer in layers {
            let unchanged = self.seen.get(&layer.id).is_some_and(|(version, ops)| *version == layer.version && Arc::ptr_eq(ops, &layer.ops));
            if unchanged {
                continue;
            }
            self.seen.insert(layer.id.clone(), (layer.version, layer.ops.clone()));
            let started = Instant::now();
            let has_text = layer.ops.iter().any(|op| matches!(op, DrawOp::Text(_)));
            let glyphs = if has_text { lay_out_text(&mut self.text, &layer.ops).0 } else { HashMap::new() };
            let mut resources = FrameResources { store: None, live: None, live_found: HashMap::new(), time: Duration::ZERO, max_side, found: HashMap::new(), glyphs };
            let flat = flatten(&layer.ops, self.width, self.height, max_side, &mut self.cache, &mut resources);
            self.cache.end_frame();
            took += started.elapsed();
            black_box(flat);
            count += 1;
        }
        (took, count)
    }

    /// Times reading back a texture holding `frame`'s pixels, the GPU otherwise idle.
    fn time_readback(&mut self, frame: &Frame) -> Result<Duration> {
        let (width, height) = (self.width, self.height);
        let renderer = self.compositor.renderer();
        let (device, queue) = (renderer.gpu().device.clone(), renderer.gpu().queue.clone());
        let texture = self.readback.get_or_insert_with(|| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some("bench readback"),
                size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: COLOR_FORMAT,
                usage: wgpu::TextureUsages::COPY_SRC | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        });
        queue.write_texture(
            texture.as_image_copy(),
            &frame.pixels,
            wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(width * 4), rows_per_image: Some(height) },
            wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        );
        queue.submit(std::iter::empty::<wgpu::CommandBuffer>());
        device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| format!("waiting for the upload: {e}"))?;
        let started = Instant::now();
        let pixels = renderer.read_back_texture(texture, width, height).map_err(|e| e.to_string())?;
        let took = started.elapsed();
        if pixels.len() != frame.pixels.len() {
            return Err(format!("readback returned {} bytes, expected {}", pixels.len(), frame.pixels.len()));
        }
        black_box(pixels);
        Ok(took)
    }
}

/// Nearest-rank percentile (`p` in 0..=1) of `values`; NaN when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A measured window of frames.
pub struct Row {
    pub label: String,
    pub size: (u32, u32),
    pub samples: Vec<FrameSample>,
    pub faults: usize,
}

impl Row {
    /// (median, p95) of one stage.
    pub fn stage(&self, f: impl Fn(&FrameSample) -> f64) -> (f64, f64) {
        let values: Vec<f64> = self.samples.iter().map(f).collect();
        (percentile(&values, 0.50), percentile(&values, 0.95))
    }

    pub fn redrawn_frames(&self) -> usize {
        self.samples.iter().filter(|s| !s.frame_reused).count()
    }

    /// Mean layers (drawn, reused) per frame.
    pub fn layers(&self) -> (f64, f64) {
        let n = self.samples.len().max(1) as f64;
        let drawn: usize = self.samples.iter().map(|s| s.layers_drawn).sum();
        let reused: usize = self.samples.iter().map(|s| s.layers_reused).sum();
        (drawn as f64 / n, reused as f64 / n)
    }

    /// Frames where the out-of-line repeat and the compositor disagreed on which
    /// layers to redraw (0 when the tessellate stage covers the right layers).
    pub fn mirror_mismatches(&self) -> usize {
        self.samples.iter().filter(|s| s.mirrored_layers != s.layers_drawn).count()
    }
}
