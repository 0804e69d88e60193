//! Several real `showrunner serve` nodes on one real `redis-server`: a scene and a layer
//! added through one node run on the other (its module fetched from Redis) with the same
//! props, a prop change follows within seconds, an event sent through one node plays the
//! layer on both, a stale `If-Match` is refused with 409 `version_conflict` and changes
//! nothing anywhere, a node started later with an empty data dir gets the whole show, a
//! live input added on one node plays on every node (a node joining later included) and
//! goes everywhere when removed on any, and with Redis gone mutations answer 503
//! `cluster_unavailable` while the show keeps rendering. Skipped (with `SKIPPED:`) where
//! `redis-server` is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::clip::{colour_clip, ffmpeg_present};
use common::cluster_node::{Node, within};
use common::redis::RedisServer;
use serde_json::json;
/// How long a change made on one node may take to show on another in these tests
/// (the target is well under a second; this leaves room for a loaded CI machine).
const PROPAGATION: Duration = Duration::from_secs(5);

impl Node {
    /// The programme monitor's picture: (frame index, bright pixels).
    fn program(&self) -> (u64, usize) {
        let reply = self.call("GET", "/monitors/program", None, None);
        assert_eq!(reply.status, 200, "node {}: GET /monitors/program: {}", self.name, reply.json);
        let picture = image::load_from_memory_with_format(&reply.body, image::ImageFormat::Jpeg).expect("a JPEG").to_rgb8();
        let bright = picture.pixels().filter(|p| p.0.iter().any(|c| *c > 96)).count();
        (reply.frame_index.expect("x-frame-index"), bright)
    }
}

/// Adds scene `interview` and a lower third `name` on scene `main` through `a`, the
/// module uploaded to `a` only; answers the module's hash.
fn lower_third_on(a: &Node) -> String {
    let module = a.upload("scene-lower-third");
    a.expect("POST", "/scenes", Some(json!({ "name": "interview" })), 201);
    let layer = json!({ "id": "name", "scene": "main", "module": module, "props": { "name": "Ada Lovelace", "title": "Mathematician" }, "z": 3 });
    a.expect("POST", "/layers", Some(layer), 201);
    module
}

#[test]
fn a_layer_added_on_one_node_runs_on_the_other_with_its_props_and_module() {
    let Some(redis) = RedisServer::start_or_skip("a_layer_added_on_one_node_runs_on_the_other_with_its_props_and_module") else { return };
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    let module = lower_third_on(&a);

    let on_a = a.layer("name").expect("the layer on a");
    let (on_b, took) = within(PROPAGATION, "layer `name` from a", &b, || b.layer("name"));
    eprintln!("layer added on a seen on b after {took:?}");
    assert_eq!(on_b, on_a, "b shows the layer exactly as a does (props, placement, module, version)");
    assert_eq!(on_b["props"]["name"], "Ada Lovelace");
    b.expect("GET", "/scenes/interview", None, 200);
    within(PROPAGATION, "the module in GET /modules", &b, || {
        let modules = b.expect("GET", "/modules", None, 200);
        modules["modules"].as_array().unwrap().iter().any(|m| m["hash"] == module.as_str()).then_some(())
    });

    a.expect("PATCH", "/layers/name/props", Some(json!({ "title": "Countess of Lovelace" })), 200);
    let (_, took) = within(PROPAGATION, "the new title", &b, || b.layer("name").filter(|l| l["props"]["title"] == "Countess of Lovelace"));
    eprintln!("prop change on a seen on b after {took:?}");

    // An event sent through b plays the lower third on both nodes' programme.
    let (_, dark_a) = a.program();
    assert!(dark_a < 100, "the lower third is not on screen before `play`: {dark_a} bright pixels on a");
    let missing = b.call("POST", "/layers/nobody/events", Some(&json!({ "name": "play" })), None);
    assert_eq!(missing.status, 404, "an event for a layer that does not exist: {}", missing.json);
    b.expect("POST", "/layers/name/events", Some(json!({ "name": "play" })), 202);
    for node in [&b, &a] {
        let (bright, took) = within(Duration::from_secs(15), "a bright programme picture after play", node, || Some(node.program().1).filter(|bright| *bright > 100));
        eprintln!("node {}: {bright} bright pixels {took:?} after `play` was sent to b", node.name);
    }

    // A take with a transition on a is the same transition on b, not a cut.
    let crossfade = a.upload("transition-crossfade");
    let taken = a.expect("POST", "/take", Some(json!({ "scene": "interview", "transition": { "module": crossfade, "duration_ms": 3000 } })), 200);
    assert_eq!(taken["incoming"], "interview", "a runs the crossfade: {taken}");
    let (_, took) = within(Duration::from_secs(3), "the crossfade running on b", &b, || {
        let show = b.expect("GET", "/show", None, 200);
        (show["incoming"] == "interview" && show["program"] == "main").then_some(())
    });
    eprintln!("the take on a was a transition on b after {took:?}");
    within(Duration::from_secs(10), "interview on program on b", &b, || (b.expect("GET", "/show", None, 200)["program"] == "interview").then_some(()));
}

#[test]
fn a_stale_if_match_is_refused_with_409_and_changes_nothing_on_either_node() {
    let Some(redis) = RedisServer::start_or_skip("a_stale_if_match_is_refused_with_409_and_changes_nothing_on_either_node") else { return };
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    lower_third_on(&a);
    within(PROPAGATION, "layer `name` from a", &b, || b.layer("name"));

    let scoreboard = a.upload("scene-scoreboard");
    let read = a.layer("name").unwrap()["version"].as_u64().expect("a layer has a version");
    let quoted = format!("\"{read}\"");
    let first = a.call("PATCH", "/layers/name/props", Some(&json!({ "title": "first" })), Some(&quoted));
    assert_eq!(first.status, 200, "If-Match {quoted} on the current version: {}", first.json);
    let written = first.json["version"].as_u64().expect("the reply has the new version");
    assert!(written > read, "version {written} after the change, {read} before");
    within(PROPAGATION, "the first title at the new version", &b, || b.layer("name").filter(|l| l["version"] == written && l["props"]["title"] == "first"));

    let plain = read.to_string();
    for (node, method, path, body) in [
        (&a, "PATCH", "/layers/name/props", Some(json!({ "title": "stale" }))),
        (&b, "PATCH", "/layers/name/props", Some(json!({ "title": "stale" }))),
        (&a, "PATCH", "/layers/name", Some(json!({ "opacity": 0.25 }))),
        (&a, "POST", "/layers/name/swap", Some(json!({ "module": scoreboard }))),
        (&b, "DELETE", "/layers/name", None),
    ] {
        let stale = node.call(method, path, body.as_ref(), Some(&plain));
        assert_eq!((stale.status, stale.code()), (409, "version_conflict"), "node {}: {method} {path} with If-Match {plain}: {}", node.name, stale.json);
        assert_eq!(stale.json["details"]["current_version"], written, "node {}: {method} {path}: {}", node.name, stale.json);
    }

    std::thread::sleep(Duration::from_millis(500));
    for node in [&a, &b] {
        let layer = node.layer("name").unwrap_or_else(|| panic!("node {}: the layer is still there", node.name));
        assert_eq!((layer["version"].as_u64(), &layer["props"]["title"], &layer["opacity"]), (Some(written), &json!("first"), &json!(1.0)), "node {}: {layer}", node.name);
    }
    let current = format!("\"{written}\"");
    let placed = a.call("PATCH", "/layers/name", Some(&json!({ "opacity": 0.5 })), Some(&current));
    assert_eq!(placed.status, 200, "If-Match {current} after the refused ones: {}", placed.json);

    // Both nodes change the same version at once: one wins, the other gets 409, and both
    // end on the winner's change.
    for round in 0..5 {
        let base = a.layer("name").unwrap()["version"].as_u64().unwrap();
        within(PROPAGATION, "a's version", &b, || b.layer("name").filter(|l| l["version"] == base));
        let tag = &format!("\"{base}\"");
        let titles = [format!("a {round}"), format!("b {round}")];
        let replies = std::thread::scope(|scope| {
            let sent: Vec<_> = [&a, &b].into_iter().zip(&titles).map(|(node, title)| scope.spawn(move || node.call("PATCH", "/layers/name/props", Some(&json!({ "title": title })), Some(tag)))).collect();
            sent.into_iter().map(|reply| reply.join().unwrap()).collect::<Vec<_>>()
        });
        let outcome: Vec<(u16, &str)> = replies.iter().map(|r| (r.status, r.code())).collect();
        let winner = match outcome.as_slice() {
            [(200, _), (409, "version_conflict")] => 0,
            [(409, "version_conflict"), (200, _)] => 1,
            _ => panic!("round {round}: one 200 and one 409 version_conflict, not {outcome:?}: {} / {}", replies[0].json, replies[1].json),
        };
        let version = replies[winner].json["version"].as_u64().unwrap();
        for node in [&a, &b] {
            within(PROPAGATION, "the winner's change", node, || node.layer("name").filter(|l| l["props"]["title"] == titles[winner].as_str() && l["version"] == version));
        }
    }
}

#[test]
fn a_node_started_later_with_an_empty_data_dir_gets_the_whole_show() {
    let Some(redis) = RedisServer::start_or_skip("a_node_started_later_with_an_empty_data_dir_gets_the_whole_show") else { return };
    let a = Node::start("a", &redis);
    let module = lower_third_on(&a);
    a.expect("POST", "/layers", Some(json!({ "id": "guest", "scene": "interview", "module": module, "props": { "name": "Grace Hopper" } })), 201);
    a.expect("PATCH", "/layers/guest", Some(json!({ "transform": { "a": 1.0, "b": 0.0, "c": 0.0, "d": 1.0, "e": 12.0, "f": -20.0 }, "opacity": 0.75, "visible": false })), 200);
    a.expect("POST", "/scenes", Some(json!({ "name": "break" })), 201);
    a.expect("DELETE", "/scenes/break", None, 204);
    a.expect("PUT", "/preview", Some(json!({ "scene": "interview" })), 200);
    let show = a.show();

    let c = Node::start("c", &redis);
    let joined = Instant::now();
    let mut on_c = c.show();
    while on_c != show && joined.elapsed() < PROPAGATION {
        std::thread::sleep(Duration::from_millis(20));
        on_c = c.show();
    }
    assert_eq!(on_c, show, "GET /show on c {:?} after it was ready, and on a\nlog of c:\n{}", joined.elapsed(), c.process.log(4000));
    eprintln!("node c had the whole show {:?} after it was ready", joined.elapsed());
    within(PROPAGATION, "the module in GET /modules", &c, || {
        let modules = c.expect("GET", "/modules", None, 200);
        modules["modules"].as_array().unwrap().iter().any(|m| m["hash"] == module.as_str()).then_some(())
    });
    c.expect("PATCH", "/layers/guest/props", Some(json!({ "title": "Rear Admiral" })), 200);
    within(PROPAGATION, "c's change", &a, || a.layer("guest").filter(|l| l["props"]["title"] == "Rear Admiral"));
}

#[test]
fn with_redis_down_mutations_answer_503_and_the_show_keeps_rendering() {
    let Some(mut redis) = RedisServer::start_or_skip("with_redis_down_mutations_answer_503_and_the_show_keeps_rendering") else { return };
    let a = Node::start("a", &redis);
    let module = lower_third_on(&a);
    let (before, _) = a.program();
    redis.kill();

    for (method, path, body) in [
        ("POST", "/scenes", Some(json!({ "name": "later" }))),
        ("PATCH", "/layers/name/props", Some(json!({ "title": "offline" }))),
        ("POST", "/layers", Some(json!({ "id": "extra", "scene": "main", "module": module }))),
        ("DELETE", "/layers/name", None),
        ("POST", "/inputs", Some(json!({ "name": "cam", "kind": "media", "uri": std::env::current_exe().unwrap() }))),
        ("POST", "/recording", Some(json!({ "file": "offline.mkv" }))),
        ("POST", "/layers/name/events", Some(json!({ "name": "play" }))),
    ] {
        let start = Instant::now();
        let reply = a.call(method, path, body.as_ref(), None);
        eprintln!("{method} {path} with Redis down answered {} in {:?}", reply.status, start.elapsed());
        assert_eq!((reply.status, reply.code()), (503, "cluster_unavailable"), "{method} {path}: {}", reply.json);
        let message = reply.json["message"].as_str().unwrap_or_default();
        assert!(message.to_lowercase().contains("redis"), "the message says Redis is the problem: {message:?}");
    }

    let layer = a.layer("name").expect("the refused DELETE left the layer in place");
    assert_eq!(layer["props"]["title"], "Mathematician", "a refused change changed nothing: {layer}");
    let scenes = a.expect("GET", "/show", None, 200)["scenes"].as_array().unwrap().iter().map(|s| s["name"].clone()).collect::<Vec<_>>();
    assert_eq!(scenes, [json!("main"), json!("interview")], "a refused scene was not added");
    assert!(a.layer("extra").is_none(), "a refused layer was not added");
    assert_eq!(a.expect("GET", "/inputs", None, 200), json!([]), "a refused input was not added");
    assert_eq!(a.expect("GET", "/outputs", None, 200)["recording"], serde_json::Value::Null, "a refused recording was not started");
    let frame = a.expect("GET", "/show", None, 200)["frame"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let (after, _) = a.program();
    let later = a.expect("GET", "/show", None, 200)["frame"].as_u64().unwrap();
    assert!(later > frame + 5, "the show kept rendering: frame {frame}, a second later {later}");
    assert!(after > before, "the programme monitor moved on: frame {before} before Redis went, {after} after");
}

impl Node {
    /// Input `name` as this node's `GET /inputs` lists it, or `None`.
    fn input(&self, name: &str) -> Option<serde_json::Value> {
        let listed = self.expect("GET", "/inputs", None, 200);
        listed.as_array().unwrap().iter().find(|i| i["name"] == name).cloned()
    }
}

#[test]
fn a_live_input_added_on_one_node_plays_on_every_node_and_goes_everywhere_when_removed() {
    let Some(redis) = RedisServer::start_or_skip("a_live_input_added_on_one_node_plays_on_every_node_and_goes_everywhere_when_removed") else { return };
    if !ffmpeg_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = colour_clip(dir.path(), [0x20, 0x80, 0xE0]);
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    let added = a.expect("POST", "/inputs", Some(json!({ "name": "clip", "kind": "media", "uri": clip, "loop": true })), 201);
    assert_eq!(added["kind"], "media", "{added}");

    for node in [&b, &a] {
        let (input, took) = within(PROPAGATION, "the clip playing", node, || node.input("clip").filter(|i| i["frames"].as_u64() > Some(0)));
        assert_eq!((input["looping"].as_bool(), input["size"]["width"].as_u64()), (Some(true), Some(320)), "node {}: {input}", node.name);
        eprintln!("node {} played the clip {took:?} after it was added on a", node.name);
    }
    let again = b.call("POST", "/inputs", Some(&json!({ "name": "clip", "kind": "media", "uri": clip })), None);
    assert_eq!(again.status, 409, "the name is taken on b too: {}", again.json);

    let c = Node::start("c", &redis);
    within(PROPAGATION, "the clip playing on a node that joined later", &c, || c.input("clip").filter(|i| i["frames"].as_u64() > Some(0)));

    b.expect("DELETE", "/inputs/clip", None, 204);
    for node in [&a, &c] {
        let (_, took) = within(PROPAGATION, "the clip gone", node, || node.input("clip").is_none().then_some(()));
        eprintln!("node {} stopped the clip {took:?} after it was removed on b", node.name);
    }
}

