//! Liveness and readiness: `GET /api/v1/health` (the process answers) and
//! `GET /api/v1/ready` (the store answers too). Both are open without a token so
//! load balancers and orchestrators can probe them; they must not reveal show data.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Seconds since the API started.
    pub uptime_s: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready` when the store answers.
    #[schema(example = "ready")]
    pub status: &'static str,
}

/// The server answers.
#[utoipa::path(get, path = "/api/v1/health", tag = "system",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn health(State(state): State<ApiState>) -> Json<Health> {
    Json(Health { status: "ok", uptime_s: state.started.elapsed().as_secs() })
}

/// The server and its store answer (and, in a cluster, the node has joined).
#[utoipa::path(get, path = "/api/v1/ready", tag = "system",
    responses(
        (status = 200, description = "The store answers; in a cluster, the node has joined once", body = Ready),
        (status = 503, description = "The store does not answer, or the node is still joining its cluster (code `unavailable`)", body = ApiErrorBody),
    ))]
pub async fn ready(State(state): State<ApiState>) -> Result<Json<Ready>, ApiError> {
    if let Some(link) = &state.cluster
        && !link.has_joined()
    {
        return Err(ApiError::Unavailable("this node is still joining its cluster (it needs Redis once); the show is on air from local state".into()));
    }
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.modules())
        .await?
        .map_err(|e| ApiError::Unavailable(format!("the store does not answer: {e}")))?;
    Ok(Json(Ready { status: "ready" }))
}
