//! showrunner's compositor: turns a validated draw list into pixels.
//!
//! Paths are tessellated by lyon ([`tessellate`]), the draw list is flattened into one
//! triangle list in painter's order ([`flatten`]) and drawn headless by wgpu with 4×
//! MSAA, then read back as tightly packed RGBA8 sRGB ([`renderer`]). On hosts without a
//! GPU the Vulkan CPU driver (Mesa lavapipe) is used ([`gpu`]).
//!
//! This crate knows no Wasm: it takes `showrunner_core::DrawOp`s that already passed
//! `showrunner_core::validate`, and it must never panic on what a guest can put in them.
//!
//! This first slice draws fills, strokes (dashes included), solid paint and groups with
//! transform and opacity. Text, images, video, gradients, image fills, clip paths and
//! blend modes other than normal are not drawn yet; they are counted in [`Skipped`].

pub mod flatten;
pub mod gpu;
pub mod renderer;
pub mod tessellate;

pub use flatten::Skipped;
pub use gpu::{AdapterSummary, RenderError};
pub use renderer::{Frame, RenderStats, Renderer};
