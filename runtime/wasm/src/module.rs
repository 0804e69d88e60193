//! [`LoadedModule`]: a compiled, pre-linked, described module, ready to instantiate
//! in microseconds. Loading says clearly why bytes are not a usable module.

use std::sync::Arc;
use std::time::{Duration, Instant};

use showrunner_core::ModuleInfo;
use wasmtime::Module;
use wasmtime::component::{Component, InstancePre};

use crate::bindings::{scene::ScenePre, transition::TransitionPre};
use crate::cache::CompileCache;
use crate::core_abi;
use crate::check::{ModuleKind, inspect_bytes};
use crate::fault::Fault;
use crate::host::Host;
use crate::store::StoreState;

/// The WIT package version this host speaks.
pub const WIT_VERSION: &str = "0.1.0";
/// Largest module accepted, in bytes.
pub const MAX_MODULE_BYTES: usize = 32 << 20;

/// How a module's values cross: the component model, or core-module ABI v1
/// (wit/core-abi-v1.md) for languages that cannot emit components yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    Component,
    CoreV1,
}

impl Abi {
    pub fn name(self) -> &'static str {
        match self {
            Abi::Component => "component",
            Abi::CoreV1 => "core-v1",
        }
    }
}

/// Which world a module implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    Scene,
    Transition,
}

impl World {
    pub fn name(self) -> &'static str {
        match self {
            World::Scene => "scene",
            World::Transition => "transition",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a WebAssembly file (no `\\0asm` header)")]
    NotWasm,
    #[error("a core Wasm module without the showrunner core ABI (no `sr_abi_version` export): build Rust scenes for wasm32-wasip2 with showrunner-guest, AssemblyScript scenes with @showrunner/guest")]
    CoreModule,
    #[error("core module does not follow core ABI v1: {0}")]
    CoreAbi(String),
    #[error("module is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("component speaks showrunner:scene@{found}; this host speaks @{WIT_VERSION}")]
    UnknownVersion { found: String },
    #[error("component is not a showrunner scene or transition (it exports: {exports})")]
    OtherWorld { exports: String },
    #[error("component does not compile: {0}")]
    Compile(String),
    #[error("component cannot be linked: {0}")]
    Link(String),
    #[error("describe() failed: {0}")]
    Describe(Fault),
}

pub(crate) enum Pre {
    Scene(ScenePre<StoreState>),
    Transition(TransitionPre<StoreState>),
    CoreScene(wasmtime::InstancePre<StoreState>),
}

/// A module ready to run.
pub struct LoadedModule {
    pub(crate) host: Arc<Host>,
    pub(crate) pre: Pre,
    /// blake3 of the module bytes, hex.
    pub hash: String,
    pub world: World,
    pub abi: Abi,
    pub info: ModuleInfo,
    pub size_bytes: usize,
    /// Time to compile, or to load the compiled form from the cache.
    pub compile_time: Duration,
    pub from_cache: bool,
}

impl std::fmt::Debug for LoadedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModule").field("hash", &self.hash).field("world", &self.world).field("info", &self.info).finish()
    }
}

impl LoadedModule {
    /// "Name version" for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.info.name, self.info.version)
    }

    pub(crate) fn load(host: &Arc<Host>, bytes: &[u8], cache: Option<&CompileCache>) -> Result<LoadedModule, LoadError> {
        let kind = inspect_bytes(bytes);
        if kind == ModuleKind::NotWasm {
            return Err(LoadError::NotWasm);
        }
        if bytes.len() > MAX_MODULE_BYTES {
            return Err(LoadError::TooLarge { size: bytes.len(), max: MAX_MODULE_BYTES });
        }
        let hash = blake3::hash(bytes).to_hex().to_string();
        let started = Instant::now();
        let (pre, world, abi, from_cache) = match kind {
            ModuleKind::Component => {
                // SAFETY (both deserializations below): the cache only holds files this
                // host wrote with `serialize` for this engine configuration (the file
                // name carries the content and engine hashes), in a directory owned by
                // this installation; wasmtime also checks the header and engine
                // compatibility and fails on a mismatch.
                #[allow(unsafe_code)]
                let cached = cache.and_then(|c| c.get(&hash, "cwasm", |p| unsafe { Component::deserialize_file(&host.engine, p) }));
                let from_cache = cached.is_some();
                let component = match cached {
                    Some(c) => c,
                    None => Component::new(&host.engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))?,
                };
                let world = identify_world(host, &component)?;
                let pre: InstancePre<StoreState> = host.linker.instantiate_pre(&component).map_err(|e| LoadError::Link(format!("{e:#}")))?;
                let pre = match world {
                    World::Scene => Pre::Scene(ScenePre::new(pre).map_err(|e| LoadError::Link(format!("{e:#}")))?),
                    World::Transition => Pre::Transition(TransitionPre::new(pre).map_err(|e| LoadError::Link(format!("{e:#}")))?),
                };
                if let (Some(cache), false) = (cache, from_cache) {
                    cache.put(&hash, "cwasm", component.serialize());
                }
                (pre, world, Abi::Component, from_cache)
            }
            _ => {
                #[allow(unsafe_code)]
                let cached = cache.and_then(|c| c.get(&hash, "core.cwasm", |p| unsafe { Module::deserialize_file(&host.engine, p) }));
                let from_cache = cached.is_some();
                let module = match cached {
                    Some(m) => m,
                    None => Module::new(&host.engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))?,
                };
                if !core_abi::declares_abi(&module) {
                    return Err(LoadError::CoreModule);
                }
                core_abi::check_exports(&module).map_err(LoadError::CoreAbi)?;
                let pre = host.core_linker.instantiate_pre(&module).map_err(|e| LoadError::Link(format!("{e:#}")))?;
                if let (Some(cache), false) = (cache, from_cache) {
                    cache.put(&hash, "core.cwasm", module.serialize());
                }
                (Pre::CoreScene(pre), World::Scene, Abi::CoreV1, from_cache)
            }
        };
        let compile_time = started.elapsed();
        let placeholder = ModuleInfo { name: format!("module {}", &hash[..12]), version: String::new(), props: Vec::new() };
        let module = Arc::new(LoadedModule { host: host.clone(), pre, hash, world, abi, info: placeholder, size_bytes: bytes.len(), compile_time, from_cache });
        let info = crate::instance::describe(&module).map_err(LoadError::Describe)?;
        // The throwaway instance is gone, so this is the only handle left.
        let mut module = Arc::try_unwrap(module).map_err(|_| LoadError::Link("module still in use after describe".into()))?;
        module.info = info;
        Ok(module)
    }
}

/// Tells scenes from transitions by their exports, and rejects other versions of
/// the showrunner package by their import names.
fn identify_world(host: &Host, component: &Component) -> Result<World, LoadError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(&host.engine) {
        if let Some(rest) = name.strip_prefix("showrunner:scene/")
            && let Some((_, version)) = rest.split_once('@')
            && version != WIT_VERSION
        {
            return Err(LoadError::UnknownVersion { found: version.to_string() });
        }
    }
    let exports: Vec<&str> = ty.exports(&host.engine).map(|(name, _)| name).collect();
    let has = |n: &str| exports.contains(&n);
    if has("describe") && has("tick") {
        Ok(World::Scene)
    } else if has("describe") && has("mix") {
        Ok(World::Transition)
    } else {
        let listed = if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") };
        Err(LoadError::OtherWorld { exports: listed })
    }
}
