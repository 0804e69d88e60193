//! What the `showrunner` command tests share: where the built guest modules are,
//! running the binary with a throwaway module cache, a throwaway `redis-server`, and
//! cluster nodes on it.

#![allow(dead_code, clippy::expect_used)]

pub mod clip;
pub mod cluster_node;
pub mod redis;
pub mod serve_process;
pub mod show;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The cargo target folder (CARGO_TARGET_DIR or the workspace's `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// A guest module built by `cargo xtask build-scenes`, by crate name.
pub fn guest(crate_name: &str) -> PathBuf {
    let path = target_dir().join("wasm32-wasip2/guest").join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(path.exists(), "{} missing: run `cargo xtask build-scenes`", path.display());
    path
}

/// Runs `showrunner ARGS` with an empty module cache of its own.
pub fn showrunner(args: &[&str]) -> Output {
    let cache = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_showrunner")).args(args).env("SHOWRUNNER_CACHE_DIR", cache.path()).output().expect("showrunner runs")
}
