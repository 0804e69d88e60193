//! Live inputs through the API with a real show and real ffmpeg: a looping media clip
//! and an RTMP publisher on an ingest key are drawn by the video-box scene (their
//! colour is in the programme picture), a deleted input is gone, stream keys never
//! appear in answers or bus events, bad inputs are refused with a code and change
//! nothing, and stored inputs start again after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use showrunner_server::api::{ApiLimits, ApiState, router};
use showrunner_server::show::ShowEvent;
use showrunner_server::show::inputs::InputManager;
use common::clip::{colour_clip, ffmpeg_present};
use tower::ServiceExt;

const LIMITS: ApiLimits = ApiLimits { max_module_bytes: 8 << 20, max_body_bytes: 64 * 1024 };
const CLIP_COLOUR: [u8; 3] = [0x20, 0x80, 0xE0];
const FEED_COLOUR: [u8; 3] = [0x20, 0xC0, 0x40];
const STREAM_KEY: &str = "s3cret-stream-key-9f2";

async fn call(app: &Router, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value, Vec<u8>) {
    let request = common::show::show_request(method, &format!("/api/v1{path}"), None, body.as_ref());
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), bytes)
}

async fn expect(app: &Router, method: Method, path: &str, body: Option<Value>, status: StatusCode) -> Value {
    let shown = format!("{method} {path}");
    let (got, json, _) = call(app, method, path, body).await;
    assert_eq!(got, status, "{shown}: {json}");
    json
}

/// Uploads the video-box scene and puts it full frame on the programme, drawing `input`.
async fn video_box_layer(app: &Router, input: &str) {
    let bytes = std::fs::read(common::guest("scene-video-box")).unwrap();
    let request = Request::post("/api/v1/modules").header(header::CONTENT_TYPE, "application/wasm").body(Body::from(bytes)).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "the video box uploads");
    let json: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let layer = json!({ "id": "box", "scene": "main", "module": json["hash"], "props": { "input": input } });
    expect(app, Method::POST, "/layers", Some(layer), StatusCode::CREATED).await;
}

/// The mean colour of the middle of the programme picture.
async fn centre_colour(app: &Router) -> Option<[f64; 3]> {
    let (status, _, jpeg) = call(app, Method::GET, "/preview.jpg", None).await;
    if status != StatusCode::OK {
        return None;
    }
    let picture = image::load_from_memory(&jpeg).expect("preview.jpg decodes").to_rgb8();
    let (w, h) = picture.dimensions();
    let mut sum = [0f64; 3];
    let mut count = 0.0;
    for y in h / 4..h * 3 / 4 {
        for x in w / 4..w * 3 / 4 {
            let pixel = picture.get_pixel(x, y);
            for c in 0..3 {
                sum[c] += f64::from(pixel[c]);
            }
            count += 1.0;
        }
    }
    Some(sum.map(|s| s / count))
}

fn near(actual: [f64; 3], expected: [u8; 3]) -> bool {
    (0..3).all(|c| (actual[c] - f64::from(expected[c])).abs() <= 16.0)
}

/// Waits (20 s at most) until the middle of the programme picture is `colour`.
async fn wait_for_colour(app: &Router, colour: [u8; 3], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = None;
    while Instant::now() < deadline {
        last = centre_colour(app).await;
        if last.is_some_and(|c| near(c, colour)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: the programme never showed {colour:?} (last centre colour {last:?})");
}

/// Waits (20 s at most) until `GET /inputs` has `name` in `state`; answers that entry.
async fn wait_for_state(app: &Router, name: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = expect(app, Method::GET, "/inputs", None, StatusCode::OK).await;
        let entry = list.as_array().unwrap().iter().find(|i| i["name"] == name).cloned();
        if let Some(entry) = entry.filter(|e| e["state"] == state) {
            return entry;
        }
        assert!(Instant::now() < deadline, "input {name} never reached {state}: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_media_clip_is_drawn_until_it_is_deleted() {
    if !ffmpeg_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = colour_clip(dir.path(), CLIP_COLOUR);
    let (state, _show, _store) = common::show::api_state(&dir.path().join("data"), None, LIMITS);
    let app = router(state);
    video_box_layer(&app, "clip").await;

    let added = expect(&app, Method::POST, "/inputs", Some(json!({ "name": "clip", "kind": "media", "uri": clip.to_str().unwrap(), "loop": true })), StatusCode::CREATED).await;
    assert_eq!((added["kind"].as_str(), added["looping"].as_bool()), (Some("media"), Some(true)), "{added}");
    assert!(added["uri"].as_str().unwrap().starts_with("file://") && added["uri"].as_str().unwrap().ends_with("clip.mp4"), "{added}");
    assert!(added.get("key_masked").is_none(), "{added}");

    wait_for_colour(&app, CLIP_COLOUR, "the clip on air").await;
    let live = wait_for_state(&app, "clip", "live").await;
    assert_eq!(live["size"], json!({ "width": 320, "height": 180 }), "{live}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let looped = wait_for_state(&app, "clip", "live").await;
    assert!(looped["loops"].as_u64().unwrap() >= 1 && looped["frames"].as_u64().unwrap() >= 30, "a 1 s clip looped after 1.5 s more: {looped}");
    wait_for_colour(&app, CLIP_COLOUR, "the clip after it looped").await;

    expect(&app, Method::DELETE, "/inputs/clip", None, StatusCode::NO_CONTENT).await;
    assert_eq!(expect(&app, Method::GET, "/inputs", None, StatusCode::OK).await, json!([]));
    let gone = centre_colour(&app).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut latest = gone;
    while near(latest, CLIP_COLOUR) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        latest = centre_colour(&app).await.unwrap();
    }
    assert!(!near(latest, CLIP_COLOUR), "the deleted clip left the picture: {latest:?}");
    expect(&app, Method::DELETE, "/inputs/clip", None, StatusCode::NOT_FOUND).await;
}

/// ffmpeg publishing a flat `FEED_COLOUR` picture for `seconds` to `url`.
fn publish(url: &str, seconds: u32) -> Child {
    Command::new("ffmpeg")
        .args(["-v", "error", "-re", "-f", "lavfi", "-i", "color=c=0x20C040:s=320x240:r=30", "-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "30"])
        .args(["-f", "flv", url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtmp_publisher_on_an_ingest_key_goes_on_air_and_the_key_never_shows() {
    if !ffmpeg_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (state, _show, _store) = common::show::api_state(dir.path(), None, LIMITS);
    let mut bus = state.show.bus().subscribe();
    let inputs = state.inputs.clone();
    let app = router(state);
    video_box_layer(&app, "cam").await;
    assert_eq!(inputs.ingest_addr(), None, "no ingest server before the first key");

    let added = expect(&app, Method::POST, "/inputs", Some(json!({ "name": "cam", "kind": "ingest", "key": STREAM_KEY })), StatusCode::CREATED).await;
    let addr = inputs.ingest_addr().expect("the first key started the ingest server");
    assert_eq!(added["state"], "waiting", "{added}");
    assert_eq!(added["key_masked"].as_str(), Some(format!("rtmp://{addr}/live/****").as_str()), "{added}");

    let mut publisher = publish(&format!("rtmp://{addr}/live/{STREAM_KEY}"), 15);
    wait_for_state(&app, "cam", "live").await;
    wait_for_colour(&app, FEED_COLOUR, "the publisher's picture").await;
    let (_, listed, raw) = call(&app, Method::GET, "/inputs", None).await;
    assert!(!String::from_utf8_lossy(&raw).contains(STREAM_KEY), "the key is not in GET /inputs: {listed}");
    let live = &listed[0];
    assert_eq!(live["state"], "live", "{live}");
    assert!(live["frames"].as_u64().unwrap() > 0, "{live}");
    assert_eq!(live["sessions"], 1, "{live}");
    assert_eq!(live["size"], json!({ "width": 320, "height": 240 }), "{live}");

    // A wrong key is refused at the door; the refusal is on the bus with the key masked.
    let wrong = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64:r=10", "-t", "1", "-c:v", "libx264", "-f", "flv"])
        .arg(format!("rtmp://{addr}/live/wrong-key-{STREAM_KEY}"))
        .output()
        .expect("ffmpeg runs");
    assert!(!wrong.status.success(), "a publisher with an unknown key is refused");

    expect(&app, Method::DELETE, "/inputs/cam", None, StatusCode::NO_CONTENT).await;
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert_eq!(expect(&app, Method::GET, "/inputs", None, StatusCode::OK).await, json!([]));
    assert_eq!(inputs.ingest_addr(), None, "the ingest server stopped with its last key");

    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut messages = Vec::new();
    while let Ok(message) = bus.try_recv() {
        if let ShowEvent::Input { name, message } = &message.event {
            messages.push(format!("{name}: {message}"));
        }
    }
    let all = messages.join("\n");
    assert!(messages.iter().any(|m| m.starts_with("cam: ") && m.contains("is live")), "published on the bus: {all}");
    assert!(messages.iter().any(|m| m.starts_with("ingest: ") && m.contains("refused")), "the refusal on the bus: {all}");
    assert!(!all.contains(STREAM_KEY), "no key on the bus: {all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_with_a_code_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _show, _store) = common::show::api_state(dir.path(), None, LIMITS);
    let app = router(state.clone());
    expect(&app, Method::POST, "/inputs", Some(json!({ "name": "taken", "kind": "ingest", "key": "key-one" })), StatusCode::CREATED).await;
    let before = expect(&app, Method::GET, "/inputs", None, StatusCode::OK).await;

    let long_key = "k".repeat(257);
    let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
        (json!({ "name": "bad name", "kind": "media", "uri": "/tmp/a.mp4" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "name"),
        (json!({ "name": "", "kind": "ingest", "key": "k" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "name"),
        (json!({ "name": "cam", "kind": "media", "uri": "clip.mp4" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "absolute file path"),
        (json!({ "name": "cam", "kind": "media", "uri": "fd://3" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "fd://3"),
        (json!({ "name": "cam", "kind": "media", "uri": "/nonexistent/clip.mp4" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "/nonexistent/clip.mp4"),
        (json!({ "name": "cam", "kind": "media" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "uri"),
        (json!({ "name": "cam", "kind": "media", "uri": "/tmp/a.mp4", "key": "k" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "no `key`"),
        (json!({ "name": "cam", "kind": "ingest", "key": "" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "stream key"),
        (json!({ "name": "cam", "kind": "ingest", "key": long_key }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "256"),
        (json!({ "name": "cam", "kind": "ingest", "key": "has space" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "stream key"),
        (json!({ "name": "cam", "kind": "webcam" }), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "webcam"),
        (json!({ "name": "cam", "kind": "media", "uri": "/tmp/a.mp4", "volume": 1 }), StatusCode::BAD_REQUEST, "bad_request", "volume"),
        (json!({ "name": "taken", "kind": "ingest", "key": "key-two" }), StatusCode::CONFLICT, "conflict", "taken"),
        (json!({ "name": "taken", "kind": "media", "uri": "/tmp/a.mp4" }), StatusCode::CONFLICT, "conflict", "taken"),
        (json!({ "name": "other", "kind": "ingest", "key": "key-one" }), StatusCode::CONFLICT, "conflict", "stream key"),
    ];
    for (body, status, code, mentions) in cases {
        let (got, json, _) = call(&app, Method::POST, "/inputs", Some(body.clone())).await;
        assert_eq!((got, json["code"].as_str()), (status, Some(code)), "{body}: {json}");
        assert!(json["message"].as_str().unwrap().contains(mentions), "{body}: the message names {mentions:?}: {json}");
        assert!(!json.to_string().contains("key-one"), "no key in the answer: {json}");
        assert_eq!(expect(&app, Method::GET, "/inputs", None, StatusCode::OK).await, before, "{body} changed nothing");
    }
    let (status, json, _) = call(&app, Method::DELETE, "/inputs/nope", None).await;
    assert_eq!((status, json["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{json}");

    // An ingest port that is taken: 503 with the reason, and nothing added.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap();
    let blocked_inputs = InputManager::start(showrunner_assets::LiveInputs::default(), state.show.bus().clone(), taken).unwrap();
    let blocked_app = router(ApiState { inputs: Arc::new(blocked_inputs), ..state.clone() });
    let (status, json, _) = call(&blocked_app, Method::POST, "/inputs", Some(json!({ "name": "cam", "kind": "ingest", "key": "k" }))).await;
    assert_eq!((status, json["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")), "{json}");
    assert!(json["message"].as_str().unwrap().contains(&taken.to_string()), "{json}");
    assert_eq!(expect(&blocked_app, Method::GET, "/inputs", None, StatusCode::OK).await, json!([]));
    assert_eq!(expect(&app, Method::GET, "/inputs", None, StatusCode::OK).await, before, "the store was not written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_inputs_start_again_after_a_restart_and_a_lost_file_is_listed_as_failed() {
    if !ffmpeg_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clip = colour_clip(dir.path(), CLIP_COLOUR);
    let lost = dir.path().join("lost.mp4");
    std::fs::copy(&clip, &lost).unwrap();
    {
        let (state, _show, store) = common::show::api_state(&data, None, LIMITS);
        let app = router(state);
        for (name, path) in [("clip", &clip), ("lost", &lost)] {
            expect(&app, Method::POST, "/inputs", Some(json!({ "name": name, "kind": "media", "uri": path.to_str().unwrap(), "loop": true })), StatusCode::CREATED).await;
        }
        expect(&app, Method::POST, "/inputs", Some(json!({ "name": "cam", "kind": "ingest", "key": STREAM_KEY })), StatusCode::CREATED).await;
        let stored = store.doc(showrunner_server::store::DocKind::Input, "cam").unwrap().unwrap().1;
        assert_eq!(stored["key"], STREAM_KEY, "the key is stored for the restart");
    }
    std::fs::remove_file(&lost).unwrap();

    let (state, _show, store) = common::show::api_state(&data, None, LIMITS);
    let problems = state.inputs.restore(&store);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("lost") && problems[0].contains("lost.mp4") && !problems[0].contains(STREAM_KEY), "{problems:?}");
    let app = router(state.clone());
    wait_for_state(&app, "clip", "live").await;
    let cam = wait_for_state(&app, "cam", "waiting").await;
    assert!(cam["key_masked"].as_str().unwrap().ends_with("/live/****"), "{cam}");
    let lost_entry = wait_for_state(&app, "lost", "failed").await;
    assert!(lost_entry["error"].as_str().unwrap().contains("does not exist"), "{lost_entry}");
    assert!(state.inputs.ingest_addr().is_some(), "the stored key started the ingest server");

    expect(&app, Method::DELETE, "/inputs/lost", None, StatusCode::NO_CONTENT).await;
    let names: Vec<String> = expect(&app, Method::GET, "/inputs", None, StatusCode::OK).await.as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["cam", "clip"]);
    assert!(store.doc(showrunner_server::store::DocKind::Input, "lost").unwrap().is_none(), "the failed input's document is deleted too");
}
