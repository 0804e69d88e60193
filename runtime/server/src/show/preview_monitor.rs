//! Renders the preview monitor on the frame thread: every few frames (about
//! [`MONITOR_FPS`] a second) while the monitor is watched, the engine ticks the
//! preview scene and a compositor of its own draws it, so program's damage tracking
//! and frame pipeline never see it. The compositor is made on a thread of its own the
//! first time the monitor is watched (opening a GPU device takes a while), so neither
//! an idle show nor the first look costs program a frame.
//!
//! Must not: wait on the GPU for the preview picture (a frame drawn now is read back at
//! the next preview tick), or stop program when the preview scene cannot be drawn.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use showrunner_assets::{AssetStore, LiveInputs};
use showrunner_engine::{Engine, FrameClock, PreviewFrame};
use showrunner_render::{Compositor, Renderer};

use super::monitor::{MONITOR_FPS, Monitor};

/// What the preview compositor is made with.
pub(super) struct PreviewCompositorSetup {
    pub assets: AssetStore,
    pub inputs: LiveInputs,
    pub background: [u8; 3],
}

enum CompositorState {
    NotStarted(PreviewCompositorSetup),
    Starting(Receiver<anyhow::Result<Compositor>>),
    Ready(Box<Compositor>),
    Failed,
}

pub(super) struct PreviewMonitor {
    monitor: Arc<Monitor>,
    compositor: CompositorState,
    /// Frames between two preview pictures.
    step: u64,
    /// Whether the preview scene is program's: program's frames go to the monitor.
    pub mirrors_program: bool,
    /// Index of the frame being drawn for the monitor.
    drawing: u64,
}

impl PreviewMonitor {
    pub fn new(monitor: Arc<Monitor>, setup: PreviewCompositorSetup, fps: f64) -> PreviewMonitor {
        let step = (fps / f64::from(MONITOR_FPS)).round().max(1.0) as u64;
        PreviewMonitor { monitor, compositor: CompositorState::NotStarted(setup), step, mirrors_program: false, drawing: 0 }
    }

    /// The preview monitor's part of frame `index` (after program's frame was made).
    pub fn frame(&mut self, engine: &mut Engine, clock: &FrameClock, index: u64) {
        if !self.monitor.watched() {
            self.mirrors_program = false;
            return;
        }
        self.receive(clock);
        if !index.is_multiple_of(self.step) {
            return;
        }
        let plan = match engine.preview_frame(index) {
            Ok(PreviewFrame::Empty) => {
                self.mirrors_program = false;
                self.monitor.set_scene(None);
                return;
            }
            Ok(PreviewFrame::SameAsProgram) => {
                self.mirrors_program = true;
                self.monitor.set_scene(engine.preview());
                return;
            }
            Ok(PreviewFrame::Scene(plan)) => plan,
            Err(e) => {
                tracing::warn!(frame = index, error = %e, "cannot make the preview monitor's frame");
                return;
            }
        };
        self.mirrors_program = false;
        self.monitor.set_scene(Some(&plan.scenes[0].name));
        let Some(compositor) = self.compositor() else { return };
        let spec = engine.spec();
        if compositor.in_flight() > 0 {
            return;
        }
        match compositor.submit(&plan, spec.width, spec.height) {
            Ok(()) => self.drawing = index,
            Err(e) => tracing::warn!(frame = index, error = %e, "cannot composite the preview monitor's frame"),
        }
    }

    /// Hands the frame drawn at the last preview tick to the monitor.
    fn receive(&mut self, clock: &FrameClock) {
        let CompositorState::Ready(compositor) = &mut self.compositor else { return };
        if compositor.in_flight() == 0 {
            return;
        }
        match compositor.receive() {
            Ok(Some(frame)) => self.monitor.offer(&frame.pixels, frame.width, frame.height, self.drawing, clock.pts(self.drawing)),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the preview monitor's frame was not read back"),
        }
    }

    /// The compositor once it is ready; starts making it the first time.
    fn compositor(&mut self) -> Option<&mut Compositor> {
        let state = std::mem::replace(&mut self.compositor, CompositorState::Failed);
        self.compositor = match state {
            CompositorState::NotStarted(setup) => {
                let (sender, receiver) = channel();
                let started = std::thread::Builder::new().name("preview-gpu".into()).spawn(move || {
                    let _ = sender.send(make_compositor(setup));
                });
                match started {
                    Ok(_) => CompositorState::Starting(receiver),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the preview monitor's renderer thread");
                        CompositorState::Failed
                    }
                }
            }
            CompositorState::Starting(receiver) => match receiver.try_recv() {
                Ok(Ok(compositor)) => CompositorState::Ready(Box::new(compositor)),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "the preview monitor has no renderer; it stays dark");
                    CompositorState::Failed
                }
                Err(TryRecvError::Empty) => CompositorState::Starting(receiver),
                Err(TryRecvError::Disconnected) => CompositorState::Failed,
            },
            other => other,
        };
        match &mut self.compositor {
            CompositorState::Ready(compositor) => Some(compositor),
            _ => None,
        }
    }
}

fn make_compositor(setup: PreviewCompositorSetup) -> anyhow::Result<Compositor> {
    let mut renderer = Renderer::new()?;
    renderer.set_assets(setup.assets);
    renderer.set_live_inputs(setup.inputs);
    let mut compositor = Compositor::new(renderer)?;
    compositor.set_background(Some(setup.background));
    Ok(compositor)
}
