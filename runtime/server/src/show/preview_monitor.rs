//! The preview monitor: every few frames (about [`MONITOR_FPS`] a second) while the
//! monitor is watched, the frame thread ticks the preview scene and hands its plan to a
//! render thread of its own, which composites it with its own compositor (so program's
//! damage tracking and frame pipeline never see it) and offers the picture to the
//! monitor. The render thread starts the first time the monitor is watched (opening a GPU
//! device takes a while), so an idle show pays nothing. The preview is drawn at the
//! monitor's size (640x360 at most), not the show's: every layer's draw list is wrapped
//! in a scaling group, so it costs about a ninth of a 1080p frame.
//!
//! Must not: make the frame thread wait for the preview picture (a plan the render thread
//! is not ready for is dropped), or stop program when the preview cannot be drawn.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use showrunner_assets::{AssetStore, LiveInputs};
use showrunner_core::{Affine, BlendMode, DrawOp, FramePlan, Group};
use showrunner_engine::{Engine, FrameClock, PreviewFrame};
use showrunner_render::{Compositor, Renderer};

use super::monitor::{MONITOR_FPS, MONITOR_SIZE, Monitor};

/// What the preview compositor is made with.
pub(super) struct PreviewCompositorSetup {
    pub assets: AssetStore,
    pub inputs: LiveInputs,
    pub background: [u8; 3],
}

/// One preview picture to draw.
struct PreviewJob {
    plan: FramePlan,
    width: u32,
    height: u32,
    index: u64,
    pts: Duration,
}

enum RenderThread {
    NotStarted(PreviewCompositorSetup),
    Running(SyncSender<PreviewJob>),
    Gone,
}

pub(super) struct PreviewMonitor {
    monitor: Arc<Monitor>,
    render: RenderThread,
    /// Frames between two preview pictures.
    step: u64,
    /// Whether the preview scene is program's: program's frames go to the monitor.
    pub mirrors_program: bool,
}

impl PreviewMonitor {
    pub fn new(monitor: Arc<Monitor>, setup: PreviewCompositorSetup, fps: f64) -> PreviewMonitor {
        let step = (fps / f64::from(MONITOR_FPS)).round().max(1.0) as u64;
        PreviewMonitor { monitor, render: RenderThread::NotStarted(setup), step, mirrors_program: false }
    }

    /// The preview monitor's part of frame `index` (after program's frame was made).
    pub fn frame(&mut self, engine: &mut Engine, clock: &FrameClock, index: u64) {
        if !self.monitor.watched() {
            self.mirrors_program = false;
            return;
        }
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
        let spec = engine.spec();
        let (plan, width, height) = shrink(plan, spec.width, spec.height);
        self.send(PreviewJob { plan, width, height, index, pts: clock.pts(index) });
    }

    /// Hands a job to the render thread (starting it the first time); dropped while it is busy.
    fn send(&mut self, job: PreviewJob) {
        if let RenderThread::NotStarted(_) = &self.render
            && let RenderThread::NotStarted(setup) = std::mem::replace(&mut self.render, RenderThread::Gone)
        {
            self.render = start_render_thread(setup, self.monitor.clone());
        }
        let RenderThread::Running(jobs) = &self.render else { return };
        if let Err(TrySendError::Disconnected(_)) = jobs.try_send(job) {
            self.render = RenderThread::Gone;
        }
    }
}

fn start_render_thread(setup: PreviewCompositorSetup, monitor: Arc<Monitor>) -> RenderThread {
    let (jobs, receiver) = sync_channel(1);
    match std::thread::Builder::new().name("preview-render".into()).spawn(move || render(setup, &receiver, &monitor)) {
        Ok(_) => RenderThread::Running(jobs),
        Err(e) => {
            tracing::error!(error = %e, "cannot start the preview monitor's render thread; it stays dark");
            RenderThread::Gone
        }
    }
}

/// The render thread: makes its compositor, then draws every job it gets.
fn render(setup: PreviewCompositorSetup, jobs: &Receiver<PreviewJob>, monitor: &Monitor) {
    let mut compositor = match make_compositor(setup) {
        Ok(compositor) => compositor,
        Err(e) => {
            tracing::error!(error = %e, "the preview monitor has no renderer; it stays dark");
            return;
        }
    };
    while let Ok(job) = jobs.recv() {
        match compositor.compose(&job.plan, job.width, job.height) {
            Ok(frame) => monitor.offer(&frame.pixels, frame.width, frame.height, job.index, job.pts),
            Err(e) => tracing::warn!(frame = job.index, error = %e, "cannot composite the preview monitor's frame"),
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

/// `plan` drawn at the monitor's size: a show of `width` x `height` scaled to fit
/// [`MONITOR_SIZE`] (never up), with the size to composite it at (even, at least 16).
fn shrink(mut plan: FramePlan, width: u32, height: u32) -> (FramePlan, u32, u32) {
    let (max_w, max_h) = MONITOR_SIZE;
    let scale = (max_w as f32 / width.max(1) as f32).min(max_h as f32 / height.max(1) as f32).min(1.0);
    if scale >= 1.0 {
        return (plan, width, height);
    }
    let side = |v: u32| (((v as f32 * scale).round() as u32).max(16) + 1) & !1;
    let group = Group { transform: Affine { a: scale, d: scale, ..Affine::IDENTITY }, opacity: 1.0, clip: None, blend: BlendMode::Normal };
    for layer in plan.scenes.iter_mut().flat_map(|s| s.layers.iter_mut()) {
        let mut ops = Vec::with_capacity(layer.ops.len() + 2);
        ops.push(DrawOp::Push(group.clone()));
        ops.extend(layer.ops.iter().cloned());
        ops.push(DrawOp::Pop);
        layer.ops = std::sync::Arc::new(ops);
        // The placement moves in monitor pixels: S·T·S⁻¹ keeps the linear part.
        layer.transform.e *= scale;
        layer.transform.f *= scale;
        if let Some(crop) = &mut layer.crop {
            (crop.x, crop.y, crop.width, crop.height) = (crop.x * scale, crop.y * scale, crop.width * scale, crop.height * scale);
        }
    }
    (plan, side(width), side(height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use showrunner_core::{FrameInfo, LayerPlan, Rect, SceneView, ScenePlan};

    #[test]
    fn a_1080p_preview_is_drawn_at_640x360_with_its_placement_scaled() {
        let mut layer = LayerPlan::full("card", std::sync::Arc::new(vec![DrawOp::Pop]), 3);
        layer.transform = Affine { e: 300.0, f: 90.0, ..Affine::IDENTITY };
        layer.crop = Some(Rect { x: 30.0, y: 60.0, width: 960.0, height: 540.0 });
        let plan = FramePlan { frame: FrameInfo::at(0, 1920, 1080, 30, 1), scenes: vec![ScenePlan { name: "next".into(), view: SceneView::IDENTITY, layers: vec![layer] }], overlay: std::sync::Arc::new(Vec::new()) };
        let (shrunk, width, height) = shrink(plan, 1920, 1080);
        assert_eq!((width, height), (640, 360));
        let layer = &shrunk.scenes[0].layers[0];
        assert!(matches!(&layer.ops[0], DrawOp::Push(g) if (g.transform.a - 1.0 / 3.0).abs() < 1e-6 && (g.transform.d - 1.0 / 3.0).abs() < 1e-6));
        assert_eq!(layer.ops.len(), 3, "the list is wrapped, not changed");
        assert_eq!((layer.transform.e, layer.transform.f), (100.0, 30.0));
        assert_eq!(layer.crop, Some(Rect { x: 10.0, y: 20.0, width: 320.0, height: 180.0 }));
        assert_eq!(layer.version, 3, "the version stays: the compositor's cache still works");
        let small = FramePlan { frame: FrameInfo::at(0, 320, 180, 30, 1), scenes: Vec::new(), overlay: std::sync::Arc::new(Vec::new()) };
        assert_eq!((shrink(small, 320, 180).1, 320), (320, 320), "a show smaller than the monitor keeps its size");
    }
}
