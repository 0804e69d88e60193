//! The AssemblyScript lower third (core ABI v1) against the Rust one (component):
//! same props, events and frames give the same draw list, op for op, within a
//! float tolerance (the two compilers round differently in the last bits).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::path::PathBuf;

use common::*;
use showrunner_core::{DrawOp, Event, Prop, PropValue};
use showrunner_wasm::{Abi, FaultPolicy, LayerRunner};
use serde_json::Value;

fn as_lower_third() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../example-scenes/as-lower-third/build/as_lower_third.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; build it with `cargo xtask build-scenes`", path.display()))
}

/// Numbers equal within 1e-3 (relative to their size), everything else exactly.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-3 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w))),
        _ => a == b,
    }
}

fn script(i: u64) -> (Vec<Event>, Vec<Prop>) {
    match i {
        0 => (vec![Event::named("play")], vec![]),
        50 => (vec![], vec![Prop { name: "name".into(), value: PropValue::Text("Ada Lovelace".into()) }]),
        90 => (vec![Event::named("stop")], vec![]),
        _ => (vec![], vec![]),
    }
}

fn run(layer: &mut LayerRunner) -> Vec<Vec<DrawOp>> {
    (0..120)
        .map(|i| {
            let (events, props) = script(i);
            layer.set_props(&props).expect("props");
            for e in events {
                layer.on_event(e).expect("event");
            }
            let out = layer.tick(&frame(i));
            assert!(out.fresh && out.fault.is_none(), "frame {i}: {:?}", out.fault);
            out.ops.as_ref().clone()
        })
        .collect()
}

#[test]
fn assemblyscript_lower_third_draws_what_the_rust_one_draws() {
    let host = host_with(relaxed());
    let as_module = host.load(&as_lower_third()).expect("AS lower third loads");
    assert_eq!(as_module.abi, Abi::CoreV1);
    let rust_module = load(&host, "scene-lower-third");
    assert_eq!(as_module.info.props, rust_module.info.props, "same props and defaults");

    let ours = run(&mut LayerRunner::new("as", as_module, &[], FaultPolicy::default()).expect("starts"));
    let theirs = run(&mut LayerRunner::new("rust", rust_module, &[], FaultPolicy::default()).expect("starts"));
    assert!(ours.iter().filter(|ops| !ops.is_empty()).count() > 60, "the AS lower third is on screen for most frames");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let (a, b) = (serde_json::to_value(a).expect("json"), serde_json::to_value(b).expect("json"));
        assert!(close(&a, &b), "frame {i} differs:\nAS:   {a}\nRust: {b}");
    }
}
