//! The OpenAPI 3 document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and the bodies' `ToSchema` derives, served at `GET /api/v1/openapi.json`.
//! It must not be written by hand: a route missing here is a route missing its annotation.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ApiErrorBody;
use super::modules::{ModuleBody, ModuleList};
use super::system::{Health, Ready};
use super::wire::{EventBody, LayerBody, LayerPatchBody, NewLayer, NewScene, PreviewBody, SceneBody, ShowBody, SwapBody, SwapResult, TakeBody, TransitionBody};
use super::inputs::{InputBody, InputSize, NewInput};
use super::outputs::{NewOutput, OutputBody, OutputsBody};
use super::recording::NewRecording;
use super::{inputs, modules, monitors, outputs, recording, show_routes, system, trace, ws};
use super::trace::TraceRequest;

#[derive(OpenApi)]
#[openapi(
    info(title = "showrunner API", description = "Run a live showrunner show: upload modules, build scenes from layers, set props, send events, hot-swap modules and take scenes to air."),
    paths(system::health, system::ready, modules::upload, modules::list, modules::get_one, modules::delete, serve_openapi,
        show_routes::get_show, show_routes::list_scenes, show_routes::add_scene, show_routes::get_scene, show_routes::remove_scene,
        show_routes::list_layers, show_routes::add_layer, show_routes::get_layer, show_routes::update_layer, show_routes::remove_layer,
        show_routes::set_props, show_routes::event, show_routes::swap, show_routes::release, show_routes::set_preview, show_routes::take, show_routes::preview_jpg,
        outputs::list, outputs::add, outputs::remove, outputs::start_stream, outputs::stop_stream, recording::start_recording, recording::stop_recording, ws::upgrade, monitors::picture, monitors::upgrade,
        inputs::list, inputs::add, inputs::remove, trace::record),
    components(schemas(ApiErrorBody, Health, Ready, ModuleBody, ModuleList,
        ShowBody, SceneBody, LayerBody, NewScene, NewLayer, LayerPatchBody, EventBody, SwapBody, SwapResult, PreviewBody, TakeBody, TransitionBody,
        NewOutput, OutputBody, OutputsBody, NewRecording, NewInput, InputBody, InputSize, TraceRequest)),
    modifiers(&BearerScheme),
    tags((name = "system", description = "Liveness, readiness and this document"), (name = "modules", description = "The module library"),
        (name = "show", description = "Scenes, preview and program, takes, the programme picture"), (name = "layers", description = "Layers: placement, props, events, hot-swap"),
        (name = "outputs", description = "RTMP destinations, the stream on/off, the recording"),
        (name = "inputs", description = "Live inputs: media files and URLs, RTMP ingest keys")),
)]
struct ApiDoc;

/// Adds the `bearer` security scheme that the protected routes name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The OpenAPI document of this API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3 document of this API", content_type = "application/json")))]
pub async fn serve_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}
