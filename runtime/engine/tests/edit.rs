//! Editing a running show: placing layers, adding and removing scenes, and carrying a
//! layer's guest state across a remove and re-add (what a server restart does).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use showrunner_core::{Affine, Event, LayerSpec};
use showrunner_engine::{EngineError, LayerPatch};

#[test]
fn a_layer_patch_changes_placement_and_a_bad_one_changes_nothing() {
    let host = host();
    let mut engine = engine(&host, show(vec![("main", vec![layer("a", "scene-scoreboard", 0), layer("b", "scene-lower-third", 1)])]), 1);
    let moved = Affine { e: 100.0, f: 50.0, ..Affine::IDENTITY };
    let layer = engine.update_layer("a", &LayerPatch { transform: Some(moved), z: Some(5), opacity: Some(0.5), ..LayerPatch::default() }).unwrap();
    assert_eq!((layer.transform, layer.z, layer.opacity), (moved, 5, 0.5));
    let plan = engine.frame(0).unwrap();
    let ids: Vec<&str> = plan.scenes[0].layers.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"], "z 5 draws on top");
    assert_eq!(plan.scenes[0].layers[1].transform, moved);
    assert_eq!(plan.scenes[0].layers[1].opacity, 0.5);

    let before = engine.spec().clone();
    let err = engine.update_layer("a", &LayerPatch { opacity: Some(2.0), z: Some(-1), ..LayerPatch::default() }).unwrap_err();
    assert!(err.to_string().contains("opacity"), "{err}");
    assert_eq!(engine.spec(), &before, "a refused patch changes nothing, not even its valid fields");
    assert!(matches!(engine.update_layer("nope", &LayerPatch::default()), Err(EngineError::UnknownLayer(_))));

    engine.set_visible("a", false).unwrap();
    assert_eq!(engine.frame(1).unwrap().scenes[0].layers.len(), 1, "a hidden layer is not in the plan");
}

#[test]
fn scenes_are_added_and_removed_but_never_the_one_on_air() {
    let host = host();
    let mut engine = engine(&host, show(vec![("main", vec![layer("a", "scene-scoreboard", 0)])]), 1);
    engine.add_scene("break").unwrap();
    assert!(engine.add_scene("break").is_err(), "duplicate scene names are refused");
    engine.add_layer("break", LayerSpec::new("card", &guest("scene-lower-third")), load(&host, "scene-lower-third")).unwrap();
    engine.set_preview(Some("break")).unwrap();
    assert!(matches!(engine.remove_scene("main"), Err(EngineError::SceneOnAir(_))));
    engine.remove_scene("break").unwrap();
    assert!(engine.spec().scene("break").is_none());
    assert!(engine.spec().layer("card").is_none());
    assert!(engine.pool().module_of("card").is_none(), "its layers are stopped");
    assert_eq!(engine.preview(), None, "a removed preview scene clears the preview");
    assert_eq!(engine.frame(0).unwrap().scenes[0].layers.len(), 1);
}

#[test]
fn a_layer_re_added_with_its_checkpoint_draws_what_it_drew_before() {
    let host = host();
    let mut engine = engine(&host, show(vec![("main", vec![layer("score", "scene-scoreboard", 0)])]), 1);
    engine.event("score", Event::named("play")).unwrap();
    engine.event("score", Event { name: "home-score".into(), payload: "+3".into() }).unwrap();
    engine.event("score", Event { name: "away-score".into(), payload: "+1".into() }).unwrap();
    for n in 0..40 {
        engine.frame(n).unwrap();
    }
    let state = engine.layer_state("score").unwrap().expect("the scoreboard checkpoints its score");
    let spec = engine.spec().layer("score").unwrap().1.clone();
    let before = engine.frame(40).unwrap().scenes[0].layers[0].ops.clone();

    engine.remove_layer("score").unwrap();
    let module = load(&host, "scene-scoreboard");
    engine.add_layer("main", spec.clone(), module.clone()).unwrap();
    let fresh = engine.frame(40).unwrap().scenes[0].layers[0].ops.clone();
    assert_ne!(fresh, before, "without its state the scoreboard starts from 0-0");

    engine.remove_layer("score").unwrap();
    engine.add_layer_with_state("main", spec, module, Some(state)).unwrap();
    let restored = engine.frame(40).unwrap().scenes[0].layers[0].ops.clone();
    assert_eq!(restored, before, "with its checkpoint it draws the same 3-1");
}

#[test]
fn the_preview_monitor_plays_the_preview_scene_without_touching_program() {
    use showrunner_engine::PreviewFrame;
    let host = host();
    let mut engine = engine(&host, show(vec![("main", vec![layer("score", "scene-scoreboard", 0)])]), 1);
    assert_eq!(engine.preview_frame(0).unwrap(), PreviewFrame::Empty, "no preview scene: nothing to show");
    engine.set_preview(Some("main")).unwrap();
    assert_eq!(engine.preview_frame(0).unwrap(), PreviewFrame::SameAsProgram);

    engine.add_scene("next").unwrap();
    engine.add_layer("next", LayerSpec::new("card", &guest("scene-lower-third")), load(&host, "scene-lower-third")).unwrap();
    engine.event("card", Event::named("play")).unwrap();
    engine.set_preview(Some("next")).unwrap();
    let mut drawn = 0;
    for n in 0..30 {
        let program = engine.frame(n).unwrap();
        let ids: Vec<&str> = program.scenes.iter().flat_map(|s| &s.layers).map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["score"], "program never holds the preview scene's layers");
        let PreviewFrame::Scene(preview) = engine.preview_frame(n).unwrap() else { panic!("the preview scene is not program") };
        assert_eq!(preview.scenes.len(), 1);
        assert_eq!(preview.scenes[0].name, "next");
        assert_eq!(preview.scenes[0].layers[0].id, "card");
        drawn = preview.scenes[0].layers[0].ops.len();
    }
    assert!(drawn > 0, "the lower third plays on the preview monitor");
    engine.take("next", None).unwrap();
    assert_eq!(engine.preview_frame(31).unwrap(), PreviewFrame::SameAsProgram, "once taken, preview is program");
}
