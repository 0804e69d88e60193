//! The image texture cache: uploads each (content hash, frame) of an asset once and
//! keeps it while the byte budget allows, evicting the least recently used textures
//! past it.
//!
//! It must not decode (the asset store hands over premultiplied RGBA8) and must never
//! evict a texture the current draw list uses; a texture evicted while a recorded but
//! unsubmitted pass still samples it stays alive until that pass has run (wgpu keeps
//! it).

use std::collections::HashMap;
use std::time::Duration;

use showrunner_assets::Image;

use crate::gpu::Gpu;
use crate::resources::{sampled_texture, write};

/// Default byte budget of uploaded image textures.
pub const DEFAULT_IMAGE_BUDGET: u64 = 512 * 1024 * 1024;

struct Entry {
    view: wgpu::TextureView,
    bytes: u64,
    last_used: u64,
}

/// Uploaded image frames by (content hash id, frame index).
pub struct ImageCache {
    entries: HashMap<(u64, usize), Entry>,
    bytes: u64,
    budget: u64,
    /// Bumped once per draw list; entries used under the current value are kept.
    clock: u64,
    uploads: u64,
}

impl Default for ImageCache {
    fn default() -> Self {
        ImageCache { entries: HashMap::new(), bytes: 0, budget: DEFAULT_IMAGE_BUDGET, clock: 0, uploads: 0 }
    }
}

/// The frame index showing at `time` (animations loop; a still image, or delays that
/// add up to zero, show frame 0).
pub fn frame_index(image: &Image, time: Duration) -> usize {
    let total: u128 = image.frames.iter().map(|f| f.delay.as_nanos()).sum();
    if total == 0 {
        return 0;
    }
    let mut into_loop = time.as_nanos() % total;
    for (i, frame) in image.frames.iter().enumerate() {
        let delay = frame.delay.as_nanos();
        if into_loop < delay {
            return i;
        }
        into_loop -= delay;
    }
    0
}

impl ImageCache {
    /// Starts a draw list: textures used from now on are not evicted until the next one.
    pub fn begin(&mut self) {
        self.clock += 1;
    }

    pub fn set_budget(&mut self, bytes: u64) {
        self.budget = bytes;
    }

    /// (textures kept, their bytes, uploads since the cache was made).
    pub fn counters(&self) -> (usize, u64, u64) {
        (self.entries.len(), self.bytes, self.uploads)
    }

    /// The texture of `image`'s frame `frame`, uploading it on first use; `None` when
    /// the frame's pixels do not match its size.
    pub fn view(&mut self, gpu: &Gpu, image: &Image, frame: usize) -> Option<wgpu::TextureView> {
        let key = (image.hash.id(), frame);
        if let Some(e) = self.entries.get_mut(&key) {
            e.last_used = self.clock;
            return Some(e.view.clone());
        }
        let pixels = &image.frames.get(frame)?.pixels;
        let bytes = u64::from(image.width) * u64::from(image.height) * 4;
        if image.width == 0 || image.height == 0 || pixels.len() as u64 != bytes {
            return None;
        }
        let texture = sampled_texture(gpu, "image", image.width, image.height);
        write(gpu, &texture, 0, 0, image.width, image.height, pixels);
        self.uploads += 1;
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        self.bytes += bytes;
        self.entries.insert(key, Entry { view: view.clone(), bytes, last_used: self.clock });
        self.evict();
        Some(view)
    }

    /// Drops least recently used textures not used by the current list until the
    /// cache fits its budget.
    fn evict(&mut self) {
        while self.bytes > self.budget {
            let oldest = self.entries.iter().filter(|(_, e)| e.last_used < self.clock).min_by_key(|(_, e)| e.last_used).map(|(k, _)| *k);
            let Some(key) = oldest else { return };
            if let Some(e) = self.entries.remove(&key) {
                self.bytes -= e.bytes;
            }
        }
    }
}
