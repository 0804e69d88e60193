//! `showrunner live`: a module streamed in real time to a real nginx-rtmp on a loopback
//! port and recorded, read back with ffprobe; the recording survives `kill -9`; bad
//! outputs are refused before anything starts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../media/tests/support/rtmp_server.rs"]
mod rtmp_server;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rtmp_server::{RtmpServer, find_stream, probe_duration, probe_streams};

fn clock_module() -> String {
    common::guest("scene-clock").to_string_lossy().into_owned()
}

#[test]
fn a_module_streams_for_its_duration_with_every_frame_slot_accounted_for() {
    let Some(server) = RtmpServer::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let summary_path = dir.path().join("summary.json");
    let recording = dir.path().join("programme.mkv");
    let preview_path = dir.path().join("preview.jpg");
    let out = common::showrunner(&[
        "live",
        &clock_module(),
        "--size",
        "640x360",
        "--duration",
        "4s",
        "--bitrate",
        "1500",
        "--rtmp",
        &server.url("cli"),
        "--record",
        recording.to_str().unwrap(),
        "--status-every",
        "1s",
        "--summary-json",
        summary_path.to_str().unwrap(),
        "--preview",
        preview_path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("/live/cli"), "the stream key is never printed: {stderr}");
    assert!(stderr.contains("output rtmp (rtmp://127.0.0.1:") && stderr.contains("): live"), "{stderr}");
    assert!(stderr.contains("frame ") && stderr.contains("| rtmp: live"), "status lines: {stderr}");

    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    let count = |key: &str| summary[key].as_u64().unwrap();
    assert_eq!(
        count("frames_rendered") + count("frames_repeated") + count("frames_skipped"),
        120,
        "4 s at 30 fps, every slot filled: {summary}"
    );
    let drift = summary["pts_drift_ms"].as_f64().unwrap();
    assert!(drift.abs() < 100.0, "the stream clock kept to the wall clock: {drift} ms");
    for output in summary["outputs"].as_array().unwrap() {
        assert_eq!(output["state"], "stopped", "{output}");
        assert_eq!(output["reconnects"], 0, "{output}");
        assert!(output["bytes_sent"].as_u64().unwrap() > 10_000, "{output}");
    }

    let preview = image::open(&preview_path).expect("--preview left a JPEG").to_rgb8();
    assert_eq!(preview.dimensions(), (640, 360), "640x360 fits the preview box as it is");
    assert!(!dir.path().join("preview.jpg.partial").exists(), "the preview is replaced by rename");

    let files = server.wait_for_recordings("cli", 1);
    let streams = probe_streams(&files[0].to_string_lossy());
    let video = find_stream(&streams, "video").expect("video reached nginx");
    assert_eq!((video.codec_name.as_str(), video.width, video.height), ("h264", Some(640), Some(360)));
    assert!(find_stream(&streams, "audio").is_some_and(|a| a.codec_name == "aac"), "{streams:?}");
    let duration = probe_duration(&recording).unwrap();
    assert!((3.5..=4.2).contains(&duration), "the recording holds {duration} s of 4 s");
}

#[test]
fn a_looped_show_fires_its_cues_again_every_length() {
    let dir = tempfile::tempdir().unwrap();
    let show = dir.path().join("loop.toml");
    let module = clock_module();
    std::fs::write(
        &show,
        format!(
            "size = \"320x180\"\nfps = \"30\"\nprogram = \"main\"\nlength = \"1s\"\n\n\
             [[scene]]\nname = \"main\"\n\n[[scene.layer]]\nid = \"clock\"\nmodule = {module:?}\n\n\
             [[cue]]\nat = \"0.1s\"\nlayer = \"clock\"\nevent = \"play\"\n\n\
             [[cue]]\nat = \"0.5s\"\nlayer = \"clock\"\nevent = \"stop\"\n"
        ),
    )
    .unwrap();
    let summary_path = dir.path().join("summary.json");
    let recording = dir.path().join("loop.mkv");
    let run = |looped: bool| {
        let _ = std::fs::remove_file(&recording);
        let mut args = vec!["live", show.to_str().unwrap(), "--duration", "3s", "--record", recording.to_str().unwrap()];
        args.extend(["--summary-json", summary_path.to_str().unwrap()]);
        if looped {
            args.push("--loop");
        }
        let out = common::showrunner(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
        summary["cues_fired"].as_u64().unwrap()
    };
    assert_eq!(run(false), 2, "without --loop the cues fire once");
    assert_eq!(run(true), 6, "with --loop, once per 1 s pass of a 3 s run");
}

#[test]
fn a_recording_stays_playable_when_the_process_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("killed.mkv");
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["live", &clock_module(), "--size", "640x360", "--record", recording.to_str().unwrap()])
        .env("SHOWRUNNER_CACHE_DIR", cache.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut grown = false;
    while Instant::now() < deadline && !grown {
        std::thread::sleep(Duration::from_millis(200));
        grown = std::fs::metadata(&recording).is_ok_and(|m| m.len() > 40_000);
    }
    std::thread::sleep(Duration::from_secs(1));
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();
    assert!(grown, "the recording never grew");
    let streams = probe_streams(&recording.to_string_lossy());
    let video = find_stream(&streams, "video").expect("ffprobe reads the video of a killed recording");
    assert_eq!((video.codec_name.as_str(), video.width), ("h264", Some(640)));
    assert!(find_stream(&streams, "audio").is_some(), "{streams:?}");
    let frames = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
        .arg(&recording)
        .output()
        .unwrap();
    let packets: u64 = String::from_utf8_lossy(&frames.stdout).trim().parse().unwrap_or(0);
    assert!(packets >= 30, "{packets} video frames survived the kill");
}

#[test]
fn a_dead_server_is_retried_and_never_holds_up_the_end_of_the_show() {
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let out = common::showrunner(&[
        "live",
        &clock_module(),
        "--size",
        "320x180",
        "--duration",
        "3s",
        "--rtmp",
        &format!("rtmp://127.0.0.1:{dead_port}/live/nobody"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("; retry 1 in 500ms") && stderr.contains("; retry 2 in 1s"), "backoff is reported: {stderr}");
    assert!(stderr.contains("output rtmp (") && stderr.contains("): stopped, 0 bytes"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "it ended promptly: {:?}", started.elapsed());
}

#[test]
fn bad_outputs_are_refused_before_the_show_starts() {
    let no_output = common::showrunner(&["live", &clock_module(), "--duration", "1s"]);
    assert_eq!(no_output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_output.stderr).contains("nothing to send the show to"));

    let bad_url = common::showrunner(&["live", &clock_module(), "--rtmp", "http://127.0.0.1/live/key"]);
    assert_eq!(bad_url.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("must start with rtmp:// or rtmps://"));

    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken.mkv");
    std::fs::write(&taken, b"yesterday's show").unwrap();
    let refused = common::showrunner(&["live", &clock_module(), "--record", taken.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("never replaces"));
    assert_eq!(std::fs::read(&taken).unwrap(), b"yesterday's show", "nothing lost");
}
