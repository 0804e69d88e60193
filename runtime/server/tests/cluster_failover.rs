//! Output failover between two real `showrunner serve` nodes on one real `redis-server`,
//! pushing to a real nginx-rtmp: with the stream on, exactly one node (the holder of the
//! destination's lease) pushes it and the other shows it as `remote`; when the owner is
//! killed with SIGKILL the survivor takes the lease within the lease's time-to-live and
//! ffprobe reads the stream from nginx again; stopping the stream on the survivor ends the
//! push and frees the lease. The programme recording fails over the same way: the
//! survivor records on into its own data dir, and ffprobe reads both nodes' files.
//! Skipped (with `SKIPPED:`) where `redis-server`, nginx with the RTMP module or ffprobe
//! is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../media/tests/support/rtmp_server.rs"]
mod rtmp_server;

use std::time::{Duration, Instant};

use common::cluster_node::{Node, TOKEN};
use common::redis::RedisServer;
use rtmp_server::{RtmpServer, find_stream, probe_duration, probe_streams, tool_installed, video_packet_times};
use serde_json::{Value, json};

const STREAM_KEY: &str = "failover-key";
/// How long after `stream/start` one node may take to be live with the other showing it remote.
const FIRST_LIVE: Duration = Duration::from_secs(10);
/// The longest takeover accepted after the owner dies: the ~3 s the lease design promises
/// (2 s lease ttl, a take attempt every ~250 ms) plus slack for a loaded machine.
const TAKEOVER: Duration = Duration::from_secs(5);
/// How long after the kill ffprobe may take to read the stream from nginx again.
const READABLE_AGAIN: Duration = Duration::from_secs(10);
/// How long the survivor may take to free the lease after `stream/stop`.
const RELEASE: Duration = Duration::from_secs(2);

impl Node {
    /// `showrunner_output_lease_held{output="main"}` from this node's `/metrics`.
    fn lease_held_metric(&self) -> Option<f64> {
        let request = ureq::http::Request::builder().uri(format!("{}/metrics", self.process.origin())).header("Authorization", format!("Bearer {TOKEN}")).body(()).unwrap();
        let text = self.agent.run(request).unwrap().body_mut().read_to_string().unwrap();
        text.lines().find_map(|line| line.strip_prefix("showrunner_output_lease_held{output=\"main\"} ")).and_then(|v| v.trim().parse().ok())
    }

    /// The recording as this node's `GET /outputs` shows it: (owner, state, whole entry);
    /// `None` while there is none.
    fn recording(&self) -> Option<(Option<String>, String, Value)> {
        let entry = self.expect("GET", "/outputs", None, 200)["recording"].clone();
        (!entry.is_null()).then(|| (entry["owner"].as_str().map(str::to_owned), entry["state"].as_str().unwrap_or_default().to_owned(), entry))
    }

    /// The size of `recordings/FILE` in this node's data dir (0 while it does not exist).
    fn recorded_bytes(&self, file: &str) -> u64 {
        std::fs::metadata(self.data_dir().join("recordings").join(file)).map_or(0, |m| m.len())
    }

    /// Destination `main` as this node's `GET /outputs` shows it: (owner, state, whole entry).
    fn main_output(&self) -> (Option<String>, String, Value) {
        let listed = self.expect("GET", "/outputs", None, 200);
        let entry = listed["outputs"].as_array().and_then(|all| all.iter().find(|o| o["id"] == "main")).cloned();
        let entry = entry.unwrap_or_else(|| panic!("node {}: destination `main` is not listed: {listed}", self.name));
        assert!(entry.get("owner").is_some(), "node {}: the destination has no `owner` field: {entry}", self.name);
        (entry["owner"].as_str().map(str::to_owned), entry["state"].as_str().unwrap_or_default().to_owned(), entry)
    }
}

/// Polls `probe` every 50 ms until it answers `Some`, for at most `limit` counted from
/// `since`; answers the value and the time since `since`.
fn until<T>(since: Instant, limit: Duration, what: &str, nodes: &[&Node], mut probe: impl FnMut() -> Option<T>) -> (T, Duration) {
    loop {
        if let Some(value) = probe() {
            return (value, since.elapsed());
        }
        if since.elapsed() >= limit {
            let logs: String = nodes.iter().map(|n| format!("\n--- log of node {} ---\n{}", n.name, n.process.log(3000))).collect();
            panic!("{what}: not within {limit:?}{logs}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// ffprobe reads an h264 320x180 video stream from `url` (nginx hands a player the stream
/// of whoever publishes the key).
fn stream_readable(url: &str) -> Result<(), String> {
    let streams = probe_streams(url);
    match find_stream(&streams, "video") {
        Some(video) if (video.codec_name.as_str(), video.width, video.height) == ("h264", Some(320), Some(180)) => Ok(()),
        _ => Err(format!("no h264 320x180 video from nginx: {streams:?}")),
    }
}

/// How many times `key` was published to nginx (its info-level error log has one
/// `publish: name='KEY'` line per publish command, refused ones included).
fn publishes(server: &RtmpServer, key: &str) -> usize {
    server.logs().matches(&format!("publish: name='{key}'")).count()
}

/// Adds a lower third through `a`, waits until `b` has it, and plays it (the event
/// reaches both nodes), so the picture either node pushes is not black.
fn lower_third_on_both(a: &Node, b: &Node) {
    let module = a.upload("scene-lower-third");
    let layer = json!({ "id": "name", "scene": "main", "module": module, "props": { "name": "Ada Lovelace", "title": "Mathematician" } });
    a.expect("POST", "/layers", Some(layer), 201);
    until(Instant::now(), Duration::from_secs(10), "the lower third reaching b", &[a, b], || b.layer("name").map(|_| ()));
    a.expect("POST", "/layers/name/events", Some(json!({ "name": "play" })), 202);
}

#[test]
fn when_the_owner_of_a_destination_is_killed_the_other_node_takes_it_over() {
    let test = "when_the_owner_of_a_destination_is_killed_the_other_node_takes_it_over";
    if !tool_installed("ffprobe") {
        println!("SKIPPED: {test}: ffprobe is not installed (cargo xtask setup installs ffmpeg)");
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(test) else { return };
    let Some(nginx) = RtmpServer::start() else {
        println!("SKIPPED: {test}: nginx with the RTMP module is not installed");
        return;
    };
    let url = nginx.url(STREAM_KEY);
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    lower_third_on_both(&a, &b);

    // 1. The stream goes on through a: one node pushes, the other shows it as remote.
    a.expect("POST", "/outputs", Some(json!({ "id": "main", "url": url })), 201);
    let started = Instant::now();
    let reply = a.call("POST", "/stream/start", None, None).json;
    assert!(!reply.to_string().contains(STREAM_KEY), "the stream key never leaves the server: {reply}");
    let (owner, took) = until(started, FIRST_LIVE, "one node live and the other showing it remote", &[&a, &b], || {
        let (on_a, on_b) = (a.main_output(), b.main_output());
        let owner = on_a.0.clone().filter(|o| on_b.0.as_deref() == Some(o.as_str()))?;
        let states = match owner.as_str() {
            "a" => (on_a.1.as_str(), on_b.1.as_str()),
            "b" => (on_b.1.as_str(), on_a.1.as_str()),
            other => panic!("owner {other:?} is neither node: a shows {}, b shows {}", on_a.2, on_b.2),
        };
        (states == ("live", "remote")).then_some(owner)
    });
    eprintln!("node {owner} owns `main` and is live {took:?} after stream/start");
    for node in [&a, &b] {
        assert_eq!(node.expect("GET", "/outputs", None, 200)["streaming"], true, "node {}: the stream is on everywhere", node.name);
    }
    let (mut owner_node, survivor) = if owner == "a" { (a, b) } else { (b, a) };
    let remote = survivor.main_output().2;
    assert_eq!(remote["bytes_sent"], 0, "the node that does not own `main` sends nothing: {remote}");
    assert_eq!((owner_node.lease_held_metric(), survivor.lease_held_metric()), (Some(1.0), Some(0.0)), "the lease is in /metrics on both nodes");
    stream_readable(&url).unwrap_or_else(|why| panic!("before the kill: {why}\n{}", nginx.logs()));
    assert_eq!(publishes(&nginx, STREAM_KEY), 1, "exactly one node published the key\n{}", nginx.logs());

    // 2. The owner dies without a word; the survivor takes the lease and pushes.
    owner_node.process.kill_9();
    let killed = Instant::now();
    let (_, takeover) = until(killed, TAKEOVER, "the survivor owning `main`", &[&survivor], || (survivor.main_output().0.as_deref() == Some(survivor.name)).then_some(()));
    eprintln!("TAKEOVER: node {} owned `main` {:.0} ms after node {} was killed with SIGKILL", survivor.name, takeover.as_secs_f64() * 1000.0, owner_node.name);
    let (_, live_again) = until(killed, READABLE_AGAIN, "the survivor live", &[&survivor], || {
        let (owner, state, _) = survivor.main_output();
        (owner.as_deref() == Some(survivor.name) && state == "live").then_some(())
    });
    eprintln!("node {} was live {:.0} ms after the kill", survivor.name, live_again.as_secs_f64() * 1000.0);
    let mut probes = 0;
    let (_, readable) = until(killed, READABLE_AGAIN, "ffprobe reading the survivor's stream", &[&survivor], || {
        probes += 1;
        stream_readable(&url).ok()
    });
    eprintln!("ffprobe read the stream again {:.0} ms after the kill (probe {probes})", readable.as_secs_f64() * 1000.0);
    assert_eq!(publishes(&nginx, STREAM_KEY), 2, "the survivor published the key once more\n{}", nginx.logs());
    assert_eq!(nginx.recording(STREAM_KEY).len(), 2, "nginx recorded one session per node\n{}", nginx.logs());

    // 3. The stream stops on the survivor: its push ends and the lease is free.
    let stopped = survivor.expect("POST", "/stream/stop", None, 200);
    assert_eq!(stopped["streaming"], false, "{stopped}");
    let (_, released) = until(Instant::now(), RELEASE, "the lease freed after stream/stop", &[&survivor], || {
        let (owner, state, _) = survivor.main_output();
        (owner.is_none() && state == "off").then_some(())
    });
    eprintln!("the lease was free {:.0} ms after stream/stop", released.as_secs_f64() * 1000.0);
    nginx.wait_for_recordings(STREAM_KEY, 2);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(publishes(&nginx, STREAM_KEY), 2, "nobody published after stream/stop\n{}", nginx.logs());
    drop(owner_node);
}

/// ffprobe reads an h264 320x180 video from `path` with `min_frames` frames at least;
/// answers how many it has and the seconds they span.
fn recording_readable(path: &std::path::Path, min_frames: usize) -> (usize, f64) {
    let streams = probe_streams(&path.to_string_lossy());
    let video = find_stream(&streams, "video").unwrap_or_else(|| panic!("no video in {}: {streams:?}", path.display()));
    assert_eq!((video.codec_name.as_str(), video.width, video.height), ("h264", Some(320), Some(180)), "{}", path.display());
    let times = video_packet_times(path);
    assert!(times.len() >= min_frames, "{} holds {} frames, expected at least {min_frames}", path.display(), times.len());
    let span = times.iter().copied().fold(f64::MIN, f64::max) - times.iter().copied().fold(f64::MAX, f64::min);
    (times.len(), span)
}

#[test]
fn when_the_node_recording_the_programme_is_killed_the_other_node_records_on() {
    let test = "when_the_node_recording_the_programme_is_killed_the_other_node_records_on";
    if !tool_installed("ffprobe") {
        println!("SKIPPED: {test}: ffprobe is not installed (cargo xtask setup installs ffmpeg)");
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(test) else { return };
    let (a, b) = (Node::start("a", &redis), Node::start("b", &redis));
    lower_third_on_both(&a, &b);

    // 1. Recording starts through a: one node records, the other shows it as remote, and a
    //    second recording is refused on either node.
    let reply = a.expect("POST", "/recording", Some(json!({ "file": "show.mkv" })), 201);
    assert!(reply["recording"]["owner"].is_string(), "the reply names the node recording: {reply}");
    eprintln!("POST /recording on a: node {} took it", reply["recording"]["owner"]);
    let started = Instant::now();
    let (owner, took) = until(started, FIRST_LIVE, "one node recording and the other showing it remote", &[&a, &b], || {
        let (on_a, on_b) = (a.recording()?, b.recording()?);
        let owner = on_a.0.clone().filter(|o| on_b.0.as_deref() == Some(o.as_str()))?;
        let states = if owner == "a" { (on_a.1, on_b.1) } else { (on_b.1, on_a.1) };
        (states == ("live".to_string(), "remote".to_string())).then_some(owner)
    });
    eprintln!("node {owner} records and the other shows it remote {took:?} after POST /recording");
    for node in [&a, &b] {
        let again = node.call("POST", "/recording", Some(&json!({ "file": "other.mkv" })), None);
        assert_eq!((again.status, again.code()), (409, "conflict"), "node {}: a second recording: {}", node.name, again.json);
    }
    let (mut owner_node, survivor) = if owner == "a" { (a, b) } else { (b, a) };
    until(Instant::now(), Duration::from_secs(10), "the owner's file growing", &[&owner_node], || (owner_node.recorded_bytes("show.mkv") > 20_000).then_some(()));
    assert_eq!(survivor.recorded_bytes("show.mkv"), 0, "only the owner writes a file");
    std::thread::sleep(Duration::from_secs(2));

    // 2. The owner dies; the survivor takes the lease and records on into its own data dir.
    owner_node.process.kill_9();
    let killed = Instant::now();
    let (_, takeover) = until(killed, TAKEOVER, "the survivor recording", &[&survivor], || {
        let (owner, state, _) = survivor.recording()?;
        (owner.as_deref() == Some(survivor.name) && state == "live").then_some(())
    });
    eprintln!("TAKEOVER: node {} recorded {:.0} ms after node {} was killed with SIGKILL", survivor.name, takeover.as_secs_f64() * 1000.0, owner_node.name);
    until(Instant::now(), Duration::from_secs(10), "the survivor's file growing", &[&survivor], || (survivor.recorded_bytes("show.mkv") > 20_000).then_some(()));
    std::thread::sleep(Duration::from_secs(2));

    // 3. Stopping on the survivor closes its file and frees the lease.
    let stopped = survivor.expect("DELETE", "/recording", None, 200);
    assert_eq!(stopped["recording"], Value::Null, "the reply waits for the recording to end: {stopped}");
    let again = survivor.call("DELETE", "/recording", None, None);
    assert_eq!(again.status, 404, "nothing left to stop: {}", again.json);
    // At 30 fps, the 2 s slept after each file grew hold 60 frames; 30 leaves room for a
    // busy machine and the encoder's delay.
    let survivor_file = survivor.data_dir().join("recordings/show.mkv");
    let (survivor_frames, survivor_span) = recording_readable(&survivor_file, 30);
    let closed = probe_duration(&survivor_file).unwrap_or_default();
    assert!(closed >= survivor_span, "the stop was answered once the file was closed with its duration ({closed:.2} s; frames span {survivor_span:.2} s)");
    let (owner_frames, owner_span) = recording_readable(&owner_node.data_dir().join("recordings/show.mkv"), 30);
    eprintln!("the killed node's file holds {owner_frames} frames over {owner_span:.2} s, the survivor's {survivor_frames} over {survivor_span:.2} s");
    drop(owner_node);
}
