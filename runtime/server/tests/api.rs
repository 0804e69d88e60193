//! The HTTP API through `Router::oneshot`: a real store in a temp dir, a real Wasm
//! host and a real guest module. Every route's happy path, the bad inputs that must be
//! refused (with status, machine code, and the store left unchanged), idempotent
//! uploads and the OpenAPI document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use showrunner_server::api::{ApiLimits, router};
use showrunner_server::show::ShowRuntime;
use showrunner_server::store::Store;
use tower::ServiceExt;

const TOKEN: &str = "s3cret-token-for-tests";

fn lower_third() -> Vec<u8> {
    std::fs::read(common::guest("scene-lower-third")).expect("guest readable")
}

struct Api {
    app: Router,
    store: Arc<Store>,
    limits: ApiLimits,
    _show: ShowRuntime,
    _dir: tempfile::TempDir,
}

fn api(token: Option<&str>) -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = ApiLimits { max_module_bytes: lower_third().len() as u64 + 4096, max_body_bytes: 64 * 1024 };
    let (state, show, store) = common::show::api_state(dir.path(), token, limits);
    Api { app: router(state), store, limits, _show: show, _dir: dir }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Api {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.expect("router answers");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body readable").to_bytes();
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes))) };
        Reply { status: parts.status, headers: parts.headers, json }
    }

    fn stored(&self) -> Vec<String> {
        self.store.modules().expect("store lists").into_iter().map(|r| r.hash).collect()
    }
}

fn request(method: Method, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(uri);
    match token {
        Some(t) => builder.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => builder,
    }
}

fn upload(bytes: Vec<u8>, token: Option<&str>) -> Request<Body> {
    request(Method::POST, "/api/v1/modules", token).header(header::CONTENT_TYPE, "application/wasm").body(Body::from(bytes)).unwrap()
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    request(Method::GET, uri, token).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn health_and_ready_answer_without_a_token() {
    let api = api(Some(TOKEN));
    let health = api.send(get("/api/v1/health", None)).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json["status"], "ok");
    assert!(health.json["uptime_s"].as_u64().is_some(), "{}", health.json);
    let ready = api.send(get("/api/v1/ready", None)).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.json);
    assert_eq!(ready.json["status"], "ready");
}

#[tokio::test]
async fn upload_list_get_delete_round_trip() {
    let api = api(Some(TOKEN));
    let bytes = lower_third();
    let hash = Store::module_hash(&bytes);

    let created = api.send(upload(bytes.clone(), Some(TOKEN))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["hash"], hash.as_str());
    assert_eq!(created.json["size"], bytes.len() as u64);
    assert_eq!(created.json["name"], "Lower third");
    let props = created.json["props"].as_array().expect("props array");
    assert!(props.iter().any(|p| p["name"] == "name"), "{props:?}");
    assert_eq!(api.stored(), vec![hash.clone()]);

    let again = api.send(upload(bytes.clone(), Some(TOKEN))).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json, created.json, "a re-upload answers the stored record unchanged");
    assert_eq!(api.stored(), vec![hash.clone()]);

    let list = api.send(get("/api/v1/modules", Some(TOKEN))).await;
    assert_eq!(list.status, StatusCode::OK);
    let modules = list.json["modules"].as_array().expect("modules array");
    assert_eq!(modules.len(), 1);
    assert_eq!(modules[0]["hash"], hash.as_str());
    assert_eq!(modules[0]["uploaded_at_ms"], created.json["uploaded_at_ms"]);

    let one = api.send(get(&format!("/api/v1/modules/{hash}"), Some(TOKEN))).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json, modules[0]);

    let delete = || request(Method::DELETE, &format!("/api/v1/modules/{hash}"), Some(TOKEN)).body(Body::empty()).unwrap();
    let deleted = api.send(delete()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(api.stored().is_empty());
    assert_eq!(api.send(get(&format!("/api/v1/modules/{hash}"), Some(TOKEN))).await.status, StatusCode::NOT_FOUND);
    let gone = api.send(delete()).await;
    assert_eq!((gone.status, gone.json["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[tokio::test]
async fn unauthenticated_mode_needs_no_token() {
    let api = api(None);
    let created = api.send(upload(lower_third(), None)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let list = api.send(get("/api/v1/modules", None)).await;
    assert_eq!(list.json["modules"].as_array().map(Vec::len), Some(1));
}

/// Each bad request: expected status and code, and the store is exactly as before.
#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let api = api(Some(TOKEN));
    let stored = api.send(upload(lower_third(), Some(TOKEN))).await;
    assert_eq!(stored.status, StatusCode::CREATED);
    let before = api.stored();
    let oversized = vec![0u8; api.limits.max_module_bytes as usize + 1];
    let unknown = format!("/api/v1/modules/{}", "0".repeat(64));
    let raw = |method: Method, uri: &str, headers: &[(&str, &str)], body: Vec<u8>| {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::from(body)).unwrap()
    };
    let bearer = format!("Bearer {TOKEN}");
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        ("upload without token", upload(lower_third(), None), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("upload with wrong token", upload(lower_third(), Some("wrong")), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("upload with token one char short", upload(lower_third(), Some(&TOKEN[1..])), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("list without token", get("/api/v1/modules", None), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("delete without token", raw(Method::DELETE, &format!("/api/v1/modules/{}", before[0]), &[], vec![]), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("basic auth instead of bearer", raw(Method::GET, "/api/v1/modules", &[("authorization", "Basic dXNlcjpwYXNz")], vec![]), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("wrong content type", raw(Method::POST, "/api/v1/modules", &[("authorization", &bearer), ("content-type", "application/json")], lower_third()), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("no content type", raw(Method::POST, "/api/v1/modules", &[("authorization", &bearer)], lower_third()), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("oversized upload", upload(oversized, Some(TOKEN)), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ("garbage bytes", upload(b"definitely not wasm".to_vec(), Some(TOKEN)), StatusCode::UNPROCESSABLE_ENTITY, "invalid_module"),
        ("wasm header then garbage", upload(b"\0asm\x01\0\0\0garbage".to_vec(), Some(TOKEN)), StatusCode::UNPROCESSABLE_ENTITY, "invalid_module"),
        ("empty upload", upload(Vec::new(), Some(TOKEN)), StatusCode::UNPROCESSABLE_ENTITY, "invalid_module"),
        ("unknown hash", get(&unknown, Some(TOKEN)), StatusCode::NOT_FOUND, "not_found"),
        ("delete unknown hash", raw(Method::DELETE, &unknown, &[("authorization", &bearer)], vec![]), StatusCode::NOT_FOUND, "not_found"),
        ("hash not UTF-8", get("/api/v1/modules/%FF%FE", Some(TOKEN)), StatusCode::BAD_REQUEST, "bad_request"),
        ("unknown path", get("/api/v1/nope", Some(TOKEN)), StatusCode::NOT_FOUND, "not_found"),
        ("wrong method", raw(Method::PUT, "/api/v1/modules", &[("authorization", &bearer)], vec![]), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
    ];
    for (name, req, status, code) in cases {
        let reply = api.send(req).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.json);
        assert_eq!(reply.json["code"], code, "{name}: {}", reply.json);
        assert!(reply.json["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: {}", reply.json);
        assert!(reply.json["details"].is_object(), "{name}: {}", reply.json);
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(reply.headers.get(header::WWW_AUTHENTICATE).map(|v| v.as_bytes()), Some(&b"Bearer"[..]), "{name}");
        }
        assert_eq!(api.stored(), before, "{name}: the store changed");
    }
}

#[tokio::test]
async fn error_details_name_the_limit_the_types_and_the_reason() {
    let api = api(Some(TOKEN));
    let too_big = api.send(upload(vec![0u8; api.limits.max_module_bytes as usize + 1], Some(TOKEN))).await;
    assert_eq!(too_big.json["details"]["limit_bytes"], api.limits.max_module_bytes);
    assert!(too_big.json["message"].as_str().unwrap().contains(&api.limits.max_module_bytes.to_string()));

    let wrong_type = request(Method::POST, "/api/v1/modules", Some(TOKEN)).header(header::CONTENT_TYPE, "text/plain").body(Body::from("x")).unwrap();
    let wrong_type = api.send(wrong_type).await;
    assert_eq!(wrong_type.json["details"]["accepted"], serde_json::json!(["application/wasm", "multipart/form-data"]));
    assert_eq!(wrong_type.json["details"]["found"], "text/plain");

    let garbage = api.send(upload(b"definitely not wasm".to_vec(), Some(TOKEN))).await;
    let reason = garbage.json["details"]["reason"].as_str().expect("reason");
    assert!(reason.contains("not a WebAssembly file"), "{reason}");

    let with_params = request(Method::POST, "/api/v1/modules", Some(TOKEN)).header(header::CONTENT_TYPE, "Application/Wasm; charset=binary").body(Body::from(lower_third())).unwrap();
    assert_eq!(api.send(with_params).await.status, StatusCode::CREATED, "content type parameters and case are accepted");
}

/// A multipart/form-data body with one part.
fn form(field: &str, file_name: Option<&str>, bytes: &[u8]) -> Request<Body> {
    let boundary = "x-showrunner-test-boundary";
    let disposition = match file_name {
        Some(name) => format!("form-data; name=\"{field}\"; filename=\"{name}\""),
        None => format!("form-data; name=\"{field}\""),
    };
    let mut body = format!("--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    request(Method::POST, "/api/v1/modules", Some(TOKEN)).header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}")).body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn a_browser_form_upload_stores_the_same_module_as_a_raw_one() {
    let api = api(Some(TOKEN));
    let uploaded = api.send(form("file", Some("lower-third.wasm"), &lower_third())).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.json);
    let raw = api.send(upload(lower_third(), Some(TOKEN))).await;
    assert_eq!(raw.status, StatusCode::OK, "the same bytes raw are already stored");
    assert_eq!(raw.json["hash"], uploaded.json["hash"]);

    let before = api.stored();
    let no_file = api.send(form("note", None, b"hello")).await;
    assert_eq!((no_file.status, no_file.json["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{}", no_file.json);
    let too_big = api.send(form("module", Some("big.wasm"), &vec![0u8; api.limits.max_module_bytes as usize + 1])).await;
    assert_eq!((too_big.status, too_big.json["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{}", too_big.json);
    let garbage = api.send(form("module", Some("x.wasm"), b"not wasm")).await;
    assert_eq!(garbage.json["code"], "invalid_module");
    assert_eq!(api.stored(), before, "refused forms store nothing");
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_the_bearer_scheme() {
    let api = api(Some(TOKEN));
    let doc = api.send(get("/api/v1/openapi.json", None)).await;
    assert_eq!(doc.status, StatusCode::OK);
    let version = doc.json["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    let paths = doc.json["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/api/v1/health", &["get"][..]),
        ("/api/v1/ready", &["get"]),
        ("/api/v1/openapi.json", &["get"]),
        ("/api/v1/modules", &["get", "post"]),
        ("/api/v1/modules/{hash}", &["get", "delete"]),
    ] {
        for method in methods {
            assert!(paths.get(path).and_then(|p| p.get(*method)).is_some(), "{method} {path} missing from {paths:?}");
        }
    }
    let upload_responses = doc.json["paths"]["/api/v1/modules"]["post"]["responses"].as_object().expect("responses");
    for status in ["200", "201", "401", "413", "415", "422", "500"] {
        assert!(upload_responses.contains_key(status), "upload lacks {status}");
    }
    assert_eq!(doc.json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc.json["components"]["schemas"]["ApiErrorBody"].is_object());
    assert_eq!(doc.json["paths"]["/api/v1/modules"]["get"]["security"][0]["bearer"], serde_json::json!([]));
}

#[test]
fn internal_errors_hide_their_cause() {
    use axum::response::IntoResponse;
    use showrunner_server::api::ApiError;
    let error = ApiError::Internal("redb failed at /var/lib/secret/show.redb".to_owned());
    let body = error.body();
    assert_eq!(body.code, "internal");
    assert!(!body.message.contains("/var/lib/secret"), "{}", body.message);
    assert_eq!(error.into_response().status(), StatusCode::INTERNAL_SERVER_ERROR);
}
