//! On-disk cache of compiled modules, keyed by the module's content hash and the
//! engine's compatibility hash (a serialized module only loads into an engine with
//! the same configuration). Writes are atomic (temp file + rename).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use wasmtime::Engine;
use wasmtime::component::Component;

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

    fn path(&self, content_hash: &str) -> PathBuf {
        self.dir.join(format!("{content_hash}-{:016x}.cwasm", self.engine_key))
    }

    /// A previously compiled module, if the cache has a usable one.
    pub(crate) fn get(&self, engine: &Engine, content_hash: &str) -> Option<Component> {
        let path = self.path(content_hash);
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `put` below from `Component::serialize` of
        // this engine configuration (the name carries both hashes), and the cache
        // directory belongs to this process's data dir. wasmtime also checks the
        // header and engine compatibility and fails on a mismatch.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compiled module");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a compiled module; a failure is logged, not fatal.
    pub(crate) fn put(&self, content_hash: &str, component: &Component) {
        let path = self.path(content_hash);
        let result = component.serialize().map_err(|e| e.to_string()).and_then(|bytes| {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| e.to_string())
        });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache compiled module");
        }
    }
}
