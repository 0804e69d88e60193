//! How a refusal from the show becomes an API error: unknown names are 404, a change
//! that conflicts with the show as it is (a duplicate id, removing the scene on air)
//! is 409, a change that cannot apply (a bad prop, a module of the wrong kind, a
//! failed swap) is 422 naming what is wrong, a full request queue is 503.
//!
//! Must not: decide anything about the show; it only translates.

use serde_json::json;
use showrunner_core::{PropError, ShowError as SpecError};
use showrunner_engine::{EngineError, PoolError};

use super::error::ApiError;
use crate::show::ShowError;

fn prop_name(error: &PropError) -> Option<&str> {
    match error {
        PropError::Unknown { name, .. } | PropError::WrongType { name, .. } | PropError::OutOfRange { name, .. } | PropError::Invalid { name, .. } => Some(name),
        PropError::Syntax(_) => None,
    }
}

impl From<ShowError> for ApiError {
    fn from(error: ShowError) -> Self {
        let message = error.to_string();
        let unprocessable = |code, details| ApiError::Unprocessable { code, message: message.clone(), details };
        match error {
            ShowError::Busy(_) | ShowError::Stopped => ApiError::Unavailable(message),
            ShowError::Encoder(_) => ApiError::Internal(message),
            ShowError::Engine(engine) => match *engine {
                EngineError::UnknownLayer(id) => ApiError::NotFound { what: format!("layer {id:?}") },
                EngineError::UnknownScene { name, .. } => ApiError::NotFound { what: format!("scene {name:?}") },
                EngineError::SceneOnAir(_) => ApiError::Conflict(message),
                EngineError::Show(SpecError::DuplicateLayer { .. } | SpecError::DuplicateScene(_)) => ApiError::Conflict(message),
                EngineError::Pool(PoolError::DuplicateLayer(_)) => ApiError::Conflict(message),
                EngineError::Show(_) => unprocessable("invalid_show", json!({})),
                EngineError::Props { layer, source } => unprocessable("invalid_prop", json!({ "layer": layer, "prop": prop_name(&source) })),
                EngineError::NotAScene { layer, module, world } => unprocessable("wrong_module_kind", json!({ "layer": layer, "module": module, "world": world })),
                EngineError::NotATransition { module, world } => unprocessable("wrong_module_kind", json!({ "module": module, "world": world })),
                EngineError::Pool(PoolError::Swap { layer, .. }) => unprocessable("swap_failed", json!({ "layer": layer })),
                EngineError::Pool(PoolError::Start { layer, .. }) => unprocessable("layer_start_failed", json!({ "layer": layer })),
                EngineError::Pool(PoolError::SetProps { layer, .. }) => unprocessable("invalid_prop", json!({ "layer": layer })),
                EngineError::Pool(PoolError::Event { layer, .. }) => unprocessable("event_failed", json!({ "layer": layer })),
                EngineError::Pool(PoolError::UnknownLayer(id)) => ApiError::NotFound { what: format!("layer {id:?}") },
                EngineError::Pool(_) | EngineError::Load { .. } => ApiError::Unavailable(message),
            },
        }
    }
}
