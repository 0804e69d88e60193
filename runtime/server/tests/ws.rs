//! `GET /api/v1/ws` against a real server on a loopback port (axum::serve over the API
//! router, a real show, real guest modules), with a real WebSocket client: the token
//! check before the upgrade, the hello and the event stream in order (a layer added,
//! a hot-swap carrying state, a hostile module faulting into quarantine), commands and
//! their replies (ids echoed, bad commands answered without closing, 422 codes), the
//! message size cap, and a client that never reads not holding up anyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use showrunner_server::api::{ApiLimits, router};
use showrunner_server::show::ShowRuntime;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;

const TOKEN: &str = "ws-token-for-tests";
const MAX_BODY: u64 = 64 * 1024;
/// Longest any one expected message may take to arrive.
const PATIENCE: Duration = Duration::from_secs(20);

struct Server {
    addr: SocketAddr,
    app: axum::Router,
    _show: ShowRuntime,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    start_with_send_buffer(None).await
}

/// A server whose sockets have `send_buffer` bytes of kernel send buffer (fixed, not
/// grown by the kernel) when given.
async fn start_with_send_buffer(send_buffer: Option<u32>) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = ApiLimits { max_module_bytes: 16 * 1024 * 1024, max_body_bytes: MAX_BODY };
    let (state, show, _store) = common::show::api_state(dir.path(), Some(TOKEN), limits);
    let app = router(state);
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    if let Some(bytes) = send_buffer {
        socket.set_send_buffer_size(bytes).expect("SO_SNDBUF");
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let listener = socket.listen(64).expect("listen");
    let addr = listener.local_addr().expect("local addr");
    let served = app.clone();
    tokio::spawn(async move { axum::serve(listener, served).await });
    Server { addr, app, _show: show, _dir: dir }
}

impl Server {
    /// Uploads a built guest through the REST API; answers its hash.
    async fn upload(&self, guest_crate: &str) -> String {
        let bytes = std::fs::read(common::guest(guest_crate)).expect("guest readable");
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/modules")
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/wasm")
            .body(Body::from(bytes))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.expect("router answers");
        assert!(response.status().is_success(), "upload {guest_crate}: {}", response.status());
        let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
        body["hash"].as_str().expect("hash").to_string()
    }

    fn url(&self, query_token: Option<&str>) -> String {
        match query_token {
            Some(token) => format!("ws://{}/api/v1/ws?token={token}", self.addr),
            None => format!("ws://{}/api/v1/ws", self.addr),
        }
    }

    /// Connects with the token in the query; answers the client after its hello.
    async fn client(&self) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(self.url(Some(TOKEN))).await.expect("upgrade");
        let mut client = Client { ws, seen: Vec::new(), replies: Vec::new() };
        let hello = client.recv().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        client
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client that keeps every event and lag note it saw, in order (stats left
/// out), and the replies not yet asked for (commands run concurrently, so replies may
/// come in any order).
struct Client {
    ws: Ws,
    seen: Vec<Value>,
    replies: Vec<Value>,
}

impl Client {
    /// The next text message as JSON.
    async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next()).await.expect("a message within 20 s").expect("socket open").expect("readable");
            match message {
                Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON message"),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    /// Reads one message, keeping it if it is an event (not stats) or a lag note.
    async fn recv_one(&mut self) -> Value {
        let message = self.recv().await;
        let stats = message["type"] == "event" && message["event"]["type"] == "stats";
        if (message["type"] == "event" && !stats) || message["type"] == "lagged" {
            self.seen.push(message.clone());
        }
        message
    }

    async fn send_text(&mut self, text: String) {
        self.ws.send(Message::Text(text.into())).await.expect("send");
    }

    /// Sends a command and answers its reply (events on the way are kept).
    async fn call(&mut self, id: Value, op: &str, args: Value) -> Value {
        self.send_text(json!({"id": id, "op": op, "args": args}).to_string()).await;
        self.reply_to(&id).await
    }

    async fn reply_to(&mut self, id: &Value) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = self.replies.iter().position(|r| r["id"] == *id) {
                return self.replies.swap_remove(at);
            }
            let message = self.recv_one().await;
            if message["type"] == "reply" {
                self.replies.push(message.clone());
            }
            assert!(Instant::now() < deadline, "no reply to {id} within 20 s; last message {message}");
        }
    }

    /// Like [`Client::call`], asserting `ok` and answering `result`.
    async fn ok(&mut self, op: &str, args: Value) -> Value {
        let reply = self.call(json!(op), op, args).await;
        assert_eq!(reply["ok"], true, "{op}: {reply}");
        reply["result"].clone()
    }

    /// Reads until an event matching `wanted` was seen; answers its index in `seen`.
    async fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> usize {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = self.seen.iter().position(|m| m["type"] == "event" && wanted(&m["event"])) {
                return at;
            }
            assert!(Instant::now() < deadline, "no {what} within 20 s; seen: {:?}", self.seen);
            self.recv_one().await;
        }
    }
}

/// The HTTP status and JSON body of a refused upgrade.
async fn refused(request: impl IntoClientRequest + Unpin) -> (StatusCode, Value) {
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(response)) => {
            let body = response.body().as_deref().map(|b| serde_json::from_slice(b).expect("JSON error body")).unwrap_or(Value::Null);
            (StatusCode::from_u16(response.status().as_u16()).unwrap(), body)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_checked_before_the_upgrade_from_header_or_query() {
    let server = start().await;

    let (status, body) = refused(server.url(None)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{body}");
    let (status, body) = refused(server.url(Some("wrong-token"))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{body}");
    let mut wrong_header = server.url(None).into_client_request().unwrap();
    wrong_header.headers_mut().insert("authorization", "Bearer wrong-token".parse().unwrap());
    let (status, body) = refused(wrong_header).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{body}");

    let (mut by_query, _) = tokio_tungstenite::connect_async(server.url(Some(TOKEN))).await.expect("the query token opens it");
    let hello = match by_query.next().await.unwrap().unwrap() {
        Message::Text(text) => serde_json::from_str::<Value>(text.as_str()).unwrap(),
        other => panic!("expected the hello, got {other:?}"),
    };
    assert_eq!(hello["type"], "hello");
    assert!(hello["seq"].is_u64(), "{hello}");
    assert_eq!(hello["show"]["program"], "main", "{hello}");
    assert_eq!(hello["show"]["width"], 320);

    let mut by_header = server.url(None).into_client_request().unwrap();
    by_header.headers_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (mut by_header, _) = tokio_tungstenite::connect_async(by_header).await.expect("the header token opens it");
    assert!(matches!(by_header.next().await, Some(Ok(Message::Text(_)))), "the header client gets its hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sees_add_swap_fault_and_quarantine_in_order() {
    let server = start().await;
    let (v1, v2, hostile) = (server.upload("scene-scoreboard").await, server.upload("guest-scoreboard-v2").await, server.upload("guest-hostile").await);
    let mut client = server.client().await;

    let layer = client.ok("add_layer", json!({"id": "score", "scene": "main", "module": v1})).await;
    assert_eq!((layer["id"].as_str(), layer["module"].as_str()), (Some("score"), Some(v1.as_str())), "{layer}");
    let added = client.wait_for("layer_changed added", |e| e["type"] == "layer_changed" && e["layer"] == "score" && e["change"] == "added").await;

    let swap = client.ok("swap", json!({"id": "score", "module": v2})).await;
    assert_eq!(swap["state_carried"], true, "{swap}");
    let swapped = client.wait_for("module_swapped", |e| e["type"] == "module_swapped" && e["layer"] == "score").await;
    assert_eq!(client.seen[swapped]["event"]["state_carried"], true, "{:?}", client.seen[swapped]);

    client.ok("add_layer", json!({"id": "trap", "scene": "main", "module": hostile, "props": {"mode": "ok"}})).await;
    client.ok("set_props", json!({"id": "trap", "props": {"mode": "panic"}})).await;
    let fault = client.wait_for("module_fault", |e| e["type"] == "module_fault" && e["layer"] == "trap").await;
    let quarantined = client.wait_for("quarantined", |e| e["type"] == "quarantined" && e["layer"] == "trap").await;
    assert!(added < swapped && swapped < fault && fault < quarantined, "order: added {added}, swapped {swapped}, fault {fault}, quarantined {quarantined}");

    let seqs: Vec<u64> = client.seen.iter().filter_map(|m| m["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequence numbers go up: {seqs:?}");
    assert!(client.seen.iter().all(|m| m["at_ms"].as_u64().is_some_and(|t| t > 1_600_000_000_000)), "wall-clock times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_get_replies_with_their_ids_and_bad_ones_keep_the_socket_open() {
    let server = start().await;
    let v1 = server.upload("scene-scoreboard").await;
    let mut client = server.client().await;

    for id in [json!("a-1"), json!(7), json!({"k": [1, 2]})] {
        let reply = client.call(id.clone(), "show", json!({})).await;
        assert_eq!((reply["type"].as_str(), reply["ok"].as_bool()), (Some("reply"), Some(true)), "{reply}");
        assert_eq!(reply["id"], id);
        assert_eq!(reply["result"]["program"], "main", "{reply}");
    }

    client.send_text("{not json".into()).await;
    let reply = client.reply_to(&Value::Null).await;
    assert_eq!((reply["ok"].as_bool(), reply["error"]["code"].as_str()), (Some(false), Some("bad_request")), "{reply}");
    for (id, op, args) in [(1, "launch_rockets", json!({})), (2, "set_props", json!({"id": "score"})), (3, "get_layer", json!({"id": 5})), (4, "show", json!({"x": 1}))] {
        let reply = client.call(json!(id), op, args).await;
        assert_eq!((reply["ok"].as_bool(), reply["error"]["code"].as_str()), (Some(false), Some("bad_request")), "{op}: {reply}");
        assert!(reply["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{reply}");
    }
    client.ws.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    let reply = client.reply_to(&Value::Null).await;
    assert_eq!(reply["error"]["code"], "bad_request", "{reply}");

    let missing = client.call(json!("m"), "get_layer", json!({"id": "nope"})).await;
    assert_eq!(missing["error"]["code"], "not_found", "{missing}");
    client.ok("add_layer", json!({"id": "score", "scene": "main", "module": v1})).await;
    let bad_prop = client.call(json!("p"), "set_props", json!({"id": "score", "props": {"no-such-prop": 1}})).await;
    assert_eq!((bad_prop["ok"].as_bool(), bad_prop["error"]["code"].as_str()), (Some(false), Some("invalid_prop")), "{bad_prop}");
    let set = client.ok("set_props", json!({"id": "score", "props": {"home-name": "LIONS"}})).await;
    assert_eq!(set["props"]["home-name"], "LIONS", "{set}");
    let layer = client.ok("get_layer", json!({"id": "score"})).await;
    assert_eq!(layer["props"]["home-name"], "LIONS", "the change is live: {layer}");
    assert_eq!(client.ok("event", json!({"id": "score", "name": "play"})).await, Value::Null);

    // A message over the body limit closes the socket with 1009.
    client.send_text("x".repeat(MAX_BODY as usize + 1)).await;
    let deadline = Instant::now() + PATIENCE;
    let close = loop {
        match tokio::time::timeout(PATIENCE, client.ws.next()).await.expect("an answer to the oversized message") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => assert!(Instant::now() < deadline, "no close frame"),
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Size));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_hold_up_others_and_is_dropped() {
    // Small fixed kernel buffers on both ends, so the stalled client backs up after a
    // few KiB instead of the megabytes loopback autotuning allows.
    let server = start_with_send_buffer(Some(8192)).await;
    let v1 = server.upload("scene-scoreboard").await;
    let mut busy = server.client().await;
    busy.ok("add_layer", json!({"id": "score", "scene": "main", "module": v1})).await;

    // The stalled client: a small receive window, and it never reads after the upgrade.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (mut stalled, _) = tokio_tungstenite::client_async(server.url(Some(TOKEN)), MaybeTlsStream::Plain(stream)).await.expect("upgrade");

    // Many events of the largest name, 16 commands in flight at a time.
    const EVENTS: usize = 2000;
    let name = "n".repeat(64);
    let started = Instant::now();
    let mut replied = 0;
    for batch in 0..EVENTS / 16 {
        for n in 0..16 {
            let id = batch * 16 + n;
            busy.send_text(json!({"id": id, "op": "event", "args": {"id": "score", "name": name}}).to_string()).await;
        }
        for n in 0..16 {
            let reply = busy.reply_to(&json!(batch * 16 + n)).await;
            assert_eq!(reply["ok"], true, "{reply}");
            replied += 1;
        }
    }
    let publish_time = started.elapsed();
    assert_eq!(replied, EVENTS / 16 * 16);
    assert!(publish_time < Duration::from_secs(30), "{replied} commands took {publish_time:?} beside a stalled client");

    // Past the send timeout the server has given up on the stalled client: reading it
    // now ends, after far fewer messages than were published for it.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let reply = busy.call(json!("still"), "show", json!({})).await;
    assert_eq!(reply["ok"], true, "the busy client is still served: {reply}");
    let (mut events, mut lagged, mut closed_with) = (0usize, 0u64, None);
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "the server still sends to the stalled client ({events} events so far)");
        match tokio::time::timeout(PATIENCE, stalled.next()).await.expect("the stalled client's stream ends") {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(text.as_str()).unwrap();
                match message["type"].as_str() {
                    Some("event") if message["event"]["type"] == "layer_event" => events += 1,
                    Some("lagged") => lagged += message["missed"].as_u64().unwrap(),
                    _ => {}
                }
            }
            Some(Ok(Message::Close(frame))) => closed_with = frame.map(|f| f.code),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    eprintln!("stalled client: {events} of {EVENTS} events, {lagged} reported missed, close {closed_with:?}; publishing took {publish_time:?}");
    assert!(events < EVENTS, "the server dropped the stalled client before queueing all {EVENTS} events ({events} arrived)");
    assert!(closed_with.is_none() || closed_with == Some(CloseCode::Policy), "{closed_with:?}");
}
