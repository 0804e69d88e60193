//! Redis restarted in the middle of a show with two real `showrunner serve` nodes on it:
//! while Redis is gone both nodes keep rendering and refuse changes with 503
//! `cluster_unavailable`; when a durable Redis (`appendonly yes`, `appendfsync always`)
//! comes back, changes are accepted again within seconds, reach the other node, and every
//! acknowledged change made before the crash is still there on both nodes and in Redis
//! (a node joining afterwards gets it); when a memory-only Redis comes back empty, the
//! nodes seed it again from their show and changes flow between them again. Skipped (with
//! `SKIPPED:`) where `redis-server` is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::cluster_node::{Node, within};
use common::redis::RedisServer;
use serde_json::{Value, json};

/// How long a change made on one node may take to show on another before Redis goes.
const PROPAGATION: Duration = Duration::from_secs(5);
/// How long after Redis answers `PING` again a change must be accepted.
const BACK_IN_SERVICE: Duration = Duration::from_secs(10);
/// How long after it was accepted a change made after the restart may take to reach the other node.
const RESYNCED_PROPAGATION: Duration = Duration::from_secs(2);

impl Node {
    /// Uploads the lower third to this node only and adds it as layer `name` on scene `main`.
    fn add_lower_third(&self) {
        let module = self.upload("scene-lower-third");
        let layer = json!({ "id": "name", "scene": "main", "module": module, "props": { "name": "Ada Lovelace", "title": "Mathematician" }, "z": 3 });
        self.expect("POST", "/layers", Some(layer), 201);
    }

    fn frame(&self) -> u64 {
        self.expect("GET", "/show", None, 200)["frame"].as_u64().expect("GET /show has a frame counter")
    }
}

/// With Redis gone: both nodes' shows go on rendering (the frame counter advances and the
/// programme monitor answers) and a change on `writer` is refused with 503 `cluster_unavailable`.
fn assert_on_air_and_read_only(a: &Node, b: &Node, writer: &Node) {
    let frames = [a.frame(), b.frame()];
    let refused = writer.call("PATCH", "/layers/name/props", Some(&json!({ "title": "while Redis is down" })), None);
    assert_eq!((refused.status, refused.code()), (503, "cluster_unavailable"), "node {}: a change with Redis down: {}", writer.name, refused.json);
    std::thread::sleep(Duration::from_millis(1000));
    for (node, before) in [a, b].into_iter().zip(frames) {
        let after = node.frame();
        assert!(after > before + 5, "node {}: the show kept rendering with Redis down: frame {before}, a second or more later {after}", node.name);
        let program = node.call("GET", "/monitors/program", None, None);
        assert_eq!(program.status, 200, "node {}: GET /monitors/program with Redis down: {}", node.name, program.json);
    }
}

/// Sends `change` to `writer` every 100 ms until it answers 200, then waits until `reader`
/// has the layer at the version the 200 gave; answers (Redis back → change accepted,
/// accepted → reader has it) and the refusals that were not 503 `cluster_unavailable`
/// (there must be none: a change sent without `If-Match` conflicts with nobody's change),
/// which the caller asserts on after its other checks.
fn change_after_restart(writer: &Node, reader: &Node, change: &Value) -> (Duration, Duration, Vec<String>) {
    let back = Instant::now();
    let mut refusals = Vec::new();
    let accepted = loop {
        let reply = writer.call("PATCH", "/layers/name/props", Some(change), None);
        if reply.status == 200 {
            break reply;
        }
        refusals.push(format!("{:?}: {} {}", back.elapsed(), reply.status, reply.json));
        assert!(back.elapsed() < BACK_IN_SERVICE, "node {}: changes still refused {BACK_IN_SERVICE:?} after Redis answered again: {refusals:#?}\nlog:\n{}", writer.name, writer.process.log(4000));
        std::thread::sleep(Duration::from_millis(100));
    };
    let to_accepted = back.elapsed();
    eprintln!("node {}: accepted after {to_accepted:?}; refused before: {refusals:#?}", writer.name);
    let wrong: Vec<String> = refusals.into_iter().filter(|r| !r.contains("cluster_unavailable")).map(|r| format!("node {}: {r}", writer.name)).collect();
    let version = accepted.json["version"].as_u64().expect("the reply to a change has the layer's version");
    let (_, to_reader) = within(RESYNCED_PROPAGATION, "the change made after Redis came back", reader, || {
        reader.layer("name").filter(|l| l["version"] == version && change.as_object().unwrap().iter().all(|(key, value)| &l["props"][key] == value))
    });
    (to_accepted, to_reader, wrong)
}

#[test]
fn redis_restarted_with_appendfsync_always_loses_no_acknowledged_change_and_both_nodes_resync() {
    if !RedisServer::installed() {
        println!("SKIPPED: redis_restarted_with_appendfsync_always_loses_no_acknowledged_change_and_both_nodes_resync: redis-server is not installed (cargo xtask setup installs it)");
        return;
    }
    let mut redis = RedisServer::start_persistent();
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    a.add_lower_third();

    // Step 1: several acknowledged changes on a, the last one seen on b.
    let mut acknowledged = json!({ "name": "Ada Lovelace", "title": "Mathematician" });
    for (take, change) in [json!({ "title": "take 1" }), json!({ "name": "Ada King" }), json!({ "title": "take 2" }), json!({ "title": "Countess of Lovelace" })].into_iter().enumerate() {
        let reply = a.call("PATCH", "/layers/name/props", Some(&change), None);
        assert_eq!(reply.status, 200, "change {take} on a: {}", reply.json);
        for (key, value) in change.as_object().unwrap() {
            acknowledged[key] = value.clone();
        }
    }
    let version = a.layer("name").unwrap()["version"].as_u64().unwrap();
    within(PROPAGATION, "the last acknowledged change from a", &b, || b.layer("name").filter(|l| l["version"] == version && l["props"] == acknowledged));

    // Step 2: Redis killed with SIGKILL.
    redis.kill();
    assert_on_air_and_read_only(&a, &b, &a);

    // Step 3: Redis back on the same port and dir.
    redis.restart();
    let (to_accepted, to_b, wrong_refusals) = change_after_restart(&a, &b, &json!({ "name": "Augusta Ada King" }));
    eprintln!("durable Redis back: change on a accepted after {to_accepted:?}, seen on b {to_b:?} later");
    acknowledged["name"] = json!("Augusta Ada King");

    let on_a = a.layer("name").unwrap();
    let on_b = b.layer("name").unwrap();
    assert_eq!(on_a["props"], acknowledged, "node a has every acknowledged change");
    assert_eq!(on_b["props"], acknowledged, "node b has every acknowledged change");
    assert_eq!(on_a["version"], on_b["version"], "a and b hold the layer at the same cluster version: a {on_a}, b {on_b}");
    assert_eq!(a.show(), b.show(), "a and b show the same show after the restart");

    // What Redis itself holds: a node joining now with an empty data dir takes it.
    let c = Node::start("c", &redis);
    let (on_c, _) = within(PROPAGATION, "the layer from Redis", &c, || c.layer("name").filter(|l| l["version"] == on_a["version"]));
    assert_eq!(on_c["props"], acknowledged, "Redis holds every acknowledged change after its restart: {on_c}");
    assert!(wrong_refusals.is_empty(), "a change without If-Match while Redis came back was refused other than with 503 cluster_unavailable: {wrong_refusals:#?}");
}

#[test]
fn memory_only_redis_restarted_empty_is_seeded_again_and_changes_flow_between_the_nodes() {
    let Some(mut redis) = RedisServer::start_or_skip("memory_only_redis_restarted_empty_is_seeded_again_and_changes_flow_between_the_nodes") else { return };
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    a.add_lower_third();
    a.expect("PATCH", "/layers/name/props", Some(json!({ "title": "before the restart" })), 200);
    let version = a.layer("name").unwrap()["version"].as_u64().unwrap();
    within(PROPAGATION, "the change from a", &b, || b.layer("name").filter(|l| l["version"] == version));
    let show = a.show();
    assert_eq!(b.show(), show, "a and b show the same show before Redis goes");

    redis.kill();
    assert_on_air_and_read_only(&a, &b, &b);
    redis.restart();

    let (to_accepted, to_a, wrong_refusals) = change_after_restart(&b, &a, &json!({ "title": "after the restart" }));
    eprintln!("empty Redis back: change on b accepted after {to_accepted:?}, seen on a {to_a:?} later");
    let (on_a, on_b) = (a.show(), b.show());
    assert_eq!(on_a, on_b, "a and b show the same show after the re-seed");
    let scene_names = |show: &Value| show["scenes"].as_array().unwrap().iter().map(|s| s["name"].clone()).collect::<Vec<_>>();
    assert_eq!(scene_names(&on_a), scene_names(&show), "the scenes survived the empty restart");
    let layer = a.layer("name").expect("the layer survived the empty restart");
    assert_eq!(layer["props"], json!({ "name": "Ada Lovelace", "title": "after the restart" }), "the layer's props are the show's plus the new change");

    // Redis was seeded again with the whole show: a node joining now gets it.
    let c = Node::start("c", &redis);
    within(PROPAGATION, "the show from the re-seeded Redis", &c, || Some(c.show()).filter(|s| *s == on_a));
    assert!(wrong_refusals.is_empty(), "a change without If-Match while Redis came back was refused other than with 503 cluster_unavailable: {wrong_refusals:#?}");
}
