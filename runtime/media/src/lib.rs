//! showrunner media: turns composited pixels into streams and files with GStreamer:
//! offline encoding of straight-alpha sRGB RGBA8 frames to H.264 files (`.mp4`, `.mkv`;
//! [`FileEncoder`]), live output (one H.264 + AAC encode fanned out to RTMP/RTMPS
//! destinations and a Matroska recorder; [`LiveEncoder`], [`LiveOutputs`]) and reduced
//! JPEG previews ([`PreviewEncoder`]), and live inputs: media files and URLs
//! ([`MediaInput`], optionally looping) and RTMP ingest feeds decoded to
//! [`showrunner_assets::LiveInputs`] for `video` ops.
//!
//! It knows no Wasm and nothing about scenes or guests: it takes finished frames.
//! Live outputs must never block the render thread (they will drop or skip rather than
//! wait); file encoding for offline render may block the caller, since an offline
//! render must not drop frames.
//!
//! ```no_run
//! use showrunner_media::{EncoderSettings, FileEncoder};
//! # fn main() -> Result<(), showrunner_media::MediaError> {
//! showrunner_media::probe_elements()?;
//! let settings = EncoderSettings::new(1920, 1080, 30, 1);
//! let mut encoder = FileEncoder::create("out.mp4".as_ref(), &settings)?;
//! let frame = vec![0u8; settings.frame_bytes()];
//! for _ in 0..60 {
//!     encoder.push_frame(&frame)?;
//! }
//! let summary = encoder.finish()?;
//! println!("{} frames, {} bytes", summary.frames_written, summary.file_size_bytes);
//! # Ok(())
//! # }
//! ```

mod composite;
mod elements;
mod error;
mod events;
mod file_encoder;
mod input;
mod live;
mod pipeline;
mod preview;
mod settings;

pub use composite::composite_over_background;
pub use elements::{probe_elements, probe_input_elements, probe_live_elements};
pub use events::{EVENT_CAPACITY, EventQueue};
pub use error::{MediaError, MissingElement, PipelineFailure};
pub use file_encoder::{Container, EncodeSummary, FINISH_TIMEOUT, FileEncoder};
pub use input::{AUDIO_FEED_MAX, AUDIO_FEED_START, AUDIO_FRAME_BYTES, AudioFeed, AudioFeedStats};
pub use input::{
    FrameCounters, FrameSink, InputEvent, InputEvents, InputSource, InputState, InputStatus,
    MAX_INPUT_HEIGHT, MAX_INPUT_NAME_BYTES, MAX_INPUT_WIDTH, MAX_MEDIA_URI_BYTES, MediaInput, MediaInputSettings,
};
pub use input::{INGEST_IDLE_TIMEOUT, INGEST_PUBLISH_DEADLINE, IngestKey, IngestServer, IngestSettings};
pub use live::{
    AUDIO_RATE, EncoderStats, LiveEncoder, LiveOutputs, LiveSettings, OutputEvent, OutputState, OutputStatus, Pushed,
    QualityChange, QualityPolicy, mask_stream_key,
};
pub use preview::{
    MAX_PREVIEW_FPS, MAX_PREVIEW_HEIGHT, MAX_PREVIEW_WIDTH, MAX_SOURCE_SIDE, MIN_PREVIEW_FPS, MIN_PREVIEW_SIDE,
    OfferOutcome, PreviewEncoder, PreviewError, PreviewImage, PreviewSettings, PreviewStats,
};
pub use settings::{
    EncoderSettings, MAX_BITRATE_KBPS, MAX_FPS, MAX_HEIGHT, MAX_KEYFRAME_INTERVAL, MAX_WIDTH, MIN_BITRATE_KBPS,
    MIN_FPS, MIN_SIDE, X264Preset,
};
