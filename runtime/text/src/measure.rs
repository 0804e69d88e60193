//! Measuring text without drawing it: the cached measure shared by `TextEngine::measure` and
//! `SharedMeasurer`, which the Wasm host's `measure-text` import calls from worker threads.
//!
//! Owns the measure cache and the thread-safe wrapper. Both paths run the same code on a font
//! system built the same way, so they return the same numbers. It must not rasterize.

use std::sync::{Mutex, PoisonError};

use cosmic_text::FontSystem;

use crate::cache::{BoundedCache, hash_key};
use crate::fonts::{BundledFamily, bundled_font_system, resolve_family};
use crate::shaping::{Shaper, within_limit};

/// Measurements kept per cache.
const MEASURE_CACHE_ENTRIES: usize = 4096;
/// Text bytes kept per cache, all entries together.
const MEASURE_CACHE_BYTES: usize = 4 * 1024 * 1024;

struct MeasureEntry {
    text: String,
    family: BundledFamily,
    size_bits: u32,
    result: (f32, f32),
}

/// Bounded cache of `(text, family, size) → (width, line height)`.
pub(crate) struct MeasureCache {
    entries: BoundedCache<MeasureEntry>,
}

impl MeasureCache {
    pub fn new() -> MeasureCache {
        MeasureCache {
            entries: BoundedCache::new(MEASURE_CACHE_ENTRIES, MEASURE_CACHE_BYTES),
        }
    }

    pub fn measure(
        &mut self,
        shaper: &mut Shaper,
        font_system: &mut FontSystem,
        text: &str,
        family: &str,
        size: f32,
    ) -> (f32, f32) {
        let text = within_limit(text);
        let family = resolve_family(family).family;
        let size_bits = size.to_bits();
        let hash = hash_key(&(text, family, size_bits));
        let hit = self.entries.get(hash).filter(|entry| {
            entry.text == text && entry.family == family && entry.size_bits == size_bits
        });
        if let Some(entry) = hit {
            return entry.result;
        }
        let result = shaper.measure(font_system, text, family, size);
        let entry = MeasureEntry {
            text: text.to_owned(),
            family,
            size_bits,
            result,
        };
        self.entries.insert(hash, entry, text.len() + 1);
        result
    }
}

struct MeasureState {
    font_system: FontSystem,
    shaper: Shaper,
    cache: MeasureCache,
}

/// `measure` for any thread: one font system over the bundled fonts behind a mutex (the
/// font bytes themselves are `'static` and shared with every engine).
pub struct SharedMeasurer {
    state: Mutex<MeasureState>,
}

impl Default for SharedMeasurer {
    fn default() -> Self {
        SharedMeasurer::new()
    }
}

impl SharedMeasurer {
    pub fn new() -> SharedMeasurer {
        SharedMeasurer {
            state: Mutex::new(MeasureState {
                font_system: bundled_font_system(),
                shaper: Shaper::new(),
                cache: MeasureCache::new(),
            }),
        }
    }

    /// Exactly what `TextEngine::measure` returns for the same arguments.
    pub fn measure(&self, text: &str, family: &str, size: f32) -> (f32, f32) {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        state.cache.measure(
            &mut state.shaper,
            &mut state.font_system,
            text,
            family,
            size,
        )
    }
}
