//! Applies the cluster's changes to this node's show: each change another node made
//! (a scene added or removed, a layer added, placed, given props, swapped or removed,
//! program and preview, a live input added or removed) is turned into the same
//! frame-thread requests (or input manager calls) the API makes, then kept in the
//! local store. Events sent to layers through another node are delivered here too. Runs on a task of its own, under the API's edit lock,
//! so local and remote changes are applied one at a time.
//!
//! Must not: write to Redis (the node that made a change already did), or stop
//! following because one change cannot be applied (it is logged and the next one comes).

use std::time::Duration;

use serde_json::Value;
use showrunner_cluster::{Change, ChangeId, ChangeOp, ClusterError, Health};
use showrunner_engine::{LayerPatch, TransitionChoice};
use std::sync::Arc;

use super::{ClusterLink, EVENT_KIND, SharedEvent, doc_kind};
use crate::api::ApiState;
use crate::api::show_ops::load_module;
use crate::show::docs::{LayerDoc, ShowDoc};
use crate::show::inputs::InputDoc;
use crate::show::{Request, ShowEvent};
use crate::store::{DocKind, DocOp};

/// Pause before a feed that ended is opened again.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);

/// Follows the change feed from `from` until the process ends.
pub fn spawn(state: ApiState, link: Arc<ClusterLink>, from: ChangeId) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { run(state, link, from).await })
}

async fn run(state: ApiState, link: Arc<ClusterLink>, mut from: ChangeId) {
    let Ok(cluster) = link.cluster().cloned() else { return };
    let mut health = cluster.watch_health();
    loop {
        let mut feed = match cluster.subscribe(Some(from)).await {
            Ok(feed) => feed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the cluster's changes; retrying");
                tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                continue;
            }
        };
        loop {
            tokio::select! {
                next = feed.next() => match next {
                    Some(Ok(change)) => {
                        from = change.id;
                        apply_change(&state, &link, change).await;
                    }
                    Some(Err(ClusterError::Trimmed { .. })) => {
                        state.show.bus().publish(ShowEvent::ClusterStatus { up: true, message: "changes were missed; resyncing the show from Redis".into() });
                        match super::sync::resync(&state, &link).await {
                            Ok(position) => from = position,
                            Err(e) => tracing::error!(error = %e, "cannot resync from Redis"),
                        }
                        break;
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "the cluster's change feed failed; following again");
                        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                        break;
                    }
                    None => break,
                },
                changed = health.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let status = health.borrow_and_update().clone();
                    match status {
                        Health::Down { reason } => {
                            link.set_resyncing(true);
                            report(&state, false, format!("Redis is down ({reason}): the show stays on air, changes are refused"));
                        }
                        // Up after a change means it was down: Redis may have come back with
                        // fewer changes than this node saw, so changes wait for a resync.
                        Health::Up => {
                            link.set_resyncing(true);
                            loop {
                                match super::sync::resync(&state, &link).await {
                                    Ok(position) => {
                                        from = position;
                                        link.set_resyncing(false);
                                        report(&state, true, "Redis is back and this node has caught up: changes are accepted again".into());
                                        break;
                                    }
                                    Err(e) if cluster.health().is_up() => {
                                        tracing::warn!(error = %e, "cannot catch up with Redis yet; retrying");
                                        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                                    }
                                    // Down again: the next change of health starts over.
                                    Err(_) => break,
                                }
                            }
                            break;
                        }
                    }
                }
            }
        }
    }
}

/// Prints and publishes a change of this node's link to Redis.
fn report(state: &ApiState, up: bool, message: String) {
    eprintln!("cluster: {message}");
    state.show.bus().publish(ShowEvent::ClusterStatus { up, message });
}

/// Applies one change of the feed (another node's; this node's own are only noted).
async fn apply_change(state: &ApiState, link: &ClusterLink, change: Change) {
    if change.kind == EVENT_KIND {
        if change.node != link.node_id()
            && let ChangeOp::Put(bytes) = &change.op
        {
            deliver_event(state, bytes).await;
        }
        return;
    }
    let Some(kind) = doc_kind(&change.kind) else { return };
    if change.node == link.node_id() {
        link.note(kind, &change.entity_id, change.version);
        return;
    }
    let doc = match change.op {
        ChangeOp::Put(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(doc) => Some(doc),
            Err(e) => {
                tracing::warn!(kind = change.kind, id = change.entity_id, error = %e, "a change from the cluster is not JSON; skipped");
                return;
            }
        },
        ChangeOp::Delete => None,
    };
    // The version is noted under the edit lock: a local change being made now keeps the
    // version it was based on for its compare-and-set, so it loses (409) rather than
    // overwrite this one.
    let _edit = state.edits.lock().await;
    if !link.note(kind, &change.entity_id, change.version) {
        return;
    }
    if let Err(e) = apply_entity(state, kind, &change.entity_id, doc).await {
        tracing::warn!(kind = change.kind, id = change.entity_id, node = change.node, error = %e, "cannot apply a change from the cluster");
    }
}

/// Delivers an event another node's API was sent (a layer this node lacks is skipped).
async fn deliver_event(state: &ApiState, bytes: &[u8]) {
    let shared: SharedEvent = match serde_json::from_slice(bytes) {
        Ok(shared) => shared,
        Err(e) => return tracing::warn!(error = %e, "an event from the cluster is not readable; skipped"),
    };
    let SharedEvent { layer, event } = shared;
    if let Err(e) = state.show.ask(|reply| Request::Event { layer: layer.clone(), event, reply }).await {
        tracing::debug!(layer, error = %e, "an event from the cluster was not delivered here");
    }
}

/// Makes this node's show hold `doc` as `kind/id` (`None`: removed), then keeps it in
/// the local store. The caller holds the edit lock.
pub async fn apply_entity(state: &ApiState, kind: DocKind, id: &str, doc: Option<Value>) -> anyhow::Result<()> {
    match (kind, &doc) {
        (DocKind::Scene, Some(_)) => add_scene(state, id).await?,
        (DocKind::Scene, None) => remove_scene(state, id).await?,
        (DocKind::Layer, Some(doc)) => put_layer(state, id, serde_json::from_value(doc.clone())?).await?,
        (DocKind::Layer, None) => remove_layer(state, id).await?,
        (DocKind::Show, Some(doc)) => put_show(state, serde_json::from_value(doc.clone())?).await?,
        (DocKind::Input, Some(doc)) => put_input(state, serde_json::from_value(doc.clone())?).await?,
        (DocKind::Input, None) => remove_input(state, id).await?,
        // Destinations are only kept: the output leases decide which node pushes them.
        (DocKind::Output, _) | (DocKind::Show, None) => {}
        (DocKind::GuestState, _) => return Ok(()),
    }
    let removed_layer = kind == DocKind::Layer && doc.is_none();
    let mut ops = vec![match doc {
        Some(doc) => DocOp::Put(kind, id.to_string(), doc),
        None => DocOp::Delete(kind, id.to_string()),
    }];
    if removed_layer {
        ops.push(DocOp::Delete(DocKind::GuestState, id.to_string()));
    }
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.batch(&ops)).await??;
    if matches!(kind, DocKind::Output | DocKind::Show)
        && let Some(link) = &state.cluster
    {
        link.wake_outputs(false);
    }
    Ok(())
}

/// Starts input `doc` here, or restarts it when it runs with other settings.
async fn put_input(state: &ApiState, doc: InputDoc) -> anyhow::Result<()> {
    let (store, name) = (state.store.clone(), doc.name().to_string());
    let kept = tokio::task::spawn_blocking(move || store.doc(DocKind::Input, &name)).await??;
    let kept: Option<InputDoc> = kept.and_then(|(_, doc)| serde_json::from_value(doc).ok());
    let inputs = state.inputs.clone();
    tokio::task::spawn_blocking(move || {
        if inputs.contains(doc.name()) {
            if kept.as_ref() == Some(&doc) {
                return Ok(());
            }
            inputs.remove(doc.name())?;
        }
        inputs.add(doc)
    })
    .await??;
    Ok(())
}

async fn remove_input(state: &ApiState, name: &str) -> anyhow::Result<()> {
    let (inputs, name) = (state.inputs.clone(), name.to_string());
    tokio::task::spawn_blocking(move || inputs.discard(&name)).await?;
    Ok(())
}

async fn add_scene(state: &ApiState, name: &str) -> anyhow::Result<()> {
    if state.show.snapshot().await?.spec.scene(name).is_none() {
        state.show.ask(|reply| Request::AddScene { name: name.to_string(), reply }).await?;
    }
    Ok(())
}

async fn remove_scene(state: &ApiState, name: &str) -> anyhow::Result<()> {
    if state.show.snapshot().await?.spec.scene(name).is_some() {
        state.show.ask(|reply| Request::RemoveScene { name: name.to_string(), reply }).await?;
    }
    Ok(())
}

async fn remove_layer(state: &ApiState, id: &str) -> anyhow::Result<()> {
    if state.show.snapshot().await?.spec.layer(id).is_some() {
        state.show.ask(|reply| Request::RemoveLayer { layer: id.to_string(), reply }).await?;
    }
    Ok(())
}

async fn put_layer(state: &ApiState, id: &str, doc: LayerDoc) -> anyhow::Result<()> {
    let snapshot = state.show.snapshot().await?;
    let current = snapshot.spec.layer(id).map(|(scene, layer)| (scene.name.clone(), layer.clone()));
    let wanted = doc.layer;
    let current = match current {
        Some((scene, _)) if scene != doc.scene => {
            state.show.ask(|reply| Request::RemoveLayer { layer: id.to_string(), reply }).await?;
            None
        }
        other => other.map(|(_, layer)| layer),
    };
    let Some(current) = current else {
        add_scene(state, &doc.scene).await?;
        let module = load_module(state, &wanted.module).await?;
        state.show.ask(|reply| Request::AddLayer { scene: doc.scene.clone(), layer: wanted, module, state: None, reply }).await?;
        return Ok(());
    };
    if current.module != wanted.module {
        let module = load_module(state, &wanted.module).await?;
        state.show.ask(|reply| Request::Swap { layer: id.to_string(), module, reply }).await?;
    }
    let patch = LayerPatch { transform: Some(wanted.transform), opacity: Some(wanted.opacity), crop: Some(wanted.crop), visible: Some(wanted.visible), z: Some(wanted.z) };
    state.show.ask(|reply| Request::UpdateLayer { layer: id.to_string(), patch, reply }).await?;
    if current.props != wanted.props {
        state.show.ask(|reply| Request::SetProps { layer: id.to_string(), props: wanted.props, reply }).await?;
    }
    Ok(())
}

async fn put_show(state: &ApiState, doc: ShowDoc) -> anyhow::Result<()> {
    let snapshot = state.show.snapshot().await?;
    let on_air = snapshot.incoming.as_deref().unwrap_or(&snapshot.program);
    if on_air != doc.program {
        add_scene(state, &doc.program).await?;
        // The same transition as the node that took it; a cut if it cannot be loaded here.
        let transition = match &doc.transition {
            Some(t) if t.duration_ms > 0 => match load_module(state, &t.module).await {
                Ok(module) => Some(TransitionChoice { module, duration: Duration::from_millis(t.duration_ms) }),
                Err(e) => {
                    tracing::warn!(module = t.module, error = %e, "the take's transition is not available here; cutting");
                    None
                }
            },
            _ => None,
        };
        state.show.ask(|reply| Request::Take { scene: doc.program.clone(), transition, reply }).await?;
    }
    if snapshot.preview != doc.preview {
        state.show.ask(|reply| Request::SetPreview { scene: doc.preview, reply }).await?;
    }
    Ok(())
}
