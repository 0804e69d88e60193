//! Outputs over the API: RTMP destinations (`/outputs`), stream start and stop
//! (`/stream/start`, `/stream/stop`), and the listing of every output with the
//! programme recording (started and stopped in [`super::recording`]). Destinations are
//! kept in the store (their stream keys never leave the server: every answer masks
//! them); the stream's on/off state is kept too, so a restarted server goes back on
//! air. The encoder runs only while the stream is on or a recording runs.
//!
//! Must not: print a stream key.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use showrunner_media::{LiveOutputs, OutputStatus, mask_stream_key};
use utoipa::ToSchema;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody, internal, json_body};
use super::show_ops::persist;
use crate::show::Request;
use crate::show::docs::{SHOW_DOC_ID, ShowDoc};
use crate::store::{DocKind, DocOp};

/// Output id the recording runs under.
pub const RECORDING_ID: &str = "recording";

/// A stored RTMP destination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputDoc {
    pub id: String,
    /// The full URL, key included (never sent to clients).
    pub url: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutput {
    /// 1 to 64 of a-z, 0-9, `-` and `_`.
    pub id: String,
    /// rtmp:// or rtmps://HOST[:PORT]/APP/KEY.
    pub url: String,
}

/// A destination and, while the stream is on, how it is doing.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutputBody {
    pub id: String,
    /// The URL with its stream key masked.
    pub target: String,
    /// connecting, live, retrying, stopped, failed; `off` while the stream is off.
    pub state: String,
    /// The last error while retrying or failed.
    pub error: Option<String>,
    pub bytes_sent: u64,
    pub bitrate_kbps: u32,
    pub reconnects: u32,
    /// In a cluster: the node pushing it (the holder of its lease), or null.
    pub owner: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutputsBody {
    /// Whether the stream is on (destinations are being sent to).
    pub streaming: bool,
    pub outputs: Vec<OutputBody>,
    /// The recording, while one runs (or, in a cluster, is waiting for a node to take it).
    pub recording: Option<OutputBody>,
}

pub(super) type Body<T> = Result<Json<T>, JsonRejection>;

pub(super) fn parse<T>(state: &ApiState, body: Body<T>) -> Result<T, ApiError> {
    json_body(body, state.limits.get().max_body_bytes)
}

fn body(status: &OutputStatus) -> OutputBody {
    use showrunner_media::OutputState;
    let error = match &status.state {
        OutputState::Retrying { last_error, .. } => Some(last_error.clone()),
        OutputState::Failed { error } => Some(error.clone()),
        _ => None,
    };
    OutputBody { id: status.id.clone(), target: status.target.clone(), state: status.state.name().into(), error, bytes_sent: status.bytes_sent, bitrate_kbps: status.bitrate_kbps, reconnects: status.reconnects, owner: None }
}

/// The stored destinations and show document (the stream's on/off, the recording asked for).
pub async fn stored(state: &ApiState) -> Result<(Vec<OutputDoc>, ShowDoc), ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let outputs = store.docs(DocKind::Output).map_err(internal)?.into_iter().filter_map(|(_, _, doc)| serde_json::from_value(doc).ok()).collect();
        let show = store.doc(DocKind::Show, SHOW_DOC_ID).map_err(internal)?.and_then(|(_, doc)| serde_json::from_value(doc).ok());
        Ok::<_, ApiError>((outputs, show.unwrap_or_else(ShowDoc::first)))
    })
    .await?
}

/// In a cluster, 503 while Redis is down (outputs are shared).
pub(super) fn cluster_up(state: &ApiState) -> Result<(), ApiError> {
    state.cluster.as_ref().map_or(Ok(()), |link| link.check_up())
}

/// In a cluster, the node holding output `id`'s lease (`None` outside a cluster, when
/// nobody holds it, or when Redis cannot say).
pub(super) async fn lease_owner(state: &ApiState, id: &str) -> Option<String> {
    let cluster = state.cluster.as_ref()?.cluster().ok()?;
    cluster.owner(&crate::cluster::outputs::lease_name(id)).await.ok().flatten()
}

/// An output this node does not run: `remote` while another node holds its lease, else `idle`.
async fn not_running_here(state: &ApiState, id: &str, target: String, idle: &str) -> OutputBody {
    let owner = lease_owner(state, id).await;
    let elsewhere = owner.is_some() && owner.as_deref() != state.cluster.as_ref().map(|l| l.node_id());
    let state = if elsewhere { "remote" } else { idle }.to_string();
    OutputBody { id: id.to_string(), target, state, error: None, bytes_sent: 0, bitrate_kbps: 0, reconnects: 0, owner }
}

/// The running encoder's outputs, if it runs.
pub(super) async fn running(state: &ApiState) -> Result<Option<LiveOutputs>, ApiError> {
    if !state.show.snapshot().await?.encoding {
        return Ok(None);
    }
    Ok(Some(state.show.ask(Request::StartEncoder).await?))
}

/// Every destination, the stream state and the recording.
#[utoipa::path(get, path = "/api/v1/outputs", tag = "outputs", security(("bearer" = [])),
    responses((status = 200, body = OutputsBody), (status = 401, body = ApiErrorBody)))]
pub async fn list(State(state): State<ApiState>) -> Result<Json<OutputsBody>, ApiError> {
    Ok(Json(outputs_body(&state).await?))
}

pub async fn outputs_body(state: &ApiState) -> Result<OutputsBody, ApiError> {
    let (docs, show) = stored(state).await?;
    let live = running(state).await?;
    let statuses = live.as_ref().map(LiveOutputs::statuses).unwrap_or_default();
    let mut outputs = Vec::with_capacity(docs.len());
    for doc in &docs {
        outputs.push(match statuses.iter().find(|s| s.id == doc.id) {
            Some(status) => OutputBody { owner: lease_owner(state, &doc.id).await, ..body(status) },
            None => not_running_here(state, &doc.id, mask_stream_key(&doc.url), "off").await,
        });
    }
    let recording = match (statuses.iter().find(|s| s.id == RECORDING_ID), show.recording) {
        (Some(status), _) => Some(OutputBody { owner: lease_owner(state, RECORDING_ID).await, ..body(status) }),
        // Asked for and not recorded here: on another node, not taken yet, or (on one
        // server) it could not start again after a restart.
        (None, Some(file)) => {
            let idle = if state.cluster.is_some() { "connecting" } else { "stopped" };
            Some(not_running_here(state, RECORDING_ID, format!("recordings/{file}"), idle).await)
        }
        (None, None) => None,
    };
    Ok(OutputsBody { streaming: show.streaming, outputs, recording })
}

/// Adds an RTMP destination; it goes live at once if the stream is on.
#[utoipa::path(post, path = "/api/v1/outputs", tag = "outputs", security(("bearer" = [])), request_body = NewOutput,
    responses((status = 201, body = OutputsBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 409, description = "An output with that id exists (`conflict`)", body = ApiErrorBody),
        (status = 422, description = "Not an rtmp:// or rtmps:// URL, or a bad id (`invalid_output`)", body = ApiErrorBody)))]
pub async fn add(State(state): State<ApiState>, request: Body<NewOutput>) -> Result<(StatusCode, Json<OutputsBody>), ApiError> {
    let request = parse(&state, request)?;
    let invalid = |message: String| ApiError::Unprocessable { code: "invalid_output", message, details: serde_json::json!({}) };
    let id_ok = (1..=64).contains(&request.id.len()) && request.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok || request.id == RECORDING_ID {
        return Err(invalid(format!("output id {:?}: use 1 to 64 of a-z, 0-9, - and _ (not `{RECORDING_ID}`)", request.id.chars().take(80).collect::<String>())));
    }
    let lower = request.url.to_ascii_lowercase();
    if !(lower.starts_with("rtmp://") || lower.starts_with("rtmps://")) || request.url.len() > 2048 {
        return Err(invalid(format!("{} is not an rtmp:// or rtmps:// URL", mask_stream_key(&request.url))));
    }
    super::show_routes::finish(async move {
        cluster_up(&state)?;
        let _edit = state.edits.lock().await;
        let (docs, show) = stored(&state).await?;
        if docs.iter().any(|d| d.id == request.id) {
            return Err(ApiError::Conflict(format!("an output named {:?} exists already", request.id)));
        }
        // In a cluster the output leases start it (on whichever node takes it).
        if show.streaming
            && state.cluster.is_none()
            && let Some(outputs) = running(&state).await?
        {
            outputs.add_rtmp(&request.id, &request.url).map_err(|e| invalid(e.to_string()))?;
        }
        let doc = OutputDoc { id: request.id.clone(), url: request.url };
        persist(&state, vec![DocOp::Put(DocKind::Output, doc.id.clone(), serde_json::to_value(&doc).map_err(internal)?)]).await?;
        Ok((StatusCode::CREATED, Json(outputs_body(&state).await?)))
    })
    .await
}

/// Removes a destination (the server is told the stream ended).
#[utoipa::path(delete, path = "/api/v1/outputs/{id}", tag = "outputs", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn remove(State(state): State<ApiState>, id: Result<Path<String>, PathRejection>) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    super::show_routes::finish(async move {
        cluster_up(&state)?;
        let _edit = state.edits.lock().await;
        let (docs, _) = stored(&state).await?;
        if !docs.iter().any(|d| d.id == id) {
            return Err(ApiError::NotFound { what: format!("output {:?}", id.chars().take(80).collect::<String>()) });
        }
        if state.cluster.is_none()
            && let Some(outputs) = running(&state).await?
        {
            let _ = outputs.remove(&id);
        }
        persist(&state, vec![DocOp::Delete(DocKind::Output, id)]).await?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn set_streaming(state: &ApiState, on: bool) -> Result<(), ApiError> {
    cluster_up(state)?;
    let (docs, mut show) = stored(state).await?;
    if state.cluster.is_some() {
        // The output leases start and stop the destinations on the nodes that hold them.
    } else if on {
        let outputs = state.show.ask(Request::StartEncoder).await?;
        for doc in &docs {
            if outputs.status(&doc.id).is_none() {
                outputs.add_rtmp(&doc.id, &doc.url).map_err(internal)?;
            }
        }
    } else if let Some(outputs) = running(state).await? {
        for doc in &docs {
            let _ = outputs.remove(&doc.id);
        }
        if outputs.status(RECORDING_ID).is_none() {
            state.show.ask(Request::StopEncoder).await?;
        }
    }
    show.streaming = on;
    persist(state, vec![DocOp::Put(DocKind::Show, SHOW_DOC_ID.into(), serde_json::to_value(&show).map_err(internal)?)]).await
}

/// Turns the stream on: the encoder starts and every destination connects.
#[utoipa::path(post, path = "/api/v1/stream/start", tag = "outputs", security(("bearer" = [])),
    responses((status = 200, body = OutputsBody), (status = 401, body = ApiErrorBody), (status = 500, body = ApiErrorBody)))]
pub async fn start_stream(State(state): State<ApiState>) -> Result<Json<OutputsBody>, ApiError> {
    super::show_routes::finish(async move {
        let _edit = state.edits.lock().await;
        set_streaming(&state, true).await?;
        Ok(Json(outputs_body(&state).await?))
    })
    .await
}

/// Turns the stream off: every destination is told the stream ended.
#[utoipa::path(post, path = "/api/v1/stream/stop", tag = "outputs", security(("bearer" = [])),
    responses((status = 200, body = OutputsBody), (status = 401, body = ApiErrorBody)))]
pub async fn stop_stream(State(state): State<ApiState>) -> Result<Json<OutputsBody>, ApiError> {
    super::show_routes::finish(async move {
        let _edit = state.edits.lock().await;
        set_streaming(&state, false).await?;
        Ok(Json(outputs_body(&state).await?))
    })
    .await
}

/// Puts the stream back on after a restart if it was on; returns whether it did.
pub async fn resume_stream(state: &ApiState) -> Result<bool, ApiError> {
    if state.cluster.is_some() {
        // In a cluster the output leases bring the destinations back, on whichever node takes them.
        return Ok(false);
    }
    let (_, show) = stored(state).await?;
    if show.streaming {
        let _edit = state.edits.lock().await;
        set_streaming(state, true).await?;
    }
    Ok(show.streaming)
}
