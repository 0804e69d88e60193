//! Building the show from the store at start: scenes in creation order, the program
//! and preview scenes, every layer with its module (loaded from the stored bytes) and
//! its saved guest state. A layer that cannot come back (its module is gone or no
//! longer loads) is left out and reported; it never stops the server from starting.
//!
//! Must not: write anything except the first scene of a new show.

use std::sync::Arc;

use showrunner_core::{SceneSpec, ShowSpec};
use showrunner_engine::{Engine, EngineOptions};
use showrunner_wasm::Host;

use super::docs::{FIRST_SCENE, LayerDoc, SHOW_DOC_ID, SceneDoc, ShowDoc, next_seq};
use super::guest_state::{SavedState, StateSaver};
use crate::store::{DocKind, Store};

/// The output format of the show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
}

/// What came back, and what could not.
pub struct Restored {
    pub engine: Engine,
    pub layers: usize,
    pub problems: Vec<String>,
}

fn decode<T: serde::de::DeserializeOwned>(kind: &str, id: &str, doc: serde_json::Value, problems: &mut Vec<String>) -> Option<T> {
    match serde_json::from_value(doc) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(format!("{kind} {id:?} is unreadable ({e}); left out"));
            None
        }
    }
}

pub fn restore(store: &Store, host: &Arc<Host>, format: Format, options: EngineOptions, saver: &mut StateSaver) -> anyhow::Result<Restored> {
    let mut problems = Vec::new();
    let mut scenes: Vec<SceneDoc> = store.docs(DocKind::Scene)?.into_iter().filter_map(|(id, _, doc)| decode("scene", &id, doc, &mut problems)).collect();
    if scenes.is_empty() {
        let first = SceneDoc { name: FIRST_SCENE.to_string(), seq: next_seq() };
        store.put_doc(DocKind::Scene, FIRST_SCENE, &serde_json::to_value(&first)?)?;
        scenes.push(first);
    }
    scenes.sort_by_key(|s| s.seq);
    let show: Option<ShowDoc> = store.doc(DocKind::Show, SHOW_DOC_ID)?.and_then(|(_, doc)| decode("show", SHOW_DOC_ID, doc, &mut problems));
    let names: Vec<&str> = scenes.iter().map(|s| s.name.as_str()).collect();
    let program = show.as_ref().map(|s| s.program.as_str()).filter(|p| names.contains(p)).unwrap_or(names[0]).to_string();
    let mut spec = ShowSpec::new(format.width, format.height, format.fps_num, format.fps_den, &program);
    spec.scenes = scenes.iter().map(|s| SceneSpec { name: s.name.clone(), layers: Vec::new() }).collect();
    let mut engine = Engine::new(host.clone(), spec, options, |_: &str| Err::<Arc<showrunner_wasm::LoadedModule>, &str>("an empty show loads no modules"))?;

    let mut layers: Vec<LayerDoc> = store.docs(DocKind::Layer)?.into_iter().filter_map(|(id, _, doc)| decode("layer", &id, doc, &mut problems)).collect();
    layers.sort_by_key(|l| l.seq);
    let mut restored = 0;
    for doc in layers {
        let id = doc.layer.id.clone();
        let hash = doc.layer.module.clone();
        let module = match store.module_bytes(&hash)? {
            Some(bytes) => match host.load(&bytes) {
                Ok(module) => module,
                Err(e) => {
                    problems.push(format!("layer {id:?}: its module {hash} no longer loads ({e}); left out"));
                    continue;
                }
            },
            None => {
                problems.push(format!("layer {id:?}: its module {hash} is not in the store; left out"));
                continue;
            }
        };
        let saved: Option<SavedState> = store.doc(DocKind::GuestState, &id)?.and_then(|(_, doc)| decode("guest state", &id, doc, &mut problems));
        let state: Option<Arc<[u8]>> = saved.filter(|s| s.module == hash).map(|s| Arc::from(s.state));
        match engine.add_layer_with_state(&doc.scene, doc.layer, module, state.clone()) {
            Ok(()) => {
                restored += 1;
                if let Some(state) = state {
                    saver.restored(&id, state);
                }
            }
            Err(e) => problems.push(format!("layer {id:?} did not start again: {e}; left out")),
        }
    }
    if let Some(preview) = show.and_then(|s| s.preview)
        && let Err(e) = engine.set_preview(Some(&preview))
    {
        problems.push(format!("preview scene: {e}"));
    }
    Ok(Restored { engine, layers: restored, problems })
}
