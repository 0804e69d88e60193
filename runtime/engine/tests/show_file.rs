//! Show files: errors name the key, value and line; the shipped demo show parses,
//! loads its modules and plays through with every cue firing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use showrunner_core::PropValue;
use showrunner_engine::{CueAction, EngineEvent, EngineOptions, LoadedShow, PoolConfig, ShowFile, ShowFileError};

const HEAD: &str = "program = \"main\"\n[[scene]]\nname = \"main\"\n[[scene.layer]]\nid = \"lower\"\nmodule = \"lower.wasm\"\n";

fn parse(text: &str) -> Result<ShowFile, String> {
    ShowFile::parse(text, Path::new("shows/test.toml")).map_err(|e| e.to_string())
}

#[test]
fn a_minimal_file_takes_the_defaults_and_resolves_paths_against_its_folder() {
    let file = parse(HEAD).unwrap();
    assert_eq!((file.spec.width, file.spec.height, file.spec.fps_num, file.spec.fps_den), (1920, 1080, 30, 1));
    let layer = &file.spec.scenes[0].layers[0];
    assert_eq!(PathBuf::from(&layer.module), Path::new("shows").join("lower.wasm"));
    assert!(layer.visible && layer.opacity == 1.0 && layer.z == 0 && layer.crop.is_none());
}

#[test]
fn layer_options_and_cues_parse() {
    let text = format!(
        "size = \"1280x720\"\nfps = \"30000/1001\"\n{HEAD}z = 3\nopacity = 0.5\nvisible = false\ntransform = [1, 0, 0, 1, 10, 20]\ncrop = [0, 0, 640, 360]\n\
         props = {{ name = \"Ada\", accent = \"#ff0000\", size = 2, shown = true, bg = {{ r = 0, g = 0, b = 1 }} }}\n\
         [[cue]]\nat = \"1.5s\"\nlayer = \"lower\"\nevent = \"play\"\n\
         [[cue]]\nat = 2\nlayer = \"lower\"\nprops = {{ name = \"Bo\" }}\n\
         [[cue]]\nat = \"3s\"\ntake = \"main\"\ntransition = \"/abs/wipe.wasm\"\n"
    );
    let file = parse(&text).unwrap();
    assert_eq!((file.spec.width, file.spec.fps_num, file.spec.fps_den), (1280, 30_000, 1001));
    let layer = &file.spec.scenes[0].layers[0];
    assert_eq!((layer.z, layer.opacity, layer.visible, layer.transform.e, layer.crop.map(|c| c.width)), (3, 0.5, false, 10.0, Some(640.0)));
    let value = |name: &str| layer.props.iter().find(|p| p.name == name).map(|p| p.value.clone());
    assert_eq!(value("accent"), Some(PropValue::Text("#ff0000".into())), "typed later, by the module's spec");
    assert_eq!(value("size"), Some(PropValue::Number(2.0)));
    assert_eq!(value("shown"), Some(PropValue::Flag(true)));
    assert!(matches!(value("bg"), Some(PropValue::Color(c)) if c.b == 1.0));
    assert_eq!(file.cues.len(), 3);
    assert_eq!(file.cues[0].at, Duration::from_millis(1500));
    assert!(matches!(&file.cues[1].action, CueAction::SetProps { props, .. } if props[0].name == "name"));
    assert_eq!(file.cues[2].action, CueAction::Take { scene: "main".into(), transition: Some(("/abs/wipe.wasm".into(), Duration::from_secs(1))) });
}

#[test]
fn errors_name_the_key_or_value_and_the_line() {
    let cases: [(String, &[&str]); 9] = [
        (format!("{HEAD}colour = \"red\"\n"), &["line 7", "unknown field `colour`"]),
        (format!("tempo = 3\n{HEAD}"), &["line 1", "unknown field `tempo`"]),
        (format!("size = \"big\"\n{HEAD}"), &["line 1", "size `big`", "\"1920x1080\""]),
        (format!("fps = \"fast\"\n{HEAD}"), &["line 1", "fps `fast`", "\"30000/1001\""]),
        (format!("{HEAD}[[cue]]\nat = \"soon\"\nlayer = \"lower\"\nevent = \"play\"\n"), &["line 8", "duration `soon`", "\"1.5s\""]),
        (format!("{HEAD}[[cue]]\nat = \"1s\"\nlayer = \"lower\"\nevent = \"play\"\ntake = \"main\"\n"), &["line 7", "a cue has `layer` with `event`"]),
        (format!("{HEAD}[[cue]]\nat = \"1s\"\nlayer = \"upper\"\nevent = \"play\"\n"), &["line 7", "layer `upper`"]),
        (format!("{HEAD}[[cue]]\nat = \"1s\"\ntake = \"second\"\n"), &["line 7", "scene `second`"]),
        (format!("{HEAD}[[scene.layer]]\nid = \"lower\"\nmodule = \"x.wasm\"\n"), &["layer `lower` appears in scene `main` and again"]),
    ];
    for (text, expected) in cases {
        let err = parse(&text).unwrap_err();
        for needle in expected {
            assert!(err.contains(needle), "`{needle}` missing from:\n{err}\n--- for:\n{text}");
        }
        assert!(err.contains("shows/test.toml"), "names the file: {err}");
    }
    let missing = ShowFile::read(Path::new("/nonexistent/show.toml")).unwrap_err();
    assert!(matches!(missing, ShowFileError::Read { .. }));
}

fn demo_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../example-scenes/demo-show.toml")
}

#[test]
fn the_demo_show_loads_and_plays_every_cue_through_both_transitions() {
    guest_path("scene-lower-third");
    let options = EngineOptions { pool: PoolConfig { workers: 2, ..PoolConfig::default() }, ..EngineOptions::default() };
    let mut show = LoadedShow::open(&demo_path(), &host(), options).unwrap();
    assert_eq!(show.frames(), 360, "12 s at 30 fps");
    assert_eq!(show.file.cues.len(), 12);
    let mut scenes_per_frame = Vec::new();
    for n in 0..show.frames() {
        show.timeline.apply_due(&mut show.engine, n);
        let plan = show.engine.frame(n).unwrap();
        scenes_per_frame.push(plan.scenes.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join("+"));
    }
    assert_eq!(show.timeline.remaining(), 0);
    let events = show.engine.drain_events();
    let fired = events.iter().filter(|e| matches!(e, EngineEvent::CueFired { .. })).count();
    let problems: Vec<_> = events.iter().filter(|e| matches!(e, EngineEvent::CueFailed { .. } | EngineEvent::LayerFault { .. })).collect();
    assert_eq!((fired, problems.len()), (12, 0), "{problems:?}");
    let finished = events.iter().filter(|e| matches!(e, EngineEvent::TransitionFinished { fault: None, interrupted: false, .. })).count();
    assert_eq!(finished, 2);
    // Crossfade at 4 s (frames 120..150), wipe back at 8 s (frames 240..270).
    assert_eq!(scenes_per_frame[119], "main");
    assert_eq!(scenes_per_frame[120], "main+break");
    assert_eq!(scenes_per_frame[149], "main+break");
    assert_eq!(scenes_per_frame[150], "break");
    assert_eq!(scenes_per_frame[240], "break+main");
    assert_eq!(scenes_per_frame[270], "main");
    assert_eq!(show.engine.program(), "main");
}
