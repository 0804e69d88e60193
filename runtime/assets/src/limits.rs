//! Limits on what the store accepts (`AssetLimits`), the background decoder's settings
//! (`DecoderSettings`) and asset-name rules. Owns the numbers and the checks against them;
//! it must not decode or store anything.

use crate::error::{AssetError, LimitKind};

const MIB: u64 = 1024 * 1024;

/// Longest asset name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// Resource limits for assets. `Default` gives the production limits; every field is settable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssetLimits {
    /// Largest encoded file accepted, in bytes (default 32 MiB).
    pub max_encoded_bytes: u64,
    /// Widest image, in pixels (default 8192).
    pub max_width: u32,
    /// Tallest image, in pixels (default 8192).
    pub max_height: u32,
    /// Largest decoded RGBA8 size of one asset, all frames together (default 256 MiB).
    pub max_decoded_bytes: u64,
    /// Most animation frames in one asset (default 1000).
    pub max_frames: usize,
    /// Largest decoded size of every image in the store together (default 1 GiB).
    /// An image shared by several names counts once.
    pub max_total_decoded_bytes: u64,
    /// How many missing names, and how many background-decode failures, the store remembers
    /// (default 1024 each).
    pub max_remembered_names: usize,
}

impl Default for AssetLimits {
    fn default() -> Self {
        AssetLimits {
            max_encoded_bytes: 32 * MIB,
            max_width: 8192,
            max_height: 8192,
            max_decoded_bytes: 256 * MIB,
            max_frames: 1000,
            max_total_decoded_bytes: 1024 * MIB,
            max_remembered_names: 1024,
        }
    }
}

/// Settings of the background decoder behind [`crate::AssetStore::load`]. Read once, when the
/// first `load` starts the decoder threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderSettings {
    /// Decoder threads, clamped to 1..=4 (default 2).
    pub threads: usize,
    /// Jobs that may wait for a decoder thread, at least 1 (default 8). With a 32 MiB encoded
    /// limit, a full queue holds at most `queue_capacity × 32 MiB` of encoded bytes.
    pub queue_capacity: usize,
}

impl Default for DecoderSettings {
    fn default() -> Self {
        DecoderSettings { threads: 2, queue_capacity: 8 }
    }
}

impl AssetLimits {
    /// The `image` crate limits used while decoding: dimensions are strict, and the decoder's
    /// allocations may reach twice the per-asset decoded budget (a 16-bit source image is
    /// twice its RGBA8 size before conversion).
    pub(crate) fn decoder_limits(&self) -> image::Limits {
        let mut limits = image::Limits::no_limits();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.decoder_memory());
        limits
    }

    /// Only the memory part of [`AssetLimits::decoder_limits`], for decoders built before the
    /// header is read, so that dimensions are reported by our own check with the actual size.
    pub(crate) fn decoder_memory_limits(&self) -> image::Limits {
        let mut limits = image::Limits::no_limits();
        limits.max_alloc = Some(self.decoder_memory());
        limits
    }

    pub(crate) fn decoder_memory(&self) -> u64 {
        self.max_decoded_bytes.saturating_mul(2)
    }

    /// Rejects empty and oversized encoded input.
    pub(crate) fn check_encoded(&self, name: &str, len: usize) -> Result<(), AssetError> {
        if len == 0 {
            return Err(AssetError::Corrupt { name: name.to_owned(), reason: "the file is empty (0 bytes)".to_owned() });
        }
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        over(name, LimitKind::EncodedBytes, len, self.max_encoded_bytes)
    }

    /// Rejects dimensions over the width/height limits, or whose single RGBA8 frame is over
    /// the per-asset decoded budget, and zero-sized images.
    pub(crate) fn check_dimensions(&self, name: &str, width: u32, height: u32) -> Result<(), AssetError> {
        if width == 0 || height == 0 {
            return Err(AssetError::Corrupt { name: name.to_owned(), reason: format!("the image is {width}×{height} pixels") });
        }
        over(name, LimitKind::Width, width.into(), self.max_width.into())?;
        over(name, LimitKind::Height, height.into(), self.max_height.into())?;
        over(name, LimitKind::DecodedBytes, frame_bytes(width, height), self.max_decoded_bytes)
    }
}

/// Bytes of one premultiplied RGBA8 frame.
pub(crate) fn frame_bytes(width: u32, height: u32) -> u64 {
    u64::from(width) * u64::from(height) * 4
}

/// `Err(TooLarge)` when `actual > limit`.
pub(crate) fn over(name: &str, what: LimitKind, actual: u64, limit: u64) -> Result<(), AssetError> {
    if actual > limit {
        return Err(AssetError::TooLarge { name: name.to_owned(), what, actual: Some(actual), limit });
    }
    Ok(())
}

/// Asset names are 1..=256 bytes of UTF-8 without control characters.
pub fn validate_name(name: &str) -> Result<(), AssetError> {
    let reason = if name.is_empty() {
        "it is empty".to_owned()
    } else if name.len() > MAX_NAME_BYTES {
        format!("it is {} bytes long, the limit is {MAX_NAME_BYTES}", name.len())
    } else if name.chars().any(char::is_control) {
        "it contains a control character".to_owned()
    } else {
        return Ok(());
    };
    Err(AssetError::BadName { name: truncate_name(name).to_owned(), reason: format!("{reason}; names are 1 to {MAX_NAME_BYTES} bytes with no control characters") })
}

/// The first `MAX_NAME_BYTES` bytes of `name`, cut at a character boundary.
pub(crate) fn truncate_name(name: &str) -> &str {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}
