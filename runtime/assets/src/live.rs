//! Live pictures by input name: the newest decoded frame of each live input (an RTMP
//! ingest feed, a media file or URL), which the renderer draws for `video` ops.
//!
//! Producers (decoder threads) [`LiveInputs::publish`] whole frames; the renderer
//! [`LiveInputs::get`]s the newest one. The newest frame replaces the previous one
//! (latest wins): nothing queues, so a fast decoder never grows memory and a slow
//! renderer simply skips frames. Both sides hold the lock only to swap an `Arc`, so the
//! render thread never waits on a decode.
//!
//! Pixel format: RGBA8 sRGB, tightly packed, top row first, premultiplied alpha (decoded
//! video is opaque, so straight and premultiplied are the same). This module must not
//! know about GPUs, GStreamer or Wasm.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

/// Largest width or height of a live frame.
pub const MAX_LIVE_SIDE: u32 = 8192;

/// One decoded frame of a live input.
#[derive(Debug)]
pub struct LiveFrame {
    /// Unique among all frames published to one [`LiveInputs`] (never reused), so a
    /// renderer can tell a new frame from the one it already uploaded.
    pub id: u64,
    pub width: u32,
    pub height: u32,
    /// `width * height * 4` bytes of RGBA8, premultiplied, top row first.
    pub pixels: Bytes,
}

/// Why a frame was not published.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LiveFrameError {
    #[error("a live frame of {width}x{height} is outside 1..={MAX_LIVE_SIDE} pixels a side")]
    BadSize { width: u32, height: u32 },
    #[error("a live frame of {width}x{height} needs {expected} bytes of RGBA8, got {got}")]
    WrongLength { width: u32, height: u32, expected: usize, got: usize },
}

#[derive(Default)]
struct Slot {
    frame: Option<Arc<LiveFrame>>,
    published: u64,
}

/// The newest frame of every live input, shared by decoders and the renderer (clones
/// share one registry).
#[derive(Clone, Default)]
pub struct LiveInputs {
    slots: Arc<Mutex<HashMap<String, Slot>>>,
    next_id: Arc<AtomicU64>,
}

impl LiveInputs {
    pub fn new() -> LiveInputs {
        LiveInputs::default()
    }

    /// Makes `pixels` the frame `video` ops on `name` draw; returns its id.
    pub fn publish(&self, name: &str, width: u32, height: u32, pixels: Bytes) -> Result<u64, LiveFrameError> {
        if width == 0 || height == 0 || width > MAX_LIVE_SIDE || height > MAX_LIVE_SIDE {
            return Err(LiveFrameError::BadSize { width, height });
        }
        let expected = width as usize * height as usize * 4;
        if pixels.len() != expected {
            return Err(LiveFrameError::WrongLength { width, height, expected, got: pixels.len() });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let frame = Arc::new(LiveFrame { id, width, height, pixels });
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = slots.entry(name.to_string()).or_default();
        slot.frame = Some(frame);
        slot.published += 1;
        Ok(id)
    }

    /// Stops showing `name` (its feed ended): `video` ops on it draw nothing until a new
    /// frame is published. The publish count is kept.
    pub fn clear(&self, name: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get_mut(name) {
            slot.frame = None;
        }
    }

    /// The newest frame of `name`, if it is showing one.
    pub fn get(&self, name: &str) -> Option<Arc<LiveFrame>> {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.get(name).and_then(|slot| slot.frame.clone())
    }

    /// Frames published to `name` since this registry was made.
    pub fn published(&self, name: &str) -> u64 {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.get(name).map_or(0, |slot| slot.published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Bytes {
        Bytes::from(rgba.repeat((width * height) as usize))
    }

    #[test]
    fn newest_frame_wins_and_ids_grow() {
        let inputs = LiveInputs::new();
        assert!(inputs.get("cam").is_none());
        let first = inputs.publish("cam", 2, 2, solid(2, 2, [1, 2, 3, 255])).unwrap();
        let second = inputs.publish("cam", 4, 1, solid(4, 1, [9, 9, 9, 255])).unwrap();
        assert!(second > first);
        let frame = inputs.get("cam").unwrap();
        assert_eq!((frame.id, frame.width, frame.height, frame.pixels[0]), (second, 4, 1, 9));
        assert_eq!(inputs.published("cam"), 2);
        assert!(inputs.get("other").is_none());
    }

    #[test]
    fn clear_hides_the_input_until_the_next_frame() {
        let inputs = LiveInputs::new();
        let shared = inputs.clone();
        shared.publish("cam", 1, 1, solid(1, 1, [0, 0, 0, 255])).unwrap();
        inputs.clear("cam");
        assert!(inputs.get("cam").is_none());
        shared.publish("cam", 1, 1, solid(1, 1, [5, 0, 0, 255])).unwrap();
        assert_eq!(inputs.get("cam").unwrap().pixels[0], 5);
        assert_eq!(inputs.published("cam"), 2);
    }

    #[test]
    fn malformed_frames_are_refused() {
        let inputs = LiveInputs::new();
        assert_eq!(inputs.publish("cam", 0, 4, Bytes::new()), Err(LiveFrameError::BadSize { width: 0, height: 4 }));
        assert_eq!(
            inputs.publish("cam", MAX_LIVE_SIDE + 1, 1, Bytes::new()),
            Err(LiveFrameError::BadSize { width: MAX_LIVE_SIDE + 1, height: 1 })
        );
        assert_eq!(
            inputs.publish("cam", 2, 2, Bytes::from(vec![0; 15])),
            Err(LiveFrameError::WrongLength { width: 2, height: 2, expected: 16, got: 15 })
        );
        assert!(inputs.get("cam").is_none());
    }
}
