//! [`ModuleFiles`]: loads module files named by a show (paths) through the Wasm
//! host, once per path. Loading compiles: call it while the show starts or from a
//! control thread, never from the frame loop.
//!
//! Must not: read a file larger than the host accepts or keep modules the show
//! never named (the cache holds one entry per distinct reference).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use showrunner_wasm::{Host, LoadError, LoadedModule, MAX_MODULE_BYTES};

#[derive(Debug, thiserror::Error)]
pub enum ModuleFileError {
    #[error("cannot read module {path}: {source} (example modules are built by `cargo xtask build-scenes`)")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("module {path} is over the {MAX_MODULE_BYTES}-byte limit")]
    TooLarge { path: PathBuf },
    #[error("module {path}: {source}")]
    Load { path: PathBuf, source: LoadError },
}

/// Module loader by file path, with one loaded module per distinct path.
pub struct ModuleFiles {
    host: Arc<Host>,
    loaded: HashMap<String, Arc<LoadedModule>>,
}

impl ModuleFiles {
    pub fn new(host: Arc<Host>) -> ModuleFiles {
        ModuleFiles { host, loaded: HashMap::new() }
    }

    /// Loads the module at `reference` (a file path), or returns the one already loaded.
    pub fn load(&mut self, reference: &str) -> Result<Arc<LoadedModule>, ModuleFileError> {
        if let Some(module) = self.loaded.get(reference) {
            return Ok(module.clone());
        }
        let path = Path::new(reference);
        let read_error = |source| ModuleFileError::Read { path: path.to_path_buf(), source };
        let mut bytes = Vec::new();
        std::fs::File::open(path).and_then(|f| f.take(MAX_MODULE_BYTES as u64 + 1).read_to_end(&mut bytes)).map_err(read_error)?;
        if bytes.len() > MAX_MODULE_BYTES {
            return Err(ModuleFileError::TooLarge { path: path.to_path_buf() });
        }
        let module = self.host.load(&bytes).map_err(|source| ModuleFileError::Load { path: path.to_path_buf(), source })?;
        self.loaded.insert(reference.to_string(), module.clone());
        Ok(module)
    }
}
