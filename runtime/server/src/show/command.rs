//! What the API asks of the frame thread: [`Request`]s, each with its own one-shot
//! reply, applied between two frames (never while one is being made), and
//! [`ShowError`], why one was refused. A refused request leaves the show unchanged.
//!
//! Must not: load or compile modules (requests carry loaded ones) or touch the store.

use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{Event, LayerSpec, Prop, ShowSpec};
use showrunner_engine::{EngineError, LayerPatch, TransitionChoice};
use showrunner_media::LiveOutputs;
use showrunner_wasm::{LayerStatus, LoadedModule, SwapReport};
use tokio::sync::oneshot;

/// Why the show refused or could not answer a request.
#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("the show is busy ({0} requests queued); retry shortly")]
    Busy(usize),
    #[error("the show has stopped")]
    Stopped,
    #[error("the encoder: {0}")]
    Encoder(String),
}

impl From<EngineError> for ShowError {
    fn from(error: EngineError) -> Self {
        ShowError::Engine(Box::new(error))
    }
}

pub type Reply<T> = oneshot::Sender<Result<T, ShowError>>;

/// The show as it is between two frames.
#[derive(Clone, Debug)]
pub struct ShowSnapshot {
    pub spec: ShowSpec,
    pub program: String,
    pub preview: Option<String>,
    /// The scene a running transition is taking to program.
    pub incoming: Option<String>,
    /// Index of the last frame made.
    pub frame: u64,
    /// Whether the encoder runs.
    pub encoding: bool,
}

/// A hot-swap that reached the screen.
#[derive(Clone, Debug)]
pub struct SwapDone {
    pub report: SwapReport,
    /// The layer as it now is (its module is the new one's hash).
    pub layer: LayerSpec,
    /// The first frame made with the new module.
    pub frame: u64,
    /// From the request reaching the frame thread to that frame being composited.
    pub to_screen: Duration,
}

/// One request to the frame thread.
pub enum Request {
    Snapshot(Reply<ShowSnapshot>),
    LayerStatus { layer: String, reply: Reply<LayerStatus> },
    AddScene { name: String, reply: Reply<()> },
    RemoveScene { name: String, reply: Reply<()> },
    AddLayer { scene: String, layer: LayerSpec, module: Arc<LoadedModule>, state: Option<Arc<[u8]>>, reply: Reply<LayerSpec> },
    UpdateLayer { layer: String, patch: LayerPatch, reply: Reply<LayerSpec> },
    SetProps { layer: String, props: Vec<Prop>, reply: Reply<LayerSpec> },
    RemoveLayer { layer: String, reply: Reply<()> },
    Event { layer: String, event: Event, reply: Reply<()> },
    /// Answered once the first frame with the new module is composited.
    Swap { layer: String, module: Arc<LoadedModule>, reply: Reply<SwapDone> },
    Release { layer: String, reply: Reply<()> },
    SetPreview { scene: Option<String>, reply: Reply<()> },
    Take { scene: String, transition: Option<TransitionChoice>, reply: Reply<()> },
    /// Starts the encoder if it is not running; answers its outputs.
    StartEncoder(Reply<LiveOutputs>),
    /// Stops the encoder (after the outputs sent what they had) if it runs.
    StopEncoder(Reply<()>),
    /// Sets the outputs' video bitrate: at once on a running encoder, and for the next start.
    SetBitrate { kbps: u32, reply: Reply<()> },
    /// Stops the show (the frame thread ends after answering).
    Stop(Reply<()>),
}
