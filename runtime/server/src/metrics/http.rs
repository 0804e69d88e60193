//! `GET /metrics` (Prometheus text exposition, behind the API token) and the
//! middleware that counts every API request by matched route, method and status.
//!
//! Must not: label requests with raw paths or arbitrary methods (the label sets
//! stay bounded by the router's routes).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{encode_text, process, scrape};
use crate::api::{ApiError, ApiState};

/// The `Content-Type` of the text exposition format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every metric, as Prometheus text.
pub async fn serve_metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    // A stopped show has no outputs to report; the rest still is.
    let outputs = crate::api::outputs::outputs_body(&state).await.ok();
    let inputs = state.inputs.statuses();
    let metrics = state.metrics.clone();
    let text = tokio::task::spawn_blocking(move || {
        let pool = metrics.pool().metrics();
        let sources = scrape::ScrapeSources { outputs: outputs.as_ref(), inputs: &inputs, pool: &pool, process: process::sample() };
        let mut families = metrics.gather();
        families.extend(scrape::families(&sources)?);
        encode_text(families)
    })
    .await?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)], text).into_response())
}

/// Counts the request once it is answered (`route="unmatched"` where no route matched).
pub async fn count_requests(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = method_label(request.method());
    let response = next.run(request).await;
    state.metrics.request_answered(&route, method, response.status().as_u16());
    response
}

/// The method's name for labels; methods outside HTTP's own are `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
