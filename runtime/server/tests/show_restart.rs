//! The show through the real `showrunner serve` binary: a batch of acknowledged changes
//! and a scoreboard's score survive `kill -9` and a restart; a recording running at the
//! kill records again after the restart into a new file, the first one kept; live
//! hot-swaps back and forth each answer with the state carried while the programme
//! picture keeps moving.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::serve_process::ServeProcess;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TOKEN: &str = "restart-test-token";

/// A running `showrunner serve`, killed (SIGKILL) when dropped, also when a test fails.
struct Server {
    process: ServeProcess,
    base: String,
    agent: ureq::Agent,
}

struct Reply {
    status: u16,
    frame_index: Option<u64>,
    body: Vec<u8>,
    json: Value,
}

impl Server {
    /// Starts `showrunner serve` on a free port at 320x180, 30 fps, and waits until it is ready.
    fn start(data_dir: &Path) -> Server {
        let process = ServeProcess::start(data_dir, TOKEN);
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
        Server { base: format!("{}/api/v1", process.origin()), process, agent }
    }

    fn try_call(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Option<Reply> {
        let request = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.base)).header("Authorization", format!("Bearer {TOKEN}"));
        let sent = match body {
            Some((content_type, bytes)) => self.agent.run(request.header("Content-Type", content_type).body(bytes).unwrap()),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = sent.ok()?;
        let frame_index = response.headers().get("x-frame-index").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let body = response.body_mut().read_to_vec().ok()?;
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Some(Reply { status: response.status().as_u16(), frame_index, body, json })
    }

    /// `method path` with `json`, asserting `status`; answers the JSON reply.
    fn expect(&self, method: &str, path: &str, json: Option<Value>, status: u16) -> Value {
        let reply = self.try_call(method, path, json.map(|j| ("application/json", j.to_string().into_bytes()))).expect("the server answers");
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.json);
        reply.json
    }

    fn upload(&self, guest_crate: &str) -> String {
        let bytes = std::fs::read(common::guest(guest_crate)).unwrap();
        let reply = self.try_call("POST", "/modules", Some(("application/wasm", bytes))).expect("the server answers");
        assert!(reply.status == 201 || reply.status == 200, "upload {guest_crate}: {}", reply.json);
        reply.json["hash"].as_str().unwrap().to_string()
    }

    /// `GET /show` without the frame counter.
    fn show(&self) -> Value {
        let mut show = self.expect("GET", "/show", None, 200);
        show.as_object_mut().unwrap().remove("frame");
        show
    }

    /// The programme picture of a frame at or after `frame`, decoded.
    fn picture_after(&self, frame: u64) -> (u64, image::RgbImage) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(reply) = self.try_call("GET", "/preview.jpg", None)
                && reply.status == 200
                && let Some(index) = reply.frame_index.filter(|i| *i >= frame)
            {
                return (index, image::load_from_memory_with_format(&reply.body, image::ImageFormat::Jpeg).expect("a JPEG").to_rgb8());
            }
            assert!(Instant::now() < deadline, "no picture of frame {frame} within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn frame(&self) -> u64 {
        self.expect("GET", "/show", None, 200)["frame"].as_u64().unwrap()
    }

    fn kill_9(mut self) {
        self.process.kill_9();
    }
}

/// Mean absolute difference per channel of two pictures of the same size, 0..=255.
fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

/// The (x, y, width, height) part of `picture`.
fn crop(picture: &image::RgbImage, (x, y, width, height): (u32, u32, u32, u32)) -> image::RgbImage {
    image::imageops::crop_imm(picture, x, y, width, height).to_image()
}

fn bright_pixels(picture: &image::RgbImage) -> usize {
    picture.pixels().filter(|p| p.0.iter().any(|c| *c > 96)).count()
}

fn event(server: &Server, layer: &str, name: &str, payload: &str) {
    server.expect("POST", &format!("/layers/{layer}/events"), Some(json!({ "name": name, "payload": payload })), 202);
}

#[test]
fn the_show_and_the_score_survive_kill_9_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let scoreboard = server.upload("scene-scoreboard");
    let lower_third = server.upload("scene-lower-third");

    server.expect("POST", "/scenes", Some(json!({ "name": "interview" })), 201);
    server.expect("POST", "/scenes", Some(json!({ "name": "break" })), 201);
    server.expect("POST", "/layers", Some(json!({ "id": "score", "scene": "main", "module": scoreboard, "props": { "home-name": "LIONS" } })), 201);
    let placed = json!({ "id": "name", "scene": "main", "module": lower_third, "props": { "name": "Ada Lovelace" },
        "transform": { "a": 1.0, "b": 0.0, "c": 0.0, "d": 1.0, "e": 0.0, "f": -20.0 }, "opacity": 0.9, "z": 2 });
    server.expect("POST", "/layers", Some(placed), 201);
    server.expect("POST", "/layers", Some(json!({ "id": "guest", "scene": "interview", "module": lower_third })), 201);
    server.expect("PATCH", "/layers/score/props", Some(json!({ "away-name": "BEARS", "period": "2ND", "away-color": "#10A040" })), 200);
    server.expect("PATCH", "/layers/guest", Some(json!({ "crop": { "x": 0.0, "y": 90.0, "width": 320.0, "height": 90.0 }, "visible": false, "z": -1 })), 200);
    server.expect("PATCH", "/layers/guest/props", Some(json!({ "title": "Mathematician" })), 200);
    server.expect("PUT", "/preview", Some(json!({ "scene": "interview" })), 200);
    for (layer, name, payload) in [("score", "play", ""), ("name", "play", ""), ("score", "home-score", "+1"), ("score", "home-score", "+1"), ("score", "away-score", "+1"), ("score", "home-score", "+1")] {
        event(&server, layer, name, payload);
    }
    // Guest state is saved every 2 s.
    std::thread::sleep(Duration::from_millis(4500));
    let (_, before_picture) = server.picture_after(server.frame());
    assert!(bright_pixels(&before_picture) > 200, "the scoreboard and the lower third are on screen before the kill");
    let before = server.show();
    assert_eq!(before["scenes"].as_array().map(Vec::len), Some(3), "{before}");
    server.kill_9();

    let server = Server::start(dir.path());
    let after = server.show();
    assert_eq!(after, before, "GET /show after kill -9 and a restart");
    let (index, after_picture) = server.picture_after(45);
    let difference = mean_difference(&before_picture, &after_picture);
    assert!(difference < 2.0, "frame {index} after the restart differs from the picture before the kill by {difference:.2}/255 on average; the scoreboard should be back on screen at 3-1");

    // The scores' region tells 3-1 from a fresh 0-0: reset the score and look again.
    let scores = (54, 8, 30, 14);
    let restored_scores = mean_difference(&crop(&before_picture, scores), &crop(&after_picture, scores));
    event(&server, "score", "reset", "");
    let (_, reset_picture) = server.picture_after(server.frame() + 3);
    let reset_scores = mean_difference(&crop(&before_picture, scores), &crop(&reset_picture, scores));
    eprintln!("whole picture {difference:.2}, scores after restart {restored_scores:.2}, scores after reset {reset_scores:.2}");
    assert!(reset_scores > 3.0 * restored_scores.max(1.0), "the scores after the restart ({restored_scores:.2}) should match 3-1 far better than 0-0 does ({reset_scores:.2})");

    // The restored state is what the scoreboard carries into a swap.
    let v2 = server.upload("guest-scoreboard-v2");
    let swap = server.expect("POST", "/layers/score/swap", Some(json!({ "module": v2 })), 200);
    assert_eq!(swap["state_carried"], true, "{swap}");
    assert!(swap["state_bytes"].as_u64().is_some_and(|b| b > 0), "{swap}");
}

#[test]
fn live_swaps_back_and_forth_carry_the_score_while_frames_keep_coming() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start(dir.path()));
    let v1 = server.upload("scene-scoreboard");
    let v2 = server.upload("guest-scoreboard-v2");
    server.expect("POST", "/layers", Some(json!({ "id": "score", "scene": "main", "module": v1 })), 201);
    for (name, payload) in [("play", ""), ("home-score", "+3"), ("away-score", "+1")] {
        event(&server, "score", name, payload);
    }

    let polling = Arc::new(AtomicBool::new(true));
    let poller = {
        let (server, polling) = (server.clone(), polling.clone());
        std::thread::spawn(move || {
            let mut indexes = Vec::new();
            while polling.load(Ordering::Relaxed) {
                if let Some(reply) = server.try_call("GET", "/preview.jpg", None) {
                    assert_eq!(reply.status, 200, "preview.jpg during swaps: {}", reply.json);
                    assert_eq!(&reply.body[..2], &[0xFF, 0xD8]);
                    indexes.push(reply.frame_index.expect("x-frame-index"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            indexes
        })
    };
    let mut frames = Vec::new();
    for i in 0..8 {
        let to = if i % 2 == 0 { &v2 } else { &v1 };
        let swap = server.expect("POST", "/layers/score/swap", Some(json!({ "module": to })), 200);
        assert_eq!(swap["state_carried"], true, "swap {i}: {swap}");
        assert!(swap["state_bytes"].as_u64().is_some_and(|b| b > 0), "swap {i}: {swap}");
        assert_eq!(swap["module"], to.as_str());
        frames.push(swap["frame"].as_u64().unwrap());
        std::thread::sleep(Duration::from_millis(50));
    }
    polling.store(false, Ordering::Relaxed);
    let indexes = poller.join().expect("the poller saw only good pictures");

    assert!(frames.windows(2).all(|w| w[0] < w[1]), "each swap reaches the screen on a later frame: {frames:?}");
    assert!(indexes.len() >= 5, "pictures seen while swapping: {indexes:?}");
    assert!(indexes.windows(2).all(|w| w[0] <= w[1]), "picture frame indexes never go back: {indexes:?}");
    assert!(indexes.last() > indexes.first(), "the picture moved on while swapping: {indexes:?}");
    assert_eq!(server.expect("GET", "/layers/score", None, 200)["module"], v1.as_str());
}

/// Waits (up to 10 s) until `path` holds more than `bytes`.
fn wait_for_growth(path: &Path, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(path).map_or(0, |m| m.len()) <= bytes {
        assert!(Instant::now() < deadline, "{} never grew past {bytes} bytes", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_recording_running_at_a_kill_records_again_after_the_restart_into_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    let server = Server::start(dir.path());
    let started = server.expect("POST", "/recording", Some(json!({ "file": "show.mkv" })), 201);
    assert!(started["recording"]["target"].as_str().unwrap().ends_with("recordings/show.mkv"), "{started}");
    wait_for_growth(&recordings.join("show.mkv"), 20_000);
    server.kill_9();
    let cut = std::fs::metadata(recordings.join("show.mkv")).unwrap().len();

    let server = Server::start(dir.path());
    let listed = server.expect("GET", "/outputs", None, 200);
    let target = listed["recording"]["target"].as_str().unwrap_or_else(|| panic!("the recording is back after the restart: {listed}"));
    assert!(target.ends_with("recordings/show-2.mkv"), "the recording goes on into a new file: {listed}");
    wait_for_growth(&recordings.join("show-2.mkv"), 20_000);
    assert_eq!(std::fs::metadata(recordings.join("show.mkv")).unwrap().len(), cut, "the file cut by the kill is kept as it was");
    let again = server.try_call("POST", "/recording", Some(("application/json", json!({ "file": "other.mkv" }).to_string().into_bytes()))).unwrap();
    assert_eq!(again.status, 409, "the resumed recording counts as running: {}", again.json);

    let stopped = server.expect("DELETE", "/recording", None, 200);
    assert_eq!(stopped["recording"], Value::Null, "{stopped}");
    drop(server);
    let server = Server::start(dir.path());
    assert_eq!(server.expect("GET", "/outputs", None, 200)["recording"], Value::Null, "a stopped recording stays stopped after a restart");
    let files: Vec<String> = std::fs::read_dir(&recordings).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files.len(), 2, "no third file: {files:?}");
}
