//! The frame plan: what the frame loop hands the compositor for one output frame.
//!
//! Plain data, no I/O: the engine (runtime/engine) fills it from the show state, the
//! worker pool's tick results and the running transition; the compositor
//! (runtime/render) turns it into pixels. Neither side needs to know the other.

use std::sync::Arc;

use crate::{Affine, DrawOp, FrameInfo, Rect, SceneView};

/// One visible layer of a scene, ready to composite.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerPlan {
    /// Stable id of the layer (unique within the show); the compositor keys its
    /// per-layer texture cache by it.
    pub id: String,
    /// The layer's draw list for this frame (validated; the last good one after a fault).
    pub ops: Arc<Vec<DrawOp>>,
    /// Bumped by the engine whenever `ops` differ from the previous frame's. A layer
    /// whose `version` and size did not change is not re-tessellated or re-rasterized.
    pub version: u64,
    /// Placement of the layer's full-frame canvas in the scene.
    pub transform: Affine,
    /// 0..=1, applied to the layer as a whole (overlaps inside it do not show).
    pub opacity: f32,
    /// Region of the layer's canvas that is shown (layer pixels, before `transform`);
    /// `None` shows all of it.
    pub crop: Option<Rect>,
}

/// One scene in the frame, with how it is shown (identity and opacity 1 outside
/// transitions).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenePlan {
    pub name: String,
    pub view: SceneView,
    /// Bottom to top (ascending z).
    pub layers: Vec<LayerPlan>,
}

/// Everything the compositor needs for one output frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FramePlan {
    pub frame: FrameInfo,
    /// Bottom to top: one scene normally, two during a transition (the one on top last).
    pub scenes: Vec<ScenePlan>,
    /// Drawn above every scene (a transition's stinger or wipe bar), in frame pixels.
    pub overlay: Arc<Vec<DrawOp>>,
}

impl SceneView {
    /// Shown as is: no transform, fully opaque, unclipped.
    pub const IDENTITY: SceneView = SceneView { transform: Affine::IDENTITY, opacity: 1.0, clip: None };
}

impl LayerPlan {
    /// A full-frame layer with no transform, crop or opacity change.
    pub fn full(id: &str, ops: Arc<Vec<DrawOp>>, version: u64) -> LayerPlan {
        LayerPlan { id: id.to_string(), ops, version, transform: Affine::IDENTITY, opacity: 1.0, crop: None }
    }
}
