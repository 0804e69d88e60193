//! Outputs through the API with a real show: a recording made while a layer is
//! hot-swapped back and forth has every frame slot (no gap in the output), each swap
//! carries the layer's state, and the stream goes to a real nginx-rtmp that ffprobe
//! reads back; bad destinations and recording names are refused and change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../media/tests/support/rtmp_server.rs"]
mod rtmp_server;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::show::ShowApi;
use rtmp_server::{RtmpServer, find_stream, probe_streams, video_packet_times};
use serde_json::{Value, json};
use showrunner_server::show::ShowEvent;

/// `method /api/v1{path}` with the test token: (status, JSON body).
async fn call(api: &ShowApi, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let reply = api.call(method, &format!("/api/v1{path}"), body).await;
    (reply.status, reply.json)
}

/// Frame slots (at 30 fps) with no video packet between the first and the last.
fn missing_slots(times: &[f64]) -> u64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.windows(2).map(|w| (((w[1] - w[0]) * 30.0).round() as u64).saturating_sub(1)).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_made_during_hot_swaps_has_no_gap_and_every_swap_carries_state() {
    let api = ShowApi::start();
    let mut events = api.state.show.bus().subscribe();
    let v1 = api.upload("scene-scoreboard").await;
    let v2 = api.upload("guest-scoreboard-v2").await;
    assert_eq!(call(&api, Method::POST, "/layers", Some(json!({"id": "score", "scene": "main", "module": v1}))).await.0, StatusCode::CREATED);
    for (name, payload) in [("play", ""), ("home-score", "+3"), ("away-score", "+1")] {
        assert_eq!(call(&api, Method::POST, "/layers/score/events", Some(json!({"name": name, "payload": payload}))).await.0, StatusCode::ACCEPTED);
    }
    let (status, outputs) = call(&api, Method::POST, "/recording", Some(json!({"file": "swaps.mkv"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{outputs}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut frames = Vec::new();
    for n in 0..8 {
        let module = if n % 2 == 0 { &v2 } else { &v1 };
        let (status, swap) = call(&api, Method::POST, "/layers/score/swap", Some(json!({"module": module}))).await;
        assert_eq!(status, StatusCode::OK, "{swap}");
        assert_eq!(swap["state_carried"], true, "the score goes along: {swap}");
        assert!(swap["state_bytes"].as_u64().unwrap() > 0, "{swap}");
        frames.push(swap["frame"].as_u64().unwrap());
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(frames.windows(2).all(|w| w[1] > w[0]), "each swap lands on a later frame: {frames:?}");
    let (_, show) = call(&api, Method::GET, "/show", None).await;
    assert_eq!(show["encoding"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, stopped) = call(&api, Method::DELETE, "/recording", None).await;
    assert_eq!(status, StatusCode::OK, "{stopped}");
    assert_eq!(stopped["recording"], Value::Null);
    let (_, show) = call(&api, Method::GET, "/show", None).await;
    assert_eq!(show["encoding"], false, "the encoder stops with the last output");

    let file = api.store.path().parent().unwrap().join("recordings/swaps.mkv");
    let times = video_packet_times(&file);
    assert!(times.len() >= 60, "about 2.5 s at 30 fps recorded, got {} frames", times.len());
    let mut dropped = None;
    while let Ok(message) = events.try_recv() {
        if let ShowEvent::EncoderStopped { frames_dropped, .. } = message.event {
            dropped = Some(frames_dropped);
        }
    }
    let dropped = dropped.expect("the bus reports the encoder stopping");
    let missing = missing_slots(&times);
    // x264 drops frames (and says so) only when the CPU cannot keep up; everything
    // the show made reached the file otherwise, swaps included.
    assert!(missing <= dropped, "{missing} frame slots missing from the recording but the encoder dropped {dropped}");
    if dropped == 0 {
        assert_eq!(missing, 0, "no frame slot is missing from the recording ({} frames)", times.len());
    } else {
        eprintln!("note: the encoder fell behind and dropped {dropped} frames on this busy machine");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_reaches_nginx_and_bad_outputs_are_refused() {
    let api = ShowApi::start();
    for (body, status, code) in [
        (json!({"id": "a", "url": "http://127.0.0.1/live/x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_output"),
        (json!({"id": "Bad Id", "url": "rtmp://127.0.0.1/live/x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_output"),
        (json!({"id": "recording", "url": "rtmp://127.0.0.1/live/x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_output"),
        (json!({"id": "a"}), StatusCode::UNPROCESSABLE_ENTITY, "bad_request"),
    ] {
        let (got, error) = call(&api, Method::POST, "/outputs", Some(body.clone())).await;
        if code == "bad_request" {
            assert!(got.is_client_error(), "{body}: {got} {error}");
        } else {
            assert_eq!((got, error["code"].as_str().unwrap()), (status, code), "{body}: {error}");
        }
    }
    for name in ["../escape.mkv", "clip.mp4", "", "sub/dir.mkv"] {
        let (got, error) = call(&api, Method::POST, "/recording", Some(json!({"file": name}))).await;
        assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {error}");
    }
    assert_eq!(call(&api, Method::DELETE, "/recording", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&api, Method::DELETE, "/outputs/none", None).await.0, StatusCode::NOT_FOUND);
    let (_, listed) = call(&api, Method::GET, "/outputs", None).await;
    assert_eq!(listed, json!({"streaming": false, "outputs": [], "recording": null}), "refusals changed nothing");

    let Some(server) = RtmpServer::start() else { return };
    let url = server.url("api-secret-key");
    assert_eq!(call(&api, Method::POST, "/outputs", Some(json!({"id": "main", "url": url}))).await.0, StatusCode::CREATED);
    assert_eq!(call(&api, Method::POST, "/outputs", Some(json!({"id": "main", "url": url}))).await.0, StatusCode::CONFLICT);
    let (status, started) = call(&api, Method::POST, "/stream/start", None).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert!(!started.to_string().contains("api-secret-key"), "the key never leaves the server: {started}");
    let mut live = false;
    for _ in 0..100 {
        let (_, listed) = call(&api, Method::GET, "/outputs", None).await;
        if listed["outputs"][0]["state"] == "live" {
            live = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(live, "the destination went live");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let streams = tokio::task::spawn_blocking(move || probe_streams(&url)).await.unwrap();
    let video = find_stream(&streams, "video").expect("ffprobe reads a video stream back from nginx");
    assert_eq!((video.width, video.height), (Some(320), Some(180)));
    let (_, stopped) = call(&api, Method::POST, "/stream/stop", None).await;
    assert_eq!(stopped["streaming"], false);
    assert_eq!(stopped["outputs"][0]["state"], "off");
}
