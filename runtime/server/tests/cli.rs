//! `showrunner check` and `showrunner ticks` on good and bad inputs: exit codes and
//! the one-line reasons.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::process::{Command, Output};

use common::{guest, showrunner};

fn wat(source: &str) -> Vec<u8> {
    wat::parse_str(source).expect("valid component text")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn check_describes_a_scene() {
    let path = guest("scene-lower-third");
    let out = showrunner(&["check", path.to_str().unwrap_or_default()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("world    scene (showrunner:scene@0.1.0)"), "{stdout}");
    assert!(stdout.contains("abi      component"), "{stdout}");
    assert!(stdout.contains("module   Lower third"), "{stdout}");
    assert!(stdout.contains("name") && stdout.contains("\"Jane Doe\""), "{stdout}");
    assert!(stdout.contains("compile") && stdout.contains("bytes"), "{stdout}");
}

#[test]
fn check_json_names_a_transition() {
    let path = guest("transition-wipe");
    let out = showrunner(&["check", "--json", path.to_str().unwrap_or_default()]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["world"], "transition");
    assert_eq!(v["wit"], "showrunner:scene@0.1.0");
}

#[test]
fn check_rejects_bad_inputs_with_one_line_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let cases = [
        (write("text.wasm", b"hello, not wasm"), "not a WebAssembly file"),
        // The smallest valid core module: header only.
        (write("core.wasm", b"\0asm\x01\0\0\0"), "core Wasm module"),
        // The smallest valid component: header only, exporting nothing.
        (write("empty.wasm", b"\0asm\x0d\0\x01\0"), "not a showrunner scene or transition"),
        (write("newer.wasm", &wat("(component (import \"showrunner:scene/host@0.2.0\" (instance)))")), "speaks showrunner:scene@0.2.0"),
        (write("http.wasm", &wat("(component (import \"wasi:http/types@0.2.0\" (instance)) (core module $m) (core instance (instantiate $m)))")), "not a showrunner scene"),
    ];
    for (path, reason) in cases {
        let out = showrunner(&["check", path.to_str().unwrap_or_default()]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{}: {stderr}", path.display());
        assert!(stderr.contains(reason), "{}: {stderr}", path.display());
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    let out = showrunner(&["check", "/nonexistent/module.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("cannot read /nonexistent/module.wasm"));
}

#[test]
fn ticks_prints_frames_applies_props_and_events() {
    let path = guest("scene-lower-third");
    let out = showrunner(&["ticks", path.to_str().unwrap_or_default(), "--frames", "20", "--event", "0:play", "--props", "name=Ada Lovelace", "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let frames: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(frames.len(), 20);
    assert_eq!(frames[0]["ops"], 0, "hidden before the first tick after play");
    assert!(frames[19]["ops"].as_u64().unwrap_or(0) > 0, "{}", frames[19]);
    assert_eq!(frames[19]["fresh"], true);
}

#[test]
fn ticks_rejects_unknown_props_naming_what_is_accepted() {
    let path = guest("scene-lower-third");
    let out = showrunner(&["ticks", path.to_str().unwrap_or_default(), "--props", "colour=#ff0000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("unknown prop `colour`; this module accepts: name, title"), "{}", text(&out).1);
}

#[test]
fn ticks_names_the_fault_and_exits_4() {
    let path = guest("guest-hostile");
    let out = showrunner(&["ticks", path.to_str().unwrap_or_default(), "--frames", "10", "--props", "mode=panic"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stdout.contains("FAULT") && stdout.contains("hostile panic"), "{stdout}");
    assert!(stderr.contains("faulted in tick: trapped"), "{stderr}");
}

#[test]
fn ticks_piped_into_a_reader_that_stops_early_exits_cleanly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let path = guest("scene-ticker");
    let cache = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["ticks", path.to_str().unwrap_or_default(), "--frames", "100000"])
        .env("SHOWRUNNER_CACHE_DIR", cache.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("one line");
    assert!(first.starts_with("frame"), "{first}");
    // The reader is gone (like `| head -1`): the next write hits a closed pipe.
    let out = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
