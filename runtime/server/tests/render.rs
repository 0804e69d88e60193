//! `showrunner render`: a module or a show file to a PNG, a PNG sequence and an MP4,
//! read back (PNG pixels, ffprobe for video); bad arguments and faulting modules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::showrunner;

fn guest(crate_name: &str) -> String {
    common::guest(crate_name).to_string_lossy().into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out_path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// ffprobe's view of the first video stream: codec, width, height, frames, duration.
fn probe(path: &str) -> (String, u64, u64, u64, f64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames", "-print_format", "json", "-show_streams", "-show_format", path])
        .output()
        .expect("ffprobe is installed by `cargo xtask setup`");
    assert!(out.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    let num = |x: &serde_json::Value| x.as_u64().or_else(|| x.as_str().and_then(|t| t.parse().ok())).unwrap_or(0);
    let duration = v["format"]["duration"].as_str().and_then(|d| d.parse().ok()).unwrap_or(0.0);
    (s["codec_name"].as_str().unwrap_or_default().to_string(), num(&s["width"]), num(&s["height"]), num(&s["nb_read_frames"]), duration)
}

#[test]
fn a_module_renders_to_a_png_with_ink_where_the_scene_draws() {
    let dir = tempfile::tempdir().unwrap();
    let png = out_path(dir.path(), "lower.png");
    let o = showrunner(&["render", &guest("scene-lower-third"), "--event", "0.1s:play", "--duration", "1.5s", "--size", "640x360", "--out", &png]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("rendered 45 frames"), "{}", stderr(&o));
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (640, 360));
    // The lower third sits in the bottom-left; the top-right corner stays transparent.
    let inked_bottom_left = (0..320).flat_map(|x| (240..360).map(move |y| (x, y))).filter(|&(x, y)| img.get_pixel(x, y)[3] > 200).count();
    assert!(inked_bottom_left > 2000, "only {inked_bottom_left} opaque pixels in the lower third's area");
    assert_eq!(img.get_pixel(600, 20)[3], 0);
}

#[test]
fn a_numbered_pattern_writes_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = out_path(dir.path(), "frames/%03d.png");
    let o = showrunner(&["render", &guest("scene-clock"), "--duration", "0.5s", "--fps", "10", "--size", "320x180", "--out", &pattern]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path().join("frames")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["000.png", "001.png", "002.png", "003.png", "004.png"]);
}

#[test]
fn a_module_renders_to_an_mp4_that_ffprobe_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = out_path(dir.path(), "ticker.mp4");
    let o = showrunner(&["render", &guest("scene-ticker"), "--duration", "2s", "--fps", "30", "--size", "640x360", "--out", &mp4, "--preset", "ultrafast"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (codec, w, h, frames, duration) = probe(&mp4);
    assert_eq!((codec.as_str(), w, h, frames), ("h264", 640, 360, 60));
    assert!((duration - 2.0).abs() < 0.05, "duration {duration}");
}

#[test]
fn the_demo_show_renders_with_its_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = out_path(dir.path(), "demo.mp4");
    let show = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../example-scenes/demo-show.toml");
    let o = showrunner(&["render", show.to_str().unwrap(), "--duration", "5s", "--out", &mp4, "--preset", "ultrafast"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (codec, w, h, frames, _) = probe(&mp4);
    assert_eq!((codec.as_str(), w, h, frames), ("h264", 1280, 720, 150));
}

#[test]
fn a_faulting_module_still_writes_its_output_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let png = out_path(dir.path(), "hostile.png");
    let o = showrunner(&["render", &guest("guest-hostile"), "--props", "mode=panic", "--duration", "0.5s", "--size", "160x90", "--out", &png]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("fault: layer"), "{}", stderr(&o));
    assert!(Path::new(&png).exists());
}

#[test]
fn bad_outputs_and_show_file_overrides_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = showrunner(&["render", &guest("scene-clock"), "--out", &out_path(dir.path(), "out.gif")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("use out.png"), "{}", stderr(&o));

    let show = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../example-scenes/demo-show.toml");
    let o = showrunner(&["render", show.to_str().unwrap(), "--size", "640x360", "--out", &out_path(dir.path(), "x.png")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("a show file sets them itself"), "{}", stderr(&o));

    let o = showrunner(&["render", &guest("scene-clock"), "--event", "soon:play", "--out", &out_path(dir.path(), "x.png")]);
    assert_eq!(o.status.code(), Some(2));
}
