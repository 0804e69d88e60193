//! Joining the cluster: connect (retrying in the background while Redis is away, the
//! show on air from the local store meanwhile), then either seed an empty cluster with
//! this node's show and modules, or make this node's show what Redis holds. The same
//! resync runs when the change feed reports missed changes.
//!
//! Must not: let the API change the show before the node has joined (the link refuses
//! changes until then), or drop local scenes and layers when Redis holds none at all
//! (that is a new cluster, seeded from this node).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use showrunner_cluster::{ChangeId, Cluster, Snapshot};

use super::{ClusterLink, SHARED_KINDS, follow, shared_kind};
use crate::api::ApiState;
use crate::store::DocKind;

/// Pause between two attempts to reach Redis at start.
const RETRY_CONNECT: Duration = Duration::from_secs(2);

/// Connects (retrying until Redis answers), joins, and follows the cluster's changes.
pub fn connect_and_join(state: ApiState, link: Arc<ClusterLink>, url: String, cluster_name: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let cluster = loop {
            match ClusterLink::connect(&url, link.node_id(), &cluster_name).await {
                Ok(cluster) => break cluster,
                Err(e) => {
                    eprintln!("cluster: {e}; the show stays on air from local state, changes are refused; retrying in {} s", RETRY_CONNECT.as_secs());
                    tokio::time::sleep(RETRY_CONNECT).await;
                }
            }
        };
        link.connected(cluster.clone());
        let position = loop {
            match join(&state, &link, &cluster).await {
                Ok(position) => break position,
                Err(e) => {
                    eprintln!("cluster: cannot join yet: {e:#}; retrying in {} s", RETRY_CONNECT.as_secs());
                    tokio::time::sleep(RETRY_CONNECT).await;
                }
            }
        };
        link.mark_joined();
        super::outputs::spawn(state.clone(), link.clone());
        follow::spawn(state, link, position);
    })
}

async fn snapshots(cluster: &Cluster) -> anyhow::Result<Vec<(DocKind, Snapshot)>> {
    let mut all = Vec::new();
    for kind in SHARED_KINDS {
        let shared = shared_kind(kind).context("a shared kind")?;
        all.push((kind, cluster.list(shared).await?));
    }
    Ok(all)
}

/// Seeds an empty cluster from this node, or takes the cluster's show; answers where
/// to follow the change feed from.
async fn join(state: &ApiState, link: &ClusterLink, cluster: &Cluster) -> anyhow::Result<ChangeId> {
    let all = snapshots(cluster).await?;
    let position = all.iter().map(|(_, s)| s.position).min().unwrap_or_default();
    if all.iter().all(|(_, s)| s.entities.is_empty()) {
        let seeded = seed(state, link, cluster).await?;
        eprintln!("cluster: joined as {} and seeded the show ({seeded} document(s))", link.node_id());
    } else {
        let taken = take(state, link, &all).await?;
        eprintln!("cluster: joined as {}; the show now holds what Redis holds ({taken} document(s))", link.node_id());
    }
    Ok(position)
}

/// Resyncs after missed changes (or a Redis that came back without its data, which
/// this node then seeds again); answers the new feed position.
pub async fn resync(state: &ApiState, link: &ClusterLink) -> anyhow::Result<ChangeId> {
    let cluster = link.cluster().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
    link.forget_all();
    join(state, link, &cluster).await
}

/// Writes this node's scenes, layers, program/preview and modules to an empty cluster.
async fn seed(state: &ApiState, link: &ClusterLink, cluster: &Cluster) -> anyhow::Result<usize> {
    let store = state.store.clone();
    let (docs, modules) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let docs: Vec<_> = SHARED_KINDS.iter().map(|kind| store.docs(*kind).map(|d| (*kind, d))).collect::<Result<_, _>>()?;
        let modules: Vec<(String, Vec<u8>)> = store.modules()?.into_iter().filter_map(|m| store.module_bytes(&m.hash).ok().flatten().map(|b| (m.hash, b))).collect();
        Ok((docs, modules))
    })
    .await??;
    for (hash, bytes) in modules {
        cluster.put_blob(&hash, &bytes).await?;
    }
    let mut count = 0;
    for (kind, entries) in docs {
        let shared = shared_kind(kind).context("a shared kind")?;
        for (id, _, doc) in entries {
            let written = cluster.put(shared, &id, &serde_json::to_vec(&doc)?, Some(0)).await?;
            link.note(kind, &id, written.version);
            count += 1;
        }
    }
    Ok(count)
}

/// Makes this node's show hold exactly the snapshots' documents.
async fn take(state: &ApiState, link: &ClusterLink, all: &[(DocKind, Snapshot)]) -> anyhow::Result<usize> {
    let _edit = state.edits.lock().await;
    let mut count = 0;
    for (kind, snapshot) in all {
        for entity in &snapshot.entities {
            link.note(*kind, &entity.id, entity.version);
            let doc = serde_json::from_slice(&entity.bytes)?;
            if let Err(e) = follow::apply_entity(state, *kind, &entity.id, Some(doc)).await {
                eprintln!("warning: cluster: cannot take {:?} {}: {e:#}", kind, entity.id);
            }
            count += 1;
        }
    }
    // What this node has and the cluster does not: layers before their scenes.
    for kind in [DocKind::Output, DocKind::Layer, DocKind::Input, DocKind::Scene] {
        let store = state.store.clone();
        let local = tokio::task::spawn_blocking(move || store.docs(kind)).await??;
        let kept: Vec<&str> = all.iter().filter(|(k, _)| *k == kind).flat_map(|(_, s)| s.entities.iter().map(|e| e.id.as_str())).collect();
        for (id, _, _) in local.into_iter().filter(|(id, _, _)| !kept.contains(&id.as_str())) {
            if let Err(e) = follow::apply_entity(state, kind, &id, None).await {
                eprintln!("warning: cluster: cannot remove {kind:?} {id}: {e:#}");
            }
        }
    }
    Ok(count)
}
