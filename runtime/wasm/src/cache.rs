//! On-disk cache of compiled modules, keyed by the module's content hash and the
//! engine's compatibility hash (a serialized module only loads into an engine with
//! the same configuration). Writes are atomic (temp file + rename); the caller
//! deserializes, since only it knows whether the artifact is a component or a
//! core module.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;

use crate::host::HostError;

pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_key: u64,
}

impl CompileCache {
    pub(crate) fn open(dir: PathBuf, engine: &Engine) -> Result<CompileCache, HostError> {
        std::fs::create_dir_all(&dir).map_err(|e| HostError::Cache { path: dir.clone(), reason: e.to_string() })?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(CompileCache { dir, engine_key: h.finish() })
    }

    fn path(&self, content_hash: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{content_hash}-{:016x}.{ext}", self.engine_key))
    }

    /// A previously compiled artifact, if the cache has a usable one. `load`
    /// deserializes the file; a file that fails to load is removed.
    pub(crate) fn get<T>(&self, content_hash: &str, ext: &str, load: impl FnOnce(&Path) -> wasmtime::Result<T>) -> Option<T> {
        let path = self.path(content_hash, ext);
        if !path.exists() {
            return None;
        }
        match load(&path) {
            Ok(artifact) => Some(artifact),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compiled module");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a serialized artifact; a failure is logged, not fatal.
    pub(crate) fn put(&self, content_hash: &str, ext: &str, serialized: wasmtime::Result<Vec<u8>>) {
        let path = self.path(content_hash, ext);
        let result = serialized.map_err(|e| e.to_string()).and_then(|bytes| {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| e.to_string())
        });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache compiled module");
        }
    }
}
