//! Every example scene and transition: sane `describe()`, 300 good ticks, valid
//! draw lists, deterministic output; and hot-swap with state carried over.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use common::*;
use showrunner_core::{DrawOp, Event, PropValue};
use showrunner_wasm::{FaultPolicy, GuestLog, LayerRunner, SwapError, TransitionInstance, World};

const SCENES: &[&str] = &["scene-lower-third", "scene-scoreboard", "scene-ticker", "scene-clock", "scene-alert"];
const TRANSITIONS: &[&str] = &["transition-crossfade", "transition-wipe", "transition-push"];

fn events_for(i: u64) -> Vec<Event> {
    match i {
        0 => vec![Event::named("play"), Event::named("start"), Event { name: "alert".into(), payload: "Goal!".into() }],
        100 => vec![Event { name: "home-score".into(), payload: "+1".into() }, Event::named("next")],
        200 => vec![Event::named("stop")],
        _ => vec![],
    }
}

/// Runs 300 frames with a few events and returns every frame's draw list.
fn run_300(crate_name: &str) -> Vec<Vec<DrawOp>> {
    let host = host_with(relaxed());
    let module = load(&host, crate_name);
    let mut layer = LayerRunner::new("test", module, &[], FaultPolicy::default()).expect("starts");
    (0..300)
        .map(|i| {
            for e in events_for(i) {
                layer.on_event(e).unwrap_or_else(|f| panic!("{crate_name}: event: {f}"));
            }
            let out = layer.tick(&frame(i));
            assert!(out.fault.is_none(), "{crate_name} frame {i}: {:?}", out.fault);
            assert!(out.fresh);
            out.ops.as_ref().clone()
        })
        .collect()
}

#[test]
fn every_scene_describes_itself_and_ticks_300_frames() {
    let host = host_with(relaxed());
    for name in SCENES {
        let module = load(&host, name);
        assert_eq!(module.world, World::Scene, "{name}");
        let info = &module.info;
        assert!(!info.name.is_empty() && !info.version.is_empty(), "{name}: {info:?}");
        for spec in &info.props {
            assert!(!spec.name.is_empty() && !spec.label.is_empty(), "{name}: {spec:?}");
            assert!(spec.check(&spec.default).is_ok(), "{name}: default of {} fits its own spec", spec.name);
        }
        let frames = run_300(name);
        assert!(frames.iter().any(|ops| !ops.is_empty()), "{name} draws something in 300 frames");
    }
}

#[test]
fn every_transition_shows_outgoing_at_zero_and_incoming_at_one() {
    let host = host_with(relaxed());
    for name in TRANSITIONS {
        let module = load(&host, name);
        assert_eq!(module.world, World::Transition, "{name}");
        let log = GuestLog::new(name.to_string(), 20, 512);
        let mut t = TransitionInstance::new(&module, "take", log).expect("starts");
        for i in 0..=30u64 {
            let plan = t.mix(i as f32 / 30.0, &frame(i)).unwrap_or_else(|f| panic!("{name}: {f}"));
            if i == 0 {
                assert!(plan.outgoing.opacity > 0.99, "{name} at 0: {plan:?}");
            }
            if i == 30 {
                assert!(plan.incoming.opacity > 0.99, "{name} at 1: {plan:?}");
            }
        }
    }
}

#[test]
fn same_module_props_and_events_give_identical_draw_lists() {
    for name in SCENES {
        assert_eq!(run_300(name), run_300(name), "{name} is not deterministic");
    }
}

fn score_texts(ops: &[DrawOp]) -> Vec<String> {
    ops.iter()
        .filter_map(|op| match op {
            DrawOp::Text(t) if t.text.chars().all(|c| c.is_ascii_digit()) && !t.text.is_empty() => Some(t.text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn hot_swapped_scoreboard_keeps_the_score() {
    let host = host_with(relaxed());
    let v1 = load(&host, "scene-scoreboard");
    let v2 = load(&host, "guest-scoreboard-v2");
    assert_ne!(v1.hash, v2.hash);
    let mut layer = LayerRunner::new("score", v1, &[text_prop("home-name", "LIONS")], FaultPolicy::default()).expect("starts");
    layer.on_event(Event::named("play")).expect("play");
    for _ in 0..3 {
        layer.on_event(Event { name: "home-score".into(), payload: "+1".into() }).expect("event");
    }
    layer.on_event(Event { name: "away-score".into(), payload: "+1".into() }).expect("event");
    for i in 0..60 {
        layer.tick(&frame(i));
    }
    let before = layer.tick(&frame(60));
    assert_eq!(score_texts(&before.ops), vec!["3", "1"]);

    let report = layer.swap(v2).expect("swap succeeds");
    assert!(report.state_carried && report.state_bytes > 0, "{report:?}");
    assert!(report.to.ends_with("0.2.0"), "{report:?}");
    let after = layer.tick(&frame(61));
    assert!(after.fresh && after.fault.is_none());
    assert_eq!(score_texts(&after.ops), vec!["3", "1"], "score survives the swap");
    assert_ne!(before.ops, after.ops, "the new build looks different");
    assert!(layer.props().iter().any(|p| p.name == "home-name" && p.value == PropValue::Text("LIONS".into())), "props carried");
}

#[test]
fn a_failed_swap_leaves_the_old_module_running() {
    let host = host_with(relaxed());
    let start = || {
        let mut layer = LayerRunner::new("score", load(&host, "scene-scoreboard"), &[], FaultPolicy::default()).expect("starts");
        layer.on_event(Event::named("play")).expect("play");
        layer.on_event(Event { name: "home-score".into(), payload: "2".into() }).expect("event");
        for i in 0..60 {
            layer.tick(&frame(i));
        }
        layer
    };
    let (mut layer, mut control) = (start(), start());

    let err = layer.swap(load(&host, "transition-crossfade")).unwrap_err();
    assert!(matches!(err, SwapError::NotAScene("transition")), "{err}");

    let err = layer.swap(load(&host, "guest-hostile")).unwrap_err();
    assert!(matches!(err, SwapError::NewModule(ref f) if f.call == "init"), "the hostile guest refuses the scoreboard's props: {err}");

    // A module that refuses the old state keeps the old one running too.
    let hostile = load(&host, "guest-hostile");
    let mut bad = LayerRunner::new("bad", hostile.clone(), &[text_prop("mode", "bad-restore")], FaultPolicy::default()).expect("starts");
    bad.on_event(Event::named("play")).expect("event");
    let err = bad.swap(hostile).unwrap_err();
    assert!(matches!(err, SwapError::RestoreRefused(ref r) if r.contains("incompatible state")), "{err}");
    assert!(bad.tick(&frame(1)).fresh, "old module still runs after a refused swap");

    let after = layer.tick(&frame(60));
    assert_eq!(after.ops, control.tick(&frame(60)).ops, "the scoreboard is untouched by failed swaps");
    assert_eq!(score_texts(&after.ops), vec!["2", "0"]);
}
