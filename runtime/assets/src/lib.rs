//! showrunner's asset store: images by name and content hash, decoded off the render thread.
//!
//! [`AssetStore`] owns decoded images. Scenes refer to images by asset *name* (the `image`
//! draw op, `image` paints, the host's `asset-size`); the store maps each name to an
//! [`Image`], and names whose encoded bytes are equal share one `Image` (same
//! [`ContentHash`]), so the renderer can upload each texture once, keyed by
//! [`ContentHash::id`].
//!
//! - **Adding**: [`AssetStore::insert`] decodes on the caller's thread; [`AssetStore::load`]
//!   hands the bytes to a small pool of decoder threads behind a bounded queue (a full queue
//!   is [`AssetError::QueueFull`], never a wait); [`AssetStore::load_dir`] adds a folder.
//!   Formats are detected from content: PNG, JPEG, WebP (still and animated), GIF (all
//!   frames). Replacing a name is atomic: readers see the old image or the new one.
//! - **Reading**: [`AssetStore::get`] and [`AssetStore::size`] are a read-lock map lookup.
//!   Decoding never happens under the lock, so the render thread never waits on a decode.
//! - **Limits** ([`AssetLimits`]): encoded size, width and height, decoded bytes per asset,
//!   frame count, decoded bytes of the whole store. Dimensions are checked from the header
//!   before any pixel buffer exists, and the `image` crate's own limits stop decompression
//!   bombs while decoding.
//! - **Missing assets**: [`AssetStore::note_missing`] says "warn" once per missing name.
//! - **Live inputs**: [`LiveInputs`] holds the newest decoded frame of each live input
//!   (ingest feeds, media files) for `video` ops; latest wins, nothing queues.
//!
//! Pixel format: every [`ImageFrame::pixels`] is premultiplied-alpha sRGB RGBA8, tightly
//! packed, top row first; animations are stored as full, composited frames with delays.
//!
//! This crate must not know about GPUs, Wasm or HTTP, and must never make the render thread
//! wait on decoding or I/O.

mod decode;
mod dir;
mod error;
mod image;
mod info;
mod limits;
mod live;
mod loader;
mod pixels;
mod remembered;
mod state;
mod store;

pub use crate::error::{AssetError, LimitKind, SUPPORTED_FORMATS};
pub use crate::image::{ContentHash, Image, ImageFrame};
pub use crate::info::{AssetInfo, AssetStatus, DirLoad, SkippedFile};
pub use crate::limits::{AssetLimits, DecoderSettings, MAX_NAME_BYTES, validate_name};
pub use crate::live::{LiveFrame, LiveFrameError, LiveInputs, MAX_LIVE_SIDE};
pub use crate::store::AssetStore;
