//! [`ApiError`]: every way an API request fails, as one type that renders itself as
//! `{"code", "message", "details"}` JSON with the matching HTTP status. The `code`
//! strings are a contract for clients and never change meaning. It must not leak
//! internals: an [`ApiError::Internal`] is logged here and answered with a generic message.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable machine code, snake_case (`unauthorized`, `not_found`, `invalid_module`, ...).
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// Structured facts about the failure (limits, accepted types, ...); may be empty.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Why an API request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("{0}: send `Authorization: Bearer TOKEN` with the server's API token")]
    Unauthorized(&'static str),
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("request body is over the {limit_bytes}-byte limit for this route")]
    PayloadTooLarge { limit_bytes: u64 },
    #[error("unsupported content type {found:?}: send one of {accepted:?}")]
    UnsupportedMediaType { found: String, accepted: &'static [&'static str] },
    #[error("not a module this server can run: {reason}")]
    InvalidModule { reason: String },
    #[error("not ready: {0}")]
    Unavailable(String),
    /// The change was based on a version that is no longer current (`If-Match`, or
    /// another node changed it first).
    #[error("{what} is at version {current}, not {expected}: read it again and retry on top of version {current}")]
    VersionConflict { what: String, expected: u64, current: u64 },
    /// This node is in a cluster and Redis cannot be reached: changes are refused
    /// (the show stays on air from local state).
    #[error("the cluster's Redis cannot be reached ({0}); the show stays on air, changes are refused until it is back")]
    ClusterUnavailable(String),
    /// A monitor has no picture to give (no preview scene, nothing rendered yet).
    #[error("{0}")]
    NoPicture(String),
    /// Well-formed but not applicable to the show (a bad prop, a module of the wrong
    /// kind, a failed swap); `code` says which.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String, details: serde_json::Value },
    /// Logged with its cause; the client sees only a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::InvalidModule { .. } => "invalid_module",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::NoPicture(_) => "no_picture",
            ApiError::VersionConflict { .. } => "version_conflict",
            ApiError::ClusterUnavailable(_) => "cluster_unavailable",
            ApiError::Unprocessable { code, .. } => code,
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound { .. } | ApiError::NoPicture(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::VersionConflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidModule { .. } | ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) | ApiError::ClusterUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            ApiError::PayloadTooLarge { limit_bytes } => serde_json::json!({ "limit_bytes": limit_bytes }),
            ApiError::UnsupportedMediaType { found, accepted } => serde_json::json!({ "found": found, "accepted": accepted }),
            ApiError::InvalidModule { reason } => serde_json::json!({ "reason": reason }),
            ApiError::VersionConflict { expected, current, .. } => serde_json::json!({ "expected_version": expected, "current_version": current }),
            ApiError::Unprocessable { details, .. } => details.clone(),
            _ => serde_json::json!({}),
        }
    }

    /// The body sent to the client.
    pub fn body(&self) -> ApiErrorBody {
        let message = match self {
            ApiError::Internal(_) => "internal server error; the cause is in the server log".to_owned(),
            other => other.to_string(),
        };
        ApiErrorBody { code: self.code(), message, details: self.details() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "API request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl ApiError {
    /// A JSON body that was not accepted: wrong content type, over `limit_bytes`,
    /// not JSON, or not the expected shape.
    pub fn from_json_rejection(rejection: JsonRejection, limit_bytes: u64) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType { found: "none or not JSON".to_owned(), accepted: &["application/json"] },
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit_bytes },
            other => ApiError::BadRequest(other.body_text()),
        }
    }

    /// A body that could not be read: over `limit_bytes`, or broken off.
    pub fn from_body_rejection(rejection: BytesRejection, limit_bytes: u64) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit_bytes }
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    }
}

/// An [`ApiError::Internal`] from any failure the client cannot act on.
pub(super) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A JSON body, or the error for why it was not accepted (see [`ApiError::from_json_rejection`]).
pub(super) fn json_body<T>(body: Result<axum::Json<T>, JsonRejection>, limit_bytes: u64) -> Result<T, ApiError> {
    body.map(|axum::Json(b)| b).map_err(|rejection| ApiError::from_json_rejection(rejection, limit_bytes))
}

/// A blocking task that did not finish (it panicked or was cancelled).
impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}
