//! The web dashboard through the real `showrunner serve` and headless Chromium: the
//! assets are served without the token and hold no data; driven by tests/browser/drive.mjs,
//! the page logs in, uploads the lower third through its file input, adds and plays it,
//! shows it on the programme monitor (pixels read from its canvas), changes its colour and
//! text through the generated props form, shows a 422 next to its field, shows a second
//! scene on the preview monitor only, uploads a transition by drag and drop, takes with
//! it (the programme pixels pass through a mix), follows z order and visibility on the
//! picture, hot-swaps from the library, shows an RTMP output's states, adds and removes
//! inputs, draws the frame-time chart, shows a module fault and quarantine as dismissible
//! notices (from the WebSocket), fits a phone, and returns to the login on a refused token.
//! Skipped (with `SKIPPED:` printed) only when node or chromium is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::serve_process::ServeProcess;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

const TOKEN: &str = "dashboard-test-token";

/// A running `showrunner serve` and a client for it.
struct Server {
    /// Killed when the server is dropped.
    _process: ServeProcess,
    origin: String,
    agent: ureq::Agent,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let process = ServeProcess::start(data_dir, TOKEN);
        let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).timeout_global(Some(Duration::from_secs(30))).build().into();
        Server { origin: process.origin(), _process: process, agent }
    }

    /// `GET path` → (status, headers as "name: value" lines, body).
    fn get(&self, path: &str, with_token: bool) -> Option<(u16, String, Vec<u8>)> {
        let mut request = self.agent.get(format!("{}{path}", self.origin));
        if with_token {
            request = request.header("Authorization", format!("Bearer {TOKEN}"));
        }
        let mut response = request.call().ok()?;
        let headers = response.headers().iter().map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("?"))).collect();
        Some((response.status().as_u16(), headers, response.body_mut().read_to_vec().ok()?))
    }
}

/// `name` on PATH (or `$CHROMIUM` for chromium), if it is there.
fn find_program(names: &[&str], env: Option<&str>) -> Option<PathBuf> {
    if let Some(path) = env.and_then(std::env::var_os) {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// Width and height from a PNG's IHDR.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[1..4], b"PNG", "{} is a PNG", path.display());
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn the_assets_are_embedded_and_served_without_the_token() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let (status, headers, _) = server.get("/", false).unwrap();
    assert_eq!(status, 303, "/ redirects: {headers}");
    assert!(headers.contains("location: /dashboard/"), "{headers}");
    for (path, content_type, needle) in [
        ("/dashboard/", "text/html", "id=\"login\""),
        ("/dashboard/app.js", "text/javascript", "Authorization"),
        ("/dashboard/monitors.js", "text/javascript", "/monitors/"),
        ("/dashboard/charts.js", "text/javascript", "function drawCharts"),
        ("/dashboard/show.js", "text/javascript", "function propsForm"),
        ("/dashboard/library.js", "text/javascript", "function refreshModules"),
        ("/dashboard/app.css", "text/css", ".panel"),
    ] {
        let (status, headers, body) = server.get(path, false).unwrap();
        assert_eq!(status, 200, "{path}");
        assert!(headers.contains(&format!("content-type: {content_type}")), "{path}: {headers}");
        assert!(headers.contains("content-security-policy: default-src 'none'"), "{path}: {headers}");
        assert!(String::from_utf8(body).unwrap().contains(needle), "{path} is the embedded asset");
    }
    assert_eq!(server.get("/dashboard/secret.txt", false).unwrap().0, 404);
    assert_eq!(server.get("/api/v1/show", false).unwrap().0, 401, "the data still needs the token");
}

#[test]
fn the_dashboard_runs_a_show_in_headless_chromium() {
    let (Some(node), Some(chromium)) = (find_program(&["node"], None), find_program(&["chromium", "chromium-browser", "google-chrome"], Some("CHROMIUM"))) else {
        println!("SKIPPED: the dashboard browser test needs node and chromium on PATH (`cargo xtask setup` installs both)");
        return;
    };
    let guests = ["scene_lower_third", "guest_hostile", "transition_crossfade", "scene_scoreboard", "guest_scoreboard_v2"].map(common::guest);
    let guest_dir = guests[0].parent().expect("the guest folder").to_owned();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let shots = common::target_dir().join("dashboard-screenshots");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/drive.mjs");
    let output = Command::new(node)
        .arg(&driver)
        .args(["--base", &server.origin, "--token", TOKEN, "--shots", shots.to_str().unwrap(), "--chromium", chromium.to_str().unwrap()])
        .args(["--guests", guest_dir.to_str().unwrap()])
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "drive.mjs failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("drive.mjs printed no JSON ({e}): {stdout}"));
    println!("{}", serde_json::to_string_pretty(&seen).unwrap());

    // Without a token: only the login, and not one data request.
    assert_eq!(seen["no_token"]["login_visible"], true);
    assert_eq!(seen["no_token"]["app_visible"], false);
    assert_eq!(seen["no_token"]["api_requests"], serde_json::json!([]), "the page asked for data without a token");
    assert_eq!(seen["wrong_token"]["app_visible"], false);
    assert!(seen["wrong_token"]["message"].as_str().unwrap().contains("refused"), "{}", seen["wrong_token"]);

    // The programme picture in the page: black while empty, the lower third after play.
    let (empty, played) = (&seen["empty"], &seen["played"]);
    assert_eq!((empty["width"].as_u64(), empty["height"].as_u64()), (Some(320), Some(180)), "the preview is the 320x180 programme");
    assert!(empty["bright"].as_f64().unwrap() < 0.005, "an empty show is black: {empty}");
    assert!(played["bright"].as_f64().unwrap() > 0.01, "the lower third's text is on the picture: {played}");
    assert!(played["frame"].as_i64() > empty["frame"].as_i64(), "the picture refreshes");
    let fields = seen["prop_fields"].to_string();
    for field in ["name:text", "title:text", "accent:color", "background:color", "text-color:color"] {
        assert!(fields.contains(field), "the props form has {field}: {fields}");
    }

    // The props form: the bar turned green on the picture, the name changed in the show.
    assert!(seen["recoloured"]["green"].as_f64().unwrap() > played["green"].as_f64().unwrap() + 0.05, "the bar colour reached the picture: {}", seen["recoloured"]);
    assert_eq!(seen["layer_props"]["background"], "#00C000E6", "the colour changed, its alpha kept");
    assert_eq!(seen["layer_props"]["name"], "Grace Hopper");
    assert!(seen["bad_colour_message"].as_str().unwrap().contains("accent"), "the 422 is shown next to its field: {}", seen["bad_colour_message"]);

    show_steps_behave(&seen);

    // A layer that panics: one notice counting its faults, one for its quarantine, both dismissible.
    let fault = &seen["fault"];
    assert!(fault["text"].as_str().unwrap().contains("hostile panic"), "{fault}");
    assert!(fault["quarantined"].as_str().unwrap().contains("Layer bad is quarantined"), "{fault}");
    assert_eq!(fault["notices"], 2, "repeated faults of a layer share one notice: {fault}");
    assert_eq!(fault["after_dismiss"], 0);

    assert_eq!(seen["events_status"], "live", "the WebSocket event stream connected");
    assert!(seen["phone_overflow_px"].as_i64().unwrap() <= 0, "nothing is wider than a 390 px phone");
    assert_eq!(seen["stale_token"]["login_visible"], true, "a 401 returns to the login");
    assert_eq!(seen["stale_token"]["app_visible"], false);

    // The module list carries the prop specs the form is built from.
    let (status, _, body) = server.get("/api/v1/modules", true).unwrap();
    assert_eq!(status, 200);
    let modules: Value = serde_json::from_slice(&body).unwrap();
    let props: Vec<&str> = modules["modules"][0]["props"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(props, ["name", "title", "accent", "background", "text-color"]);

    for (name, size) in [("login-1280x720.png", (1280, 720)), ("dashboard-1280x720.png", (1280, 720)), ("dashboard-1280x720-charts.png", (1280, 720)), ("dashboard-390x844.png", (390, 844))] {
        assert_eq!(png_size(&shots.join(name)), size, "{name}");
    }
}

fn number(value: &Value, what: &str) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("{what} is not a number: {value}"))
}

/// What drive.mjs's show steps (tests/browser/show_steps.mjs) saw.
fn show_steps_behave(seen: &Value) {
    // The preview monitor: a placeholder with no preview scene, then the blue lower third
    // of `second`, while the programme monitor shows none of it.
    let preview = &seen["preview"];
    assert_eq!(preview["placeholder"]["visible"], true, "{preview}");
    assert_eq!(preview["placeholder"]["text"], "no preview scene", "{preview}");
    assert!(number(&preview["preview"]["blue"], "preview blue") > 0.02, "the preview monitor shows second's lower third: {preview}");
    assert!(number(&preview["program"]["blue"], "programme blue") < 0.002, "the programme monitor does not: {preview}");
    assert!(number(&preview["program"]["green"], "programme green") > 0.02, "it still shows the green lower third: {preview}");
    assert_eq!(preview["placeholder_after"], false);
    assert_eq!(preview["preview"]["scene"], "second", "the monitor names its scene: {preview}");

    assert!(number(&seen["preview_main"]["green"], "green") > 0.02, "back on main, the preview shows its green lower third: {}", seen["preview_main"]);

    // Drag and drop: the page accepts the drag, highlights the zone, uploads the file.
    let dropped = &seen["dropped"];
    assert_eq!((dropped["over_accepted"].as_bool(), dropped["highlighted"].as_bool(), dropped["drop_accepted"].as_bool()), (Some(true), Some(true), Some(true)), "{dropped}");
    assert_eq!(dropped["highlight_after"], false, "{dropped}");
    assert_eq!(dropped["modules_after"].as_u64(), dropped["modules_before"].as_u64().map(|n| n + 1), "{dropped}");
    assert!(dropped["message"].as_str().unwrap().starts_with("uploaded Crossfade@"), "{dropped}");

    // The crossfade take: green at the start, blue at the end, a mix of both in between,
    // and the page shows the transition running.
    let take = &seen["take"];
    let samples = take["samples"].as_array().unwrap();
    let (first, last) = (&samples[0], samples.last().unwrap());
    let (g0, g1, b0, b1) = (number(&first["g"], "g"), number(&last["g"], "g"), number(&first["b"], "b"), number(&last["b"], "b"));
    assert!(g0 > g1 + 4.0 && b1 > b0 + 4.0, "the take went from the green to the blue lower third: {take}");
    let mixed = samples.iter().filter(|s| {
        let (g, b) = (number(&s["g"], "g"), number(&s["b"], "b"));
        g > g1 + 0.15 * (g0 - g1) && g < g0 - 0.15 * (g0 - g1) && b > b0 + 0.15 * (b1 - b0) && b < b1 - 0.15 * (b1 - b0)
    });
    assert!(mixed.count() >= 1, "a picture mid-way is a mix of both ends: {take}");
    assert!(take["titles"].as_array().unwrap().iter().any(|t| t == "main → second"), "the page showed the transition: {take}");
    assert_eq!(take["program"], "second");

    // z and visibility: the overlap's colour follows the order, and a hidden layer leaves.
    let z = &seen["z"];
    assert!(number(&z["above"]["red"], "red") > 4.0 * number(&z["above"]["blue"], "blue"), "lt3 (red, z 1) on top: {z}");
    assert!(number(&z["below"]["blue"], "blue") > 4.0 * number(&z["below"]["red"], "red"), "lt3 under lt2 after z -1: {z}");
    assert!(number(&z["hidden"]["blue"], "blue") < 0.002 && number(&z["hidden"]["red"], "red") > 0.02, "hidden lt2 gone, lt3 seen again: {z}");
    assert_eq!((z["lt3_z"].as_i64(), z["lt2_visible"].as_bool()), (Some(-1), Some(false)), "{z}");

    // The swap from the library: swap_ms and state shown; the v2 look reaches the picture.
    let swap = &seen["swap"];
    let message = swap["message"].as_str().unwrap();
    assert!(message.starts_with("swapped sb: ") && message.contains(" ms, state carried ("), "{swap}");
    assert!(swap["notice"].as_str().unwrap().contains("Layer sb swapped"), "the swap event shows as a notice: {swap}");
    assert!(number(&swap["after"]["light"], "light") > number(&swap["before"]["light"], "light") + 0.005, "the light v2 panels are on the picture: {swap}");

    // Outputs: the refused destination goes off → connecting/retrying; its key stays masked.
    let outputs = &seen["outputs"];
    let states: Vec<&str> = outputs["states"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(states[0], "off", "{outputs}");
    assert!(states.iter().any(|s| *s == "retrying" || *s == "failed"), "the refused destination shows it: {outputs}");
    let text = outputs["text"].as_str().unwrap();
    assert!(text.contains("reconnects") && !text.contains("secret-stream-key"), "{outputs}");
    assert_eq!(outputs["streaming"], "streaming");

    // Inputs: a missing file is refused by name; credentials never shown; removal.
    let inputs = &seen["inputs"];
    assert!(inputs["refused"].as_str().unwrap().contains("/nonexistent/clip.mp4"), "{inputs}");
    let listed = inputs["listed"].as_str().unwrap();
    assert!(listed.contains("cam") && listed.contains("media") && !listed.contains("hunter2"), "{inputs}");
    assert_eq!(inputs["after_remove"], 0);

    // Charts: the frame-time chart holds the stats and draws them.
    let charts = &seen["charts"];
    assert!(charts["points"].as_u64().unwrap() >= 5, "{charts}");
    assert!((number(&charts["last"]["budget"], "budget") - 1000.0 / 30.0).abs() < 0.5, "the budget line is the 30 fps interval: {charts}");
    assert!(number(&charts["last"]["mean"], "mean") > 0.0, "{charts}");
    assert!(charts["mean_pixels"].as_u64().unwrap() > 20 && charts["budget_pixels"].as_u64().unwrap() > 20, "the lines are drawn: {charts}");
    assert_eq!(charts["drops_points"], charts["points"]);
    assert_eq!(charts["cpu_shown"], true, "the stats carry cpu_percent, so the CPU chart shows: {charts}");
    assert_eq!(charts["cpu_points"], charts["points"]);

    // The monitors: both over their WebSocket; a closed socket comes back; a socket that
    // cannot open is replaced by polling `/api/v1/monitors/program`.
    assert_eq!(seen["monitor_modes"], serde_json::json!({"program": "live", "preview": "live"}));
    let recover = &seen["recover"];
    assert_eq!(recover["modes"], serde_json::json!(["live", "reconnecting", "live"]), "{recover}");
    assert!(recover["reconnected"]["frame"].as_u64().is_some(), "{recover}");
    assert_eq!(recover["polled"]["mode"], "polling", "{recover}");
    assert!(recover["polled"]["frame"].as_u64().unwrap() >= 3, "polled pictures are drawn: {recover}");
    assert_eq!(recover["polled"]["scene"], "second", "the polled picture's x-scene is shown: {recover}");
    assert!(recover["polls"].as_u64().unwrap() >= 3, "{recover}");
}
