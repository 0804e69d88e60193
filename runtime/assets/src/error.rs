//! `AssetError`: every way adding an asset can fail, each naming the asset and the reason.
//! Owns the messages only; it must not decide policy (the store and decoder do).

use std::fmt;
use std::path::PathBuf;

/// The formats the decoder accepts, as said in error messages.
pub const SUPPORTED_FORMATS: &str = "PNG, JPEG, WebP and GIF";

/// Which limit an asset went over (see [`crate::AssetLimits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Size of the encoded file in bytes.
    EncodedBytes,
    /// Image width in pixels.
    Width,
    /// Image height in pixels.
    Height,
    /// Decoded RGBA8 bytes of one asset, all frames together.
    DecodedBytes,
    /// Number of animation frames.
    Frames,
    /// Decoded bytes of every image in the store together.
    StoreTotalBytes,
    /// Memory the decoder asked for while decoding.
    DecoderMemory,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::EncodedBytes => "encoded size in bytes",
            LimitKind::Width => "width in pixels",
            LimitKind::Height => "height in pixels",
            LimitKind::DecodedBytes => "decoded size in bytes (all frames)",
            LimitKind::Frames => "frame count",
            LimitKind::StoreTotalBytes => "decoded bytes of all stored images",
            LimitKind::DecoderMemory => "decoder memory in bytes",
        })
    }
}

/// Why an asset could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// The bytes are not an image in a supported format.
    #[error("asset {name:?}: {detail}; supported formats are {SUPPORTED_FORMATS}")]
    Unsupported { name: String, detail: String },

    /// The bytes look like a supported format but do not decode (truncated, damaged, empty).
    #[error("asset {name:?}: the image data is corrupt or truncated ({reason}); export the file again and re-upload it")]
    Corrupt { name: String, reason: String },

    /// The asset, or the store with it, would go over a limit.
    #[error("asset {name:?}: {what} {} is over the limit of {limit}; use a smaller image or raise the limit", actual_text(*actual))]
    TooLarge { name: String, what: LimitKind, actual: Option<u64>, limit: u64 },

    /// The name is not a valid asset name.
    #[error("asset name {name:?} is invalid: {reason}")]
    BadName { name: String, reason: String },

    /// The background decoder's queue is full.
    #[error("asset {name:?}: the background decode queue is full ({capacity} waiting); retry later or insert synchronously")]
    QueueFull { name: String, capacity: usize },

    /// The background decoder threads could not start or have stopped.
    #[error("asset {name:?}: the background decoder is not running ({source}); insert the asset synchronously instead")]
    DecoderUnavailable { name: String, source: std::io::Error },

    /// A file or folder could not be read.
    #[error("reading {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl AssetError {
    /// The asset name the error is about (`None` for folder-level I/O errors).
    pub fn asset_name(&self) -> Option<&str> {
        match self {
            AssetError::Unsupported { name, .. }
            | AssetError::Corrupt { name, .. }
            | AssetError::TooLarge { name, .. }
            | AssetError::BadName { name, .. }
            | AssetError::QueueFull { name, .. }
            | AssetError::DecoderUnavailable { name, .. } => Some(name),
            AssetError::Io { .. } => None,
        }
    }
}

fn actual_text(actual: Option<u64>) -> String {
    match actual {
        Some(value) => format!("({value})"),
        None => "(unknown)".to_owned(),
    }
}
