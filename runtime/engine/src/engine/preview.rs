//! The preview monitor's frame: the scene on preview, ticked and laid out like
//! program but at [`Priority::Preview`], so an operator sees the next take playing
//! before it goes on air.
//!
//! Must not: tick the preview scene when it is on program or coming in through a
//! transition (those layers are ticked once per frame by [`Engine::frame`]), or report
//! its faults any differently from program's.

use showrunner_core::{FramePlan, SceneView, ScenePlan};

use super::Engine;
use crate::error::EngineError;
use crate::pool::Priority;

/// What the preview monitor shows for one frame.
#[derive(Clone, Debug, PartialEq)]
pub enum PreviewFrame {
    /// No scene is on preview.
    Empty,
    /// The preview scene is the one on program (or coming in): program's picture is its picture.
    SameAsProgram,
    /// The preview scene, ticked for this frame.
    Scene(FramePlan),
}

impl Engine {
    /// Makes the preview monitor's frame `index`: ticks the preview scene's visible
    /// layers on their workers (after program's ticks in the queue) and returns them
    /// bottom to top. Call it after [`Engine::frame`] for the same index.
    pub fn preview_frame(&mut self, index: u64) -> Result<PreviewFrame, EngineError> {
        let Some(scene) = self.preview.clone() else { return Ok(PreviewFrame::Empty) };
        if scene == self.program || self.incoming() == Some(scene.as_str()) {
            return Ok(PreviewFrame::SameAsProgram);
        }
        let _span = tracing::trace_span!("preview_frame", index).entered();
        let info = self.spec.frame(index);
        let mut layers = self.layout(&scene);
        let ids: Vec<&str> = layers.iter().map(|l| l.id.as_str()).collect();
        let ticks = self.pool.tick(&info, Priority::Preview, &ids)?;
        for (plan, tick) in layers.iter_mut().zip(&ticks) {
            plan.ops = tick.ops.clone();
            plan.version = tick.version;
        }
        self.report(&ticks);
        self.collect_pool_events();
        Ok(PreviewFrame::Scene(FramePlan { frame: info, scenes: vec![ScenePlan { name: scene, view: SceneView::IDENTITY, layers }], overlay: self.no_overlay.clone() }))
    }
}
