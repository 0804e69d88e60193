//! What the API does to the show, shared by the REST handlers and the WebSocket's
//! commands: each change is applied by the frame thread first (which validates it
//! against the running show and answers), then written to the store, and only then
//! acknowledged, so a 2xx means it is on screen and durable. Changes are serialized
//! by one lock, so the store always matches the order the show applied them in.
//! Modules are loaded (and compiled, from the cache when possible) before the lock,
//! off the async runtime.
//!
//! Must not: touch the engine directly (only through `ShowHandle` requests).

use std::sync::Arc;
use std::time::Duration;

use showrunner_core::{Event, LayerSpec};
use showrunner_engine::{LayerPatch, TransitionChoice};
use showrunner_wasm::LoadedModule;

use super::ApiState;
use super::error::{ApiError, internal};
use super::wire::{EventBody, LayerBody, LayerPatchBody, NewLayer, NewScene, PreviewBody, SceneBody, ShowBody, SwapBody, SwapResult, TakeBody, props_from_json};
use crate::show::docs::{LayerDoc, SHOW_DOC_ID, SceneDoc, ShowDoc, next_seq};
use crate::show::{Request, ShowSnapshot};
use crate::store::{DocKind, DocOp};

/// Longest transition a take accepts.
pub const MAX_TRANSITION: Duration = Duration::from_secs(60);


fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(internal)
}

/// Writes `ops` in one durable transaction.
pub(super) async fn persist(state: &ApiState, ops: Vec<DocOp>) -> Result<(), ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.batch(&ops)).await?.map_err(|e| ApiError::Internal(format!("the change is live but could not be saved: {e}")))
}

/// Loads an uploaded module by hash (404 when it was never uploaded).
pub async fn load_module(state: &ApiState, hash: &str) -> Result<Arc<LoadedModule>, ApiError> {
    let (store, host, key) = (state.store.clone(), state.host.clone(), hash.to_string());
    let shown: String = hash.chars().take(80).collect();
    tokio::task::spawn_blocking(move || {
        let bytes = store.module_bytes(&key).map_err(internal)?.ok_or_else(|| ApiError::NotFound { what: format!("module {shown:?} (upload it first)") })?;
        host.load(&bytes).map_err(|e| ApiError::InvalidModule { reason: e.to_string() })
    })
    .await?
}

/// The show document for `snapshot` (the stream's on/off state as stored).
async fn show_doc(state: &ApiState, snapshot: &ShowSnapshot) -> Result<DocOp, ApiError> {
    let store = state.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.doc(DocKind::Show, SHOW_DOC_ID)).await?.map_err(internal)?;
    let streaming = stored.and_then(|(_, doc)| serde_json::from_value::<ShowDoc>(doc).ok()).is_some_and(|d| d.streaming);
    let program = snapshot.incoming.clone().unwrap_or_else(|| snapshot.program.clone());
    Ok(DocOp::Put(DocKind::Show, SHOW_DOC_ID.into(), to_json(&ShowDoc { program, preview: snapshot.preview.clone(), streaming })?))
}

async fn layer_doc(state: &ApiState, scene: &str, layer: &LayerSpec) -> Result<DocOp, ApiError> {
    let (store, id) = (state.store.clone(), layer.id.clone());
    let existing = tokio::task::spawn_blocking(move || store.doc(DocKind::Layer, &id)).await?.map_err(internal)?;
    let seq = existing.and_then(|(_, doc)| serde_json::from_value::<LayerDoc>(doc).ok()).map_or_else(next_seq, |d| d.seq);
    let doc = LayerDoc { scene: scene.to_string(), seq, layer: layer.clone() };
    Ok(DocOp::Put(DocKind::Layer, layer.id.clone(), to_json(&doc)?))
}

pub async fn show(state: &ApiState) -> Result<ShowBody, ApiError> {
    let s = state.show.snapshot().await?;
    let scenes = s.spec.scenes.iter().map(|scene| SceneBody { name: scene.name.clone(), layers: scene.layers.iter().map(|l| LayerBody::new(&scene.name, l)).collect() }).collect();
    Ok(ShowBody { width: s.spec.width, height: s.spec.height, fps_num: s.spec.fps_num, fps_den: s.spec.fps_den, program: s.program, preview: s.preview, incoming: s.incoming, frame: s.frame, encoding: s.encoding, scenes })
}

pub async fn scene(state: &ApiState, name: &str) -> Result<SceneBody, ApiError> {
    show(state).await?.scenes.into_iter().find(|s| s.name == name).ok_or_else(|| ApiError::NotFound { what: format!("scene {name:?}") })
}

pub async fn layer(state: &ApiState, id: &str) -> Result<LayerBody, ApiError> {
    let s = state.show.snapshot().await?;
    s.spec.layer(id).map(|(scene, l)| LayerBody::new(&scene.name, l)).ok_or_else(|| ApiError::NotFound { what: format!("layer {id:?}") })
}

/// A scene name or layer id the store can keep (checked before the show changes).
fn storable(what: &str, id: &str) -> Result<(), ApiError> {
    crate::store::validate_id(id).map_err(|_| ApiError::Unprocessable {
        code: "invalid_show",
        message: format!("{what} {:?}: use 1 to 128 of A-Z, a-z, 0-9, `-`, `_` and `.`", id.chars().take(140).collect::<String>()),
        details: serde_json::json!({ "field": what }),
    })
}

pub async fn add_scene(state: &ApiState, body: NewScene) -> Result<SceneBody, ApiError> {
    storable("scene name", &body.name)?;
    let _edit = state.edits.lock().await;
    let name = body.name;
    state.show.ask(|reply| Request::AddScene { name: name.clone(), reply }).await?;
    persist(state, vec![DocOp::Put(DocKind::Scene, name.clone(), to_json(&SceneDoc { name: name.clone(), seq: next_seq() })?)]).await?;
    Ok(SceneBody { name, layers: Vec::new() })
}

pub async fn remove_scene(state: &ApiState, name: &str) -> Result<(), ApiError> {
    let _edit = state.edits.lock().await;
    let before = state.show.snapshot().await?;
    let layers: Vec<String> = before.spec.scene(name).map(|s| s.layers.iter().map(|l| l.id.clone()).collect()).unwrap_or_default();
    state.show.ask(|reply| Request::RemoveScene { name: name.to_string(), reply }).await?;
    let after = state.show.snapshot().await?;
    let mut ops = vec![DocOp::Delete(DocKind::Scene, name.to_string()), show_doc(state, &after).await?];
    for id in layers {
        ops.push(DocOp::Delete(DocKind::Layer, id.clone()));
        ops.push(DocOp::Delete(DocKind::GuestState, id));
    }
    persist(state, ops).await
}

pub async fn add_layer(state: &ApiState, body: NewLayer) -> Result<LayerBody, ApiError> {
    storable("layer id", &body.id)?;
    let module = load_module(state, &body.module).await?;
    let mut spec = LayerSpec::new(&body.id, &module.hash);
    spec.props = props_from_json(&body.props)?;
    spec.transform = body.transform.unwrap_or(spec.transform);
    spec.opacity = body.opacity.unwrap_or(spec.opacity);
    spec.crop = body.crop;
    spec.visible = body.visible.unwrap_or(spec.visible);
    spec.z = body.z.unwrap_or(spec.z);
    let _edit = state.edits.lock().await;
    let scene = body.scene;
    let layer = state.show.ask(|reply| Request::AddLayer { scene: scene.clone(), layer: spec, module, state: None, reply }).await?;
    let op = layer_doc(state, &scene, &layer).await?;
    persist(state, vec![op]).await?;
    Ok(LayerBody::new(&scene, &layer))
}

/// Applies a layer change the frame thread answers with the layer, then saves it.
async fn change_layer(state: &ApiState, id: &str, make: impl FnOnce(crate::show::Reply<LayerSpec>) -> Request) -> Result<LayerBody, ApiError> {
    let _edit = state.edits.lock().await;
    let layer = state.show.ask(make).await?;
    let scene = state.show.snapshot().await?.spec.layer(id).map(|(s, _)| s.name.clone()).unwrap_or_default();
    let op = layer_doc(state, &scene, &layer).await?;
    persist(state, vec![op]).await?;
    Ok(LayerBody::new(&scene, &layer))
}

pub async fn update_layer(state: &ApiState, id: &str, body: LayerPatchBody) -> Result<LayerBody, ApiError> {
    let patch = LayerPatch { transform: body.transform, opacity: body.opacity, crop: body.crop, visible: body.visible, z: body.z };
    change_layer(state, id, |reply| Request::UpdateLayer { layer: id.to_string(), patch, reply }).await
}

pub async fn set_props(state: &ApiState, id: &str, body: std::collections::BTreeMap<String, serde_json::Value>) -> Result<LayerBody, ApiError> {
    let props = props_from_json(&body)?;
    change_layer(state, id, |reply| Request::SetProps { layer: id.to_string(), props, reply }).await
}

pub async fn remove_layer(state: &ApiState, id: &str) -> Result<(), ApiError> {
    let _edit = state.edits.lock().await;
    state.show.ask(|reply| Request::RemoveLayer { layer: id.to_string(), reply }).await?;
    persist(state, vec![DocOp::Delete(DocKind::Layer, id.to_string()), DocOp::Delete(DocKind::GuestState, id.to_string())]).await
}

pub async fn event(state: &ApiState, id: &str, body: EventBody) -> Result<(), ApiError> {
    if body.name.trim().is_empty() || body.name.len() > 64 || body.payload.len() > 4096 {
        return Err(ApiError::BadRequest("an event needs a name of 1 to 64 bytes and a payload of at most 4096 bytes".into()));
    }
    let event = Event { name: body.name, payload: body.payload };
    Ok(state.show.ask(|reply| Request::Event { layer: id.to_string(), event, reply }).await?)
}

pub async fn swap(state: &ApiState, id: &str, body: SwapBody) -> Result<SwapResult, ApiError> {
    let module = load_module(state, &body.module).await?;
    let hash = module.hash.clone();
    let _edit = state.edits.lock().await;
    let done = state.show.ask(|reply| Request::Swap { layer: id.to_string(), module, reply }).await?;
    let scene = state.show.snapshot().await?.spec.layer(id).map(|(s, _)| s.name.clone()).unwrap_or_default();
    let op = layer_doc(state, &scene, &done.layer).await?;
    persist(state, vec![op]).await?;
    Ok(SwapResult {
        layer: id.to_string(),
        from: done.report.from,
        to: done.report.to,
        module: hash,
        swap_ms: done.to_screen.as_secs_f64() * 1000.0,
        instantiate_ms: done.report.duration.as_secs_f64() * 1000.0,
        state_carried: done.report.state_carried,
        state_bytes: done.report.state_bytes as u64,
        frame: done.frame,
    })
}

pub async fn release(state: &ApiState, id: &str) -> Result<(), ApiError> {
    Ok(state.show.ask(|reply| Request::Release { layer: id.to_string(), reply }).await?)
}

pub async fn set_preview(state: &ApiState, body: PreviewBody) -> Result<ShowBody, ApiError> {
    let _edit = state.edits.lock().await;
    state.show.ask(|reply| Request::SetPreview { scene: body.scene, reply }).await?;
    let op = show_doc(state, &state.show.snapshot().await?).await?;
    persist(state, vec![op]).await?;
    show(state).await
}

pub async fn take(state: &ApiState, body: TakeBody) -> Result<ShowBody, ApiError> {
    let transition = match body.transition {
        Some(t) if Duration::from_millis(t.duration_ms) > MAX_TRANSITION => {
            return Err(ApiError::BadRequest(format!("a transition runs at most {} ms", MAX_TRANSITION.as_millis())));
        }
        Some(t) => Some(TransitionChoice { module: load_module(state, &t.module).await?, duration: Duration::from_millis(t.duration_ms) }),
        None => None,
    };
    let _edit = state.edits.lock().await;
    let scene = match body.scene {
        Some(scene) => scene,
        None => state.show.snapshot().await?.preview.ok_or_else(|| ApiError::BadRequest("no scene given and none on preview: send {\"scene\": NAME}".into()))?,
    };
    state.show.ask(|reply| Request::Take { scene, transition, reply }).await?;
    let op = show_doc(state, &state.show.snapshot().await?).await?;
    persist(state, vec![op]).await?;
    show(state).await
}
