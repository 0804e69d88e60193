//! `showrunner new`: the projects it makes build and load, end to end, and it refuses
//! bad names and non-empty folders.
//!
//! The Rust test builds the new crate for wasm32-wasip2 with `CARGO_TARGET_DIR` set to
//! `<target>/scaffold` (dependencies are compiled once, later runs take seconds) and
//! runs its native tests; the project sits in a temporary folder under that target
//! dir, inside this workspace, which its own `[workspace]` table must cope with. The
//! AssemblyScript test runs `npm install` and `npm run build`; without `npm` on PATH
//! it says so and skips (`cargo xtask setup` installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Where scaffolded Rust projects build; shared between runs.
fn scaffold_target() -> PathBuf {
    let dir = target_dir().join("scaffold");
    std::fs::create_dir_all(&dir).expect("create target/scaffold");
    dir
}

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    let cache = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(args)
        .current_dir(cwd)
        .env("SHOWRUNNER_CACHE_DIR", cache.path())
        .output()
        .expect("showrunner runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Runs `cmd`, fails the test with its output unless it succeeds, and says how long it took.
fn run_ok(what: &str, cmd: &mut Command) -> Output {
    let started = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{what} failed ({}):\n{stdout}\n{stderr}", out.status);
    eprintln!("{what}: {:.1}s", started.elapsed().as_secs_f64());
    out
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

#[test]
fn rust_project_builds_checks_ticks_and_passes_its_tests() {
    let scaffold = scaffold_target();
    let parent = tempfile::tempdir_in(&scaffold).expect("tempdir");
    let out = showrunner(&["new", "starter-card", "--lang", "rust", "--dir", parent.path().to_str().unwrap_or_default()], parent.path());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let project = parent.path().join("starter-card");
    for f in ["Cargo.toml", "src/lib.rs", ".gitignore", "README.md"] {
        assert!(project.join(f).is_file(), "{f} missing");
    }
    assert!(stdout.contains("cargo build --release --target wasm32-wasip2"), "{stdout}");
    assert!(stdout.contains("check target/wasm32-wasip2/release/starter_card.wasm"), "{stdout}");
    assert!(stdout.contains("ticks target/wasm32-wasip2/release/starter_card.wasm --frames 60 --event 0:play --every 10"), "{stdout}");
    assert!(!stdout.contains("showrunner dev"), "{stdout}");

    run_ok(
        "cargo build --release --target wasm32-wasip2",
        cargo().args(["build", "--release", "--target", "wasm32-wasip2"]).current_dir(&project).env("CARGO_TARGET_DIR", &scaffold),
    );
    let module = scaffold.join("wasm32-wasip2/release/starter_card.wasm");
    let module = module.to_str().unwrap_or_default();

    let out = showrunner(&["check", module], &project);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("world    scene (showrunner:scene@0.1.0)"), "{stdout}");
    assert!(stdout.contains("abi      component"), "{stdout}");
    assert!(stdout.contains("module   starter-card 0.1.0"), "{stdout}");
    assert!(stdout.contains("text") && stdout.contains("color"), "{stdout}");

    let out = showrunner(&["ticks", module, "--frames", "60", "--event", "0:play", "--every", "10"], &project);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.contains("text×1"), "the card shows after play: {stdout}");

    let out = run_ok("cargo test (native)", cargo().args(["test", "--lib"]).current_dir(&project).env("CARGO_TARGET_DIR", &scaffold));
    let (stdout, _) = text(&out);
    assert!(stdout.contains("2 passed"), "{stdout}");
}

#[test]
fn assemblyscript_project_installs_builds_and_checks() {
    if !Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED assemblyscript_project_installs_builds_and_checks: npm is not on PATH (`cargo xtask setup` installs it)");
        return;
    }
    let parent = tempfile::tempdir().expect("tempdir");
    let out = showrunner(&["new", "starter-card", "--lang", "as", "--dir", parent.path().to_str().unwrap_or_default()], parent.path());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let project = parent.path().join("starter-card");
    for f in ["package.json", "asconfig.json", "assembly/index.ts", "assembly/tsconfig.json", ".gitignore", "README.md"] {
        assert!(project.join(f).is_file(), "{f} missing");
    }
    assert!(stdout.contains("npm install") && stdout.contains("npm run build"), "{stdout}");
    assert!(stdout.contains("ticks build/starter_card.wasm --frames 60 --event 0:play --every 10"), "{stdout}");

    // The same AssemblyScript as the SDK, exactly.
    let read_json = |p: &Path| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json") };
    let sdk = read_json(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk/assemblyscript/package.json"));
    let ours = read_json(&project.join("package.json"));
    assert_eq!(ours["devDependencies"]["assemblyscript"], sdk["devDependencies"]["assemblyscript"]);
    assert!(ours["dependencies"]["@showrunner/guest"].as_str().is_some_and(|s| s.starts_with("file:/")), "{ours}");

    run_ok("npm install", Command::new("npm").args(["install", "--no-audit", "--no-fund"]).current_dir(&project));
    run_ok("npm run build", Command::new("npm").args(["run", "build"]).current_dir(&project));
    let module = project.join("build/starter_card.wasm");
    let module = module.to_str().unwrap_or_default();

    let out = showrunner(&["check", module], &project);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("world    scene (showrunner:scene@0.1.0)"), "{stdout}");
    assert!(stdout.contains("abi      core-v1"), "{stdout}");
    assert!(stdout.contains("module   starter-card 0.1.0"), "{stdout}");

    let out = showrunner(&["ticks", module, "--frames", "60", "--event", "0:play", "--every", "10"], &project);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.lines().last().unwrap_or_default().contains("text×1"), "the card shows after play: {stdout}");
}

#[test]
fn invalid_names_are_refused_with_exit_2_and_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, reason) in [
        ("Title-Card", "must start with a lowercase letter"),
        ("title_card", "'_' is not allowed"),
        ("2nd-card", "must start with a lowercase letter"),
        ("card-", "no trailing '-'"),
        ("", "it is empty"),
        (&"x".repeat(65), "at most 64"),
    ] {
        let out = showrunner(&["new", name, "--dir", dir.path().to_str().unwrap_or_default()], dir.path());
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name:?}: {stdout}{stderr}");
        assert!(stderr.starts_with("error: invalid project name") && stderr.contains(reason), "{name:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("read").count(), 0, "nothing written");
}

#[test]
fn an_existing_non_empty_folder_is_refused_with_exit_1_and_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("taken");
    std::fs::create_dir(&project).expect("mkdir");
    std::fs::write(project.join("notes.txt"), "mine").expect("write");
    for lang in ["rust", "as"] {
        let out = showrunner(&["new", "taken", "--lang", lang, "--dir", dir.path().to_str().unwrap_or_default()], dir.path());
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&format!("{} already exists and is not empty", project.display())), "{stderr}");
    }
    assert_eq!(std::fs::read_dir(&project).expect("read").count(), 1, "nothing written");

    // An empty folder is fine.
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let out = showrunner(&["new", "empty", "--dir", dir.path().to_str().unwrap_or_default()], dir.path());
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(dir.path().join("empty/Cargo.toml").is_file());
}

#[test]
fn sdk_that_is_not_the_sdk_is_refused_with_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = repo.to_str().unwrap_or_default();
    let d = dir.path().to_str().unwrap_or_default();
    for (lang, hint) in [("rust", "guest-sdk/rust"), ("as", "guest-sdk/assemblyscript")] {
        let out = showrunner(&["new", "card", "--lang", lang, "--dir", d, "--sdk", repo], dir.path());
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("is not the") && stderr.contains(&format!("did you mean {}", Path::new(repo).canonicalize().expect("repo").join(hint).display())), "{stderr}");
    }
    let out = showrunner(&["new", "card", "--dir", d, "--sdk", "/nonexistent/sdk"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("--sdk /nonexistent/sdk"));
    assert!(!dir.path().join("card").exists(), "nothing written");
}
