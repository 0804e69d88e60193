//! REST routes of the show: `GET /show`, scenes (`/scenes`, `/scenes/{name}`),
//! layers (`/layers`, `/layers/{id}`), props (`PATCH /layers/{id}/props`), events,
//! hot-swap and quarantine release of a layer, the preview scene and takes, and the
//! programme picture (`GET /preview.jpg`). Each handler parses its request and calls
//! the shared operation in [`super::show_ops`]; a change runs to its end even if the
//! client hangs up.
//!
//! Must not: change the show or the store except through `show_ops`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody, json_body};
use super::show_ops as ops;
use super::wire::{EventBody, LayerBody, LayerPatchBody, NewLayer, NewScene, PreviewBody, SceneBody, ShowBody, SwapBody, SwapResult, TakeBody};

type Body<T> = Result<Json<T>, JsonRejection>;
type Id = Result<Path<String>, PathRejection>;

/// Runs a change on a task of its own, so it is applied *and* saved even when the
/// client hangs up half way (axum drops a handler whose client went away).
pub(super) async fn finish<T: Send + 'static>(change: impl Future<Output = Result<T, ApiError>> + Send + 'static) -> Result<T, ApiError> {
    tokio::spawn(change).await?
}

fn parse<T>(state: &ApiState, body: Body<T>) -> Result<T, ApiError> {
    json_body(body, state.limits.get().max_body_bytes)
}

/// The whole show: format, program, preview, scenes and their layers.
#[utoipa::path(get, path = "/api/v1/show", tag = "show", security(("bearer" = [])),
    responses((status = 200, body = ShowBody), (status = 401, body = ApiErrorBody), (status = 503, description = "The show does not answer", body = ApiErrorBody)))]
pub async fn get_show(State(state): State<ApiState>) -> Result<Json<ShowBody>, ApiError> {
    Ok(Json(ops::show(&state).await?))
}

/// Every scene with its layers.
#[utoipa::path(get, path = "/api/v1/scenes", tag = "show", security(("bearer" = [])),
    responses((status = 200, body = Vec<SceneBody>), (status = 401, body = ApiErrorBody)))]
pub async fn list_scenes(State(state): State<ApiState>) -> Result<Json<Vec<SceneBody>>, ApiError> {
    Ok(Json(ops::show(&state).await?.scenes))
}

/// Adds an empty scene.
#[utoipa::path(post, path = "/api/v1/scenes", tag = "show", security(("bearer" = [])), request_body = NewScene,
    responses((status = 201, body = SceneBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 409, description = "A scene of that name exists (`conflict`)", body = ApiErrorBody),
        (status = 422, description = "Not a valid scene name (`invalid_show`)", body = ApiErrorBody)))]
pub async fn add_scene(State(state): State<ApiState>, body: Body<NewScene>) -> Result<(StatusCode, Json<SceneBody>), ApiError> {
    let body = parse(&state, body)?;
    Ok((StatusCode::CREATED, Json(finish(async move { ops::add_scene(&state, body).await }).await?)))
}

#[utoipa::path(get, path = "/api/v1/scenes/{name}", tag = "show", security(("bearer" = [])), params(("name" = String, Path)),
    responses((status = 200, body = SceneBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_scene(State(state): State<ApiState>, name: Id) -> Result<Json<SceneBody>, ApiError> {
    let Path(name) = name?;
    Ok(Json(ops::scene(&state, &name).await?))
}

/// Removes a scene and its layers (not the scene on program).
#[utoipa::path(delete, path = "/api/v1/scenes/{name}", tag = "show", security(("bearer" = [])), params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 409, description = "The scene is on air (`conflict`)", body = ApiErrorBody)))]
pub async fn remove_scene(State(state): State<ApiState>, name: Id) -> Result<StatusCode, ApiError> {
    let Path(name) = name?;
    finish(async move { ops::remove_scene(&state, &name).await }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every layer of every scene.
#[utoipa::path(get, path = "/api/v1/layers", tag = "layers", security(("bearer" = [])),
    responses((status = 200, body = Vec<LayerBody>), (status = 401, body = ApiErrorBody)))]
pub async fn list_layers(State(state): State<ApiState>) -> Result<Json<Vec<LayerBody>>, ApiError> {
    Ok(Json(ops::show(&state).await?.scenes.into_iter().flat_map(|s| s.layers).collect()))
}

/// Adds a layer running an uploaded scene module.
#[utoipa::path(post, path = "/api/v1/layers", tag = "layers", security(("bearer" = [])), request_body = NewLayer,
    responses((status = 201, body = LayerBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 404, description = "Unknown scene or module (`not_found`)", body = ApiErrorBody),
        (status = 409, description = "A layer with that id exists (`conflict`)", body = ApiErrorBody),
        (status = 422, description = "A bad prop (`invalid_prop`, naming it), a module that is not a scene (`wrong_module_kind`), bad placement (`invalid_show`)", body = ApiErrorBody)))]
pub async fn add_layer(State(state): State<ApiState>, body: Body<NewLayer>) -> Result<(StatusCode, Json<LayerBody>), ApiError> {
    let body = parse(&state, body)?;
    Ok((StatusCode::CREATED, Json(finish(async move { ops::add_layer(&state, body).await }).await?)))
}

#[utoipa::path(get, path = "/api/v1/layers/{id}", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = LayerBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_layer(State(state): State<ApiState>, id: Id) -> Result<Json<LayerBody>, ApiError> {
    let Path(id) = id?;
    Ok(Json(ops::layer(&state, &id).await?))
}

/// Changes a layer's placement: transform, opacity, crop, visibility, z.
#[utoipa::path(patch, path = "/api/v1/layers/{id}", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)), request_body = LayerPatchBody,
    responses((status = 200, body = LayerBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "Not a valid placement (`invalid_show`)", body = ApiErrorBody)))]
pub async fn update_layer(State(state): State<ApiState>, id: Id, headers: HeaderMap, body: Body<LayerPatchBody>) -> Result<Json<LayerBody>, ApiError> {
    let Path(id) = id?;
    let expected = if_match(&headers)?;
    let body = parse(&state, body)?;
    Ok(Json(finish(async move { ops::update_layer(&state, &id, body, expected).await }).await?))
}

#[utoipa::path(delete, path = "/api/v1/layers/{id}", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn remove_layer(State(state): State<ApiState>, id: Id, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let expected = if_match(&headers)?;
    finish(async move { ops::remove_layer(&state, &id, expected).await }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets some props: `{"name": value, ...}`, checked against the module's prop specs.
#[utoipa::path(patch, path = "/api/v1/layers/{id}/props", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = LayerBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "A prop the module does not have, of the wrong type or out of range (`invalid_prop`; `details.prop` names it); none changed", body = ApiErrorBody)))]
pub async fn set_props(State(state): State<ApiState>, id: Id, headers: HeaderMap, body: Body<BTreeMap<String, Value>>) -> Result<Json<LayerBody>, ApiError> {
    let Path(id) = id?;
    let expected = if_match(&headers)?;
    let body = parse(&state, body)?;
    Ok(Json(finish(async move { ops::set_props(&state, &id, body, expected).await }).await?))
}

/// Sends an event (`play`, `stop`, `next`, `update` or the module's own) to a layer.
#[utoipa::path(post, path = "/api/v1/layers/{id}/events", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)), request_body = EventBody,
    responses((status = 202, description = "Delivered before the layer's next frame"), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn event(State(state): State<ApiState>, id: Id, body: Body<EventBody>) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let body = parse(&state, body)?;
    ops::event(&state, &id, body).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Replaces a layer's module live, carrying its state. Answers once the first frame
/// with the new module has been composited; on failure the old module stays live.
#[utoipa::path(post, path = "/api/v1/layers/{id}/swap", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)), request_body = SwapBody,
    responses((status = 200, body = SwapResult), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody),
        (status = 404, description = "Unknown layer or module (`not_found`)", body = ApiErrorBody),
        (status = 422, description = "The new module did not start (`swap_failed`, with the reason) or is not a scene (`wrong_module_kind`); the old one stays live", body = ApiErrorBody)))]
pub async fn swap(State(state): State<ApiState>, id: Id, headers: HeaderMap, body: Body<SwapBody>) -> Result<Json<SwapResult>, ApiError> {
    let Path(id) = id?;
    let expected = if_match(&headers)?;
    let body = parse(&state, body)?;
    Ok(Json(finish(async move { ops::swap(&state, &id, body, expected).await }).await?))
}

/// Lifts a layer's quarantine; its module is tried again at the next frame.
#[utoipa::path(post, path = "/api/v1/layers/{id}/release", tag = "layers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn release(State(state): State<ApiState>, id: Id) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    ops::release(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Chooses the scene on preview (the next take).
#[utoipa::path(put, path = "/api/v1/preview", tag = "show", security(("bearer" = [])), request_body = PreviewBody,
    responses((status = 200, body = ShowBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn set_preview(State(state): State<ApiState>, body: Body<PreviewBody>) -> Result<Json<ShowBody>, ApiError> {
    let body = parse(&state, body)?;
    Ok(Json(finish(async move { ops::set_preview(&state, body).await }).await?))
}

/// Puts a scene (the preview scene by default) on air, as a cut or with a transition.
#[utoipa::path(post, path = "/api/v1/take", tag = "show", security(("bearer" = [])), request_body = TakeBody,
    responses((status = 200, body = ShowBody), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "The module is not a transition (`wrong_module_kind`)", body = ApiErrorBody)))]
pub async fn take(State(state): State<ApiState>, body: Body<TakeBody>) -> Result<Json<ShowBody>, ApiError> {
    let body = parse(&state, body)?;
    Ok(Json(finish(async move { ops::take(&state, body).await }).await?))
}

/// The programme picture: a JPEG of at most 640x360 (the programme monitor's latest).
#[utoipa::path(get, path = "/api/v1/preview.jpg", tag = "show", security(("bearer" = [])),
    responses((status = 200, content_type = "image/jpeg"), (status = 401, body = ApiErrorBody), (status = 404, description = "No frame yet (`no_picture`)", body = ApiErrorBody)))]
pub async fn preview_jpg(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let monitor = &state.show.monitors().program;
    let image = super::monitors::fresh_picture(monitor).await?;
    Ok(super::monitors::jpeg_response(&image, monitor.scene()))
}

/// The layer version a change is based on, from `If-Match: "N"` (or `N`); none: no check.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| ApiError::BadRequest(format!("If-Match {text:?}: send the layer's `version`, e.g. If-Match: \"3\"")))
}
