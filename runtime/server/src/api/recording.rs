//! The programme recording over the API (`POST` and `DELETE /recording`): one at a time,
//! Matroska, into `DATA_DIR/recordings/` under a plain file name. The recording asked for
//! is kept in the show document (`ShowDoc::recording`) until it is stopped, so a server
//! restarted after a crash records again, and in a cluster the node holding lease
//! `output.recording` records it and another node takes over when that one dies. A file
//! that exists is never written over: recording goes on into `NAME-2.mkv`, `NAME-3.mkv`…
//!
//! Must not: accept a path from a client, or overwrite a file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody, internal};
use super::outputs::{Body, OutputsBody, RECORDING_ID, cluster_up, lease_owner, outputs_body, parse, running, stored};
use super::show_ops::persist;
use crate::show::Request;
use crate::show::docs::{SHOW_DOC_ID, ShowDoc};
use crate::store::{DocKind, DocOp};

/// How long a request in a cluster waits for a node to take the recording, or to close
/// the file and let go of it.
const SETTLE: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecording {
    /// A file name ending in .mkv (no folders); it must not exist yet in DATA_DIR/recordings/.
    pub file: String,
}

/// Whether `name` is a plain recording file name: letters, digits, `-`, `_` and `.`, ending in .mkv.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && name.ends_with(".mkv") && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// `DATA_DIR/recordings/`.
fn recordings_dir(state: &ApiState) -> Result<PathBuf, ApiError> {
    state.store.path().parent().map(|p| p.join("recordings")).ok_or_else(|| internal("the data dir has no parent"))
}

/// `folder/name` if no such file exists, else the first of `STEM-2.mkv`, `STEM-3.mkv`… that does not.
pub fn free_file(folder: &Path, name: &str) -> PathBuf {
    let stem = name.strip_suffix(".mkv").unwrap_or(name);
    std::iter::once(folder.join(name)).chain((2..).map(|n| folder.join(format!("{stem}-{n}.mkv")))).find(|path| !path.exists()).unwrap_or_else(|| folder.join(name))
}

/// Starts recording the programme on this node into `recordings/NAME`, or the next free
/// name when that file exists; answers the file name it records into.
pub async fn record_here(state: &ApiState, name: &str) -> Result<String, ApiError> {
    let folder = recordings_dir(state)?;
    std::fs::create_dir_all(&folder).map_err(|e| internal(format!("cannot create {}: {e}", folder.display())))?;
    let path = free_file(&folder, name);
    let outputs = state.show.ask(Request::StartEncoder).await?;
    if outputs.status(RECORDING_ID).is_some() {
        return Err(ApiError::Conflict("a recording runs already; stop it first".into()));
    }
    outputs.start_recording(RECORDING_ID, &path).map_err(internal)?;
    Ok(path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
}

/// Stops this node's recording (the file is closed and complete); the encoder too unless
/// `keep_encoder`.
async fn stop_here(state: &ApiState, keep_encoder: bool) -> Result<(), ApiError> {
    let Some(outputs) = running(state).await?.filter(|o| o.status(RECORDING_ID).is_some()) else { return Ok(()) };
    let _ = outputs.remove(RECORDING_ID);
    if !keep_encoder && outputs.statuses().is_empty() {
        state.show.ask(Request::StopEncoder).await?;
    }
    Ok(())
}

/// Keeps `show` (with its recording changed) as the show document.
async fn save(state: &ApiState, show: &ShowDoc) -> Result<(), ApiError> {
    persist(state, vec![DocOp::Put(DocKind::Show, SHOW_DOC_ID.into(), serde_json::to_value(show).map_err(internal)?)]).await
}

/// In a cluster, wakes the output leases and waits (at most [`SETTLE`]) until `settled`
/// says the recording has been taken or let go of, given the listing and the node holding
/// the recording's lease (a node lets go of it only once the file is closed).
async fn settle(state: &ApiState, settled: impl Fn(&OutputsBody, Option<&str>) -> bool) -> Result<OutputsBody, ApiError> {
    let Some(link) = &state.cluster else { return outputs_body(state).await };
    link.wake_outputs(true);
    let deadline = Instant::now() + SETTLE;
    loop {
        let owner = lease_owner(state, RECORDING_ID).await;
        let body = outputs_body(state).await?;
        if settled(&body, owner.as_deref()) || Instant::now() >= deadline {
            return Ok(body);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Starts recording the programme to DATA_DIR/recordings/FILE (Matroska). In a cluster
/// one node records it (the `owner`; usually the node asked).
#[utoipa::path(post, path = "/api/v1/recording", tag = "outputs", security(("bearer" = [])), request_body = NewRecording,
    responses((status = 201, body = OutputsBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 409, description = "A recording runs already, or the file exists (`conflict`)", body = ApiErrorBody),
        (status = 422, description = "Not a plain .mkv file name (`invalid_output`)", body = ApiErrorBody),
        (status = 503, description = "In a cluster: Redis cannot be reached (`cluster_unavailable`)", body = ApiErrorBody)))]
pub async fn start_recording(State(state): State<ApiState>, request: Body<NewRecording>) -> Result<(StatusCode, Json<OutputsBody>), ApiError> {
    let name = parse(&state, request)?.file;
    if !plain_name(&name) {
        return Err(ApiError::Unprocessable { code: "invalid_output", message: "a recording file is a plain name ending in .mkv (letters, digits, - _ .), no folders".into(), details: serde_json::json!({}) });
    }
    let folder = recordings_dir(&state)?;
    super::show_routes::finish(async move {
        cluster_up(&state)?;
        let _edit = state.edits.lock().await;
        if folder.join(&name).exists() {
            return Err(ApiError::Conflict(format!("recordings/{name} exists already; choose another name")));
        }
        let (_, mut show) = stored(&state).await?;
        let here = running(&state).await?.is_some_and(|o| o.status(RECORDING_ID).is_some());
        if show.recording.is_some() || here {
            return Err(ApiError::Conflict("a recording runs already; stop it first".into()));
        }
        if state.cluster.is_none() {
            record_here(&state, &name).await?;
        }
        show.recording = Some(name);
        if let Err(e) = save(&state, &show).await {
            if state.cluster.is_none() {
                let _ = stop_here(&state, show.streaming).await;
            }
            return Err(e);
        }
        let body = settle(&state, |body, _| body.recording.as_ref().is_some_and(|r| r.owner.is_some())).await?;
        Ok((StatusCode::CREATED, Json(body)))
    })
    .await
}

/// Stops the recording (the file is closed and complete; in a cluster, by the node
/// recording it, within a quarter of a second).
#[utoipa::path(delete, path = "/api/v1/recording", tag = "outputs", security(("bearer" = [])),
    responses((status = 200, body = OutputsBody), (status = 401, body = ApiErrorBody), (status = 404, description = "No recording runs", body = ApiErrorBody),
        (status = 503, description = "In a cluster: Redis cannot be reached (`cluster_unavailable`)", body = ApiErrorBody)))]
pub async fn stop_recording(State(state): State<ApiState>) -> Result<Json<OutputsBody>, ApiError> {
    super::show_routes::finish(async move {
        cluster_up(&state)?;
        let _edit = state.edits.lock().await;
        let (_, mut show) = stored(&state).await?;
        let here = running(&state).await?.is_some_and(|o| o.status(RECORDING_ID).is_some());
        if show.recording.is_none() && !here {
            return Err(ApiError::NotFound { what: "running recording".into() });
        }
        if state.cluster.is_none() {
            stop_here(&state, show.streaming).await?;
        }
        if show.recording.take().is_some() {
            save(&state, &show).await?;
        }
        Ok(Json(settle(&state, |body, owner| owner.is_none() && body.recording.is_none()).await?))
    })
    .await
}

/// On one server, records again after a restart if a recording was asked for and never
/// stopped; answers the file it records into.
pub async fn resume_recording(state: &ApiState) -> Result<Option<String>, ApiError> {
    let (_, show) = stored(state).await?;
    match show.recording {
        Some(name) if state.cluster.is_none() => {
            let _edit = state.edits.lock().await;
            record_here(state, &name).await.map(Some)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_file_never_names_one_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_file(dir.path(), "show.mkv"), dir.path().join("show.mkv"));
        std::fs::write(dir.path().join("show.mkv"), b"x").unwrap();
        assert_eq!(free_file(dir.path(), "show.mkv"), dir.path().join("show-2.mkv"));
        std::fs::write(dir.path().join("show-2.mkv"), b"x").unwrap();
        assert_eq!(free_file(dir.path(), "show.mkv"), dir.path().join("show-3.mkv"));
    }

    #[test]
    fn only_plain_mkv_names_are_recording_names() {
        for good in ["show.mkv", "a-b_c.1.mkv"] {
            assert!(plain_name(good), "{good}");
        }
        for bad in ["", ".mkv", "../x.mkv", "a/b.mkv", "show.mp4", "sh ow.mkv"] {
            assert!(!plain_name(bad), "{bad}");
        }
    }
}
