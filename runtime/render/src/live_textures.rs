//! Textures of live inputs: one texture per input name holding the frame `video` ops
//! draw, written again only when the input shows a frame with another id.
//!
//! A texture is reused across frames of the same size (the new frame is written into
//! it with `queue.write_texture`) and made anew when the size changes. At the end of
//! each draw list at most [`MAX_LIVE_TEXTURES`] inputs are kept: the least recently
//! used are dropped, never one the list used (a list with more distinct inputs keeps
//! them all until a later list lets them go).
//!
//! Writes land in queue order: a pass recorded before a write but submitted after it
//! samples the newer frame, so every pass of one submit shows the same frame of an
//! input. A texture dropped while a recorded pass still samples it stays alive until
//! that pass has run (wgpu keeps it). It must not read the live registry (the renderer
//! hands it the frame a list pinned) and must not decode.

use std::collections::HashMap;

use showrunner_assets::LiveFrame;

use crate::gpu::Gpu;
use crate::resources::{sampled_texture, write};

/// Most live inputs whose textures are kept between draw lists.
pub const MAX_LIVE_TEXTURES: usize = 16;

struct Entry {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    /// Id of the frame the texture holds.
    frame_id: u64,
    last_used: u64,
}

/// Live-input textures by input name.
#[derive(Default)]
pub struct LiveTextures {
    entries: HashMap<String, Entry>,
    /// Bumped once per draw list; entries used under the current value are kept.
    clock: u64,
    uploads: u64,
}

impl LiveTextures {
    /// Starts a draw list: textures used from now on are not dropped until the next one.
    pub fn begin(&mut self) {
        self.clock += 1;
    }

    /// Ends a draw list: drops least recently used textures not used by it while more
    /// than [`MAX_LIVE_TEXTURES`] are kept.
    pub fn end(&mut self) {
        while self.entries.len() > MAX_LIVE_TEXTURES {
            let oldest = self.entries.iter().filter(|(_, e)| e.last_used < self.clock).min_by_key(|(_, e)| e.last_used).map(|(name, _)| name.clone());
            let Some(name) = oldest else { return };
            self.entries.remove(&name);
        }
    }

    /// Drops every texture (the frames they hold came from a registry that frame ids
    /// of another registry could be mistaken for).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// (textures kept, frames uploaded since this was made).
    pub fn counters(&self) -> (usize, u64) {
        (self.entries.len(), self.uploads)
    }

    /// The texture of input `name` holding `frame`, writing the frame unless the
    /// texture already holds it; `None` when the frame's pixels do not match its size.
    pub fn view(&mut self, gpu: &Gpu, name: &str, frame: &LiveFrame) -> Option<wgpu::TextureView> {
        let (width, height) = (frame.width, frame.height);
        if width == 0 || height == 0 || frame.pixels.len() as u64 != u64::from(width) * u64::from(height) * 4 {
            return None;
        }
        if let Some(e) = self.entries.get_mut(name)
            && (e.texture.width(), e.texture.height()) == (width, height)
        {
            e.last_used = self.clock;
            if e.frame_id != frame.id {
                write(gpu, &e.texture, 0, 0, width, height, &frame.pixels);
                e.frame_id = frame.id;
                self.uploads += 1;
            }
            return Some(e.view.clone());
        }
        let texture = sampled_texture(gpu, "live input", width, height);
        write(gpu, &texture, 0, 0, width, height, &frame.pixels);
        self.uploads += 1;
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        self.entries.insert(name.to_string(), Entry { texture, view: view.clone(), frame_id: frame.id, last_used: self.clock });
        Some(view)
    }
}
