//! The scene project side of `showrunner dev`: recognising a project made by
//! `showrunner new` (a Rust crate or an AssemblyScript package), building it with the
//! same commands `showrunner new` prints, finding the `.wasm` it produced, and telling
//! which changed paths are sources worth a rebuild.
//!
//! It runs the project's own toolchain (`cargo`, `npm`) and reads files; it must not
//! talk to a server or print anything (the caller decides what the user sees).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

/// Folders whose contents are build outputs or installed packages, never sources.
const IGNORED_DIRS: &[&str] = &["target", "node_modules", "build", ".git"];
/// Files the build tools write themselves.
const IGNORED_FILES: &[&str] = &["Cargo.lock", "package-lock.json"];

/// Which toolchain builds the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectKind {
    /// A Rust crate built for wasm32-wasip2 (a component).
    Rust,
    /// An AssemblyScript package built with `npm run build` (a core module).
    AssemblyScript,
}

impl std::fmt::Display for ProjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProjectKind::Rust => "Rust",
            ProjectKind::AssemblyScript => "AssemblyScript",
        })
    }
}

/// Why a project could not be opened or built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0} is not a scene project: it has neither a Cargo.toml nor a package.json (make one with `showrunner new NAME`)")]
    NotAProject(PathBuf),
    #[error("cannot read {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("cannot run `{command}`: {source}; is it installed and on PATH? (`cargo xtask setup` installs the toolchains)")]
    Spawn { command: String, source: std::io::Error },
    /// The build ran and failed; `output` is what the compiler printed.
    #[error("`{command}` failed ({status})")]
    Failed { command: String, status: String, output: String },
    #[error("`{command}` succeeded but produced no .wasm; expected {expected}")]
    NoModule { command: String, expected: String },
    #[error("cannot read the built module {path}: {source}")]
    ReadModule { path: PathBuf, source: std::io::Error },
}

/// A freshly built module.
pub struct Built {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Wall time of the build commands.
    pub took: Duration,
}

/// A scene project on disk.
pub struct Project {
    /// Canonical path of the project folder.
    pub dir: PathBuf,
    pub kind: ProjectKind,
    /// The package name (`name` in Cargo.toml or package.json).
    pub name: String,
    /// AssemblyScript: package.json's modification time when `npm install` last ran
    /// (or when the project was opened with node_modules present).
    installed_manifest: Option<SystemTime>,
}

impl Project {
    /// Recognises the project in `dir`: Cargo.toml means Rust, package.json AssemblyScript.
    pub fn open(dir: &Path) -> Result<Project, BuildError> {
        let dir = dir.canonicalize().map_err(|e| BuildError::Manifest { path: dir.to_path_buf(), reason: e.to_string() })?;
        let cargo_toml = dir.join("Cargo.toml");
        let package_json = dir.join("package.json");
        if cargo_toml.is_file() {
            let text = read_manifest(&cargo_toml)?;
            let manifest: toml::Table = toml::from_str(&text).map_err(|e| BuildError::Manifest { path: cargo_toml.clone(), reason: e.to_string() })?;
            let name = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
            let name = name.ok_or_else(|| BuildError::Manifest { path: cargo_toml.clone(), reason: "it has no [package] name".into() })?;
            Ok(Project { name: name.to_string(), kind: ProjectKind::Rust, installed_manifest: None, dir })
        } else if package_json.is_file() {
            let manifest = read_json(&package_json)?;
            let name = manifest["name"].as_str().ok_or_else(|| BuildError::Manifest { path: package_json.clone(), reason: "it has no \"name\"".into() })?;
            let installed_manifest = if dir.join("node_modules").is_dir() { modified(&package_json) } else { None };
            Ok(Project { name: name.to_string(), kind: ProjectKind::AssemblyScript, installed_manifest, dir })
        } else {
            Err(BuildError::NotAProject(dir))
        }
    }

    /// Builds the project and reads the module it produced.
    pub fn build(&mut self) -> Result<Built, BuildError> {
        let started = Instant::now();
        let path = match self.kind {
            ProjectKind::Rust => self.build_rust()?,
            ProjectKind::AssemblyScript => self.build_assemblyscript()?,
        };
        let took = started.elapsed();
        let bytes = std::fs::read(&path).map_err(|source| BuildError::ReadModule { path: path.clone(), source })?;
        Ok(Built { path, bytes, took })
    }

    /// `cargo build --release --target wasm32-wasip2`; the module's path comes from
    /// cargo's own report, so `CARGO_TARGET_DIR` and `[build] target-dir` are honoured.
    fn build_rust(&self) -> Result<PathBuf, BuildError> {
        let mut cmd = Command::new("cargo");
        cmd.args(["build", "--release", "--target", "wasm32-wasip2", "--message-format=json-render-diagnostics"]);
        if std::io::stderr().is_terminal() {
            cmd.arg("--color=always");
        }
        let shown = "cargo build --release --target wasm32-wasip2";
        let out = self.run(shown, &mut cmd)?;
        if !out.status.success() {
            return Err(failed(shown, &out, false));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        wasm_from_cargo_messages(&stdout).ok_or_else(|| BuildError::NoModule {
            command: shown.into(),
            expected: "a cdylib target (crate-type = [\"cdylib\", ...] in Cargo.toml)".into(),
        })
    }

    /// `npm install` (first time, and again after package.json changed), then
    /// `npm run build`; the module is the release target's `outFile` in asconfig.json.
    fn build_assemblyscript(&mut self) -> Result<PathBuf, BuildError> {
        let package_json = self.dir.join("package.json");
        let manifest_time = modified(&package_json);
        if !self.dir.join("node_modules").is_dir() || manifest_time != self.installed_manifest {
            let shown = "npm install";
            let out = self.run(shown, Command::new("npm").args(["install", "--no-audit", "--no-fund"]))?;
            if !out.status.success() {
                return Err(failed(shown, &out, true));
            }
            self.installed_manifest = manifest_time;
        }
        let shown = "npm run build";
        let out = self.run(shown, Command::new("npm").args(["run", "build"]))?;
        if !out.status.success() {
            return Err(failed(shown, &out, true));
        }
        let asconfig = self.dir.join("asconfig.json");
        let out_file = read_json(&asconfig).ok().and_then(|c| c["targets"]["release"]["outFile"].as_str().map(PathBuf::from));
        let expected = out_file.map(|f| self.dir.join(f)).unwrap_or_else(|| self.dir.join("build").join(format!("{}.wasm", self.name.replace('-', "_"))));
        if expected.is_file() {
            Ok(expected)
        } else {
            Err(BuildError::NoModule { command: shown.into(), expected: expected.display().to_string() })
        }
    }

    fn run(&self, shown: &str, cmd: &mut Command) -> Result<Output, BuildError> {
        cmd.current_dir(&self.dir).output().map_err(|source| BuildError::Spawn { command: shown.to_string(), source })
    }

    /// The folders to watch: the project folder itself (not recursively) and, recursively,
    /// each of its sub-folders that holds sources.
    pub fn watch_roots(&self) -> Vec<(PathBuf, bool)> {
        let mut roots = vec![(self.dir.clone(), false)];
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if entry.file_type().is_ok_and(|t| t.is_dir()) && !is_ignored_name(&name) && !IGNORED_DIRS.iter().any(|d| name == *d) {
                    roots.push((entry.path(), true));
                }
            }
        }
        roots.sort();
        roots
    }

    /// What tells the project's sources from everything else, for the watcher's thread.
    pub fn source_filter(&self) -> SourceFilter {
        SourceFilter { dir: self.dir.clone() }
    }
}

/// Tells which changed paths of one project are sources.
pub struct SourceFilter {
    dir: PathBuf,
}

impl SourceFilter {
    /// Whether a change to `path` (absolute, as the watcher reports it) calls for a
    /// rebuild: anything in the project except build outputs, installed packages,
    /// lock files, hidden files and editor backups.
    pub fn is_source(&self, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&self.dir) else { return false };
        let mut parts = relative.components().map(|c| c.as_os_str().to_os_string()).peekable();
        let Some(first) = parts.peek() else { return false };
        if IGNORED_DIRS.iter().any(|d| first == d) {
            return false;
        }
        let parts: Vec<OsString> = parts.collect();
        if parts.iter().any(|p| is_ignored_name(p)) {
            return false;
        }
        !(parts.len() == 1 && IGNORED_FILES.iter().any(|f| parts[0] == *f))
    }
}

/// Hidden files and folders, editor swap files and backups.
fn is_ignored_name(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".swx") || name.ends_with(".tmp") || name == "4913"
}

/// The `.wasm` of the last cdylib artifact in cargo's JSON messages.
fn wasm_from_cargo_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| m["target"]["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib")))
        .find_map(|m| m["filenames"].as_array()?.iter().filter_map(|f| f.as_str()).find(|f| f.ends_with(".wasm")).map(PathBuf::from))
}

fn failed(command: &str, out: &Output, with_stdout: bool) -> BuildError {
    let mut output = String::new();
    if with_stdout {
        output.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    BuildError::Failed { command: command.to_string(), status: out.status.to_string(), output }
}

fn read_manifest(path: &Path) -> Result<String, BuildError> {
    std::fs::read_to_string(path).map_err(|e| BuildError::Manifest { path: path.to_path_buf(), reason: e.to_string() })
}

fn read_json(path: &Path) -> Result<serde_json::Value, BuildError> {
    serde_json::from_str(&read_manifest(path)?).map_err(|e| BuildError::Manifest { path: path.to_path_buf(), reason: format!("not valid JSON: {e}") })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_from_build_outputs_locks_and_editor_files() {
        let p = SourceFilter { dir: PathBuf::from("/p") };
        for source in ["/p/src/lib.rs", "/p/Cargo.toml", "/p/package.json", "/p/assembly/index.ts", "/p/src/deep/mod.rs", "/p/build.rs"] {
            assert!(p.is_source(Path::new(source)), "{source}");
        }
        for other in [
            "/p/target/release/x.wasm",
            "/p/node_modules/a/b.js",
            "/p/build/card.wasm",
            "/p/.git/index",
            "/p/Cargo.lock",
            "/p/package-lock.json",
            "/p/src/.lib.rs.swp",
            "/p/src/lib.rs~",
            "/p/src/4913",
            "/p",
            "/elsewhere/src/lib.rs",
        ] {
            assert!(!p.is_source(Path::new(other)), "{other}");
        }
        // A lock file deeper down is an ordinary file.
        assert!(p.is_source(Path::new("/p/src/Cargo.lock")));
    }

    #[test]
    fn the_cdylib_wasm_is_found_in_cargo_messages() {
        let messages = [
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/libserde.rlib"]}"#,
            "not json",
            r#"{"reason":"compiler-artifact","target":{"kind":["cdylib","rlib"]},"filenames":["/t/wasm32-wasip2/release/card.wasm","/t/libcard.rlib"]}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(wasm_from_cargo_messages(&messages), Some(PathBuf::from("/t/wasm32-wasip2/release/card.wasm")));
        assert_eq!(wasm_from_cargo_messages(r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/x.rlib"]}"#), None);
    }
}
