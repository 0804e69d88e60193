//! The live show behind `showrunner serve`: restored from the store at start, run on
//! a frame thread of its own ([`frame_loop`]) that makes, composites, previews and
//! (while outputs are on) encodes every frame, and driven through a [`ShowHandle`]
//! whose requests are applied between frames. What happens goes out on the
//! [`EventBus`].
//!
//! Must not: speak HTTP (that is `api`), or make a request wait on the network.

pub mod alerts;
pub mod bus;
pub mod command;
pub mod delivery;
pub mod docs;
mod frame_loop;
pub mod inputs;
pub mod output_events;
pub mod guest_state;
pub mod monitor;
mod preview_monitor;
mod restore;

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use showrunner_assets::{AssetStore, LiveInputs};
use showrunner_engine::{EngineEvent, EngineOptions, FrameClock, LatePolicy};
use showrunner_media::{EncoderSettings, PreviewImage};
use showrunner_render::{Compositor, Renderer};
use showrunner_wasm::Host;
use tokio::sync::oneshot;

pub use bus::{BusMessage, Change, EventBus, ShowEvent, ShowStats};
pub use command::{Reply, Request, ShowError, ShowSnapshot, SwapDone};
pub use restore::Format;

use crate::store::Store;
use delivery::Delivery;
use frame_loop::FrameLoop;
use guest_state::StateSaver;

/// Requests that may wait for the frame thread before new ones are refused (503).
pub const REQUEST_QUEUE: usize = 256;

/// What the show is made with.
pub struct ShowSetup {
    pub store: Arc<Store>,
    pub host: Arc<Host>,
    pub assets: AssetStore,
    pub inputs: LiveInputs,
    pub format: Format,
    /// Video bitrate of the outputs, kbit/s.
    pub bitrate_kbps: u32,
}

/// The running show: the frame thread and the handle to it.
pub struct ShowRuntime {
    handle: ShowHandle,
    thread: Option<JoinHandle<()>>,
    /// Layers restored from the store and what could not be.
    pub restored_layers: usize,
    pub restore_problems: Vec<String>,
    pub adapter: String,
}

/// Talks to the frame thread; cheap to clone.
#[derive(Clone)]
pub struct ShowHandle {
    requests: SyncSender<Request>,
    bus: EventBus,
    monitors: monitor::Monitors,
    format: Format,
    metrics: Arc<crate::metrics::Metrics>,
}

impl ShowRuntime {
    /// Restores the show from the store and starts its frame thread.
    pub fn start(setup: ShowSetup) -> anyhow::Result<ShowRuntime> {
        let ShowSetup { store, host, assets, inputs, format, bitrate_kbps } = setup;
        let mut saver = StateSaver::start(store.clone()).context("cannot start the guest-state writer")?;
        let restored = restore::restore(&store, &host, format, EngineOptions::default(), &mut saver)?;
        let mut renderer = Renderer::new().context("cannot start the renderer")?;
        renderer.set_assets(assets.clone());
        renderer.set_live_inputs(inputs.clone());
        let adapter = renderer.adapter().to_string();
        let encoder_settings = EncoderSettings { bitrate_kbps, ..EncoderSettings::new(format.width, format.height, format.fps_num, format.fps_den) };
        let mut compositor = Compositor::new(renderer).context("cannot start the compositor")?;
        compositor.set_background(Some(encoder_settings.background));
        let monitors = monitor::Monitors::start().context("cannot start the monitors' JPEG encoders")?;
        let preview_setup = preview_monitor::PreviewCompositorSetup { assets, inputs, background: encoder_settings.background };
        let preview_monitor = preview_monitor::PreviewMonitor::new(monitors.preview.clone(), preview_setup, f64::from(format.fps_num) / f64::from(format.fps_den.max(1)));
        let load = crate::metrics::process::ProcessLoad::start().context("cannot start the process-load sampler")?;
        let clock = FrameClock::new(format.fps_num, format.fps_den, LatePolicy::Repeat)?;
        let (requests, receiver) = sync_channel(REQUEST_QUEUE);
        let bus = EventBus::default();
        let metrics = Arc::new(crate::metrics::Metrics::new(restored.engine.pool().clone())?);
        metrics.listen(&bus)?;
        let frame_loop = FrameLoop {
            engine: restored.engine,
            compositor,
            clock,
            requests: receiver,
            bus: bus.clone(),
            monitors: monitors.clone(),
            preview_monitor,
            load,
            encoder_settings,
            saver,
            encoder: None,
            delivery: Delivery::default(),
            swaps: Vec::new(),
            stats: ShowStats::default(),
            window: (0, Duration::ZERO, Duration::ZERO),
            next_stats: Instant::now() + Duration::from_secs(1),
            next_index: 0,
            watch: alerts::PerformanceWatch::default(),
            metrics: metrics.clone(),
        };
        let thread = std::thread::Builder::new().name("show-frames".into()).spawn(move || frame_loop.run()).context("cannot start the frame thread")?;
        Ok(ShowRuntime {
            handle: ShowHandle { requests, bus, monitors, format, metrics },
            thread: Some(thread),
            restored_layers: restored.layers,
            restore_problems: restored.problems,
            adapter,
        })
    }

    pub fn handle(&self) -> ShowHandle {
        self.handle.clone()
    }

    /// Stops the frame thread: frames in flight are finished, outputs are closed and
    /// guest state is saved. Blocks until done (dropping the runtime does the same).
    pub fn stop(self) {}

    fn shutdown(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        // The thread answers and ends; joining it is the wait (no async runtime needed).
        let (reply, _answer) = oneshot::channel();
        let _ = self.handle.requests.send(Request::Stop(reply));
        if thread.join().is_err() {
            tracing::error!("the frame thread panicked");
        }
    }
}

impl Drop for ShowRuntime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl ShowHandle {
    /// Sends a request made by `make` and waits for its answer. `Busy` when too many
    /// requests are waiting already.
    pub async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, ShowError> {
        let (reply, answer) = oneshot::channel();
        match self.requests.try_send(make(reply)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(ShowError::Busy(REQUEST_QUEUE)),
            Err(TrySendError::Disconnected(_)) => return Err(ShowError::Stopped),
        }
        answer.await.map_err(|_| ShowError::Stopped)?
    }

    pub async fn snapshot(&self) -> Result<ShowSnapshot, ShowError> {
        self.ask(Request::Snapshot).await
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// The latest programme picture (640x360 at most); see [`monitor`].
    pub fn preview_image(&self) -> Option<PreviewImage> {
        self.monitors.program.latest()
    }

    /// The programme and preview monitors.
    pub fn monitors(&self) -> &monitor::Monitors {
        &self.monitors
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The show's Prometheus metrics.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }
}

/// One line for an engine event the bus carries as text.
pub(crate) fn describe_engine_event(event: &EngineEvent) -> String {
    match event {
        EngineEvent::WorkerRespawned { worker, reason, layers, failed } => {
            let failed: Vec<String> = failed.iter().map(|(layer, why)| format!("{layer} ({why})")).collect();
            format!("worker {worker} was restarted ({reason}); layers {} moved{}", layers.join(", "), if failed.is_empty() { String::new() } else { format!("; not restarted: {}", failed.join(", ")) })
        }
        EngineEvent::TaskPanicked { worker, layer, message } => format!("a task on worker {worker} panicked{}: {message}", layer.as_deref().map(|l| format!(" (layer {l})")).unwrap_or_default()),
        EngineEvent::CueFired { cue, .. } => format!("cue {cue}"),
        EngineEvent::CueFailed { cue, error, .. } => format!("cue {cue} failed: {error}"),
        other => format!("{other:?}"),
    }
}
