//! [`EngineError`]: why a show could not start or an operator's request was refused.
//!
//! Must not: carry guest faults that happen while ticking (those are events, and
//! the frame still renders).

use showrunner_core::{PropError, ShowError};

use crate::pool::PoolError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the show is not valid: {0}")]
    Show(#[from] ShowError),
    #[error("cannot load module `{module}`: {reason}")]
    Load { module: String, reason: String },
    #[error("layer `{layer}` needs a scene module, but `{module}` is a {world}")]
    NotAScene { layer: String, module: String, world: &'static str },
    #[error("`{module}` is a {world} module, not a transition")]
    NotATransition { module: String, world: &'static str },
    #[error("layer `{layer}`: {source}")]
    Props { layer: String, source: PropError },
    #[error("no scene `{name}`; scenes: {known}")]
    UnknownScene { name: String, known: String },
    #[error("no layer `{0}` in the show")]
    UnknownLayer(String),
    #[error("scene `{0}` is on program (or being taken to it): take another scene first")]
    SceneOnAir(String),
    #[error(transparent)]
    Pool(#[from] PoolError),
}
