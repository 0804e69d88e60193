//! Per-instance store data: the capability-free WASI context, the resource limiter,
//! the guest log and the host services; plus the linker that exposes exactly the
//! `host` interface and the WASI interfaces Rust std imports, nothing else.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

use crate::bindings::scene::showrunner::scene::{host as wit_host, types as wit_types};
use crate::guest_log::{GuestLog, Level};
use crate::host::HostServices;
use crate::limits::SandboxLimits;

/// Frame time shared with the WASI clocks: guests that read a clock see the
/// presentation time of the frame being rendered, nothing else.
#[derive(Clone, Default)]
pub(crate) struct FrameClock(Arc<AtomicU64>);

impl FrameClock {
    pub(crate) fn set_seconds(&self, time: f64) {
        let nanos = if time.is_finite() && time > 0.0 { (time * 1e9) as u64 } else { 0 };
        self.0.store(nanos, Ordering::Relaxed);
    }

    fn nanos(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl HostWallClock for FrameClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos())
    }
}

impl HostMonotonicClock for FrameClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.nanos()
    }
}

/// Limits memory, tables and instances; remembers a refused memory growth so the
/// fault can say "memory cap" rather than a generic trap.
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    instances: usize,
    memories: usize,
    tables: usize,
    pub(crate) refused_growth: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if desired > self.memory_bytes {
            self.refused_growth = Some(desired);
            return Err(wasmtime::format_err!("memory cap: growing to {desired} bytes exceeds {} bytes", self.memory_bytes));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(desired <= self.table_elements)
    }

    fn instances(&self) -> usize {
        self.instances
    }
    fn memories(&self) -> usize {
        self.memories
    }
    fn tables(&self) -> usize {
        self.tables
    }
}

/// WASI stdout/stderr feeding the guest log; accepts every write.
#[derive(Clone)]
struct LogStream {
    log: GuestLog,
    stream: usize,
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl wasmtime_wasi_io::poll::Pollable for LogStream {
    async fn ready(&mut self) {}
}

impl OutputStream for LogStream {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.log.write_stream(self.stream, &bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for LogStream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.log.write_stream(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Everything one guest instance's store holds.
pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) log: GuestLog,
    pub(crate) clock: FrameClock,
    pub(crate) services: Arc<dyn HostServices>,
    /// Per-layer seed (also what a core module's `env.seed` returns).
    pub(crate) seed: u64,
    /// The guest call in progress, for the CPU-time deadline check.
    pub(crate) call_budget: Option<crate::cpu_budget::CallBudget>,
}

impl StoreState {
    /// A fresh state. `seed` makes WASI randomness (HashMap seeds and the like)
    /// deterministic per layer.
    pub(crate) fn new(limits: &SandboxLimits, services: Arc<dyn HostServices>, log: GuestLog, seed: u64) -> StoreState {
        let clock = FrameClock::default();
        let mut b = WasiCtxBuilder::new();
        b.stdout(LogStream { log: log.clone(), stream: 0 })
            .stderr(LogStream { log: log.clone(), stream: 1 })
            .wall_clock(clock.clone())
            .monotonic_clock(clock.clone())
            .secure_random(StdRng::seed_from_u64(seed))
            .insecure_random(StdRng::seed_from_u64(seed ^ 0x5eed))
            .insecure_random_seed(u128::from(seed) << 64 | u128::from(seed))
            .allow_blocking_current_thread(false);
        StoreState {
            wasi: b.build(),
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: limits.memory_bytes,
                table_elements: limits.table_elements,
                instances: limits.instances_per_module,
                memories: limits.memories_per_module,
                tables: limits.tables_per_module,
                refused_growth: None,
            },
            log,
            clock,
            services,
            seed,
            call_budget: None,
        }
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit_types::Host for StoreState {}

impl wit_host::Host for StoreState {
    fn log(&mut self, level: wit_types::LogLevel, message: String) {
        let level = match level {
            wit_types::LogLevel::Trace => Level::Trace,
            wit_types::LogLevel::Debug => Level::Debug,
            wit_types::LogLevel::Info => Level::Info,
            wit_types::LogLevel::Warn => Level::Warn,
            wit_types::LogLevel::Error => Level::Error,
        };
        self.log.push(level, &message);
    }

    fn asset_size(&mut self, name: String) -> Option<(u32, u32)> {
        self.services.asset_size(&name)
    }

    fn measure_text(&mut self, text: String, family: String, size: f32) -> (f32, f32) {
        let size = if size.is_finite() { size.clamp(0.0, 10_000.0) } else { 0.0 };
        self.services.measure_text(&text, &family, size)
    }
}

/// The linker every guest is instantiated with: `showrunner:scene/host`, and the
/// WASI interfaces Rust std imports, each backed by nothing (no env, no args, no
/// stdin), by the frame clock, by seeded randomness or by the guest log. There is
/// no filesystem and no socket interface: a module that imports one fails to load.
pub(crate) fn linker(engine: &wasmtime::Engine) -> Result<Linker<StoreState>> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync};
    let mut l = Linker::<StoreState>::new(engine);
    crate::bindings::scene::Scene::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut l, |s| s)?;

    clocks::wall_clock::add_to_linker::<StoreState, WasiClocks>(&mut l, StoreState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<StoreState, WasiClocks>(&mut l, StoreState::clocks)?;
    random::random::add_to_linker::<StoreState, WasiRandom>(&mut l, |t| t.wasi.random())?;
    random::insecure::add_to_linker::<StoreState, WasiRandom>(&mut l, |t| t.wasi.random())?;
    random::insecure_seed::add_to_linker::<StoreState, WasiRandom>(&mut l, |t| t.wasi.random())?;
    cli::exit::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::environment::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::stdin::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::stdout::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::stderr::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::terminal_input::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::terminal_output::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::terminal_stdin::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::terminal_stdout::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    cli::terminal_stderr::add_to_linker::<StoreState, WasiCli>(&mut l, StoreState::cli)?;
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<StoreState, HasTable>(&mut l, |t| &mut t.table)?;
    sync::io::poll::add_to_linker::<StoreState, HasTable>(&mut l, |t| &mut t.table)?;
    sync::io::streams::add_to_linker::<StoreState, HasTable>(&mut l, |t| &mut t.table)?;
    Ok(l)
}

struct HasTable;

impl wasmtime::component::HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}
