//! What the store reports about assets: `AssetInfo` for a stored image, `AssetStatus` for a
//! name (ready, decoding, failed), `DirLoad` for a folder. Plain data; it must not hold pixels
//! or locks.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::AssetError;
use crate::image::{ContentHash, Image};

/// Facts about one stored asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetInfo {
    pub name: String,
    pub hash: ContentHash,
    pub width: u32,
    pub height: u32,
    /// Number of frames (1 for a still image).
    pub frames: usize,
    /// Pixel bytes of all frames; shared with other names that hold the same bytes.
    pub decoded_bytes: u64,
}

impl AssetInfo {
    pub(crate) fn new(name: &str, image: &Image) -> Self {
        AssetInfo {
            name: name.to_owned(),
            hash: image.hash,
            width: image.width,
            height: image.height,
            frames: image.frames.len(),
            decoded_bytes: image.decoded_bytes(),
        }
    }
}

/// Where a name stands.
#[derive(Clone, Debug)]
pub enum AssetStatus {
    /// A background decode for the name is queued or running (an older image, if any, is
    /// still served until it finishes).
    Decoding,
    /// The latest background decode for the name failed; an older image, if any, is still
    /// served.
    Failed(Arc<AssetError>),
    /// The name has an image.
    Ready(AssetInfo),
    /// The store knows nothing of the name.
    Unknown,
}

impl fmt::Display for AssetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetStatus::Decoding => f.write_str("decoding"),
            AssetStatus::Failed(error) => write!(f, "decoding failed: {error}"),
            AssetStatus::Ready(info) => write!(f, "ready: {}×{}, {} frame(s), {} bytes decoded", info.width, info.height, info.frames, info.decoded_bytes),
            AssetStatus::Unknown => f.write_str("not loaded"),
        }
    }
}

/// The result of [`crate::AssetStore::load_dir`].
#[derive(Debug, Default)]
pub struct DirLoad {
    /// Assets added, in file-name order.
    pub loaded: Vec<AssetInfo>,
    /// Files that were not added, and why (not an image, corrupt, too large, duplicate name).
    pub skipped: Vec<SkippedFile>,
}

/// A file [`crate::AssetStore::load_dir`] did not add.
#[derive(Debug)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub error: AssetError,
}
