//! The show routes of the HTTP API through `Router::oneshot`, over a real show (store in
//! a temp dir, Wasm host, lavapipe, frame thread): the happy path of every route, the
//! programme picture, takes (cut and crossfade), a table of bad inputs that must be
//! refused with status and code while the show and the store stay as they were, and
//! the token on every show route.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::show::{SHOW_TOKEN, ShowApi, show_request};
use serde_json::{Value, json};

const DELETE: Method = Method::DELETE;
const GET: Method = Method::GET;
const PATCH: Method = Method::PATCH;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;

/// The scoreboard as `layer` in `scene`, on screen, at 3-1.
async fn scoreboard_at_3_1(api: &ShowApi, scene: &str, layer: &str, module: &str) {
    api.expect(POST, "/api/v1/layers", Some(json!({ "id": layer, "scene": scene, "module": module })), StatusCode::CREATED).await;
    for (name, payload) in [("play", ""), ("home-score", "+3"), ("away-score", "+1")] {
        api.expect(POST, &format!("/api/v1/layers/{layer}/events"), Some(json!({ "name": name, "payload": payload })), StatusCode::ACCEPTED).await;
    }
}

#[tokio::test]
async fn scenes_and_layers_round_trip_through_every_route() {
    let api = ShowApi::start();
    let scoreboard = api.upload("scene-scoreboard").await;
    let v2 = api.upload("guest-scoreboard-v2").await;

    let show = api.expect(GET, "/api/v1/show", None, StatusCode::OK).await;
    assert_eq!((show["width"].as_u64(), show["height"].as_u64(), show["fps_num"].as_u64()), (Some(320), Some(180), Some(30)), "{show}");
    assert_eq!(show["program"], "main");
    assert_eq!(show["scenes"], json!([{ "name": "main", "layers": [] }]));

    // Scenes.
    let created = api.expect(POST, "/api/v1/scenes", Some(json!({ "name": "break" })), StatusCode::CREATED).await;
    assert_eq!(created, json!({ "name": "break", "layers": [] }));
    let scenes = api.expect(GET, "/api/v1/scenes", None, StatusCode::OK).await;
    assert_eq!(scenes.as_array().map(|s| s.iter().map(|s| s["name"].clone()).collect::<Vec<_>>()), Some(vec![json!("main"), json!("break")]));
    assert_eq!(api.expect(GET, "/api/v1/scenes/break", None, StatusCode::OK).await["name"], "break");

    // Layers: create with props and placement, read, patch, props.
    let new_layer = json!({ "id": "score", "scene": "main", "module": scoreboard, "props": { "home-name": "LIONS", "period": "2ND" },
        "transform": { "a": 1.0, "b": 0.0, "c": 0.0, "d": 1.0, "e": 8.0, "f": 4.0 }, "opacity": 0.75, "z": 3 });
    let layer = api.expect(POST, "/api/v1/layers", Some(new_layer), StatusCode::CREATED).await;
    assert_eq!((layer["id"].as_str(), layer["scene"].as_str(), layer["module"].as_str()), (Some("score"), Some("main"), Some(scoreboard.as_str())));
    assert_eq!(layer["props"], json!({ "home-name": "LIONS", "period": "2ND" }));
    assert_eq!((layer["opacity"].as_f64(), layer["z"].as_i64(), layer["transform"]["e"].as_f64()), (Some(0.75), Some(3), Some(8.0)));
    assert_eq!(api.expect(GET, "/api/v1/layers/score", None, StatusCode::OK).await, layer);
    assert_eq!(api.expect(GET, "/api/v1/layers", None, StatusCode::OK).await, json!([layer]));

    let patched = api.expect(PATCH, "/api/v1/layers/score", Some(json!({ "opacity": 0.5, "crop": { "x": 0.0, "y": 0.0, "width": 160.0, "height": 90.0 }, "visible": false })), StatusCode::OK).await;
    assert_eq!((patched["opacity"].as_f64(), patched["visible"].as_bool(), patched["z"].as_i64()), (Some(0.5), Some(false), Some(3)), "{patched}");
    assert_eq!(patched["crop"]["width"].as_f64(), Some(160.0));
    let uncropped = api.expect(PATCH, "/api/v1/layers/score", Some(json!({ "crop": null, "visible": true })), StatusCode::OK).await;
    assert_eq!((uncropped["crop"].clone(), uncropped["opacity"].as_f64()), (Value::Null, Some(0.5)), "a null crop removes it, the rest stays");
    let props = api.expect(PATCH, "/api/v1/layers/score/props", Some(json!({ "away-color": "#00FF00", "period": "OT" })), StatusCode::OK).await;
    assert_eq!(props["props"], json!({ "home-name": "LIONS", "period": "OT", "away-color": "#00FF00" }));

    // Events, then a swap that carries the score.
    for (name, payload) in [("play", ""), ("home-score", "+3"), ("away-score", "+1")] {
        api.expect(POST, "/api/v1/layers/score/events", Some(json!({ "name": name, "payload": payload })), StatusCode::ACCEPTED).await;
    }
    let frame_before = api.expect(GET, "/api/v1/show", None, StatusCode::OK).await["frame"].as_u64().unwrap();
    let swap = api.expect(POST, "/api/v1/layers/score/swap", Some(json!({ "module": v2 })), StatusCode::OK).await;
    assert_eq!(swap["state_carried"], true, "{swap}");
    assert!(swap["state_bytes"].as_u64().is_some_and(|b| b > 0), "{swap}");
    assert!(swap["swap_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{swap}");
    assert!(swap["frame"].as_u64().is_some_and(|f| f >= frame_before), "{swap} (show was at frame {frame_before})");
    assert_eq!((swap["layer"].as_str(), swap["module"].as_str()), (Some("score"), Some(v2.as_str())));
    let swapped = api.expect(GET, "/api/v1/layers/score", None, StatusCode::OK).await;
    assert_eq!(swapped["module"], v2.as_str());
    assert_eq!(swapped["props"], props["props"], "props survive a swap");
    api.expect(POST, "/api/v1/layers/score/release", None, StatusCode::NO_CONTENT).await;

    // Preview and a cut.
    let previewed = api.expect(PUT, "/api/v1/preview", Some(json!({ "scene": "break" })), StatusCode::OK).await;
    assert_eq!((previewed["program"].as_str(), previewed["preview"].as_str()), (Some("main"), Some("break")));
    let cut = api.expect(POST, "/api/v1/take", Some(json!({})), StatusCode::OK).await;
    assert_eq!(cut["program"], "break", "a take with no scene takes the preview: {cut}");
    let cleared = api.expect(PUT, "/api/v1/preview", Some(json!({ "scene": null })), StatusCode::OK).await;
    assert_eq!(cleared["preview"], Value::Null);
    api.expect(POST, "/api/v1/take", Some(json!({ "scene": "main" })), StatusCode::OK).await;

    // Removal, and what the store keeps.
    assert_eq!(api.stored_show().iter().filter(|(kind, ..)| kind == "Layer").count(), 1);
    api.expect(DELETE, "/api/v1/layers/score", None, StatusCode::NO_CONTENT).await;
    api.expect(GET, "/api/v1/layers/score", None, StatusCode::NOT_FOUND).await;
    api.expect(DELETE, "/api/v1/scenes/break", None, StatusCode::NO_CONTENT).await;
    api.expect(GET, "/api/v1/scenes/break", None, StatusCode::NOT_FOUND).await;
    let kinds: Vec<(String, String)> = api.stored_show().into_iter().map(|(kind, id, ..)| (kind, id)).collect();
    assert_eq!(kinds, vec![("Scene".to_string(), "main".to_string()), ("Show".to_string(), "show".to_string())]);
    // Nothing runs the modules now: they may go.
    api.expect(DELETE, &format!("/api/v1/modules/{v2}"), None, StatusCode::NO_CONTENT).await;
}

/// Counts pixels brighter than a dark background in a JPEG.
fn bright_pixels(jpeg: &[u8]) -> (u32, u32, usize) {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG starts with FF D8");
    let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("the JPEG decodes").to_rgb8();
    let bright = image.pixels().filter(|p| p.0.iter().any(|c| *c > 96)).count();
    (image.width(), image.height(), bright)
}

#[tokio::test]
async fn the_programme_picture_shows_a_playing_lower_third() {
    let api = ShowApi::start();
    let (_, empty) = api.picture_after(0).await;
    let (width, height, empty_bright) = bright_pixels(&empty);
    assert_eq!((width, height), (320, 180), "the picture is the output size (under 640x360)");
    assert_eq!(empty_bright, 0, "an empty show is dark");

    let lower_third = api.upload("scene-lower-third").await;
    api.expect(POST, "/api/v1/layers", Some(json!({ "id": "name", "scene": "main", "module": lower_third, "props": { "name": "Ada Lovelace" } })), StatusCode::CREATED).await;
    api.expect(POST, "/api/v1/layers/name/events", Some(json!({ "name": "play" })), StatusCode::ACCEPTED).await;
    let played_at = api.expect(GET, "/api/v1/show", None, StatusCode::OK).await["frame"].as_u64().unwrap();
    // The slide-in takes well under a second (30 frames).
    let (index, picture) = api.picture_after(played_at + 30).await;
    let (_, _, bright) = bright_pixels(&picture);
    assert!(bright > 200, "frame {index}: {bright} bright pixels; the lower third's text and accent should show");
    let reply = api.call(GET, "/api/v1/preview.jpg", None).await;
    assert_eq!(reply.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"image/jpeg"[..]));
    assert_eq!(reply.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()), Some(&b"no-store"[..]));
}

#[tokio::test]
async fn a_crossfade_take_changes_program_when_it_ends() {
    let api = ShowApi::start();
    let crossfade = api.upload("transition-crossfade").await;
    api.expect(POST, "/api/v1/scenes", Some(json!({ "name": "two" })), StatusCode::CREATED).await;
    api.expect(PUT, "/api/v1/preview", Some(json!({ "scene": "two" })), StatusCode::OK).await;
    let started = Instant::now();
    let taken = api.expect(POST, "/api/v1/take", Some(json!({ "transition": { "module": crossfade, "duration_ms": 300 } })), StatusCode::OK).await;
    assert_eq!((taken["program"].as_str(), taken["incoming"].as_str()), (Some("main"), Some("two")), "during the crossfade: {taken}");
    let ended = loop {
        let show = api.expect(GET, "/api/v1/show", None, StatusCode::OK).await;
        if show["program"] == "two" {
            break started.elapsed();
        }
        assert_eq!(show["incoming"], "two", "{show}");
        assert!(started.elapsed() < Duration::from_secs(10), "the crossfade never ended: {show}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(ended >= Duration::from_millis(250), "program changed after {ended:?}, before the 300 ms crossfade ran");
    let show = api.expect(GET, "/api/v1/show", None, StatusCode::OK).await;
    assert_eq!(show["incoming"], Value::Null);
    let stored = api.stored_show().into_iter().find(|(kind, ..)| kind == "Show").expect("show doc");
    assert_eq!(stored.3["program"], "two", "the store has the scene the take put on air");
}

/// A request with a raw body and content type.
fn raw(method: Method, uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {SHOW_TOKEN}"));
    builder.header(header::CONTENT_TYPE, content_type).body(body.into()).unwrap()
}

fn json_request(method: Method, uri: &str, body: Value) -> Request<Body> {
    show_request(method, uri, Some(SHOW_TOKEN), Some(&body))
}

/// (what is wrong, the request, the status and code it gets, the prop `details.prop` names).
type BadRequest<'a> = (&'a str, Request<Body>, StatusCode, &'a str, Option<&'a str>);

#[tokio::test]
async fn bad_requests_are_refused_and_change_neither_show_nor_store() {
    let api = ShowApi::start();
    let scoreboard = api.upload("scene-scoreboard").await;
    let alert = api.upload("scene-alert").await;
    let crossfade = api.upload("transition-crossfade").await;
    api.expect(POST, "/api/v1/scenes", Some(json!({ "name": "second" })), StatusCode::CREATED).await;
    scoreboard_at_3_1(&api, "main", "score", &scoreboard).await;
    api.expect(POST, "/api/v1/layers", Some(json!({ "id": "alert", "scene": "second", "module": alert })), StatusCode::CREATED).await;
    let unknown_hash = "0".repeat(64);
    let too_big = json!({ "name": "x".repeat(api.limits.max_body_bytes as usize) });
    let layer = |extra: Value| {
        let mut body = json!({ "id": "fresh", "scene": "main", "module": scoreboard });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json_request(POST, "/api/v1/layers", body)
    };
    let props = |body: Value| json_request(PATCH, "/api/v1/layers/score/props", body);
    let placement = |body: Value| json_request(PATCH, "/api/v1/layers/score", body);
    let swap = |module: &str| json_request(POST, "/api/v1/layers/score/swap", json!({ "module": module }));
    let take = |body: Value| json_request(POST, "/api/v1/take", body);
    let get = |uri: &str| show_request(GET, uri, Some(SHOW_TOKEN), None);
    let delete = |uri: &str| show_request(DELETE, uri, Some(SHOW_TOKEN), None);
    let cases: Vec<BadRequest> = vec![
        ("malformed JSON", raw(POST, "/api/v1/scenes", "application/json", "{\"name\":"), StatusCode::BAD_REQUEST, "bad_request", None),
        ("unknown field on a scene", json_request(POST, "/api/v1/scenes", json!({ "name": "x", "colour": 1 })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("unknown field on a layer", layer(json!({ "colour": 1 })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("unknown field in a patch", placement(json!({ "zz": 1 })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("unknown field on an event", json_request(POST, "/api/v1/layers/score/events", json!({ "name": "play", "when": 1 })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("unknown field on a take", take(json!({ "scene": "second", "cut": true })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("scene name a number", json_request(POST, "/api/v1/scenes", json!({ "name": 5 })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("opacity a string", placement(json!({ "opacity": "high" })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("z a float", placement(json!({ "z": 1.5 })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("props not an object", props(json!(["period"])), StatusCode::BAD_REQUEST, "bad_request", None),
        ("layer without module", json_request(POST, "/api/v1/layers", json!({ "id": "fresh", "scene": "main" })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("text/plain body", raw(POST, "/api/v1/scenes", "text/plain", "{\"name\":\"x\"}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None),
        ("no content type", show_request(POST, "/api/v1/scenes", Some(SHOW_TOKEN), None), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None),
        ("body over max_body_bytes", json_request(POST, "/api/v1/scenes", too_big), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None),
        ("unknown layer", get("/api/v1/layers/nope"), StatusCode::NOT_FOUND, "not_found", None),
        ("patch unknown layer", json_request(PATCH, "/api/v1/layers/nope", json!({ "z": 1 })), StatusCode::NOT_FOUND, "not_found", None),
        ("props of unknown layer", json_request(PATCH, "/api/v1/layers/nope/props", json!({ "period": "OT" })), StatusCode::NOT_FOUND, "not_found", None),
        ("event to unknown layer", json_request(POST, "/api/v1/layers/nope/events", json!({ "name": "play" })), StatusCode::NOT_FOUND, "not_found", None),
        ("swap unknown layer", json_request(POST, "/api/v1/layers/nope/swap", json!({ "module": scoreboard })), StatusCode::NOT_FOUND, "not_found", None),
        ("release unknown layer", show_request(POST, "/api/v1/layers/nope/release", Some(SHOW_TOKEN), None), StatusCode::NOT_FOUND, "not_found", None),
        ("delete unknown layer", delete("/api/v1/layers/nope"), StatusCode::NOT_FOUND, "not_found", None),
        ("unknown scene", get("/api/v1/scenes/nope"), StatusCode::NOT_FOUND, "not_found", None),
        ("delete unknown scene", delete("/api/v1/scenes/nope"), StatusCode::NOT_FOUND, "not_found", None),
        ("layer in unknown scene", json_request(POST, "/api/v1/layers", json!({ "id": "fresh", "scene": "nope", "module": scoreboard })), StatusCode::NOT_FOUND, "not_found", None),
        ("preview unknown scene", json_request(PUT, "/api/v1/preview", json!({ "scene": "nope" })), StatusCode::NOT_FOUND, "not_found", None),
        ("take unknown scene", take(json!({ "scene": "nope" })), StatusCode::NOT_FOUND, "not_found", None),
        ("layer with unknown module", layer(json!({ "module": unknown_hash })), StatusCode::NOT_FOUND, "not_found", None),
        ("swap to unknown hash", swap(&unknown_hash), StatusCode::NOT_FOUND, "not_found", None),
        ("take with unknown transition", take(json!({ "scene": "second", "transition": { "module": unknown_hash, "duration_ms": 300 } })), StatusCode::NOT_FOUND, "not_found", None),
        ("duplicate layer id", layer(json!({ "id": "alert" })), StatusCode::CONFLICT, "conflict", None),
        ("duplicate scene", json_request(POST, "/api/v1/scenes", json!({ "name": "second" })), StatusCode::CONFLICT, "conflict", None),
        ("remove the program scene", delete("/api/v1/scenes/main"), StatusCode::CONFLICT, "conflict", None),
        ("delete a module in use", delete(&format!("/api/v1/modules/{scoreboard}")), StatusCode::CONFLICT, "conflict", None),
        ("unknown prop", props(json!({ "period": "OT", "nope": 1 })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_prop", Some("nope")),
        ("wrong prop type", props(json!({ "home-name": 5 })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_prop", Some("home-name")),
        ("bad colour", props(json!({ "home-color": "#GG0000" })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_prop", Some("home-color")),
        ("prop an array", props(json!({ "period": [1] })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_prop", Some("period")),
        ("prop out of range", json_request(PATCH, "/api/v1/layers/alert/props", json!({ "duration": 61 })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_prop", Some("duration")),
        ("new layer with a bad prop", layer(json!({ "props": { "nope": "x" } })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_prop", Some("nope")),
        ("transition as a layer", layer(json!({ "module": crossfade })), StatusCode::UNPROCESSABLE_ENTITY, "wrong_module_kind", None),
        ("scene as a transition", take(json!({ "scene": "second", "transition": { "module": scoreboard, "duration_ms": 300 } })), StatusCode::UNPROCESSABLE_ENTITY, "wrong_module_kind", None),
        ("opacity 2.0", placement(json!({ "opacity": 2.0 })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_show", None),
        ("new layer with opacity 2.0", layer(json!({ "opacity": 2.0 })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_show", None),
        ("zero-sized crop", placement(json!({ "crop": { "x": 0.0, "y": 0.0, "width": 0.0, "height": 10.0 } })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_show", None),
        ("empty scene name", json_request(POST, "/api/v1/scenes", json!({ "name": " " })), StatusCode::UNPROCESSABLE_ENTITY, "invalid_show", None),
        ("take with no scene and no preview", take(json!({})), StatusCode::BAD_REQUEST, "bad_request", None),
        ("transition over 60000 ms", take(json!({ "scene": "second", "transition": { "module": crossfade, "duration_ms": 60001 } })), StatusCode::BAD_REQUEST, "bad_request", None),
        ("event with an empty name", json_request(POST, "/api/v1/layers/score/events", json!({ "name": "" })), StatusCode::BAD_REQUEST, "bad_request", None),
    ];
    let mut wrong = Vec::new();
    for (name, request, status, code, prop) in cases {
        let (show_before, store_before) = (api.show_without_frame().await, api.stored_show());
        let reply = api.send(request).await;
        if (reply.status, reply.code()) != (status, code) {
            wrong.push(format!("{name}: expected {status} {code}, got {} {}", reply.status, reply.json));
        }
        if reply.json["message"].as_str().is_none_or(str::is_empty) {
            wrong.push(format!("{name}: no message: {}", reply.json));
        }
        if let Some(prop) = prop
            && reply.json["details"]["prop"] != prop
        {
            wrong.push(format!("{name}: details.prop should name {prop:?}: {}", reply.json));
        }
        if api.show_without_frame().await != show_before {
            wrong.push(format!("{name}: the show changed"));
        }
        if api.stored_show() != store_before {
            wrong.push(format!("{name}: the store changed"));
        }
    }
    assert!(wrong.is_empty(), "{} of the bad requests went wrong:\n{}", wrong.len(), wrong.join("\n"));
}

/// The swap route documents `wrong_module_kind` for a module that is not a scene, as
/// adding a layer answers; the old module stays live.
#[tokio::test]
async fn swapping_to_a_transition_is_refused_as_wrong_module_kind() {
    let api = ShowApi::start();
    let scoreboard = api.upload("scene-scoreboard").await;
    let crossfade = api.upload("transition-crossfade").await;
    scoreboard_at_3_1(&api, "main", "score", &scoreboard).await;
    let (show_before, store_before) = (api.show_without_frame().await, api.stored_show());
    let reply = api.call(POST, "/api/v1/layers/score/swap", Some(json!({ "module": crossfade }))).await;
    assert_eq!(api.show_without_frame().await, show_before, "the scoreboard stays live");
    assert_eq!(api.stored_show(), store_before);
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "wrong_module_kind"), "{}", reply.json);
    assert_eq!(reply.json["details"]["world"], "transition", "{}", reply.json);
}

/// A scene name or layer id the show accepts must also be one the store can keep:
/// the reply is either 201 with the item saved, or a refusal that leaves the show as it was.
#[tokio::test]
async fn names_with_a_space_are_saved_or_refused_never_live_but_unsaved() {
    let api = ShowApi::start();
    let scoreboard = api.upload("scene-scoreboard").await;
    let cases = [
        ("Scene", "/api/v1/scenes", json!({ "name": "half time" })),
        ("Layer", "/api/v1/layers", json!({ "id": "home score", "scene": "main", "module": scoreboard })),
    ];
    let mut wrong = Vec::new();
    for (kind, uri, body) in cases {
        let (show_before, store_before) = (api.show_without_frame().await, api.stored_show());
        let reply = api.call(POST, uri, Some(body)).await;
        let (show_after, store_after) = (api.show_without_frame().await, api.stored_show());
        let saved = store_after.len() > store_before.len() && store_after.iter().any(|(k, ..)| k == kind);
        let cleanly_refused = reply.status.is_client_error() && show_after == show_before && store_after == store_before;
        if !((reply.status == StatusCode::CREATED && saved) || cleanly_refused) {
            wrong.push(format!("{kind}: answered {} {}; live in the show: {}; stored: {}", reply.status, reply.json, show_after != show_before, store_after != store_before));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn every_show_route_refuses_a_missing_or_wrong_token() {
    let api = ShowApi::start();
    let scoreboard = api.upload("scene-scoreboard").await;
    scoreboard_at_3_1(&api, "main", "score", &scoreboard).await;
    let routes: Vec<(Method, &str, Option<Value>)> = vec![
        (GET, "/api/v1/show", None),
        (GET, "/api/v1/scenes", None),
        (POST, "/api/v1/scenes", Some(json!({ "name": "x" }))),
        (GET, "/api/v1/scenes/main", None),
        (DELETE, "/api/v1/scenes/main", None),
        (GET, "/api/v1/layers", None),
        (POST, "/api/v1/layers", Some(json!({ "id": "y", "scene": "main", "module": scoreboard }))),
        (GET, "/api/v1/layers/score", None),
        (PATCH, "/api/v1/layers/score", Some(json!({ "z": 9 }))),
        (DELETE, "/api/v1/layers/score", None),
        (PATCH, "/api/v1/layers/score/props", Some(json!({ "period": "OT" }))),
        (POST, "/api/v1/layers/score/events", Some(json!({ "name": "stop" }))),
        (POST, "/api/v1/layers/score/swap", Some(json!({ "module": scoreboard }))),
        (POST, "/api/v1/layers/score/release", None),
        (PUT, "/api/v1/preview", Some(json!({ "scene": "main" }))),
        (POST, "/api/v1/take", Some(json!({ "scene": "main" }))),
        (GET, "/api/v1/preview.jpg", None),
    ];
    let (show_before, store_before) = (api.show_without_frame().await, api.stored_show());
    for (method, uri, body) in routes {
        for token in [None, Some("wrong-token"), Some(&SHOW_TOKEN[1..])] {
            let reply = api.send(show_request(method.clone(), uri, token, body.as_ref())).await;
            assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "unauthorized"), "{method} {uri} with {token:?}: {}", reply.json);
            assert_eq!(reply.headers.get(header::WWW_AUTHENTICATE).map(|v| v.as_bytes()), Some(&b"Bearer"[..]), "{method} {uri}");
        }
    }
    assert_eq!(api.show_without_frame().await, show_before, "a refused request changed the show");
    assert_eq!(api.stored_show(), store_before, "a refused request changed the store");
}
