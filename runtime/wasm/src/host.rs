//! [`Host`]: the one wasmtime engine of a process, its epoch ticker, compile cache,
//! linker and host services. Loading (compiling) modules happens here, never on the
//! render path; instantiating from a loaded module takes microseconds.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache::CompileCache;
use crate::limits::{EPOCH_TICK, SandboxLimits};
use crate::module::{LoadError, LoadedModule};
use crate::store::StoreState;

/// What the host offers guests beyond the sandbox: asset sizes and text metrics.
/// The renderer provides the real implementation; [`NoAssets`] is the default.
pub trait HostServices: Send + Sync + 'static {
    fn asset_size(&self, name: &str) -> Option<(u32, u32)>;
    fn measure_text(&self, text: &str, family: &str, size: f32) -> (f32, f32);
}

/// No assets, and text measured as 0.55 em per character (until a renderer with
/// real fonts is attached).
#[derive(Debug, Default)]
pub struct NoAssets;

impl HostServices for NoAssets {
    fn asset_size(&self, _name: &str) -> Option<(u32, u32)> {
        None
    }
    fn measure_text(&self, text: &str, _family: &str, size: f32) -> (f32, f32) {
        (text.chars().count() as f32 * size * 0.55, size * 1.2)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot configure the Wasm engine: {0}")]
    Engine(String),
    #[error("cannot use the module cache at {path}: {reason}")]
    Cache { path: PathBuf, reason: String },
}

/// The Wasm host. Cheap to share (`Arc`); dropping the last handle stops its
/// epoch ticker thread.
pub struct Host {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<StoreState>,
    /// Imports for core-module ABI v1 guests.
    pub(crate) core_linker: wasmtime::Linker<StoreState>,
    pub(crate) limits: SandboxLimits,
    pub(crate) services: Arc<dyn HostServices>,
    cache: Option<CompileCache>,
    ticker: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Host {
    /// A host with the given budgets, caching compiled modules in `cache_dir`
    /// (none: compile every time).
    pub fn new(limits: SandboxLimits, cache_dir: Option<PathBuf>, services: Arc<dyn HostServices>) -> Result<Arc<Host>, HostError> {
        let engine = Engine::new(&engine_config(&limits)).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let linker = crate::store::linker(&engine).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let core_linker = crate::core_abi::linker(&engine).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let cache = cache_dir.map(|dir| CompileCache::open(dir, &engine)).transpose()?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| HostError::Engine(format!("cannot start the epoch thread: {e}")))?
        };
        Ok(Arc::new(Host { engine, linker, core_linker, limits, services, cache, ticker: Some((stop, ticker)) }))
    }

    /// A host with default budgets, no cache and no assets (tests, `showrunner check`).
    pub fn with_defaults() -> Result<Arc<Host>, HostError> {
        Host::new(SandboxLimits::default(), None, Arc::new(NoAssets))
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// Validates, compiles (or loads from the cache) and pre-links a module, then
    /// asks it to describe itself. Blocking and CPU-heavy: call it off the render path.
    pub fn load(self: &Arc<Self>, bytes: &[u8]) -> Result<Arc<LoadedModule>, LoadError> {
        LoadedModule::load(self, bytes, self.cache.as_ref()).map(Arc::new)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.ticker.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
    }
}

fn engine_config(limits: &SandboxLimits) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    config.parallel_compilation(true);
    let instances = limits.max_live_instances.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances);
    pool.total_core_instances(instances.saturating_mul(limits.instances_per_module as u32));
    pool.total_memories(instances.saturating_mul(limits.memories_per_module as u32));
    pool.total_tables(instances.saturating_mul(limits.tables_per_module as u32));
    pool.max_memory_size(limits.memory_bytes);
    pool.table_elements(limits.table_elements);
    pool.max_memories_per_module(limits.memories_per_module as u32);
    pool.max_tables_per_module(limits.tables_per_module as u32);
    pool.max_core_instances_per_component(limits.instances_per_module as u32);
    pool.max_memories_per_component(limits.memories_per_module as u32);
    pool.max_tables_per_component(limits.tables_per_module as u32);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}
