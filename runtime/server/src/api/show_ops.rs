//! What the API does to the show, shared by the REST handlers and the WebSocket's
//! commands: each change is applied by the frame thread first (which validates it
//! against the running show and answers), then written to the store, and only then
//! acknowledged, so a 2xx means it is on screen and durable. Changes are serialized
//! by one lock, so the store always matches the order the show applied them in.
//! Modules are loaded (and compiled, from the cache when possible) before the lock,
//! off the async runtime.
//!
//! In a cluster (`state.cluster`), a change is refused with 503 while Redis is down,
//! and written to Redis (compare-and-set on the version this node holds) before the
//! local store; a layer change may carry the version it was based on (`If-Match`).
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
use crate::show::docs::{LayerDoc, SHOW_DOC_ID, SceneDoc, ShowDoc, TakeTransition, next_seq};
use crate::show::{Request, ShowSnapshot};
use crate::store::{DocKind, DocOp};

/// Longest transition a take accepts.
pub const MAX_TRANSITION: Duration = Duration::from_secs(60);


fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(internal)
}

/// Takes the edit lock; in a cluster, first checks that Redis is reachable (503 if not).
pub(super) async fn begin_edit(state: &ApiState) -> Result<tokio::sync::MutexGuard<'_, ()>, ApiError> {
    if let Some(link) = &state.cluster {
        link.check_up()?;
    }
    Ok(state.edits.lock().await)
}

/// The version of layer `id`: the cluster's in a cluster, else the local store's (0: none).
pub async fn layer_version(state: &ApiState, id: &str) -> Result<u64, ApiError> {
    if let Some(link) = &state.cluster {
        return Ok(link.version(DocKind::Layer, id));
    }
    let (store, key) = (state.store.clone(), id.to_string());
    Ok(tokio::task::spawn_blocking(move || store.doc(DocKind::Layer, &key)).await?.map_err(internal)?.map_or(0, |(version, _)| version))
}

/// Every layer's version (see [`layer_version`]).
async fn layer_versions(state: &ApiState) -> Result<std::collections::HashMap<String, u64>, ApiError> {
    let store = state.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.docs(DocKind::Layer)).await?.map_err(internal)?;
    Ok(stored.into_iter().map(|(id, version, _)| {
        let version = state.cluster.as_ref().map_or(version, |link| link.version(DocKind::Layer, &id));
        (id, version)
    }).collect())
}

/// 409 when the change was based on a version of layer `id` that is no longer current.
async fn check_version(state: &ApiState, id: &str, expected: Option<u64>) -> Result<(), ApiError> {
    let Some(expected) = expected else { return Ok(()) };
    let current = layer_version(state, id).await?;
    if current == expected { Ok(()) } else { Err(ApiError::VersionConflict { what: format!("layer {id:?}"), expected, current }) }
}

/// The layer's reply with its version after a change.
async fn versioned(state: &ApiState, scene: &str, layer: &LayerSpec) -> Result<LayerBody, ApiError> {
    Ok(LayerBody { version: layer_version(state, &layer.id).await?, ..LayerBody::new(scene, layer) })
}

/// Writes `ops` in one durable transaction (in a cluster, to Redis first).
pub(super) async fn persist(state: &ApiState, ops: Vec<DocOp>) -> Result<(), ApiError> {
    if let Some(link) = &state.cluster
        && let Err(refused) = link.write(&ops).await
    {
        revert(state, &ops).await;
        return Err(refused);
    }
    let outputs_touched = ops.iter().any(|op| matches!(op, DocOp::Put(DocKind::Output | DocKind::Show, ..) | DocOp::Delete(DocKind::Output | DocKind::Show, _)));
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.batch(&ops)).await?.map_err(|e| ApiError::Internal(format!("the change is live but could not be saved: {e}")))?;
    if outputs_touched && let Some(link) = &state.cluster {
        link.wake_outputs(true);
    }
    Ok(())
}

/// Puts the show back as the local store holds it for the documents `ops` touch, after
/// the cluster refused them (Redis down, or another node's change came first). The
/// scenes come back before their layers.
async fn revert(state: &ApiState, ops: &[DocOp]) {
    let mut touched: Vec<(DocKind, String)> = ops.iter().map(|op| match op {
        DocOp::Put(kind, id, _) | DocOp::Delete(kind, id) => (*kind, id.clone()),
    }).filter(|(kind, _)| crate::cluster::shared_kind(*kind).is_some()).collect();
    touched.sort_by_key(|(kind, _)| [DocKind::Scene, DocKind::Layer, DocKind::Show].iter().position(|k| k == kind));
    for (kind, id) in touched {
        let (store, key) = (state.store.clone(), id.clone());
        let kept = match tokio::task::spawn_blocking(move || store.doc(kind, &key)).await {
            Ok(Ok(kept)) => kept.map(|(_, doc)| doc),
            _ => continue,
        };
        if let Err(e) = crate::cluster::follow::apply_entity(state, kind, &id, kept).await {
            tracing::error!(?kind, id, error = %e, "cannot put back a change the cluster refused");
        }
    }
}

/// Loads an uploaded module by hash (404 when it was never uploaded). In a cluster, a
/// module uploaded to another node is fetched from Redis and kept in the local store.
pub async fn load_module(state: &ApiState, hash: &str) -> Result<Arc<LoadedModule>, ApiError> {
    if let Some(link) = &state.cluster {
        fetch_module(state, link, hash).await?;
    }
    let (store, host, key) = (state.store.clone(), state.host.clone(), hash.to_string());
    let shown: String = hash.chars().take(80).collect();
    tokio::task::spawn_blocking(move || {
        let bytes = store.module_bytes(&key).map_err(internal)?.ok_or_else(|| ApiError::NotFound { what: format!("module {shown:?} (upload it first)") })?;
        host.load(&bytes).map_err(|e| ApiError::InvalidModule { reason: e.to_string() })
    })
    .await?
}

/// Copies module `hash` from the cluster into the local store when only the cluster has it.
async fn fetch_module(state: &ApiState, link: &crate::cluster::ClusterLink, hash: &str) -> Result<(), ApiError> {
    let (store, key) = (state.store.clone(), hash.to_string());
    if tokio::task::spawn_blocking(move || store.module(&key)).await?.map_err(internal)?.is_some() {
        return Ok(());
    }
    let bytes = match link.cluster()?.get_blob(hash).await {
        Ok(Some(bytes)) => bytes,
        // Not in the cluster either (or not a hash at all): the local load answers 404.
        Ok(None) => return Ok(()),
        Err(e) if e.is_unavailable() => return Err(crate::cluster::api_error(e)),
        Err(_) => return Ok(()),
    };
    let (store, host) = (state.store.clone(), state.host.clone());
    tokio::task::spawn_blocking(move || {
        let module = host.load(&bytes).map_err(|e| ApiError::InvalidModule { reason: e.to_string() })?;
        let record = crate::store::ModuleRecord { hash: crate::store::Store::module_hash(&bytes), size: bytes.len() as u64, name: module.info.name.clone(), version: module.info.version.clone(), uploaded_at_ms: 0 };
        store.put_module(&record, &bytes).map_err(internal)
    })
    .await?
}

/// The show document for `snapshot` (the stream's on/off state and the recording as
/// stored), with the transition of a take.
async fn show_doc(state: &ApiState, snapshot: &ShowSnapshot, transition: Option<TakeTransition>) -> Result<DocOp, ApiError> {
    let store = state.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.doc(DocKind::Show, SHOW_DOC_ID)).await?.map_err(internal)?;
    let stored = stored.and_then(|(_, doc)| serde_json::from_value::<ShowDoc>(doc).ok()).unwrap_or_else(ShowDoc::first);
    let program = snapshot.incoming.clone().unwrap_or_else(|| snapshot.program.clone());
    Ok(DocOp::Put(DocKind::Show, SHOW_DOC_ID.into(), to_json(&ShowDoc { program, preview: snapshot.preview.clone(), transition, ..stored })?))
}

/// The layer's document to save, and the local version it will be saved as (the store
/// counts each save of a document; the caller holds the edit lock).
async fn layer_doc(state: &ApiState, scene: &str, layer: &LayerSpec) -> Result<(DocOp, u64), ApiError> {
    let (store, id) = (state.store.clone(), layer.id.clone());
    let existing = tokio::task::spawn_blocking(move || store.doc(DocKind::Layer, &id)).await?.map_err(internal)?;
    let version = existing.as_ref().map_or(0, |(version, _)| *version) + 1;
    let seq = existing.and_then(|(_, doc)| serde_json::from_value::<LayerDoc>(doc).ok()).map_or_else(next_seq, |d| d.seq);
    let doc = LayerDoc { scene: scene.to_string(), seq, layer: layer.clone() };
    Ok((DocOp::Put(DocKind::Layer, layer.id.clone(), to_json(&doc)?), version))
}

/// Saves a changed layer; answers it with the version it was saved as.
async fn save_layer(state: &ApiState, scene: &str, layer: &LayerSpec) -> Result<LayerBody, ApiError> {
    let (op, local_version) = layer_doc(state, scene, layer).await?;
    persist(state, vec![op]).await?;
    let version = state.cluster.as_ref().map_or(local_version, |link| link.version(DocKind::Layer, &layer.id));
    Ok(LayerBody { version, ..LayerBody::new(scene, layer) })
}

pub async fn show(state: &ApiState) -> Result<ShowBody, ApiError> {
    let s = state.show.snapshot().await?;
    let versions = layer_versions(state).await?;
    let body = |scene: &str, l: &LayerSpec| LayerBody { version: versions.get(&l.id).copied().unwrap_or(0), ..LayerBody::new(scene, l) };
    let scenes = s.spec.scenes.iter().map(|scene| SceneBody { name: scene.name.clone(), layers: scene.layers.iter().map(|l| body(&scene.name, l)).collect() }).collect();
    Ok(ShowBody { width: s.spec.width, height: s.spec.height, fps_num: s.spec.fps_num, fps_den: s.spec.fps_den, program: s.program, preview: s.preview, incoming: s.incoming, frame: s.frame, encoding: s.encoding, scenes })
}

pub async fn scene(state: &ApiState, name: &str) -> Result<SceneBody, ApiError> {
    show(state).await?.scenes.into_iter().find(|s| s.name == name).ok_or_else(|| ApiError::NotFound { what: format!("scene {name:?}") })
}

pub async fn layer(state: &ApiState, id: &str) -> Result<LayerBody, ApiError> {
    let s = state.show.snapshot().await?;
    let (scene, layer) = s.spec.layer(id).ok_or_else(|| ApiError::NotFound { what: format!("layer {id:?}") })?;
    versioned(state, &scene.name, layer).await
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
    let _edit = begin_edit(state).await?;
    let name = body.name;
    state.show.ask(|reply| Request::AddScene { name: name.clone(), reply }).await?;
    persist(state, vec![DocOp::Put(DocKind::Scene, name.clone(), to_json(&SceneDoc { name: name.clone(), seq: next_seq() })?)]).await?;
    Ok(SceneBody { name, layers: Vec::new() })
}

pub async fn remove_scene(state: &ApiState, name: &str) -> Result<(), ApiError> {
    let _edit = begin_edit(state).await?;
    let before = state.show.snapshot().await?;
    let layers: Vec<String> = before.spec.scene(name).map(|s| s.layers.iter().map(|l| l.id.clone()).collect()).unwrap_or_default();
    state.show.ask(|reply| Request::RemoveScene { name: name.to_string(), reply }).await?;
    let after = state.show.snapshot().await?;
    let mut ops = vec![DocOp::Delete(DocKind::Scene, name.to_string()), show_doc(state, &after, None).await?];
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
    let _edit = begin_edit(state).await?;
    let scene = body.scene;
    let layer = state.show.ask(|reply| Request::AddLayer { scene: scene.clone(), layer: spec, module, state: None, reply }).await?;
    save_layer(state, &scene, &layer).await
}

/// Applies a layer change the frame thread answers with the layer, then saves it.
/// `expected`: the layer version the change is based on (409 when it moved on).
async fn change_layer(state: &ApiState, id: &str, expected: Option<u64>, make: impl FnOnce(crate::show::Reply<LayerSpec>) -> Request) -> Result<LayerBody, ApiError> {
    let _edit = begin_edit(state).await?;
    check_version(state, id, expected).await?;
    let layer = state.show.ask(make).await?;
    let scene = state.show.snapshot().await?.spec.layer(id).map(|(s, _)| s.name.clone()).unwrap_or_default();
    save_layer(state, &scene, &layer).await
}

pub async fn update_layer(state: &ApiState, id: &str, body: LayerPatchBody, expected: Option<u64>) -> Result<LayerBody, ApiError> {
    let patch = LayerPatch { transform: body.transform, opacity: body.opacity, crop: body.crop, visible: body.visible, z: body.z };
    change_layer(state, id, expected, |reply| Request::UpdateLayer { layer: id.to_string(), patch, reply }).await
}

pub async fn set_props(state: &ApiState, id: &str, body: std::collections::BTreeMap<String, serde_json::Value>, expected: Option<u64>) -> Result<LayerBody, ApiError> {
    let props = props_from_json(&body)?;
    change_layer(state, id, expected, |reply| Request::SetProps { layer: id.to_string(), props, reply }).await
}

pub async fn remove_layer(state: &ApiState, id: &str, expected: Option<u64>) -> Result<(), ApiError> {
    let _edit = begin_edit(state).await?;
    check_version(state, id, expected).await?;
    state.show.ask(|reply| Request::RemoveLayer { layer: id.to_string(), reply }).await?;
    persist(state, vec![DocOp::Delete(DocKind::Layer, id.to_string()), DocOp::Delete(DocKind::GuestState, id.to_string())]).await
}

pub async fn event(state: &ApiState, id: &str, body: EventBody) -> Result<(), ApiError> {
    if body.name.trim().is_empty() || body.name.len() > 64 || body.payload.len() > 4096 {
        return Err(ApiError::BadRequest("an event needs a name of 1 to 64 bytes and a payload of at most 4096 bytes".into()));
    }
    let event = Event { name: body.name, payload: body.payload };
    // In a cluster every node gets it: here first (which checks the layer), then the others.
    if let Some(link) = &state.cluster {
        link.check_up()?;
    }
    state.show.ask(|reply| Request::Event { layer: id.to_string(), event: event.clone(), reply }).await?;
    match &state.cluster {
        Some(link) => link.publish_event(id, &event).await,
        None => Ok(()),
    }
}

pub async fn swap(state: &ApiState, id: &str, body: SwapBody, expected: Option<u64>) -> Result<SwapResult, ApiError> {
    let module = load_module(state, &body.module).await?;
    let hash = module.hash.clone();
    let _edit = begin_edit(state).await?;
    check_version(state, id, expected).await?;
    let done = state.show.ask(|reply| Request::Swap { layer: id.to_string(), module, reply }).await?;
    let scene = state.show.snapshot().await?.spec.layer(id).map(|(s, _)| s.name.clone()).unwrap_or_default();
    let (op, _) = layer_doc(state, &scene, &done.layer).await?;
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
    let _edit = begin_edit(state).await?;
    state.show.ask(|reply| Request::SetPreview { scene: body.scene, reply }).await?;
    let op = show_doc(state, &state.show.snapshot().await?, None).await?;
    persist(state, vec![op]).await?;
    show(state).await
}

pub async fn take(state: &ApiState, body: TakeBody) -> Result<ShowBody, ApiError> {
    let kept = body.transition.as_ref().map(|t| TakeTransition { module: t.module.clone(), duration_ms: t.duration_ms });
    let transition = match body.transition {
        Some(t) if Duration::from_millis(t.duration_ms) > MAX_TRANSITION => {
            return Err(ApiError::BadRequest(format!("a transition runs at most {} ms", MAX_TRANSITION.as_millis())));
        }
        Some(t) => Some(TransitionChoice { module: load_module(state, &t.module).await?, duration: Duration::from_millis(t.duration_ms) }),
        None => None,
    };
    let _edit = begin_edit(state).await?;
    let scene = match body.scene {
        Some(scene) => scene,
        None => state.show.snapshot().await?.preview.ok_or_else(|| ApiError::BadRequest("no scene given and none on preview: send {\"scene\": NAME}".into()))?,
    };
    state.show.ask(|reply| Request::Take { scene, transition, reply }).await?;
    let op = show_doc(state, &state.show.snapshot().await?, kept).await?;
    persist(state, vec![op]).await?;
    show(state).await
}
