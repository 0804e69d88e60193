//! The host side of core-module ABI v1 (wit/core-abi-v1.md): checking a core
//! module's exports, the `showrunner` and `env` imports, and calls that copy
//! encoded bytes in and out of guest memory. Used for AssemblyScript scenes; the
//! result is adapted to the same [`SceneInstance`](crate::SceneInstance) as
//! components, under the same budgets.

use wasmtime::{Caller, Engine, ExternType, Instance, InstancePre, Linker, Memory, Module, Store, TypedFunc, ValType};

use crate::guest_log::Level;
use crate::store::StoreState;

/// The ABI version this host speaks.
pub const CORE_ABI_VERSION: i32 = 1;
/// Longest string a guest may pass to an import, in bytes.
const MAX_IMPORT_STRING: usize = 64 * 1024;

/// A guest broke the ABI (bad pointer, bad length); the call is faulted.
#[derive(Debug)]
pub(crate) struct AbiViolation(pub String);

impl std::fmt::Display for AbiViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for AbiViolation {}

/// The guest handed back more bytes than the transfer cap.
#[derive(Debug)]
pub(crate) struct OutputOverCap {
    pub len: usize,
}

impl std::fmt::Display for OutputOverCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "output of {} bytes over the transfer cap", self.len)
    }
}
impl std::error::Error for OutputOverCap {}

/// The guest called `env.abort` (an AssemblyScript `abort()` or failed assertion).
#[derive(Debug)]
pub(crate) struct GuestAbort(pub String);

impl std::fmt::Display for GuestAbort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "abort: {}", self.0)
    }
}
impl std::error::Error for GuestAbort {}

/// Exports ABI v1 requires, with their signatures: params `>` results, where
/// i = i32, f = f32, F = f64.
const REQUIRED_EXPORTS: &[(&str, &str)] = &[
    ("sr_abi_version", ">i"),
    ("sr_alloc", "i>i"),
    ("sr_output", ">i"),
    ("sr_describe", ">i"),
    ("sr_init", "ii>i"),
    ("sr_set_props", "ii>"),
    ("sr_on_event", "ii>"),
    ("sr_tick", "ii>i"),
    ("sr_save_state", ">i"),
    ("sr_restore_state", "ii>i"),
];

fn signature(ty: &wasmtime::FuncType) -> String {
    let code = |v: ValType| match v {
        ValType::I32 => 'i',
        ValType::I64 => 'I',
        ValType::F32 => 'f',
        ValType::F64 => 'F',
        _ => '?',
    };
    let params: String = ty.params().map(code).collect();
    let results: String = ty.results().map(code).collect();
    format!("{params}>{results}")
}

/// Does this core module declare the showrunner ABI at all?
pub(crate) fn declares_abi(module: &Module) -> bool {
    module.exports().any(|e| e.name() == "sr_abi_version")
}

/// Checks the exports against ABI v1; the error names the first problem.
pub(crate) fn check_exports(module: &Module) -> Result<(), String> {
    let memory = module.exports().find(|e| e.name() == "memory");
    if !matches!(memory.map(|e| e.ty()), Some(ExternType::Memory(_))) {
        return Err("core ABI v1 needs an exported memory named `memory`".into());
    }
    for (name, want) in REQUIRED_EXPORTS {
        match module.exports().find(|e| e.name() == *name).map(|e| e.ty()) {
            Some(ExternType::Func(f)) if signature(&f) == *want => {}
            Some(ExternType::Func(f)) => return Err(format!("export `{name}` has signature {}, core ABI v1 wants {want}", signature(&f))),
            Some(_) => return Err(format!("export `{name}` is not a function")),
            None => return Err(format!("core ABI v1 export `{name}` is missing")),
        }
    }
    Ok(())
}

fn memory_of(caller: &mut Caller<'_, StoreState>) -> wasmtime::Result<Memory> {
    caller.get_export("memory").and_then(|e| e.into_memory()).ok_or_else(|| wasmtime::Error::new(AbiViolation("no exported memory".into())))
}

/// Copies `len` bytes at `ptr` out of guest memory, bounds-checked.
fn read_bytes(memory: &Memory, store: impl wasmtime::AsContext, ptr: i32, len: i32, max: usize) -> wasmtime::Result<Vec<u8>> {
    let (Ok(start), Ok(len)) = (usize::try_from(ptr), usize::try_from(len)) else {
        return Err(wasmtime::Error::new(AbiViolation(format!("negative pointer or length ({ptr}, {len})"))));
    };
    if len > max {
        return Err(wasmtime::Error::new(OutputOverCap { len }));
    }
    let data = memory.data(&store);
    match start.checked_add(len).and_then(|end| data.get(start..end)) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(wasmtime::Error::new(AbiViolation(format!("{len} bytes at {start} run past the end of memory ({} bytes)", data.len())))),
    }
}

fn read_string(memory: &Memory, store: impl wasmtime::AsContext, ptr: i32, len: i32) -> wasmtime::Result<String> {
    let bytes = read_bytes(memory, store, ptr, len.min(MAX_IMPORT_STRING as i32), MAX_IMPORT_STRING)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// An AssemblyScript string: UTF-16LE at `ptr`, its byte length in the u32 before it.
fn read_as_string(memory: &Memory, store: impl wasmtime::AsContext, ptr: i32) -> String {
    if ptr < 4 {
        return String::new();
    }
    let data = memory.data(&store);
    let at = ptr as usize;
    let Some(len) = data.get(at - 4..at).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
        return String::new();
    };
    let len = len.min(2048) & !1;
    let Some(raw) = data.get(at..at.saturating_add(len)) else {
        return String::new();
    };
    let units: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units)
}

fn write_bytes(caller: &mut Caller<'_, StoreState>, ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    let memory = memory_of(caller)?;
    let offset = usize::try_from(ptr).map_err(|_| wasmtime::Error::new(AbiViolation(format!("negative output pointer {ptr}"))))?;
    memory.write(caller, offset, bytes).map_err(|_| wasmtime::Error::new(AbiViolation(format!("output pointer {offset} runs past the end of memory"))))
}

/// The imports a core module may use; nothing else is defined.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut l = Linker::<StoreState>::new(engine);
    l.func_wrap("showrunner", "log", |mut caller: Caller<'_, StoreState>, level: i32, ptr: i32, len: i32| -> wasmtime::Result<()> {
        let memory = memory_of(&mut caller)?;
        let message = read_string(&memory, &caller, ptr, len)?;
        let level = match level {
            i32::MIN..=0 => Level::Trace,
            1 => Level::Debug,
            2 => Level::Info,
            3 => Level::Warn,
            _ => Level::Error,
        };
        caller.data().log.push(level, &message);
        Ok(())
    })?;
    l.func_wrap("showrunner", "asset_size", |mut caller: Caller<'_, StoreState>, ptr: i32, len: i32, out: i32| -> wasmtime::Result<i32> {
        let memory = memory_of(&mut caller)?;
        let name = read_string(&memory, &caller, ptr, len)?;
        match caller.data().services.asset_size(&name) {
            Some((w, h)) => {
                let mut bytes = w.to_le_bytes().to_vec();
                bytes.extend_from_slice(&h.to_le_bytes());
                write_bytes(&mut caller, out, &bytes)?;
                Ok(1)
            }
            None => Ok(0),
        }
    })?;
    l.func_wrap(
        "showrunner",
        "measure_text",
        |mut caller: Caller<'_, StoreState>, tp: i32, tl: i32, fp: i32, fl: i32, size: f32, out: i32| -> wasmtime::Result<()> {
            let memory = memory_of(&mut caller)?;
            let text = read_string(&memory, &caller, tp, tl)?;
            let family = read_string(&memory, &caller, fp, fl)?;
            let size = if size.is_finite() { size.clamp(0.0, 10_000.0) } else { 0.0 };
            let (w, h) = caller.data().services.measure_text(&text, &family, size);
            let mut bytes = w.to_le_bytes().to_vec();
            bytes.extend_from_slice(&h.to_le_bytes());
            write_bytes(&mut caller, out, &bytes)
        },
    )?;
    l.func_wrap("env", "abort", |mut caller: Caller<'_, StoreState>, msg: i32, file: i32, line: i32, column: i32| -> wasmtime::Result<()> {
        let memory = memory_of(&mut caller)?;
        let message = read_as_string(&memory, &caller, msg);
        let file = read_as_string(&memory, &caller, file);
        let text = if file.is_empty() { message } else { format!("{message} at {file}:{line}:{column}") };
        caller.data().log.push(Level::Error, &format!("abort: {text}"));
        Err(wasmtime::Error::new(GuestAbort(text)))
    })?;
    l.func_wrap("env", "seed", |caller: Caller<'_, StoreState>| -> f64 { (caller.data().seed >> 11 | 1) as f64 })?;
    Ok(l)
}

/// A live core-module scene: its exports, typed.
pub(crate) struct CoreScene {
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    output: TypedFunc<(), i32>,
    describe: TypedFunc<(), i32>,
    init: TypedFunc<(i32, i32), i32>,
    set_props: TypedFunc<(i32, i32), ()>,
    on_event: TypedFunc<(i32, i32), ()>,
    tick: TypedFunc<(i32, i32), i32>,
    save_state: TypedFunc<(), i32>,
    restore_state: TypedFunc<(i32, i32), i32>,
    /// Largest output accepted from one call.
    max_output: usize,
}

impl CoreScene {
    /// Instantiates and checks the declared ABI version.
    pub(crate) fn instantiate(pre: &InstancePre<StoreState>, store: &mut Store<StoreState>, max_output: usize) -> wasmtime::Result<CoreScene> {
        let instance: Instance = pre.instantiate(&mut *store)?;
        let version = instance.get_typed_func::<(), i32>(&mut *store, "sr_abi_version")?.call(&mut *store, ())?;
        if version != CORE_ABI_VERSION {
            return Err(wasmtime::Error::new(AbiViolation(format!("module declares core ABI version {version}; this host speaks {CORE_ABI_VERSION}"))));
        }
        let memory = instance.get_memory(&mut *store, "memory").ok_or_else(|| wasmtime::Error::new(AbiViolation("no exported memory".into())))?;
        Ok(CoreScene {
            memory,
            alloc: instance.get_typed_func(&mut *store, "sr_alloc")?,
            output: instance.get_typed_func(&mut *store, "sr_output")?,
            describe: instance.get_typed_func(&mut *store, "sr_describe")?,
            init: instance.get_typed_func(&mut *store, "sr_init")?,
            set_props: instance.get_typed_func(&mut *store, "sr_set_props")?,
            on_event: instance.get_typed_func(&mut *store, "sr_on_event")?,
            tick: instance.get_typed_func(&mut *store, "sr_tick")?,
            save_state: instance.get_typed_func(&mut *store, "sr_save_state")?,
            restore_state: instance.get_typed_func(&mut *store, "sr_restore_state")?,
            max_output,
        })
    }

    /// Copies `bytes` into memory the guest allocated; returns (ptr, len).
    fn input(&self, store: &mut Store<StoreState>, bytes: &[u8]) -> wasmtime::Result<(i32, i32)> {
        let len = i32::try_from(bytes.len()).map_err(|_| wasmtime::Error::new(AbiViolation("input too large".into())))?;
        let ptr = self.alloc.call(&mut *store, len)?;
        let offset = usize::try_from(ptr).map_err(|_| wasmtime::Error::new(AbiViolation(format!("sr_alloc returned negative pointer {ptr}"))))?;
        self.memory
            .write(&mut *store, offset, bytes)
            .map_err(|_| wasmtime::Error::new(AbiViolation(format!("sr_alloc returned {offset}, where {len} bytes do not fit"))))?;
        Ok((ptr, len))
    }

    fn read_output(&self, store: &mut Store<StoreState>, len: i32) -> wasmtime::Result<Vec<u8>> {
        let ptr = self.output.call(&mut *store, ())?;
        read_bytes(&self.memory, &*store, ptr, len, self.max_output)
    }

    pub(crate) fn describe(&self, store: &mut Store<StoreState>) -> wasmtime::Result<Vec<u8>> {
        let len = self.describe.call(&mut *store, ())?;
        self.read_output(store, len)
    }

    pub(crate) fn init(&self, store: &mut Store<StoreState>, props: &[u8]) -> wasmtime::Result<Vec<u8>> {
        let (p, l) = self.input(store, props)?;
        let len = self.init.call(&mut *store, (p, l))?;
        self.read_output(store, len)
    }

    pub(crate) fn set_props(&self, store: &mut Store<StoreState>, props: &[u8]) -> wasmtime::Result<()> {
        let (p, l) = self.input(store, props)?;
        self.set_props.call(&mut *store, (p, l))
    }

    pub(crate) fn on_event(&self, store: &mut Store<StoreState>, event: &[u8]) -> wasmtime::Result<()> {
        let (p, l) = self.input(store, event)?;
        self.on_event.call(&mut *store, (p, l))
    }

    pub(crate) fn tick(&self, store: &mut Store<StoreState>, frame: &[u8]) -> wasmtime::Result<Vec<u8>> {
        let (p, l) = self.input(store, frame)?;
        let len = self.tick.call(&mut *store, (p, l))?;
        self.read_output(store, len)
    }

    pub(crate) fn save_state(&self, store: &mut Store<StoreState>) -> wasmtime::Result<Vec<u8>> {
        let len = self.save_state.call(&mut *store, ())?;
        self.read_output(store, len)
    }

    pub(crate) fn restore_state(&self, store: &mut Store<StoreState>, state: &[u8]) -> wasmtime::Result<Vec<u8>> {
        let (p, l) = self.input(store, state)?;
        let len = self.restore_state.call(&mut *store, (p, l))?;
        self.read_output(store, len)
    }
}
