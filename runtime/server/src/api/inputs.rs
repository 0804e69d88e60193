//! Live inputs over the API (`/inputs`): media files and URLs, and stream keys RTMP
//! publishers send to the embedded ingest server. The layers' `video` ops draw them by
//! name. Each input is kept in the store (`DocKind::Input`, id = its name) so a
//! restarted server starts it again, and in a cluster written to Redis first, so every
//! node runs it (503 while Redis is down); the running side is [`InputManager`]'s.
//!
//! Must not: return, log or echo a stream key (answers carry masked keys only), or
//! start or stop decoders itself.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use showrunner_media::{InputSource, InputState, InputStatus};
use utoipa::ToSchema;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody, internal, json_body};
use super::show_ops::{begin_edit, persist};
use crate::show::inputs::{InputDoc, InputError, without_credentials};
use crate::store::{DocKind, DocOp};

/// A new input: `{"name","kind":"media","uri","loop"}` or `{"name","kind":"ingest","key"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInput {
    /// 1 to 64 of A-Z, a-z, 0-9, `_`, `-` and `.`: what a layer's `input` prop names.
    pub name: String,
    /// `media` or `ingest`.
    pub kind: String,
    /// Media: an absolute file path or a file/http/https/rtsp/rtsps/rtmp/rtmps/srt URI.
    pub uri: Option<String>,
    /// Media: start again from the beginning at the end.
    #[serde(rename = "loop")]
    pub looping: Option<bool>,
    /// Ingest: the secret stream key (publish to rtmp://INGEST_LISTEN/live/KEY). Never sent back.
    pub key: Option<String>,
}

/// Width and height of an input's newest frame.
#[derive(Debug, Serialize, ToSchema)]
pub struct InputSize {
    pub width: u32,
    pub height: u32,
}

/// An input and how it is doing.
#[derive(Debug, Serialize, ToSchema)]
pub struct InputBody {
    pub name: String,
    /// `media` or `ingest`.
    pub kind: &'static str,
    /// Media: what it plays (a file as a file:// URI; credentials masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Media: whether it loops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub looping: Option<bool>,
    /// Ingest: where to publish, the key masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_masked: Option<String>,
    /// starting, waiting, live, ended, stopped or failed.
    pub state: &'static str,
    /// Frames published to the show since the input was added.
    pub frames: u64,
    /// The newest frame's size; null before the first.
    pub size: Option<InputSize>,
    /// Times a looping media input started again.
    pub loops: u32,
    /// Times a publisher went live on the key.
    pub sessions: u32,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<InputStatus> for InputBody {
    fn from(status: InputStatus) -> InputBody {
        let (kind, uri, looping, key_masked) = match status.source {
            InputSource::Media { uri, looping } => ("media", Some(without_credentials(&uri)), Some(looping), None),
            InputSource::Ingest { key } => ("ingest", None, None, Some(key)),
        };
        let error = match &status.state {
            InputState::Failed { error } => Some(error.clone()),
            _ => None,
        };
        InputBody {
            name: status.name,
            kind,
            uri,
            looping,
            key_masked,
            state: status.state.name(),
            frames: status.frames,
            size: status.size.map(|(width, height)| InputSize { width, height }),
            loops: status.loops,
            sessions: status.sessions,
            error,
        }
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> Self {
        let message = error.to_string();
        match error {
            InputError::Invalid { .. } | InputError::TooMany => ApiError::Unprocessable { code: "invalid_input", message, details: serde_json::json!({}) },
            InputError::DuplicateName(_) | InputError::DuplicateKey => ApiError::Conflict(message),
            InputError::Unknown(name) => ApiError::NotFound { what: format!("input {name:?}") },
            InputError::IngestUnavailable { .. } | InputError::Start { .. } => ApiError::Unavailable(message),
        }
    }
}


/// The input to start for `request`, or 422 `invalid_input` saying what is missing.
fn input_doc(request: NewInput) -> Result<InputDoc, ApiError> {
    let invalid = |message: String| ApiError::Unprocessable { code: "invalid_input", message, details: serde_json::json!({}) };
    let doc = match (request.kind.as_str(), request.uri, request.key) {
        ("media", Some(uri), None) => InputDoc::Media { name: request.name, uri, looping: request.looping.unwrap_or(false) },
        ("ingest", None, Some(key)) if request.looping.is_none() => InputDoc::Ingest { name: request.name, key },
        ("media", _, _) => return Err(invalid("a media input has `uri` (and optionally `loop`), no `key`".into())),
        ("ingest", _, _) => return Err(invalid("an ingest input has `key` only, no `uri` or `loop`".into())),
        (other, _, _) => return Err(invalid(format!("kind {:?} is not `media` or `ingest`", other.chars().take(40).collect::<String>()))),
    };
    doc.validate()?;
    Ok(doc)
}

/// Every input's status, in name order.
pub async fn input_bodies(state: &ApiState) -> Result<Vec<InputBody>, ApiError> {
    let inputs = state.inputs.clone();
    let statuses = tokio::task::spawn_blocking(move || inputs.statuses()).await?;
    Ok(statuses.into_iter().map(InputBody::from).collect())
}

/// Every live input and its state (stream keys masked).
#[utoipa::path(get, path = "/api/v1/inputs", tag = "inputs", security(("bearer" = [])),
    responses((status = 200, body = Vec<InputBody>), (status = 401, body = ApiErrorBody)))]
pub async fn list(State(state): State<ApiState>) -> Result<Json<Vec<InputBody>>, ApiError> {
    Ok(Json(input_bodies(&state).await?))
}

/// Adds a media input (it starts playing at once) or an ingest key (the ingest server
/// starts with the first key and waits for a publisher).
#[utoipa::path(post, path = "/api/v1/inputs", tag = "inputs", security(("bearer" = [])), request_body = NewInput,
    responses((status = 201, body = InputBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 409, description = "An input with that name or stream key exists (`conflict`)", body = ApiErrorBody),
        (status = 422, description = "A bad name, URI or key, or a media file that does not exist (`invalid_input`)", body = ApiErrorBody),
        (status = 503, description = "The ingest server cannot listen on `ingest_listen`, or the decoder cannot start (`unavailable`)", body = ApiErrorBody)))]
pub async fn add(State(state): State<ApiState>, request: Result<Json<NewInput>, JsonRejection>) -> Result<(StatusCode, Json<InputBody>), ApiError> {
    let request = json_body(request, state.limits.get().max_body_bytes)?;
    let doc = input_doc(request)?;
    let name = doc.name().to_owned();
    let value = serde_json::to_value(&doc).map_err(internal)?;
    super::show_routes::finish(async move {
        let _edit = begin_edit(&state).await?;
        let inputs = state.inputs.clone();
        tokio::task::spawn_blocking(move || inputs.add(doc)).await??;
        if let Err(e) = persist(&state, vec![DocOp::Put(DocKind::Input, name.clone(), value)]).await {
            let inputs = state.inputs.clone();
            let undo = name.clone();
            let _ = tokio::task::spawn_blocking(move || inputs.discard(&undo)).await;
            return Err(match e {
                ApiError::Internal(e) => internal(format!("input {name:?} could not be saved, so it was stopped again: {e}")),
                refused => refused,
            });
        }
        let body = input_bodies(&state).await?.into_iter().find(|b| b.name == name).ok_or_else(|| internal(format!("input {name:?} vanished right after it was added")))?;
        Ok((StatusCode::CREATED, Json(body)))
    })
    .await
}

/// Stops an input and forgets it: its decoder stops or its key is refused from now on
/// (a publisher on it is disconnected), and layers drawing it draw nothing.
#[utoipa::path(delete, path = "/api/v1/inputs/{name}", tag = "inputs", security(("bearer" = [])), params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn remove(State(state): State<ApiState>, name: Result<Path<String>, PathRejection>) -> Result<StatusCode, ApiError> {
    let Path(name) = name?;
    super::show_routes::finish(async move {
        let _edit = begin_edit(&state).await?;
        if !state.inputs.contains(&name) {
            return Err(InputError::Unknown(name.chars().take(80).collect()).into());
        }
        persist(&state, vec![DocOp::Delete(DocKind::Input, name.clone())]).await?;
        let inputs = state.inputs.clone();
        tokio::task::spawn_blocking(move || inputs.remove(&name)).await??;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
