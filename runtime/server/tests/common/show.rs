//! A real show for API tests: the store in a temp dir, the Wasm host, lavapipe, and
//! the frame thread at a small size, behind an [`ApiState`].

use std::path::Path;
use std::sync::{Arc, OnceLock};

use showrunner_server::api::{ApiLimits, ApiState};
use showrunner_server::show::inputs::InputManager;
use showrunner_server::show::{Format, ShowRuntime, ShowSetup};
use showrunner_server::store::Store;
use showrunner_wasm::Host;

/// The size and rate tests run shows at.
pub const TEST_FORMAT: Format = Format { width: 320, height: 180, fps_num: 30, fps_den: 1 };

pub fn host() -> Arc<Host> {
    static HOST: OnceLock<Arc<Host>> = OnceLock::new();
    HOST.get_or_init(|| Host::with_defaults().expect("wasm host")).clone()
}

/// Opens the store in `dir`, starts its show and returns the API state over both.
/// Keep the runtime alive for as long as the state is used; dropping it stops the show.
pub fn api_state(dir: &Path, token: Option<&str>, limits: ApiLimits) -> (ApiState, ShowRuntime, Arc<Store>) {
    quiet_headless_vulkan();
    let store = Arc::new(Store::open(dir).expect("store opens"));
    let frames = showrunner_assets::LiveInputs::default();
    let setup = ShowSetup {
        store: store.clone(),
        host: host(),
        assets: showrunner_assets::AssetStore::default(),
        inputs: frames.clone(),
        format: TEST_FORMAT,
        bitrate_kbps: 1000,
    };
    let show = ShowRuntime::start(setup).expect("the show starts");
    // Port 0: the ingest server, once an ingest input starts it, picks a free port (`state.inputs.ingest_addr()`).
    let inputs = InputManager::start(frames, show.handle().bus().clone(), "127.0.0.1:0".parse().expect("address")).expect("the inputs start");
    let state = ApiState::new(store.clone(), host(), token.map(str::to_owned), limits, show.handle(), Arc::new(inputs));
    (state, show, store)
}

/// Mesa's device-select layer complains about a missing display on headless machines;
/// the binary switches it off the same way.
fn quiet_headless_vulkan() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: set once, before the first renderer starts; tests read no environment concurrently here.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    });
}

// ---- A show behind the router, for handler tests of the show routes ----

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use showrunner_server::api::router;
use showrunner_server::store::DocKind;
use tower::ServiceExt;

/// The token [`ShowApi`] requests carry.
pub const SHOW_TOKEN: &str = "show-api-token-for-tests";

/// The router over a real show in a temp dir (token [`SHOW_TOKEN`], 64 KiB bodies).
pub struct ShowApi {
    pub app: Router,
    /// What the router runs on (the show's handle and bus, the inputs).
    pub state: ApiState,
    pub store: Arc<Store>,
    pub limits: ApiLimits,
    _show: ShowRuntime,
    _dir: tempfile::TempDir,
}

/// A reply: status, headers, the raw body and the body as JSON (`Null` when empty or not JSON).
pub struct ShowReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub json: Value,
}

impl ShowReply {
    /// The error `code` of an error reply.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }
}

/// A request with an optional bearer token and an optional JSON body.
pub fn show_request(method: Method, uri: &str, token: Option<&str>, json: Option<&Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match json {
        Some(json) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(json.to_string())).expect("request builds"),
        None => builder.body(Body::empty()).expect("request builds"),
    }
}

impl ShowApi {
    pub fn start() -> ShowApi {
        ShowApi::start_with(Some(SHOW_TOKEN))
    }

    /// A show whose API needs `token` (`None`: no token needed).
    pub fn start_with(token: Option<&str>) -> ShowApi {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = ApiLimits { max_module_bytes: 16 * 1024 * 1024, max_body_bytes: 64 * 1024 };
        let (state, show, store) = api_state(dir.path(), token, limits);
        ShowApi { app: router(state.clone()), state, store, limits, _show: show, _dir: dir }
    }

    pub async fn send(&self, request: Request<Body>) -> ShowReply {
        let response = self.app.clone().oneshot(request).await.expect("router answers");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body readable").to_bytes();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        ShowReply { status: parts.status, headers: parts.headers, body, json }
    }

    /// `method uri` with the token and `json` as the body.
    pub async fn call(&self, method: Method, uri: &str, json: Option<Value>) -> ShowReply {
        self.send(show_request(method, uri, Some(SHOW_TOKEN), json.as_ref())).await
    }

    /// Like [`ShowApi::call`], asserting `status`.
    pub async fn expect(&self, method: Method, uri: &str, json: Option<Value>, status: StatusCode) -> Value {
        let shown = format!("{method} {uri}");
        let reply = self.call(method, uri, json).await;
        assert_eq!(reply.status, status, "{shown}: {}", reply.json);
        reply.json
    }

    /// Uploads a built guest by crate name; answers its hash.
    pub async fn upload(&self, guest_crate: &str) -> String {
        let bytes = std::fs::read(super::guest(guest_crate)).expect("guest readable");
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/modules")
            .header(header::AUTHORIZATION, format!("Bearer {SHOW_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/wasm")
            .body(Body::from(bytes))
            .expect("request builds");
        let reply = self.send(request).await;
        assert!(reply.status.is_success(), "upload {guest_crate}: {}", reply.json);
        reply.json["hash"].as_str().expect("hash").to_string()
    }

    /// `GET /show` without the frame counter (which moves on its own).
    pub async fn show_without_frame(&self) -> Value {
        let mut show = self.expect(Method::GET, "/api/v1/show", None, StatusCode::OK).await;
        show.as_object_mut().expect("show object").remove("frame");
        show
    }

    /// Every stored show document (scenes, layers, show, outputs, inputs) with its
    /// version; guest state is left out (it is saved on its own clock).
    pub fn stored_show(&self) -> Vec<(String, String, u64, Value)> {
        let kinds = [DocKind::Scene, DocKind::Layer, DocKind::Show, DocKind::Output, DocKind::Input];
        kinds.iter().flat_map(|kind| self.store.docs(*kind).expect("store reads").into_iter().map(move |(id, version, doc)| (format!("{kind:?}"), id, version, doc))).collect()
    }

    /// Waits until `GET /preview.jpg` has a picture of a frame at or after `frame`;
    /// answers (frame index, JPEG bytes).
    pub async fn picture_after(&self, frame: u64) -> (u64, Bytes) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let reply = self.call(Method::GET, "/api/v1/preview.jpg", None).await;
            if reply.status == StatusCode::OK {
                let index: u64 = reply.headers.get("x-frame-index").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("x-frame-index");
                if index >= frame {
                    return (index, reply.body);
                }
            }
            assert!(std::time::Instant::now() < deadline, "no picture of frame {frame} within 20 s (last: {})", reply.status);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
