//! `showrunner check MODULE.wasm`: is this a module we can run, and what is it?

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use showrunner_core::PropValue;
use showrunner_wasm::{Host, LoadedModule};

use super::{EXIT_REJECTED, load_module};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The module (.wasm component).
    pub module: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CheckArgs, host: Arc<Host>) -> anyhow::Result<ExitCode> {
    let Some(module) = load_module(&host, &args.module)? else {
        return Ok(ExitCode::from(EXIT_REJECTED));
    };
    if args.json {
        out!("{}", serde_json::to_string_pretty(&summary_json(&module))?);
    } else {
        print_summary(&args.module, &module);
    }
    Ok(ExitCode::SUCCESS)
}

fn summary_json(m: &LoadedModule) -> serde_json::Value {
    serde_json::json!({
        "world": m.world.name(),
        "abi": m.abi.name(),
        "wit": format!("showrunner:scene@{}", showrunner_wasm::WIT_VERSION),
        "name": m.info.name,
        "version": m.info.version,
        "props": m.info.props,
        "size_bytes": m.size_bytes,
        "hash": m.hash,
        "compile_ms": m.compile_time.as_secs_f64() * 1000.0,
        "from_cache": m.from_cache,
    })
}

fn print_summary(path: &std::path::Path, m: &LoadedModule) {
    out!("{}", path.display());
    out!("  world    {} (showrunner:scene@{})", m.world.name(), showrunner_wasm::WIT_VERSION);
    out!("  abi      {}", m.abi.name());
    out!("  module   {} {}", m.info.name, m.info.version);
    out!("  size     {} bytes, blake3 {}", m.size_bytes, &m.hash[..16]);
    let how = if m.from_cache { "loaded from cache" } else { "compiled" };
    out!("  compile  {:.1} ms ({how})", m.compile_time.as_secs_f64() * 1000.0);
    if m.info.props.is_empty() {
        out!("  props    none");
    } else {
        out!("  props");
        for p in &m.info.props {
            let range = match (p.min, p.max) {
                (Some(a), Some(b)) => format!(" [{a}..={b}]"),
                _ => String::new(),
            };
            out!("    {:<16} {:<7} default {}{range}  ({})", p.name, p.default.type_name(), show_value(&p.default), p.label);
        }
    }
}

fn show_value(v: &PropValue) -> String {
    match v {
        PropValue::Flag(b) => b.to_string(),
        PropValue::Number(n) => n.to_string(),
        PropValue::Text(s) | PropValue::Asset(s) => format!("{s:?}"),
        PropValue::Color(c) => {
            let ch = |x: f32| (x.clamp(0.0, 1.0) * 255.0).round() as u8;
            format!("#{:02x}{:02x}{:02x}{:02x}", ch(c.r), ch(c.g), ch(c.b), ch(c.a))
        }
    }
}
