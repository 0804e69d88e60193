//! The HTTP API of `showrunner serve` (axum), under `/api/v1`: health and readiness,
//! the module library (upload, list, look up, delete), the show (scenes, layers,
//! props, events, hot-swap, preview and take, the programme picture) and the OpenAPI
//! document that describes it, and the operator's web dashboard (outside `/api/v1`,
//! no token: the page holds no data). [`router`] builds it over an [`ApiState`]; every failure is an
//! [`ApiError`] rendered as `{"code", "message", "details"}` JSON. It owns request
//! parsing, auth and status codes; it must not own persistence (that is [`crate::store`]),
//! Wasm loading (that is `showrunner_wasm`) or listening on sockets (that is the binary).

mod auth;
mod dashboard;
mod error;
pub mod limits;
pub mod inputs;
mod modules;
mod monitors;
mod openapi;
pub mod outputs;
pub mod recording;
mod show_error;
pub mod show_ops;
mod show_routes;
mod system;
pub mod trace;
mod ws;
pub mod wire;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post, put};

pub use error::{ApiError, ApiErrorBody};
pub use modules::{MODULE_CONTENT_TYPES, ModuleBody, ModuleList};
pub use openapi::openapi_document;
pub use system::{Health, Ready};

use crate::show::ShowHandle;
use crate::store::Store;

/// Size limits for request bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest module upload, in bytes (413 `payload_too_large` above it).
    pub max_module_bytes: u64,
    /// Largest body of any other request, in bytes.
    pub max_body_bytes: u64,
}

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<Store>,
    pub host: Arc<showrunner_wasm::Host>,
    /// The bearer token every non-probe route requires; `None` runs unauthenticated.
    pub token: Option<String>,
    /// The size limits in force (a config reload changes them live).
    pub limits: limits::LiveLimits,
    /// When the API started (for `uptime_s`).
    pub started: Instant,
    /// The live show.
    pub show: ShowHandle,
    /// Held while a change is applied and saved, so the store keeps the show's order.
    pub edits: Arc<tokio::sync::Mutex<()>>,
    /// The show's live inputs (media and RTMP ingest).
    pub inputs: Arc<crate::show::inputs::InputManager>,
    /// The show's Prometheus metrics (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Set when this node shares its show through Redis (`redis` in the config).
    pub cluster: Option<Arc<crate::cluster::ClusterLink>>,
}

impl ApiState {
    pub fn new(
        store: Arc<Store>,
        host: Arc<showrunner_wasm::Host>,
        token: Option<String>,
        limits: ApiLimits,
        show: ShowHandle,
        inputs: Arc<crate::show::inputs::InputManager>,
    ) -> ApiState {
        ApiState { store, host, token, limits: limits::LiveLimits::new(limits), started: Instant::now(), edits: Arc::new(tokio::sync::Mutex::new(())), inputs, metrics: show.metrics().clone(), show, cluster: None }
    }

    /// The same state, sharing its show through `link`.
    pub fn with_cluster(self, link: Arc<crate::cluster::ClusterLink>) -> ApiState {
        ApiState { cluster: Some(link), ..self }
    }
}

/// The whole API: `/api/v1/...` routes, JSON errors for unknown paths and methods.
/// Everything except `/api/v1/health`, `/api/v1/ready` and `/api/v1/openapi.json`
/// requires the token when `state.token` is set.
/// `GET /metrics` (Prometheus text, at the root) requires it too; every answer is
/// counted in `showrunner_http_requests_total`.
pub fn router(state: ApiState) -> Router {
    let open = Router::new()
        .route("/health", get(system::health))
        .route("/ready", get(system::ready))
        .route("/openapi.json", get(openapi::serve_openapi))
        // Checks the token itself: browsers can only pass it as `?token=`.
        .route("/ws", get(ws::upgrade))
        .route("/monitors/{monitor}/ws", get(monitors::upgrade));
    let protected = Router::new()
        .route("/modules", get(modules::list).post(modules::upload))
        .route("/modules/{hash}", get(modules::get_one).delete(modules::delete))
        .route("/show", get(show_routes::get_show))
        .route("/scenes", get(show_routes::list_scenes).post(show_routes::add_scene))
        .route("/scenes/{name}", get(show_routes::get_scene).delete(show_routes::remove_scene))
        .route("/layers", get(show_routes::list_layers).post(show_routes::add_layer))
        .route("/layers/{id}", get(show_routes::get_layer).patch(show_routes::update_layer).delete(show_routes::remove_layer))
        .route("/layers/{id}/props", patch(show_routes::set_props))
        .route("/layers/{id}/events", post(show_routes::event))
        .route("/layers/{id}/swap", post(show_routes::swap))
        .route("/layers/{id}/release", post(show_routes::release))
        .route("/preview", put(show_routes::set_preview))
        .route("/take", post(show_routes::take))
        .route("/preview.jpg", get(show_routes::preview_jpg))
        .route("/monitors/{monitor}", get(monitors::picture))
        .route("/outputs", get(outputs::list).post(outputs::add))
        .route("/outputs/{id}", axum::routing::delete(outputs::remove))
        .route("/stream/start", post(outputs::start_stream))
        .route("/stream/stop", post(outputs::stop_stream))
        .route("/recording", post(recording::start_recording).delete(recording::stop_recording))
        .route("/inputs", get(inputs::list).post(inputs::add))
        .route("/inputs/{name}", axum::routing::delete(inputs::remove))
        .route("/trace", post(trace::record))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .nest("/api/v1", open.merge(protected))
        .route("/metrics", get(crate::metrics::http::serve_metrics).route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token)))
        .merge(dashboard::routes())
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        // Innermost first: the size check runs inside the request count, so a 413 is counted.
        .layer(axum::middleware::from_fn_with_state(state.limits.clone(), limits::enforce))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::metrics::http::count_requests))
        .layer(DefaultBodyLimit::max(to_usize(limits::HARD_BODY_CAP)))
        .with_state(state)
}

async fn unknown_path(uri: axum::http::Uri) -> ApiError {
    let shown: String = uri.path().chars().take(200).collect();
    ApiError::NotFound { what: format!("path {shown}") }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn to_usize(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
}
