//! The engine with real example modules: frame plans in z order, draw-list versions,
//! cuts at the exact frame, crossfades, transition faults, hostile layers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use showrunner_core::{DrawOp, Event, FramePlan, LayerSpec};
use showrunner_engine::{EngineEvent, EngineOptions, ModuleFiles};
use showrunner_wasm::FaultKind;

fn ids(plan: &FramePlan, scene: usize) -> Vec<&str> {
    plan.scenes[scene].layers.iter().map(|l| l.id.as_str()).collect()
}

fn two_scenes() -> showrunner_core::ShowSpec {
    show(vec![
        ("main", vec![layer("lower", "scene-lower-third", 10), layer("clock", "scene-clock", 1), layer("ticker", "scene-ticker", 5)]),
        // Never on program in these tests: a panicking layer here would report faults if ticked.
        ("second", vec![layer("score", "scene-scoreboard", 0), LayerSpec { props: vec![text("mode", "panic")], ..layer("trap", "guest-hostile", 1) }]),
    ])
}

#[test]
fn a_two_scene_show_plans_90_frames_in_z_order_with_honest_versions() {
    let host = host();
    let mut engine = engine(&host, two_scenes(), 2);
    engine.event("lower", Event::named("play")).unwrap();
    engine.event("ticker", Event::named("play")).unwrap();
    let plans: Vec<FramePlan> = (0..90).map(|n| engine.frame(n).unwrap()).collect();

    for (n, plan) in plans.iter().enumerate() {
        assert_eq!(plan.frame.index, n as u64);
        assert_eq!(plan.scenes.len(), 1);
        assert_eq!(plan.scenes[0].name, "main");
        assert_eq!(ids(plan, 0), ["clock", "ticker", "lower"], "bottom to top by z");
        assert!(plan.overlay.is_empty());
    }
    let layer = |n: usize, i: usize| &plans[n].scenes[0].layers[i];
    // The lower third slides in over 0.6 s, then draws the same list every frame.
    let settled = layer(30, 2);
    assert!(settled.ops.iter().any(|op| matches!(op, DrawOp::Text(t) if t.text == "Jane Doe")));
    for n in 31..90 {
        assert_eq!(layer(n, 2).version, settled.version, "static layer at frame {n}");
        assert!(Arc::ptr_eq(&layer(n, 2).ops, &settled.ops), "unchanged lists keep their Arc");
    }
    assert!(layer(5, 2).version < settled.version, "the slide-in animates");
    // The ticker scrolls: a new version every frame once it is on screen.
    for n in 31..90 {
        assert_eq!(layer(n, 1).version, layer(n - 1, 1).version + 1, "ticker at frame {n}");
    }
    // The clock changes once per second: 2 to 4 versions in 3 seconds, each kept for
    // whole runs of frames with the same Arc.
    let clock_versions: HashSet<u64> = (0..90).map(|n| layer(n, 0).version).collect();
    assert!((2..=4).contains(&clock_versions.len()), "{clock_versions:?}");
    for n in 1..90 {
        if layer(n, 0).version == layer(n - 1, 0).version {
            assert!(Arc::ptr_eq(&layer(n, 0).ops, &layer(n - 1, 0).ops));
        }
    }
    let events = engine.drain_events();
    assert!(events.is_empty(), "scene `second` (with a panicking layer) must not be ticked: {events:?}");
}

#[test]
fn a_cut_changes_the_program_scene_at_the_exact_frame() {
    let host = host();
    let mut engine = engine(&host, two_scenes(), 2);
    engine.set_visible("trap", false).unwrap();
    for n in 0..30 {
        assert_eq!(engine.frame(n).unwrap().scenes[0].name, "main");
    }
    engine.take("second", None).unwrap();
    assert_eq!(engine.program(), "second");
    let plan = engine.frame(30).unwrap();
    assert_eq!(plan.scenes.len(), 1);
    assert_eq!(plan.scenes[0].name, "second");
    assert_eq!(ids(&plan, 0), ["score"], "hidden layers are left out");
    assert_eq!(engine.drain_events(), [EngineEvent::Cut { from: "main".into(), to: "second".into() }]);
}

#[test]
fn a_crossfade_shows_both_scenes_with_opacities_summing_to_one_then_only_the_new_one() {
    let host = host();
    let mut engine = engine(&host, two_scenes(), 2);
    engine.set_visible("trap", false).unwrap();
    engine.event("score", Event::named("play")).unwrap();
    for n in 0..10 {
        engine.frame(n).unwrap();
    }
    engine.take("second", transition(&host, "transition-crossfade", Duration::from_secs(1))).unwrap();
    assert_eq!((engine.program(), engine.incoming()), ("main", Some("second")));
    for n in 10..40 {
        let plan = engine.frame(n).unwrap();
        assert_eq!(plan.scenes.len(), 2, "frame {n}");
        let (out, inc) = (&plan.scenes[0], &plan.scenes[1]);
        assert_eq!((out.name.as_str(), inc.name.as_str()), ("main", "second"), "incoming on top");
        assert!((out.view.opacity + inc.view.opacity - 1.0).abs() < 1e-4, "frame {n}: {} + {}", out.view.opacity, inc.view.opacity);
        if n == 10 {
            assert_eq!((out.view.opacity, inc.view.opacity), (1.0, 0.0), "progress 0 at the first frame");
        }
        if n == 25 {
            assert!(!inc.layers[0].ops.is_empty(), "the incoming scene's layers are ticked");
        }
    }
    let after = engine.frame(40).unwrap();
    assert_eq!(after.scenes.len(), 1);
    assert_eq!(after.scenes[0].name, "second");
    assert_eq!(after.scenes[0].view.opacity, 1.0);
    assert_eq!(engine.program(), "second");
    let events = engine.drain_events();
    assert!(matches!(&events[0], EngineEvent::TransitionStarted { from, to, frames: 30, .. } if from == "main" && to == "second"), "{events:?}");
    assert_eq!(events[1], EngineEvent::TransitionFinished { to: "second".into(), fault: None, interrupted: false });
}

#[test]
fn a_faulting_transition_finishes_the_take_as_a_cut_and_says_why() {
    let host = host();
    let mut engine = engine(&host, two_scenes(), 1);
    engine.set_visible("trap", false).unwrap();
    // The wipe's overlay (its bar) does not fit a 64-byte transfer budget, so its
    // `mix` faults once the bar is on screen.
    let tight = host_with(showrunner_wasm::SandboxLimits { transfer_bytes: 64, ..relaxed() });
    let wipe = ModuleFiles::new(tight).load(&guest("transition-wipe")).expect("the wipe loads");
    engine.take("second", Some(showrunner_engine::TransitionChoice { module: wipe, duration: Duration::from_secs(1) })).unwrap();
    let scenes: Vec<usize> = (0..30).map(|n| engine.frame(n).unwrap().scenes.len()).collect();
    let cut_at = scenes.iter().position(|&s| s == 1).expect("the transition faults and cuts");
    assert!(cut_at > 0 && scenes[cut_at..].iter().all(|&s| s == 1), "{scenes:?}");
    assert_eq!(engine.program(), "second");
    let fault = engine.drain_events().into_iter().find_map(|e| match e {
        EngineEvent::TransitionFinished { fault: Some(f), .. } => Some(f),
        _ => None,
    });
    assert!(matches!(fault.map(|f| f.kind), Some(FaultKind::TransferCap { limit_bytes: 64 })));
}

#[test]
fn a_hostile_layer_faults_without_changing_any_other_layers_plan() {
    let host = host();
    let healthy = || vec![layer("lower", "scene-lower-third", 2), layer("ticker", "scene-ticker", 1)];
    let mut with_hostile = healthy();
    with_hostile.push(LayerSpec { props: vec![text("mode", "panic")], ..layer("hostile", "guest-hostile", 3) });
    let mut clean = engine(&host, show(vec![("main", healthy())]), 2);
    let mut mixed = engine(&host, show(vec![("main", with_hostile)]), 2);
    for engine in [&mut clean, &mut mixed] {
        engine.event("lower", Event::named("play")).unwrap();
        engine.event("ticker", Event::named("play")).unwrap();
    }
    for n in 0..60 {
        let (a, b) = (clean.frame(n).unwrap(), mixed.frame(n).unwrap());
        assert_eq!(ids(&b, 0), ["ticker", "lower", "hostile"]);
        assert_eq!(a.scenes[0].layers[..], b.scenes[0].layers[..2], "frame {n}");
        assert!(b.scenes[0].layers[2].ops.is_empty(), "the hostile layer never had a good frame");
    }
    let events = mixed.drain_events();
    let faulted: HashSet<&str> = events.iter().filter_map(|e| if let EngineEvent::LayerFault { layer, .. } = e { Some(layer.as_str()) } else { None }).collect();
    assert_eq!(faulted, HashSet::from(["hostile"]));
    assert!(events.iter().any(|e| matches!(e, EngineEvent::Quarantined { layer, .. } if layer == "hostile")), "{events:?}");
    assert!(clean.drain_events().is_empty());
}

#[test]
fn props_are_typed_by_the_module_and_bad_ones_name_the_layer() {
    let host = host();
    let mut spec = two_scenes();
    spec.scenes[0].layers[0].props = vec![text("accent", "#00ff00"), text("name", "Ada")];
    let mut engine = engine(&host, spec.clone(), 1);
    let accent = &engine.spec().layer("lower").unwrap().1.props[0].value;
    assert!(matches!(accent, showrunner_core::PropValue::Color(c) if c.g == 1.0 && c.r == 0.0));
    let err = engine.set_props("lower", &[text("subtitle", "x")]).unwrap_err().to_string();
    assert!(err.contains("layer `lower`") && err.contains("unknown prop `subtitle`"), "{err}");
    engine.set_props("lower", &[text("title", "Analyst")]).unwrap();
    engine.event("lower", Event::named("play")).unwrap();
    let plan = (0..=30).map(|n| engine.frame(n).unwrap()).last().unwrap();
    assert!(plan.scenes[0].layers[2].ops.iter().any(|op| matches!(op, DrawOp::Text(t) if t.text == "Analyst")));

    spec.scenes[0].layers[0].props = vec![text("accent", "green")];
    let mut modules = ModuleFiles::new(host.clone());
    let err = showrunner_engine::Engine::new(host.clone(), spec, EngineOptions::default(), |r| modules.load(r)).err().unwrap().to_string();
    assert!(err.contains("layer `lower`") && err.contains("`green` is not #RRGGBB"), "{err}");
}

#[test]
fn a_hot_swap_keeps_the_layer_on_screen_and_records_the_new_module() {
    let host = host();
    let mut engine = engine(&host, show(vec![("main", vec![layer("score", "scene-scoreboard", 0)])]), 1);
    engine.event("score", Event::named("play")).unwrap();
    engine.event("score", Event { name: "home-score".into(), payload: "+3".into() }).unwrap();
    let before = engine.frame(30).unwrap().scenes[0].layers[0].clone();
    let v2 = load(&host, "guest-scoreboard-v2");
    let report = engine.swap("score", v2.clone()).unwrap();
    assert!(report.state_carried);
    let after = engine.frame(31).unwrap().scenes[0].layers[0].clone();
    assert!(after.version > before.version && !after.ops.is_empty(), "the new module draws, still on screen");
    assert_eq!(engine.spec().layer("score").unwrap().1.module, v2.hash);
}
