//! The programme and preview monitors over HTTP: `GET /api/v1/monitors/{monitor}` (the
//! latest JPEG) and `GET /api/v1/monitors/{monitor}/ws` (every new picture as a binary
//! WebSocket message, about 10 a second, with a text message naming the scene whenever
//! it changes). Both keep the monitor running while used (see [`crate::show::monitor`]):
//! a monitor nobody looks at costs the show nothing.
//!
//! Must not: queue pictures for a slow client (it gets the newest when it can take one),
//! or serve more than [`MAX_MONITOR_CLIENTS`] sockets.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ApiState;
use super::error::{ApiError, ApiErrorBody};
use super::ws::{ClientSlot, SEND_TIMEOUT, TokenQuery, authorize};
use crate::show::monitor::{Monitor, MonitorKind};
use showrunner_media::PreviewImage;

/// Monitor WebSockets this process serves at once; more are refused with 503.
pub const MAX_MONITOR_CLIENTS: usize = 32;
/// How often a socket looks for a new picture (twice the monitors' rate).
const POLL: Duration = Duration::from_millis(50);
/// How long a first look waits for a fresh picture from an idle monitor.
const FIRST_PICTURE_WAIT: Duration = Duration::from_millis(1500);

static OPEN_MONITOR_CLIENTS: AtomicUsize = AtomicUsize::new(0);

fn parse_kind(name: &str) -> Result<MonitorKind, ApiError> {
    match name {
        "program" => Ok(MonitorKind::Program),
        "preview" => Ok(MonitorKind::Preview),
        other => Err(ApiError::NotFound { what: format!("monitor {other:?} (there are `program` and `preview`)") }),
    }
}

/// The latest picture of `monitor`; a monitor nobody watched is started and its first
/// picture awaited, so the answer is never stale.
pub(super) async fn fresh_picture(monitor: &Arc<Monitor>) -> Result<PreviewImage, ApiError> {
    let running = monitor.watch();
    let latest = monitor.latest();
    if running && latest.is_some() {
        return latest.ok_or_else(|| ApiError::Internal("monitor picture vanished".into()));
    }
    let monitor = monitor.clone();
    let after = latest.map(|image| image.sequence);
    let newer = tokio::task::spawn_blocking(move || monitor.wait_newer(after, FIRST_PICTURE_WAIT)).await.map_err(|e| ApiError::Internal(format!("monitor wait failed: {e}")))?;
    newer.ok_or_else(|| ApiError::NoPicture("no picture yet: the monitor has nothing to show (for preview: choose a preview scene)".into()))
}

pub(super) fn jpeg_response(image: &PreviewImage, scene: Option<String>) -> Response {
    let mut headers = vec![
        (header::CONTENT_TYPE, "image/jpeg".to_string()),
        (header::CACHE_CONTROL, "no-store".to_string()),
        (header::HeaderName::from_static("x-frame-index"), image.frame_index.to_string()),
    ];
    if let Some(scene) = scene {
        headers.push((header::HeaderName::from_static("x-scene"), scene));
    }
    let mut response = image.jpeg.clone().into_response();
    for (name, value) in headers {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The latest picture of a monitor.
#[utoipa::path(get, path = "/api/v1/monitors/{monitor}", tag = "show", security(("bearer" = [])),
    params(("monitor" = String, Path, description = "`program` or `preview`")),
    description = "A JPEG of at most 640x360 (headers `x-frame-index`, `x-scene`). `preview` shows the scene on preview, playing.",
    responses((status = 200, content_type = "image/jpeg"), (status = 401, body = ApiErrorBody),
        (status = 404, description = "No such monitor, or `no_picture`: nothing to show (no preview scene)", body = ApiErrorBody)))]
pub async fn picture(State(state): State<ApiState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    let monitor = state.show.monitors().get(parse_kind(&name)?).clone();
    let image = fresh_picture(&monitor).await?;
    Ok(jpeg_response(&image, monitor.scene()))
}

/// Opens a monitor's picture stream.
#[utoipa::path(get, path = "/api/v1/monitors/{monitor}/ws", tag = "show", security(("bearer" = [])),
    params(("monitor" = String, Path, description = "`program` or `preview`"),
        ("token" = Option<String>, Query, description = "The API token, for clients that cannot set `Authorization` (browsers)")),
    description = "Upgrades to a WebSocket. The server sends `{\"type\":\"monitor\",\"monitor\",\"scene\"}` first and whenever \
        the monitor's scene changes, and each new picture as one binary message holding a JPEG file (about 10 a second; a slow \
        client gets the newest picture when it can take one). Messages from the client are ignored.",
    responses((status = 101, description = "Switched to the WebSocket protocol"), (status = 401, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 503, description = "Too many monitor clients", body = ApiErrorBody)))]
pub async fn upgrade(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let query_token = query.ok().and_then(|Query(q)| q.token);
    authorize(&state, &headers, query_token.as_deref())?;
    let monitor = state.show.monitors().get(parse_kind(&name)?).clone();
    let upgrade = upgrade.map_err(|rejection| ApiError::BadRequest(format!("{}: open it as a WebSocket", rejection.body_text())))?;
    let slot = ClientSlot::take(&OPEN_MONITOR_CLIENTS, MAX_MONITOR_CLIENTS).ok_or_else(|| ApiError::Unavailable(format!("{MAX_MONITOR_CLIENTS} monitor clients are connected; close one and retry")))?;
    Ok(upgrade.on_upgrade(move |socket| stream(socket, monitor, slot)).into_response())
}

#[derive(Serialize)]
struct SceneMessage<'a> {
    r#type: &'static str,
    monitor: &'static str,
    scene: Option<&'a str>,
}

/// Sends pictures and scene changes until the client leaves or cannot keep up.
async fn stream(mut socket: WebSocket, monitor: Arc<Monitor>, _slot: ClientSlot) {
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent_scene: Option<Option<String>> = None;
    let mut sent_picture: Option<u64> = None;
    loop {
        tokio::select! {
            _ = poll.tick() => {
                monitor.watch();
                let scene = monitor.scene();
                let mut messages = Vec::new();
                if sent_scene.as_ref() != Some(&scene) {
                    let text = serde_json::to_string(&SceneMessage { r#type: "monitor", monitor: monitor.kind().name(), scene: scene.as_deref() }).unwrap_or_default();
                    messages.push(Message::Text(text.into()));
                    sent_scene = Some(scene);
                }
                if let Some(image) = monitor.latest().filter(|image| sent_picture.is_none_or(|seq| image.sequence > seq)) {
                    sent_picture = Some(image.sequence);
                    messages.push(Message::Binary(image.jpeg.clone()));
                }
                for message in messages {
                    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
                        Ok(Ok(())) => {}
                        _ => return,
                    }
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
