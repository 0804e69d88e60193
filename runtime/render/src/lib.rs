//! showrunner's compositor: turns a validated draw list into pixels.
//!
//! Paths are tessellated by lyon ([`tessellate`]); the draw list is walked in painter's
//! order into one vertex list and passes of draws ([`flatten`], [`emit`], [`scene`]),
//! uploaded per call and recorded with wgpu ([`record`], [`pipeline`]) with 4× MSAA (single
//! sample for lists whose edges all land on whole pixels, [`sample_count`]), and
//! read back as tightly packed straight-alpha RGBA8 sRGB ([`readback`]). Everything is
//! blended premultiplied in sRGB space, as browsers do. [`Renderer::draw_into`] records
//! into a caller's texture without reading back (the layer compositor uses it);
//! [`Renderer::render`] draws and reads back one frame. On hosts without a GPU the
//! Vulkan CPU driver (Mesa lavapipe) is used ([`gpu`]).
//!
//! Drawn: fills (non-zero and even-odd) and strokes (joins, caps, miter limit, dashes);
//! solid, linear-gradient, radial-gradient and image paint on fills, strokes and text
//! ([`paint`]: gradients interpolate in premultiplied sRGB, pad at both ends; image
//! paints repeat neither way); groups with transform, opacity, clip path (stencil,
//! nested clips intersect, anti-aliased by MSAA) and blend mode (normal, add, multiply,
//! screen). A group with opacity below 1 or a blend mode other than normal that holds
//! two or more drawing ops is isolated in an offscreen layer and composited as one
//! picture; with a single op the opacity and blend mode apply to that op directly.
//! `image` ops draw an asset from the [`Renderer::set_assets`] store bilinearly into
//! their rectangle (animated images at [`Renderer::set_time`]; textures cached per
//! content hash and frame, [`images`]); `video` ops draw the newest frame of their live
//! input from the [`Renderer::set_live_inputs`] registry the same way (one texture per
//! input, written once per new frame, [`live_textures`]); `text` ops are shaped and
//! rasterized by `showrunner-text` into a glyph atlas ([`resources`]).
//!
//! Not drawn, counted in [`Skipped`]: `video` ops while no live-input registry is set
//! or their input shows no frame, images and image paints while no asset store is
//! set, gradients past [`paint::MAX_RAMPS`] per list, ops past the vertex budget,
//! paths lyon rejects, text runs that do not fit the glyph atlas at once, and the
//! isolation of groups past [`flatten::MAX_LAYERS`] layers per list (drawn op by op).
//! Missing assets draw nothing and are reported in [`RenderStats`]. Images and video
//! frames are sampled without mipmaps, so strongly downscaled pictures alias.
//!
//! This crate knows no Wasm: it takes `showrunner_core::DrawOp`s that already passed
//! `showrunner_core::validate`, and it must never panic on what a guest can put in them.

pub mod compose;
pub mod emit;
pub mod flatten;
pub mod gpu;
pub mod images;
pub mod live_textures;
pub mod paint;
pub mod pipeline;
pub mod readback;
pub mod record;
pub mod rect_clip;
pub mod renderer;
pub mod resources;
pub mod sample_count;
pub mod scene;
pub mod targets;
pub mod tessellate;

pub use compose::{ComposeStats, Compositor};
pub use flatten::Skipped;
pub use gpu::{AdapterSummary, Gpu, RenderError};
pub use renderer::{Frame, RenderStats, Renderer};
pub use targets::{COLOR_FORMAT, MSAA_SAMPLES};
/// The wgpu version this crate draws with, for callers of [`Renderer::draw_into`].
pub use wgpu;
