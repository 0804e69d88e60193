//! showrunner's wasmtime host: turns untrusted scene and transition modules into
//! validated draw lists, inside a hard sandbox.
//!
//! Owns: the one wasmtime [`Engine`](wasmtime::Engine) (epoch interruption, pooling
//! allocator, copy-on-write memory images), the on-disk compile cache, the budgets
//! every call runs under ([`SandboxLimits`]), the deterministic, capability-free WASI
//! that Rust std needs, fault classification ([`Fault`]), and the per-layer lifecycle
//! (re-instantiation with backoff, quarantine, hot-swap) in [`LayerRunner`].
//!
//! Must not: draw pixels, do network or file I/O on behalf of guests, or let one
//! module's fault reach another module or the caller as a panic.

// A `Fault` is big (it names module, layer and what broke) but only travels on the
// rare failure path; boxing it would cost an allocation per fault for nothing.
#![allow(clippy::result_large_err)]

mod bindings;
mod cache;
mod check;
mod convert;
mod core_abi;
mod cpu_budget;
mod fault;
mod guest_log;
mod host;
mod instance;
mod layer;
mod limits;
mod module;
mod store;

pub use check::{ModuleKind, inspect_bytes};
pub use fault::{Fault, FaultKind};
pub use guest_log::{GuestLog, Level, LogLine};
pub use host::{Host, HostError, HostServices, NoAssets};
pub use instance::{SceneInstance, TransitionInstance};
pub use layer::{FaultPolicy, LayerRunner, LayerStartError, LayerStatus, SetPropsError, SwapError, SwapReport, TickOutcome};
pub use limits::SandboxLimits;
pub use core_abi::CORE_ABI_VERSION;
pub use module::{Abi, LoadError, LoadedModule, MAX_MODULE_BYTES, WIT_VERSION, World};
