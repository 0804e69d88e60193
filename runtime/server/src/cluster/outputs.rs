//! Output leases: in a cluster, every RTMP destination is pushed by exactly one node,
//! the holder of the Redis lease `output.{id}` ([`LEASE_TTL`], renewed by a keeper).
//! Every [`TAKE_EVERY`] this node looks at the shared destinations and the stream's
//! on/off state (kept in its local store by the follower): it takes free leases of
//! destinations that should be live and starts pushing them, and stops pushing (and lets
//! go) what should not be live or is no longer its own. When the owner dies its lease
//! runs out, and another node takes the destination within about `LEASE_TTL + TAKE_EVERY`.
//!
//! Must not: keep pushing a destination another node holds the lease of, take a stream
//! off the air only because Redis cannot be reached, or touch recordings (per node).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use showrunner_cluster::{LeaseKeeper, LeaseState};

use super::ClusterLink;
use crate::api::ApiState;
use crate::api::outputs::{OutputDoc, RECORDING_ID, stored_outputs};
use crate::show::{Request, ShowEvent};

/// How long a lease lasts without renewal (the keeper renews every third of it).
pub const LEASE_TTL: Duration = Duration::from_secs(2);
/// How often this node looks for destinations to take or drop.
pub const TAKE_EVERY: Duration = Duration::from_millis(250);

/// The lease name of destination `id`.
pub fn lease_name(id: &str) -> String {
    format!("output.{id}")
}

/// Runs the lease loop until the process ends.
pub fn spawn(state: ApiState, link: Arc<ClusterLink>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut held: HashMap<String, (OutputDoc, LeaseKeeper)> = HashMap::new();
        let mut tick = tokio::time::interval(TAKE_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = step(&state, &link, &mut held).await {
                tracing::debug!(error = %e, "output leases: will try again");
            }
        }
    })
}

async fn step(state: &ApiState, link: &ClusterLink, held: &mut HashMap<String, (OutputDoc, LeaseKeeper)>) -> anyhow::Result<()> {
    let (docs, streaming) = stored_outputs(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let wanted: HashMap<String, OutputDoc> = if streaming { docs.into_iter().map(|d| (d.id.clone(), d)).collect() } else { HashMap::new() };
    let cluster = link.cluster().map_err(|e| anyhow::anyhow!("{e}"))?;
    // Stop what should not run any more: the stream off, the destination removed or changed.
    let unwanted: Vec<String> = held.iter().filter(|(id, (doc, _))| wanted.get(*id).is_none_or(|w| w.url != doc.url)).map(|(id, _)| id.clone()).collect();
    for id in unwanted {
        let Some((_, keeper)) = held.remove(&id) else { continue };
        stop_pushing(state, &id, held.is_empty()).await;
        let _ = keeper.release().await;
        announce(state, &id, "this node stopped pushing it and let its lease go");
    }
    // A lease reported lost: stop only when another node holds it now. While Redis cannot
    // be reached nobody can take it, so the stream stays on air; once Redis answers and
    // nobody holds it, it is taken again below (pushing carries on meanwhile).
    let lost: Vec<String> = held.iter().filter(|(_, (_, keeper))| matches!(keeper.state(), LeaseState::Lost { .. })).map(|(id, _)| id.clone()).collect();
    for id in lost {
        match cluster.owner(&lease_name(&id)).await {
            Err(_) => continue,
            Ok(Some(owner)) if owner != link.node_id() => {
                held.remove(&id);
                stop_pushing(state, &id, held.is_empty()).await;
                announce(state, &id, &format!("node {owner} holds its lease now: this node stopped pushing it"));
            }
            Ok(_) => {
                held.remove(&id);
            }
        }
    }
    // Take what should run and nobody holds.
    for (id, doc) in wanted {
        if held.contains_key(&id) {
            continue;
        }
        let Some(lease) = cluster.acquire(&lease_name(&id), LEASE_TTL).await? else { continue };
        let keeper = cluster.keep(lease);
        match start_pushing(state, &doc).await {
            Ok(()) => {
                announce(state, &id, &format!("node {} took the lease and pushes it", link.node_id()));
                held.insert(id, (doc, keeper));
            }
            Err(e) => {
                tracing::warn!(output = id, error = %e, "cannot push a leased output; letting the lease go");
                let _ = keeper.release().await;
            }
        }
    }
    Ok(())
}

async fn start_pushing(state: &ApiState, doc: &OutputDoc) -> anyhow::Result<()> {
    let outputs = state.show.ask(Request::StartEncoder).await?;
    if outputs.status(&doc.id).is_none() {
        outputs.add_rtmp(&doc.id, &doc.url)?;
    }
    Ok(())
}

/// Stops pushing `id`; stops the encoder too when this node pushes nothing else and records nothing.
async fn stop_pushing(state: &ApiState, id: &str, nothing_left: bool) {
    let Ok(snapshot) = state.show.snapshot().await else { return };
    if !snapshot.encoding {
        return;
    }
    let Ok(outputs) = state.show.ask(Request::StartEncoder).await else { return };
    let _ = outputs.remove(id);
    if nothing_left && outputs.status(RECORDING_ID).is_none() {
        let _ = state.show.ask(Request::StopEncoder).await;
    }
}

fn announce(state: &ApiState, id: &str, message: &str) {
    state.show.bus().publish(ShowEvent::Output { id: id.to_string(), message: message.to_string() });
}
