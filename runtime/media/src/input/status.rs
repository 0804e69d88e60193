//! What an operator sees of each live input (a media file or URL, an RTMP ingest key):
//! its state, frames shown, size, loops, and the events emitted when any of that
//! changes. Plain data shared between an input's threads and whoever asks (CLI, API,
//! dashboard, metrics); it must not touch GStreamer.

/// What feeds an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// A file or URL decoded by `uridecodebin`.
    Media { uri: String, looping: bool },
    /// An RTMP publisher on the ingest server; the key is masked.
    Ingest { key: String },
}

/// Where an input is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputState {
    /// Opening the file or URL (media), before the first frame.
    Starting,
    /// No publisher on this key (ingest).
    Waiting,
    /// Frames are arriving; `peer` is the publisher's address (ingest) or empty.
    Live { peer: String },
    /// The media reached its end and does not loop; the last frame is no longer shown.
    Ended,
    /// Stopped by the operator.
    Stopped,
    /// Gave up; the error says why.
    Failed { error: String },
}

impl InputState {
    /// A short name for logs, metrics labels and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            InputState::Starting => "starting",
            InputState::Waiting => "waiting",
            InputState::Live { .. } => "live",
            InputState::Ended => "ended",
            InputState::Stopped => "stopped",
            InputState::Failed { .. } => "failed",
        }
    }
}

/// A snapshot of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputStatus {
    /// The name `video` ops draw it by.
    pub name: String,
    pub source: InputSource,
    pub state: InputState,
    /// Frames published to the renderer since the input was added.
    pub frames: u64,
    /// Size of the newest frame, once there is one.
    pub size: Option<(u32, u32)>,
    /// Times a looping media input started again from the beginning.
    pub loops: u32,
    /// Times a publisher went live on this key (ingest).
    pub sessions: u32,
}

/// Something that changed on an input (or was refused at the ingest door).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputEvent {
    StateChanged { name: String, state: InputState },
    /// A publisher started sending on an ingest key.
    Published { name: String, peer: String },
    /// The publisher stopped (cleanly or not); `reason` says which.
    Unpublished { name: String, reason: String },
    /// A connection was refused before it could publish (unknown key, key in use,
    /// malformed RTMP); the key in `reason` is masked.
    Rejected { peer: String, reason: String },
    /// A looping media input started again.
    Looped { name: String, loops: u32 },
}

/// The input events of one show: a bounded queue (see [`crate::EventQueue`]).
pub type InputEvents = crate::EventQueue<InputEvent>;
