//! Decoded image types: `Image`, its `ImageFrame`s and the `ContentHash` that names the
//! encoded bytes. Owns the pixel layout and animation timing; it must not decode or touch
//! the GPU (the renderer uploads `ImageFrame::pixels` as it is).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// blake3 hash of an asset's encoded bytes. Equal hashes mean equal files, so the renderer
/// can key textures by [`ContentHash::id`] and upload each image once.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// Hashes encoded bytes.
    pub fn of(bytes: &[u8]) -> Self {
        ContentHash(*blake3::hash(bytes).as_bytes())
    }

    /// The 32 hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 8 bytes as a little-endian `u64`, for cache keys.
    pub fn id(&self) -> u64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(first)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

/// One frame of an image.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageFrame {
    /// Premultiplied-alpha sRGB RGBA8, tightly packed (`width × 4` bytes a row), top row first.
    pub pixels: Arc<[u8]>,
    /// How long the frame shows; zero for a still image.
    pub delay: Duration,
}

impl fmt::Debug for ImageFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageFrame").field("bytes", &self.pixels.len()).field("delay", &self.delay).finish()
    }
}

/// A decoded image: one frame for a still image, several for an animation. Every frame is the
/// full canvas, already composited (GIF disposal applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    /// Never empty for images the store built.
    pub frames: Vec<ImageFrame>,
    pub hash: ContentHash,
}

impl Image {
    /// The frame showing at `time` since the animation started; animations loop. A still
    /// image, or an animation whose delays add up to zero, always shows frame 0.
    ///
    /// # Panics
    /// If `frames` is empty, which the store never produces.
    pub fn frame_at(&self, time: Duration) -> &ImageFrame {
        let total = self.duration().as_nanos();
        if total == 0 {
            return &self.frames[0];
        }
        let mut into_loop = time.as_nanos() % total;
        for frame in &self.frames {
            let delay = frame.delay.as_nanos();
            if into_loop < delay {
                return frame;
            }
            into_loop -= delay;
        }
        &self.frames[0]
    }

    /// Length of one loop of the animation (zero for a still image).
    pub fn duration(&self) -> Duration {
        self.frames.iter().map(|frame| frame.delay).sum()
    }

    /// True when the image has more than one frame.
    pub fn is_animated(&self) -> bool {
        self.frames.len() > 1
    }

    /// Pixel bytes held by all frames together.
    pub fn decoded_bytes(&self) -> u64 {
        self.frames.iter().map(|frame| frame.pixels.len() as u64).sum()
    }
}
