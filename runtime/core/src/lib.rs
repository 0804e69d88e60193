//! showrunner's scene model, shared by every other crate: draw lists and their
//! validation, properties and their specs, events, frame timing.
//!
//! This crate does no I/O and knows neither Wasm nor pixels. Types mirror the WIT
//! contract `showrunner:scene@0.1.0` (wit/0.1.0) one to one.

pub mod abi;
pub mod drawlist;
pub mod frame;
pub mod plan;
pub mod props;
pub mod show;
pub mod validate;

pub use drawlist::*;
pub use frame::FrameInfo;
pub use plan::{FramePlan, LayerPlan, ScenePlan};
pub use props::{ModuleInfo, Prop, PropError, PropSpec, PropValue};
pub use show::{LayerSpec, SceneSpec, ShowError, ShowSpec};
pub use validate::{DrawListLimits, InvalidDrawList, Repairs, validate, validate_mix};
