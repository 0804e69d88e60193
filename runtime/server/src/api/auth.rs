//! The bearer-token gate: a middleware that lets a request through only when it
//! carries `Authorization: Bearer TOKEN` matching the server's token (compared in
//! constant time). The router puts it on every route except health, readiness and the
//! OpenAPI document. It must not decide anything else about a request.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::ApiState;
use super::error::ApiError;
use crate::config::token_matches;

/// Rejects the request with 401 `unauthorized` unless it carries the right token.
/// In unauthenticated mode (`state.token` is `None`) every request passes.
pub async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(expected) = state.token.as_deref() {
        let presented = request.headers().get(header::AUTHORIZATION).ok_or(ApiError::Unauthorized("missing API token"))?;
        let presented = presented.to_str().ok().and_then(bearer_token).ok_or(ApiError::Unauthorized("the Authorization header is not `Bearer TOKEN`"))?;
        if !token_matches(expected, presented) {
            return Err(ApiError::Unauthorized("wrong API token"));
        }
    }
    Ok(next.run(request).await)
}

/// The token of an `Authorization: Bearer TOKEN` header value (scheme case-insensitive).
pub(super) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
