//! Request size limits that can change while the server runs (a config reload):
//! [`LiveLimits`], read by every handler at the time of the request, and the
//! middleware that holds each request body to the limit of its route (module
//! uploads: `max_module_bytes`; everything else: `max_body_bytes`).
//!
//! Must not: buffer a body itself (it only wraps it, so an extractor reading past the
//! limit gets axum's 413 rejection), or let a limit outside the configured ranges in.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;

use super::ApiLimits;
use super::error::ApiError;
use crate::config::{BODY_BYTES_RANGE, MODULE_BYTES_RANGE};

/// The largest body any route could ever be allowed (the top of the configurable
/// ranges): the static cap under the live limits.
pub const HARD_BODY_CAP: u64 = if *MODULE_BYTES_RANGE.end() > *BODY_BYTES_RANGE.end() { *MODULE_BYTES_RANGE.end() } else { *BODY_BYTES_RANGE.end() };

/// The limits in force now; cheap to clone, shared by every handler.
#[derive(Clone, Debug)]
pub struct LiveLimits {
    module_bytes: Arc<AtomicU64>,
    body_bytes: Arc<AtomicU64>,
}

impl LiveLimits {
    pub fn new(limits: ApiLimits) -> LiveLimits {
        LiveLimits { module_bytes: Arc::new(AtomicU64::new(limits.max_module_bytes)), body_bytes: Arc::new(AtomicU64::new(limits.max_body_bytes)) }
    }

    pub fn get(&self) -> ApiLimits {
        ApiLimits { max_module_bytes: self.module_bytes.load(Ordering::Acquire), max_body_bytes: self.body_bytes.load(Ordering::Acquire) }
    }

    /// Applies new limits to requests that start from now on.
    pub fn set(&self, limits: ApiLimits) {
        self.module_bytes.store(limits.max_module_bytes, Ordering::Release);
        self.body_bytes.store(limits.max_body_bytes, Ordering::Release);
    }

    /// The limit of a request to `path` with `method`.
    pub fn for_route(&self, method: &Method, path: &str) -> u64 {
        let limits = self.get();
        if method == Method::POST && path.trim_end_matches('/') == "/api/v1/modules" { limits.max_module_bytes } else { limits.max_body_bytes }
    }
}

/// Refuses a request whose `Content-Length` is over its route's limit (413), and
/// limits the body of any other to it.
pub async fn enforce(State(limits): State<LiveLimits>, request: Request, next: Next) -> Response {
    let limit = limits.for_route(request.method(), request.uri().path());
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return ApiError::PayloadTooLarge { limit_bytes: limit }.into_response();
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    next.run(request.map(|body| Body::new(Limited::new(body, limit)))).await
}

/// Whether `error` (or one of its causes) is a body read past its route's limit.
pub fn is_over_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}
