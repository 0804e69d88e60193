//! The programme and preview monitors: idle until watched, the preview scene playing
//! on the preview monitor while program shows something else, and the picture
//! stream over a WebSocket (scene messages, then JPEGs at about 10 a second).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::show::{SHOW_TOKEN, ShowApi};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;

fn bright_pixels(jpeg: &[u8]) -> usize {
    let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("the JPEG decodes").to_rgb8();
    image.pixels().filter(|p| p.0.iter().any(|c| *c > 96)).count()
}

/// The monitor's picture once it shows at least (or, with `dark`, at most) a few bright pixels.
async fn picture_until(api: &ShowApi, monitor: &str, dark: bool) -> (Option<String>, usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = api.call(GET, &format!("/api/v1/monitors/{monitor}"), None).await;
        if reply.status == StatusCode::OK {
            let bright = bright_pixels(&reply.body);
            if (bright > 100) != dark {
                let scene = reply.headers.get("x-scene").and_then(|v| v.to_str().ok()).map(str::to_string);
                return (scene, bright);
            }
        }
        assert!(Instant::now() < deadline, "{monitor}: no {} picture in 20 s (last {})", if dark { "dark" } else { "bright" }, reply.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A scene `next` holding a playing lower third.
async fn lower_third_on_next(api: &ShowApi) {
    let lower_third = api.upload("scene-lower-third").await;
    api.expect(POST, "/api/v1/scenes", Some(json!({ "name": "next" })), StatusCode::CREATED).await;
    api.expect(POST, "/api/v1/layers", Some(json!({ "id": "card", "scene": "next", "module": lower_third })), StatusCode::CREATED).await;
    api.expect(POST, "/api/v1/layers/card/events", Some(json!({ "name": "play" })), StatusCode::ACCEPTED).await;
}

#[tokio::test]
async fn monitors_cost_nothing_until_watched_and_preview_plays_the_next_scene() {
    let api = ShowApi::start();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let monitors = api.state.show.monitors();
    assert!(monitors.program.latest().is_none() && !monitors.program.watched(), "nobody looked: no JPEG was made");

    let reply = api.call(GET, "/api/v1/monitors/preview", None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "no_picture"), "no preview scene: {}", reply.json);
    let reply = api.call(GET, "/api/v1/monitors/side", None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"));

    lower_third_on_next(&api).await;
    api.expect(PUT, "/api/v1/preview", Some(json!({ "scene": "next" })), StatusCode::OK).await;
    let (scene, bright) = picture_until(&api, "preview", false).await;
    assert_eq!(scene.as_deref(), Some("next"));
    assert!(bright > 100);
    let (scene, _) = picture_until(&api, "program", true).await;
    assert_eq!(scene.as_deref(), Some("main"), "program stays dark: the preview scene is not on air");
    let show = api.expect(GET, "/api/v1/show", None, StatusCode::OK).await;
    assert_eq!(show["program"], "main");

    api.expect(POST, "/api/v1/take", Some(json!({ "scene": "next" })), StatusCode::OK).await;
    let (scene, _) = picture_until(&api, "program", false).await;
    assert_eq!(scene.as_deref(), Some("next"), "after the take program shows the lower third");
    let (scene, _) = picture_until(&api, "preview", false).await;
    assert_eq!(scene.as_deref(), Some("next"), "preview on program mirrors program's picture");
}

#[tokio::test]
async fn the_monitor_socket_sends_the_scene_then_about_ten_pictures_a_second() {
    let api = ShowApi::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = |monitor: &str, token: &str| format!("ws://{addr}/api/v1/monitors/{monitor}/ws?token={token}");

    for (monitor, token, status) in [("preview", "wrong", 401), ("side", SHOW_TOKEN, 404)] {
        match tokio_tungstenite::connect_async(url(monitor, token)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), status, "{monitor} {token}"),
            other => panic!("{monitor} with {token}: expected HTTP {status}, got {:?}", other.map(|_| ())),
        }
    }

    let (mut socket, _) = tokio_tungstenite::connect_async(url("preview", SHOW_TOKEN)).await.expect("upgrade");
    let next_text = |message: Message| -> Option<Value> { if let Message::Text(text) = message { serde_json::from_str(text.as_str()).ok() } else { None } };
    let first = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(next_text(first), Some(json!({ "type": "monitor", "monitor": "preview", "scene": null })));

    lower_third_on_next(&api).await;
    api.expect(PUT, "/api/v1/preview", Some(json!({ "scene": "next" })), StatusCode::OK).await;
    let mut saw_scene = false;
    let mut pictures: Vec<(Instant, usize)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && pictures.len() < 40 {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message within 10 s").unwrap().unwrap();
        match message {
            Message::Binary(jpeg) => {
                assert!(saw_scene, "the scene message comes before the scene's pictures");
                pictures.push((Instant::now(), bright_pixels(&jpeg)));
            }
            text @ Message::Text(_) => {
                assert_eq!(next_text(text), Some(json!({ "type": "monitor", "monitor": "preview", "scene": "next" })));
                saw_scene = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pictures.len(), 40, "40 pictures within 30 s");
    assert!(pictures.iter().skip(10).all(|(_, bright)| *bright > 100), "the lower third plays on the preview monitor");
    let span = pictures[39].0 - pictures[10].0;
    let rate = 29.0 / span.as_secs_f64();
    assert!((4.0..=12.0).contains(&rate), "about 10 pictures a second (fewer on a busy machine): {rate:.1}");
}
