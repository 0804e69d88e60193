//! showrunner's frame loop.
//!
//! Owns the inputs of every output frame: the live show state (scenes, layers,
//! props, which scene is on program and preview), the worker pool that ticks each
//! live layer's Wasm instance on a thread of its own, transitions between scenes,
//! and cues (the show file's timeline). Each call to [`Engine::frame`] turns that
//! into a [`FramePlan`](showrunner_core::FramePlan) for the compositor. A live loop
//! is paced by a [`FrameClock`]: frame n is due n·den/num seconds after the start,
//! without drift, and slots a slow loop misses are repeated or skipped, and counted.
//!
//! A render loop, live or offline:
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use showrunner_engine::{EngineOptions, LoadedShow};
//! let host = showrunner_wasm::Host::with_defaults()?;
//! let mut show = LoadedShow::open("example-scenes/demo-show.toml".as_ref(), &host, EngineOptions::default())?;
//! for n in 0..show.frames() {
//!     show.timeline.apply_due(&mut show.engine, n);
//!     let plan = show.engine.frame(n)?;
//!     // hand `plan` to the compositor; report show.engine.drain_events()
//! #   let _ = plan;
//! }
//! # Ok(()) }
//! ```
//!
//! Must not: draw pixels or depend on the renderer (the CLI wires engine → render),
//! speak HTTP, compile modules on the frame path, or ever make a Program tick wait
//! behind Preview or Offline work.

// Pool and engine errors carry a guest `Fault` (module, layer, what broke) unboxed:
// they travel only on the rare failure path.
#![allow(clippy::result_large_err)]

pub mod clock;
pub mod cue;
mod engine;
mod error;
mod events;
mod load;
pub mod modules;
pub mod pool;
pub mod props;
pub mod show_file;

pub use clock::{ClockError, ClockStats, FrameClock, LatePolicy, Tick};
pub use cue::{Cue, CueAction, Timeline};
pub use engine::{Engine, EngineOptions, LayerPatch, PreviewFrame, TransitionChoice};
pub use error::EngineError;
pub use events::EngineEvent;
pub use load::{LoadedShow, ShowLoadError};
pub use modules::{ModuleFileError, ModuleFiles};
pub use pool::{LatencySummary, LayerTick, PendingTick, Pool, PoolConfig, PoolError, PoolEvent, PoolMetrics, Priority};
pub use show_file::{ShowFile, ShowFileError};
