//! `POST /api/v1/trace`: records a Chrome trace of the showrunner crates' spans (frame
//! stages, layer ticks, compositing) for the next N seconds and answers with the trace
//! JSON itself, as a download. Also [`TraceRecorder`], the interface through which the
//! binary, which owns the tracing subscriber, lends its recorder ([`install_recorder`]).
//!
//! Owns the route, its request checks and the temp file under the data dir. Must not:
//! touch the tracing subscriber, run two recordings at once (the recorder refuses), keep
//! the temp file after answering, or keep recording after the client hung up (dropping
//! the handler's future closes the window).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody};

/// Seconds recorded when the request does not say.
pub const DEFAULT_API_TRACE_SECONDS: u32 = 10;
/// Longest recording over the API, in seconds.
pub const MAX_API_TRACE_SECONDS: u32 = 60;
/// Largest trace the API answers with; a bigger one is refused (`trace_too_large`).
pub const MAX_API_TRACE_BYTES: u64 = 64 * 1024 * 1024;

/// Who started a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceSource {
    /// `--trace-out` on the command line.
    CommandLine,
    /// `POST /api/v1/trace`.
    Api,
}

impl std::fmt::Display for TraceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TraceSource::CommandLine => "started by --trace-out",
            TraceSource::Api => "started over the API",
        })
    }
}

/// Where and for how long to record.
#[derive(Clone, Debug)]
pub struct TraceTarget {
    /// Created (or overwritten); complete JSON once the recording finished.
    pub file: PathBuf,
    pub source: TraceSource,
    /// The planned window (for the `seconds_left` of a refused second recording).
    pub length: Duration,
    /// Stop writing past this many bytes and finish with [`TraceFinishError::TooLarge`].
    pub limit_bytes: Option<u64>,
}

/// Why a recording could not start.
#[derive(Debug, thiserror::Error)]
pub enum TraceBeginError {
    #[error("a trace is already being recorded ({started_by}, {seconds_left:.1} s left); wait until it is done and ask again")]
    Busy { started_by: TraceSource, seconds_left: f64 },
    #[error("cannot create the trace file {path}: {error}; check the permissions of its folder")]
    Create { path: PathBuf, error: std::io::Error },
}

/// Why a finished recording is not a complete trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceFinishError {
    #[error("cannot write the trace to {path}: {error}; the file is incomplete")]
    Write { path: PathBuf, error: std::io::Error },
    #[error("the trace grew over {limit_bytes} bytes and was cut off; record fewer seconds")]
    TooLarge { limit_bytes: u64 },
    #[error("the trace writer did not complete {path} within {waited:?}")]
    Stuck { path: PathBuf, waited: Duration },
}

/// A completed trace file.
#[derive(Clone, Copy, Debug)]
pub struct TraceWritten {
    pub bytes: u64,
    /// How long the window was open.
    pub recorded: Duration,
}

/// Records the showrunner spans to a file, one recording at a time.
pub trait TraceRecorder: Send + Sync {
    /// Opens the recording window now, writing to `target.file`.
    fn begin(&self, target: TraceTarget) -> Result<Box<dyn ActiveTrace>, TraceBeginError>;
}

/// A recording whose window is open. Dropping it closes the window without waiting for
/// the file to be completed.
pub trait ActiveTrace: Send {
    /// Closes the window and waits until the file is complete.
    fn finish(self: Box<Self>) -> Result<TraceWritten, TraceFinishError>;
}

static RECORDER: OnceLock<Arc<dyn TraceRecorder>> = OnceLock::new();

/// Makes `recorder` the one `POST /trace` uses. Only the first call counts; answers
/// whether this one did.
pub fn install_recorder(recorder: Arc<dyn TraceRecorder>) -> bool {
    RECORDER.set(recorder).is_ok()
}

/// The body of `POST /api/v1/trace` (optional: an empty body records 10 s).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    /// How many seconds to record, 1 to 60 (default 10).
    #[schema(minimum = 1, maximum = 60, example = 10)]
    pub seconds: Option<u32>,
}

/// Records a Chrome trace of the next N seconds of the show and answers with it.
#[utoipa::path(post, path = "/api/v1/trace", tag = "system", security(("bearer" = [])), request_body(content = TraceRequest, description = "Optional; any content type is read as JSON"),
    responses((status = 200, description = "The Chrome trace JSON (a download named showrunner-trace-UNIX_MS.json); open it in https://ui.perfetto.dev", content_type = "application/json"),
        (status = 400, description = "Not `{\"seconds\": N}` with N a whole number", body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 409, description = "A trace is already being recorded (`trace_running`)", body = ApiErrorBody),
        (status = 422, description = "Seconds out of 1..=60 (`invalid_trace_seconds`), or the trace grew over 64 MiB (`trace_too_large`)", body = ApiErrorBody),
        (status = 503, description = "This process records no traces", body = ApiErrorBody)))]
pub async fn record(State(state): State<ApiState>, body: Result<Bytes, BytesRejection>) -> Result<Response, TraceRouteError> {
    let body = body.map_err(|rejection| ApiError::from_body_rejection(rejection, state.limits.get().max_body_bytes))?;
    let seconds = requested_seconds(&body)?;
    let recorder = RECORDER.get().ok_or_else(|| ApiError::Unavailable("this process records no traces".into()))?;
    let data_dir = state.store.path().parent().map(PathBuf::from).ok_or_else(|| ApiError::Internal("the show database has no folder".into()))?;
    let started_ms = unix_ms();
    let file = data_dir.join(format!("trace-recording-{started_ms}-{}.json", std::process::id()));
    let length = Duration::from_secs(u64::from(seconds));
    let target = TraceTarget { file: file.clone(), source: TraceSource::Api, length, limit_bytes: Some(MAX_API_TRACE_BYTES) };
    let recording = Recording { active: Some(recorder.begin(target)?), file };
    tokio::time::sleep(length).await;
    // Moved into the blocking task: if the client leaves now, the file is still removed.
    let trace = tokio::task::spawn_blocking(move || recording.finish_and_read()).await.map_err(ApiError::from)??;
    let disposition = format!("attachment; filename=\"showrunner-trace-{started_ms}.json\"");
    let headers = [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, disposition), (header::CACHE_CONTROL, "no-store".to_owned())];
    Ok((headers, trace).into_response())
}

/// The requested seconds: 10 for an empty body.
fn requested_seconds(body: &[u8]) -> Result<u32, ApiError> {
    let request: TraceRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TraceRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body must be {{\"seconds\": N}} with N a whole number from 1 to {MAX_API_TRACE_SECONDS}: {e}")))?
    };
    let seconds = request.seconds.unwrap_or(DEFAULT_API_TRACE_SECONDS);
    if !(1..=MAX_API_TRACE_SECONDS).contains(&seconds) {
        return Err(ApiError::Unprocessable {
            code: "invalid_trace_seconds",
            message: format!("seconds must be from 1 to {MAX_API_TRACE_SECONDS}, not {seconds}"),
            details: serde_json::json!({ "min": 1, "max": MAX_API_TRACE_SECONDS, "found": seconds }),
        });
    }
    Ok(seconds)
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

/// An API recording and its temp file; dropping it closes the window and removes the file.
struct Recording {
    active: Option<Box<dyn ActiveTrace>>,
    file: PathBuf,
}

impl Recording {
    /// Closes the window, waits for the file and reads it (blocking).
    fn finish_and_read(mut self) -> Result<Vec<u8>, ApiError> {
        let active = self.active.take().ok_or_else(|| ApiError::Internal("the trace recording was already finished".into()))?;
        match active.finish() {
            Ok(_) => std::fs::read(&self.file).map_err(|e| ApiError::Internal(format!("cannot read the trace {}: {e}", self.file.display()))),
            Err(e @ TraceFinishError::TooLarge { limit_bytes }) => {
                Err(ApiError::Unprocessable { code: "trace_too_large", message: e.to_string(), details: serde_json::json!({ "limit_bytes": limit_bytes }) })
            }
            Err(e) => Err(ApiError::Internal(e.to_string())),
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        drop(self.active.take());
        if let Err(e) = std::fs::remove_file(&self.file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove the trace temp file {}: {e}", self.file.display());
        }
    }
}

/// A failed `POST /trace`: an [`ApiError`], or 409 `trace_running` in the same body shape.
#[derive(Debug)]
pub enum TraceRouteError {
    Api(ApiError),
    Running { message: String, started_by: TraceSource, seconds_left: f64 },
}

impl From<ApiError> for TraceRouteError {
    fn from(e: ApiError) -> Self {
        TraceRouteError::Api(e)
    }
}

impl From<TraceBeginError> for TraceRouteError {
    fn from(e: TraceBeginError) -> Self {
        match &e {
            TraceBeginError::Busy { started_by, seconds_left } => TraceRouteError::Running { message: e.to_string(), started_by: *started_by, seconds_left: *seconds_left },
            TraceBeginError::Create { .. } => TraceRouteError::Api(ApiError::Internal(e.to_string())),
        }
    }
}

impl IntoResponse for TraceRouteError {
    fn into_response(self) -> Response {
        match self {
            TraceRouteError::Api(e) => e.into_response(),
            TraceRouteError::Running { message, started_by, seconds_left } => {
                let by = match started_by {
                    TraceSource::CommandLine => "command_line",
                    TraceSource::Api => "api",
                };
                let details = serde_json::json!({ "started_by": by, "seconds_left": (seconds_left * 10.0).round() / 10.0 });
                (StatusCode::CONFLICT, Json(ApiErrorBody { code: "trace_running", message, details })).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_body_asks_for_the_default_and_seconds_are_checked() {
        assert_eq!(requested_seconds(b"").ok(), Some(DEFAULT_API_TRACE_SECONDS));
        assert_eq!(requested_seconds(b" \n").ok(), Some(DEFAULT_API_TRACE_SECONDS));
        assert_eq!(requested_seconds(b"{}").ok(), Some(DEFAULT_API_TRACE_SECONDS));
        assert_eq!(requested_seconds(br#"{"seconds": 60}"#).ok(), Some(60));
        for (body, code) in [(&br#"{"seconds": 0}"#[..], "invalid_trace_seconds"), (br#"{"seconds": 61}"#, "invalid_trace_seconds"), (br#"{"seconds": -1}"#, "bad_request"), (br#"{"secs": 5}"#, "bad_request"), (b"5", "bad_request")] {
            let error = requested_seconds(body).err().map(|e| e.code());
            assert_eq!(error, Some(code), "{}", String::from_utf8_lossy(body));
        }
    }
}
