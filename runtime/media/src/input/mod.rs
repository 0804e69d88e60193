//! Live inputs: decoded video from outside the show (media files and URLs, RTMP ingest
//! feeds) published by name to [`showrunner_assets::LiveInputs`], where the renderer
//! finds it for `video` ops. Decoding runs on GStreamer's threads; nothing here ever
//! blocks the render thread.
//!
//! [`MediaInput`] plays a file or URL (optionally looping) at its own speed.
//! [`IngestServer`] accepts RTMP publishers and feeds each known stream key's input.
//! A media input may also hand its decoded audio to an [`AudioFeed`], which the live
//! encoder takes the programme audio from.

mod audio_feed;
mod audio_branch;
mod frame_sink;
mod ingest;
mod media_input;
mod media_watch;
mod status;

pub use audio_feed::{AUDIO_FEED_MAX, AUDIO_FEED_START, AUDIO_FRAME_BYTES, AudioFeed, AudioFeedStats};
pub use frame_sink::{FrameCounters, FrameSink, MAX_INPUT_HEIGHT, MAX_INPUT_WIDTH};
pub use ingest::{INGEST_IDLE_TIMEOUT, INGEST_PUBLISH_DEADLINE, IngestKey, IngestServer, IngestSettings};
pub use media_input::{MAX_INPUT_NAME_BYTES, MAX_MEDIA_URI_BYTES, MediaInput, MediaInputSettings};
pub use status::{InputEvent, InputEvents, InputSource, InputState, InputStatus};
