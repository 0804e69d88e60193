//! `GET /api/v1/ws`: the live show over one WebSocket. It owns the upgrade (with its
//! own token check, since browsers pass the token as `?token=`), the stream of bus
//! messages to each client (a `hello` with the whole show, then every event, a
//! `lagged` note when the client fell behind), and commands (`{"id", "op", "args"}`)
//! answered by `reply` messages. Commands run as tasks beside the stream, at most
//! [`MAX_COMMANDS_IN_FLIGHT`] per client, so a slow swap never holds events back.
//! Every send has [`SEND_TIMEOUT`]; a client that cannot take a message in that time
//! is closed, so nothing queues for it but the bus's bounded backlog.
//!
//! Must not: change the show except through [`super::show_ops`] (the same checks and
//! persistence as REST), or buffer messages for a client without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

use super::ApiState;
use super::auth::bearer_token;
use super::error::{ApiError, ApiErrorBody};
use super::show_ops as ops;
use super::wire::ShowBody;
use crate::config::token_matches;
use crate::show::ShowEvent;

/// Longest a client may take to accept one message before it is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Commands of one client that may run at once; the socket is not read while this many run.
pub const MAX_COMMANDS_IN_FLIGHT: usize = 16;
/// WebSocket clients this process serves at once; more are refused with 503.
pub const MAX_CLIENTS: usize = 128;
/// How long the close frame to a departing client may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The commands a client may send, as `op`.
const OPS: &str = "show, get_layer, add_scene, remove_scene, add_layer, update_layer, set_props, remove_layer, event, swap, release, set_preview, take";

static OPEN_CLIENTS: AtomicUsize = AtomicUsize::new(0);

/// One of a bounded number of connection places (counted in `open`), given back when
/// the connection ends.
pub(super) struct ClientSlot(&'static AtomicUsize);

impl ClientSlot {
    /// A place among at most `max` counted in `open`; `None` when all are taken.
    pub(super) fn take(open: &'static AtomicUsize, max: usize) -> Option<ClientSlot> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| (now < max).then_some(now + 1)).ok().map(|_| ClientSlot(open))
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// Opens the show's WebSocket: events out, commands in.
#[utoipa::path(get, path = "/api/v1/ws", tag = "show", security(("bearer" = [])),
    params(("token" = Option<String>, Query, description = "The API token, for clients that cannot set `Authorization` (browsers)")),
    description = "Upgrades to a WebSocket. The server sends `{\"type\":\"hello\",\"seq\",\"show\"}`, then every show event as \
        `{\"type\":\"event\",\"seq\",\"at_ms\",\"event\"}` (`{\"type\":\"lagged\",\"missed\"}` when the client fell behind). \
        The client sends commands `{\"id\",\"op\",\"args\"}` (ops: show, get_layer, add_scene, remove_scene, add_layer, update_layer, \
        set_props, remove_layer, event, swap, release, set_preview, take) and gets `{\"type\":\"reply\",\"id\",\"ok\",\"result\"|\"error\"}`.",
    responses((status = 101, description = "Switched to the WebSocket protocol"), (status = 400, body = ApiErrorBody),
        (status = 401, body = ApiErrorBody), (status = 503, description = "Too many WebSocket clients", body = ApiErrorBody)))]
pub async fn upgrade(
    State(state): State<ApiState>,
    headers: HeaderMap,
    query: Result<Query<TokenQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let query_token = query.ok().and_then(|Query(q)| q.token);
    authorize(&state, &headers, query_token.as_deref())?;
    let upgrade = upgrade.map_err(|rejection| ApiError::BadRequest(format!("{}: open it as a WebSocket", rejection.body_text())))?;
    let slot = ClientSlot::take(&OPEN_CLIENTS, MAX_CLIENTS).ok_or_else(|| ApiError::Unavailable(format!("{MAX_CLIENTS} WebSocket clients are connected; close one and retry")))?;
    let max_message = usize::try_from(state.limits.get().max_body_bytes).unwrap_or(usize::MAX);
    Ok(upgrade.max_message_size(max_message).max_frame_size(max_message).on_upgrade(move |socket| serve(socket, state, slot)).into_response())
}

/// Passes when the `Authorization: Bearer` header or the `token` query parameter
/// carries the server's token (or the server runs unauthenticated).
pub(super) fn authorize(state: &ApiState, headers: &HeaderMap, query_token: Option<&str>) -> Result<(), ApiError> {
    let Some(expected) = state.token.as_deref() else { return Ok(()) };
    let from_header = match headers.get(header::AUTHORIZATION) {
        Some(value) => Some(value.to_str().ok().and_then(bearer_token).ok_or(ApiError::Unauthorized("the Authorization header is not `Bearer TOKEN`"))?),
        None => None,
    };
    let presented = from_header.or(query_token).ok_or(ApiError::Unauthorized("missing API token (or pass it as `?token=TOKEN`)"))?;
    if token_matches(expected, presented) { Ok(()) } else { Err(ApiError::Unauthorized("wrong API token")) }
}

/// A message from the server.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Outgoing<'a> {
    Hello { seq: u64, show: ShowBody },
    Event { seq: u64, at_ms: u64, event: &'a ShowEvent },
    Lagged { missed: u64 },
    Reply(Reply),
}

/// The answer to one command: `result` when `ok`, else `error`.
#[derive(Serialize)]
struct Reply {
    id: Value,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ApiErrorBody>,
}

/// Why a connection ends: the client is gone, or the server closes it with a code and reason.
enum Ending {
    Gone,
    Close(u16, String),
}

/// One client, from the hello to the close.
async fn serve(mut socket: WebSocket, state: ApiState, _slot: ClientSlot) {
    // Subscribe before reading the show, so no event between the two is lost.
    let mut events = state.show.bus().subscribe();
    let seq = state.show.bus().last_seq();
    let ending = match ops::show(&state).await {
        Ok(show) => match send(&mut socket, &Outgoing::Hello { seq, show }).await {
            Ok(()) => stream(&mut socket, &state, &mut events).await,
            Err(ending) => ending,
        },
        Err(e) => Ending::Close(close_code::ERROR, format!("the show does not answer: {}", e.body().code)),
    };
    if let Ending::Close(code, reason) = ending {
        let frame = CloseFrame { code, reason: reason.into() };
        // The client may be the slow one: give the close frame a short while, then drop it.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    }
}

/// Forwards bus messages and command replies to the client and starts its commands,
/// until either side ends the connection.
async fn stream(socket: &mut WebSocket, state: &ApiState, events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<crate::show::BusMessage>>) -> Ending {
    let mut commands: JoinSet<Reply> = JoinSet::new();
    let ending = loop {
        let sent = tokio::select! {
            message = events.recv() => match message {
                Ok(m) => send(socket, &Outgoing::Event { seq: m.seq, at_ms: m.at_ms, event: &m.event }).await,
                Err(RecvError::Lagged(missed)) => send(socket, &Outgoing::Lagged { missed }).await,
                Err(RecvError::Closed) => break Ending::Close(close_code::AWAY, "the show stopped".into()),
            },
            Some(done) = commands.join_next(), if !commands.is_empty() => match done {
                Ok(reply) => send(socket, &Outgoing::Reply(reply)).await,
                Err(e) => {
                    tracing::error!(error = %e, "a WebSocket command task failed");
                    Ok(())
                }
            },
            incoming = socket.recv(), if commands.len() < MAX_COMMANDS_IN_FLIGHT => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let state = state.clone();
                    commands.spawn(async move { run_command(&state, text.as_str()).await });
                    Ok(())
                }
                Some(Ok(Message::Binary(_))) => {
                    let refused = ApiError::BadRequest("commands are JSON text messages, not binary".into());
                    send(socket, &Outgoing::Reply(reply(Value::Null, Err(refused)))).await
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_))) | None => break Ending::Gone,
                Some(Err(e)) => break unreadable(state, &e),
            },
        };
        if let Err(ending) = sent {
            break ending;
        }
    };
    // Commands already started finish (and are saved) even though nobody hears the reply.
    commands.detach_all();
    ending
}

/// A message that could not be read: over the size limit, not WebSocket, or the connection broke.
fn unreadable(state: &ApiState, error: &axum::Error) -> Ending {
    let shown = error.to_string();
    tracing::debug!(error = %shown, "closing a WebSocket after an unreadable message");
    // tungstenite's capacity error reads "Space limit exceeded: Message too long: N > MAX".
    if shown.contains("too long") {
        Ending::Close(close_code::SIZE, format!("a message is over the {}-byte limit", state.limits.get().max_body_bytes))
    } else {
        Ending::Close(close_code::PROTOCOL, "unreadable WebSocket message".into())
    }
}

/// Sends one message within [`SEND_TIMEOUT`].
async fn send(socket: &mut WebSocket, message: &Outgoing<'_>) -> Result<(), Ending> {
    let text = match serde_json::to_string(message) {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(error = %e, "a WebSocket message could not be encoded; skipped");
            return Ok(());
        }
    };
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Ending::Gone),
        Err(_) => Err(Ending::Close(close_code::POLICY, format!("too slow: a message waited over {} s", SEND_TIMEOUT.as_secs()))),
    }
}

/// A command as sent: `args` default to `{}`, `id` to `null`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Command {
    #[serde(default)]
    id: Value,
    op: String,
    #[serde(default)]
    args: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerId {
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SceneName {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetProps {
    id: String,
    props: std::collections::BTreeMap<String, Value>,
}

/// Parses and runs one command; always answers, with the command's `id` when it had one.
async fn run_command(state: &ApiState, text: &str) -> Reply {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return reply(Value::Null, Err(ApiError::BadRequest(format!("not JSON ({e}): send {{\"id\", \"op\", \"args\"}}")))),
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    match serde_json::from_value::<Command>(value) {
        Ok(Command { id, op, args }) => {
            // On a task of its own: a change the show applied is saved even if this
            // connection closes (and its command tasks are dropped) half way.
            let state = state.clone();
            reply(id, super::show_routes::finish(async move { dispatch(&state, &op, args).await }).await)
        }
        Err(e) => reply(id, Err(ApiError::BadRequest(format!("not a command ({e}): send {{\"id\", \"op\", \"args\"}}")))),
    }
}

fn reply(id: Value, outcome: Result<Value, ApiError>) -> Reply {
    match outcome {
        Ok(result) => Reply { id, ok: true, result: Some(result), error: None },
        Err(error) => {
            if let ApiError::Internal(cause) = &error {
                tracing::error!(%cause, "WebSocket command failed");
            }
            Reply { id, ok: false, result: None, error: Some(error.body()) }
        }
    }
}

/// `args` as the op's argument type (400 `bad_request` when they do not fit).
fn args_as<T: DeserializeOwned>(op: &str, args: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(args)).map_err(|e| ApiError::BadRequest(format!("bad args for `{op}`: {e}")))
}

/// Takes the layer `id` out of `args`, leaving the rest for the op's body.
fn take_id(op: &str, args: &mut Map<String, Value>) -> Result<String, ApiError> {
    match args.remove("id") {
        Some(Value::String(id)) => Ok(id),
        _ => Err(ApiError::BadRequest(format!("bad args for `{op}`: `id` (the layer id, a string) is required"))),
    }
}

fn result<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(format!("a reply could not be encoded: {e}")))
}

/// Takes the optional `version` arg: the layer version a change is based on (as `If-Match`).
fn take_version(op: &str, args: &mut Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match args.remove("version") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| ApiError::BadRequest(format!("`{op}`: `version` is the layer's version, a whole number"))),
    }
}

async fn dispatch(state: &ApiState, op: &str, mut args: Map<String, Value>) -> Result<Value, ApiError> {
    match op {
        "show" => {
            if !args.is_empty() {
                return Err(ApiError::BadRequest("`show` takes no args".into()));
            }
            result(&ops::show(state).await?)
        }
        "get_layer" => result(&ops::layer(state, &args_as::<LayerId>(op, args)?.id).await?),
        "add_scene" => result(&ops::add_scene(state, args_as(op, args)?).await?),
        "remove_scene" => ops::remove_scene(state, &args_as::<SceneName>(op, args)?.name).await.map(|()| Value::Null),
        "add_layer" => result(&ops::add_layer(state, args_as(op, args)?).await?),
        "update_layer" => {
            let (id, expected) = (take_id(op, &mut args)?, take_version(op, &mut args)?);
            result(&ops::update_layer(state, &id, args_as(op, args)?, expected).await?)
        }
        "set_props" => {
            let expected = take_version(op, &mut args)?;
            let SetProps { id, props } = args_as(op, args)?;
            result(&ops::set_props(state, &id, props, expected).await?)
        }
        "remove_layer" => {
            let expected = take_version(op, &mut args)?;
            ops::remove_layer(state, &args_as::<LayerId>(op, args)?.id, expected).await.map(|()| Value::Null)
        }
        "event" => {
            let id = take_id(op, &mut args)?;
            ops::event(state, &id, args_as(op, args)?).await.map(|()| Value::Null)
        }
        "swap" => {
            let (id, expected) = (take_id(op, &mut args)?, take_version(op, &mut args)?);
            result(&ops::swap(state, &id, args_as(op, args)?, expected).await?)
        }
        "release" => ops::release(state, &args_as::<LayerId>(op, args)?.id).await.map(|()| Value::Null),
        "set_preview" => result(&ops::set_preview(state, args_as(op, args)?).await?),
        "take" => result(&ops::take(state, args_as(op, args)?).await?),
        other => {
            let shown: String = other.chars().take(64).collect();
            Err(ApiError::BadRequest(format!("unknown op {shown:?}; the ops are: {OPS}")))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use utoipa::OpenApi;

    #[test]
    fn the_upgrade_documents_itself_with_the_query_token() {
        #[derive(OpenApi)]
        #[openapi(paths(upgrade))]
        struct Doc;
        let doc = serde_json::to_value(Doc::openapi()).unwrap();
        let get = &doc["paths"]["/api/v1/ws"]["get"];
        assert!(get["description"].as_str().unwrap().contains("hello"), "{get}");
        assert_eq!(get["parameters"][0]["name"], "token", "{get}");
        assert!(get["responses"]["101"].is_object() && get["responses"]["401"].is_object(), "{get}");
    }

    #[test]
    fn bearer_tokens_need_the_scheme_and_a_value() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
