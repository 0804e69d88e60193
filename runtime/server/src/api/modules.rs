//! The module library over HTTP: upload (`POST /api/v1/modules`, raw `application/wasm`
//! or a `multipart/form-data` file field),
//! list, look up and delete modules by content hash (not while a layer runs them). An upload is validated and
//! compiled with the same [`showrunner_wasm::Host::load`] that `showrunner check` uses,
//! off the async runtime, before anything is stored. It must not run modules or touch
//! live shows; every store and loader call goes through `spawn_blocking`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use showrunner_core::PropSpec;
use utoipa::ToSchema;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody, internal};
use crate::store::{ModuleRecord, Store};

/// The content types an upload may have: the raw module, or a form whose first file
/// field (or field named `module`) is the module (what a browser's file upload sends).
pub const MODULE_CONTENT_TYPES: &[&str] = &["application/wasm", "multipart/form-data"];

/// A stored module.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleBody {
    /// blake3 of the module bytes, hex: the module's identity.
    pub hash: String,
    /// Size of the module in bytes.
    pub size: u64,
    /// Name and version the module gives in `describe()`.
    pub name: String,
    pub version: String,
    /// When it was first uploaded, milliseconds since the Unix epoch.
    pub uploaded_at_ms: u64,
    /// The prop specs from `describe()` (what a props form is built from).
    #[schema(value_type = Vec<Object>)]
    pub props: Vec<PropSpec>,
    /// What the module is: `scene` (runs on a layer), `transition` (runs a take) or
    /// `unknown` (it no longer loads).
    #[schema(example = "scene")]
    pub world: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleList {
    pub modules: Vec<ModuleBody>,
}

impl From<ModuleRecord> for ModuleBody {
    fn from(r: ModuleRecord) -> Self {
        ModuleBody { hash: r.hash, size: r.size, name: r.name, version: r.version, uploaded_at_ms: r.uploaded_at_ms, props: Vec::new(), world: "unknown" }
    }
}

/// The record with the prop specs its module declares (loaded through the module cache).
fn described(store: &Store, host: &std::sync::Arc<showrunner_wasm::Host>, record: ModuleRecord) -> Result<ModuleBody, ApiError> {
    let Some(bytes) = store.module_bytes(&record.hash).map_err(internal)? else {
        return Ok(ModuleBody::from(record));
    };
    match host.load(&bytes) {
        Ok(module) => Ok(ModuleBody { props: module.info.props.clone(), world: module.world.name(), ..ModuleBody::from(record) }),
        Err(e) => {
            tracing::warn!(module = %record.hash, "a stored module no longer loads: {e}");
            Ok(ModuleBody::from(record))
        }
    }
}

/// Uploads a module. The same bytes again answer 200 with the stored record.
#[utoipa::path(post, path = "/api/v1/modules", tag = "modules",
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The module (.wasm component or core-ABI module), raw or as the file field of a multipart/form-data form"),
    responses(
        (status = 201, description = "Validated and stored", body = ModuleBody),
        (status = 200, description = "Already stored (same content hash)", body = ModuleBody),
        (status = 401, description = "Missing or wrong token (`unauthorized`)", body = ApiErrorBody),
        (status = 413, description = "Over the module size limit (`payload_too_large`)", body = ApiErrorBody),
        (status = 415, description = "Not `application/wasm` or `multipart/form-data` (`unsupported_media_type`)", body = ApiErrorBody),
        (status = 422, description = "Not a module this server can run (`invalid_module`)", body = ApiErrorBody),
        (status = 500, description = "Server fault (`internal`)", body = ApiErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn upload(State(state): State<ApiState>, request: Request) -> Result<(StatusCode, Json<ModuleBody>), ApiError> {
    let limit = state.limits.get().max_module_bytes;
    let bytes = match check_content_type(request.headers())? {
        "multipart/form-data" => {
            let form = Multipart::from_request(request, &state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
            module_from_form(form, limit).await?
        }
        _ => Bytes::from_request(request, &state).await.map_err(|rejection| ApiError::from_body_rejection(rejection, limit))?,
    };
    if let Some(link) = &state.cluster {
        link.check_up()?;
    }
    let (store, host, kept) = (state.store.clone(), state.host.clone(), bytes.clone());
    let (status, record, module) = tokio::task::spawn_blocking(move || {
        let module = host.load(&bytes).map_err(|e| ApiError::InvalidModule { reason: e.to_string() })?;
        let hash = Store::module_hash(&bytes);
        if let Some(existing) = store.module(&hash).map_err(internal)? {
            return Ok((StatusCode::OK, existing, module));
        }
        let record = ModuleRecord {
            hash,
            size: bytes.len() as u64,
            name: module.info.name.clone(),
            version: module.info.version.clone(),
            uploaded_at_ms: now_ms(),
        };
        store.put_module(&record, &bytes).map_err(internal)?;
        Ok::<_, ApiError>((StatusCode::CREATED, record, module))
    })
    .await??;
    // Other nodes of the cluster fetch it by hash when a layer uses it.
    if let Some(link) = &state.cluster {
        link.cluster()?.put_blob(&record.hash, &kept).await.map_err(crate::cluster::api_error)?;
    }
    let body = ModuleBody { props: module.info.props.clone(), world: module.world.name(), ..ModuleBody::from(record) };
    Ok((status, Json(body)))
}

/// Lists the stored modules.
#[utoipa::path(get, path = "/api/v1/modules", tag = "modules",
    responses(
        (status = 200, description = "Every stored module", body = ModuleList),
        (status = 401, description = "Missing or wrong token (`unauthorized`)", body = ApiErrorBody),
        (status = 500, description = "Server fault (`internal`)", body = ApiErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list(State(state): State<ApiState>) -> Result<Json<ModuleList>, ApiError> {
    let (store, host) = (state.store.clone(), state.host.clone());
    let modules = tokio::task::spawn_blocking(move || {
        let records = store.modules().map_err(internal)?;
        records.into_iter().map(|r| described(&store, &host, r)).collect::<Result<Vec<_>, ApiError>>()
    })
    .await??;
    Ok(Json(ModuleList { modules }))
}

/// One stored module by hash.
#[utoipa::path(get, path = "/api/v1/modules/{hash}", tag = "modules",
    params(("hash" = String, Path, description = "blake3 of the module bytes, hex")),
    responses(
        (status = 200, description = "The module", body = ModuleBody),
        (status = 401, description = "Missing or wrong token (`unauthorized`)", body = ApiErrorBody),
        (status = 400, description = "The hash is not valid UTF-8 (`bad_request`)", body = ApiErrorBody),
        (status = 404, description = "No module with this hash (`not_found`)", body = ApiErrorBody),
        (status = 500, description = "Server fault (`internal`)", body = ApiErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_one(State(state): State<ApiState>, path: Result<Path<String>, PathRejection>) -> Result<Json<ModuleBody>, ApiError> {
    let Path(hash) = path?;
    let (store, host) = (state.store.clone(), state.host.clone());
    let lookup = hash.clone();
    let body = tokio::task::spawn_blocking(move || store.module(&lookup).map_err(internal)?.map(|r| described(&store, &host, r)).transpose()).await??;
    body.map(Json).ok_or_else(|| not_found(&hash))
}

/// Deletes a stored module.
#[utoipa::path(delete, path = "/api/v1/modules/{hash}", tag = "modules",
    params(("hash" = String, Path, description = "blake3 of the module bytes, hex")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or wrong token (`unauthorized`)", body = ApiErrorBody),
        (status = 400, description = "The hash is not valid UTF-8 (`bad_request`)", body = ApiErrorBody),
        (status = 404, description = "No module with this hash (`not_found`)", body = ApiErrorBody),
        (status = 409, description = "The module is in use (`conflict`)", body = ApiErrorBody),
        (status = 500, description = "Server fault (`internal`)", body = ApiErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete(State(state): State<ApiState>, path: Result<Path<String>, PathRejection>) -> Result<StatusCode, ApiError> {
    let Path(hash) = path?;
    let _edit = state.edits.lock().await;
    let users: Vec<String> = state.show.snapshot().await?.spec.layers().filter(|l| l.module == hash).map(|l| l.id.clone()).collect();
    if !users.is_empty() {
        return Err(ApiError::Conflict(format!("module {hash} is in use by layer(s) {}: swap or remove them first", users.join(", "))));
    }
    let store = state.store.clone();
    let lookup = hash.clone();
    let deleted = tokio::task::spawn_blocking(move || store.delete_module(&lookup)).await?.map_err(internal)?;
    if deleted { Ok(StatusCode::NO_CONTENT) } else { Err(not_found(&hash)) }
}

/// The module in a form: the field named `module`, else the first field with a file name.
async fn module_from_form(mut form: Multipart, limit: u64) -> Result<Bytes, ApiError> {
    let failed = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE || super::limits::is_over_limit(&e) { ApiError::PayloadTooLarge { limit_bytes: limit } } else { ApiError::BadRequest(e.body_text()) }
    };
    while let Some(field) = form.next_field().await.map_err(failed)? {
        if field.name() == Some("module") || field.file_name().is_some() {
            return field.bytes().await.map_err(failed);
        }
    }
    Err(ApiError::BadRequest("the form has no file field: send the module as a file (field `module`)".into()))
}

/// The accepted content type the request has (its essence, lower case).
fn check_content_type(headers: &HeaderMap) -> Result<&'static str, ApiError> {
    let found = headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
    let essence = found.split(';').next().unwrap_or_default().trim();
    if let Some(accepted) = MODULE_CONTENT_TYPES.iter().find(|accepted| essence.eq_ignore_ascii_case(accepted)) {
        Ok(accepted)
    } else {
        let found = if found.is_empty() { "none".to_owned() } else { found };
        Err(ApiError::UnsupportedMediaType { found, accepted: MODULE_CONTENT_TYPES })
    }
}

fn not_found(hash: &str) -> ApiError {
    let shown: String = hash.chars().take(80).collect();
    ApiError::NotFound { what: format!("module {shown:?}") }
}


fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
