//! Preview images: reduced-size JPEG frames of a bus (programme or preview) at a low
//! rate, cheap enough to leave on, for the HTTP API and the dashboard. It owns the
//! settings and their validation, the encoder with its one worker thread (rate limit,
//! box-filter downscale, JPEG encode) and the latest image. It must never block or slow
//! the render thread: offers that come too soon or while the worker is busy are dropped
//! and counted, never queued; all pixel work happens on the worker.

mod encoder;
mod scale;

use std::time::Duration;

pub use encoder::{OfferOutcome, PreviewEncoder};

/// Smallest `max_width` / `max_height` accepted.
pub const MIN_PREVIEW_SIDE: u32 = 16;
/// Largest `max_width` accepted (a preview is never larger than 4K UHD).
pub const MAX_PREVIEW_WIDTH: u32 = 3840;
/// Largest `max_height` accepted.
pub const MAX_PREVIEW_HEIGHT: u32 = 2160;
/// Preview rates accepted, in images per second.
pub const MIN_PREVIEW_FPS: f32 = 0.2;
pub const MAX_PREVIEW_FPS: f32 = 30.0;
/// Largest source frame side offered: larger frames are rejected (and counted).
pub const MAX_SOURCE_SIDE: u32 = 16_384;
/// Longest accepted name of a preview encoder (it names the worker thread and logs).
pub const MAX_NAME_LEN: usize = 32;

/// What previews to make: the box they fit in, how often, and the JPEG quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreviewSettings {
    /// Images fit inside `max_width` x `max_height`, keeping the frame's aspect ratio;
    /// frames smaller than that keep their size. 16 to 3840.
    pub max_width: u32,
    /// 16 to 2160.
    pub max_height: u32,
    /// Images per second, by frame pts: 0.2 to 30.
    pub fps: f32,
    /// JPEG quality, 1 (smallest) to 100 (best).
    pub quality: u8,
}

impl Default for PreviewSettings {
    /// 640x360 at 5 images per second, quality 70.
    fn default() -> Self {
        PreviewSettings { max_width: 640, max_height: 360, fps: 5.0, quality: 70 }
    }
}

impl PreviewSettings {
    /// Checks every field; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), PreviewError> {
        let invalid = |field: &'static str, value: String, allowed: &str| PreviewError::InvalidSettings {
            field,
            value,
            allowed: allowed.to_owned(),
        };
        if !(MIN_PREVIEW_SIDE..=MAX_PREVIEW_WIDTH).contains(&self.max_width) {
            return Err(invalid("max_width", self.max_width.to_string(), "use 16 to 3840 pixels"));
        }
        if !(MIN_PREVIEW_SIDE..=MAX_PREVIEW_HEIGHT).contains(&self.max_height) {
            return Err(invalid("max_height", self.max_height.to_string(), "use 16 to 2160 pixels"));
        }
        if !(MIN_PREVIEW_FPS..=MAX_PREVIEW_FPS).contains(&self.fps) {
            return Err(invalid("fps", self.fps.to_string(), "use 0.2 to 30 images per second"));
        }
        if !(1..=100).contains(&self.quality) {
            return Err(invalid("quality", self.quality.to_string(), "use a JPEG quality from 1 to 100"));
        }
        Ok(())
    }

    /// Time between two images, by pts, in whole microseconds (`fps` out of range counts
    /// as the nearest limit).
    pub fn interval(&self) -> Duration {
        let fps = if self.fps.is_nan() { MIN_PREVIEW_FPS } else { self.fps.clamp(MIN_PREVIEW_FPS, MAX_PREVIEW_FPS) };
        Duration::from_micros((1e6 / f64::from(fps)).round() as u64)
    }
}

/// One encoded preview. Cloning is cheap: the JPEG bytes are shared.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewImage {
    /// A baseline JPEG file.
    pub jpeg: bytes::Bytes,
    pub width: u32,
    pub height: u32,
    /// The offered frame's index and pts.
    pub frame_index: u64,
    pub pts: Duration,
    /// Counts the images this encoder published, from 1; unlike `frame_index` it never
    /// goes back (a show restart resets frame indexes), so waiters use it.
    pub sequence: u64,
}

/// Counters of one preview encoder since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreviewStats {
    /// Images encoded and published.
    pub encoded: u64,
    /// Offers ignored because they came sooner than `1 / fps` after the last taken one.
    pub skipped_rate: u64,
    /// Offers that were due but dropped because the worker was still busy.
    pub skipped_busy: u64,
    /// Offers refused because the buffer did not hold width*height*4 bytes, or a side was
    /// 0 or larger than [`MAX_SOURCE_SIDE`].
    pub rejected_frames: u64,
    /// Frames the worker took but could not encode.
    pub failed: u64,
    /// Worker time of the last image: downscale alone, and downscale plus JPEG encode.
    pub last_downscale_time: Option<Duration>,
    pub last_encode_time: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("invalid preview setting `{field}` = {value}: {allowed}")]
    InvalidSettings { field: &'static str, value: String, allowed: String },

    #[error(
        "invalid preview encoder name {name:?}: use 1 to 32 characters from a-z, A-Z, 0-9, '-' and '_' \
         (e.g. \"program\" or \"preview\")"
    )]
    InvalidName { name: String },

    #[error("cannot start the preview worker thread for {name:?}: {source}; the system is out of threads or memory")]
    SpawnWorker {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

/// Checks an encoder name: it appears in thread names and logs.
fn validate_name(name: &str) -> Result<(), PreviewError> {
    let well_formed = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed { Ok(()) } else { Err(PreviewError::InvalidName { name: name.to_owned() }) }
}
