//! Output leases: in a cluster, every RTMP destination and the programme recording are
//! run by exactly one node, the holder of the Redis lease `output.{id}` ([`LEASE_TTL`],
//! renewed by a keeper; the recording's id is `recording`). Every [`TAKE_EVERY`], and at
//! once when woken ([`ClusterLink::wake_outputs`]), this node looks at the shared
//! destinations, the stream's on/off and the recording asked for (kept in its local store
//! by the follower): it takes free leases of what should run and starts it, and stops
//! (and lets go of) what should not run or is no longer its own. When the owner dies its
//! lease runs out, and another node takes the output within about `LEASE_TTL + TAKE_EVERY`.
//! A recording just asked for is left to the node that was asked for one tick: woken by
//! another node's change, this node does not take it, so the file usually lands on the
//! machine the operator asked.
//!
//! Must not: keep running an output another node holds the lease of, or take a stream
//! or recording off the air only because Redis cannot be reached.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use showrunner_cluster::{LeaseKeeper, LeaseState};

use super::ClusterLink;
use crate::api::ApiState;
use crate::api::outputs::{OutputDoc, RECORDING_ID, stored};
use crate::api::recording::record_here;
use crate::show::{Request, ShowEvent};

/// How long a lease lasts without renewal (the keeper renews every third of it).
pub const LEASE_TTL: Duration = Duration::from_secs(2);
/// How often this node looks for outputs to take or drop.
pub const TAKE_EVERY: Duration = Duration::from_millis(250);

/// The lease name of output `id`.
pub fn lease_name(id: &str) -> String {
    format!("output.{id}")
}

/// An output that runs on the node holding its lease.
#[derive(Clone, PartialEq)]
enum Leased {
    Destination(OutputDoc),
    /// The recording, by the file name asked for.
    Recording(String),
}

type Held = HashMap<String, (Leased, LeaseKeeper)>;

/// Runs the lease loop until the process ends.
pub fn spawn(state: ApiState, link: Arc<ClusterLink>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut held = Held::new();
        let mut tick = tokio::time::interval(TAKE_EVERY);
        loop {
            let take_recording = tokio::select! {
                _ = tick.tick() => true,
                here = link.outputs_woken() => here,
            };
            if let Err(e) = step(&state, &link, &mut held, take_recording).await {
                tracing::debug!(error = %e, "output leases: will try again");
            }
        }
    })
}

/// What should run now, by output id.
async fn wanted(state: &ApiState) -> anyhow::Result<HashMap<String, Leased>> {
    let (docs, show) = stored(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut wanted: HashMap<String, Leased> = if show.streaming { docs.into_iter().map(|d| (d.id.clone(), Leased::Destination(d))).collect() } else { HashMap::new() };
    if let Some(file) = show.recording {
        wanted.insert(RECORDING_ID.to_string(), Leased::Recording(file));
    }
    Ok(wanted)
}

async fn step(state: &ApiState, link: &ClusterLink, held: &mut Held, take_recording: bool) -> anyhow::Result<()> {
    let wanted = wanted(state).await?;
    let cluster = link.cluster().map_err(|e| anyhow::anyhow!("{e}"))?;
    // Stop what should not run any more: the stream off, the recording stopped, the
    // destination removed or changed.
    let unwanted: Vec<String> = held.iter().filter(|(id, (leased, _))| wanted.get(*id) != Some(leased)).map(|(id, _)| id.clone()).collect();
    for id in unwanted {
        let Some((_, keeper)) = held.remove(&id) else { continue };
        stop(state, &id, held.is_empty()).await;
        let _ = keeper.release().await;
        announce(state, &id, "this node stopped it and let its lease go");
    }
    // A lease reported lost: stop only when another node holds it now. While Redis cannot
    // be reached nobody can take it, so the output stays on; once Redis answers and
    // nobody holds it, it is taken again below (the output runs on meanwhile).
    let lost: Vec<String> = held.iter().filter(|(_, (_, keeper))| matches!(keeper.state(), LeaseState::Lost { .. })).map(|(id, _)| id.clone()).collect();
    for id in lost {
        match cluster.owner(&lease_name(&id)).await {
            Err(_) => continue,
            Ok(Some(owner)) if owner != link.node_id() => {
                held.remove(&id);
                stop(state, &id, held.is_empty()).await;
                announce(state, &id, &format!("node {owner} holds its lease now: this node stopped it"));
            }
            Ok(_) => {
                held.remove(&id);
            }
        }
    }
    // Take what should run and nobody holds.
    for (id, leased) in wanted {
        if held.contains_key(&id) || (!take_recording && matches!(leased, Leased::Recording(_))) {
            continue;
        }
        let Some(lease) = cluster.acquire(&lease_name(&id), LEASE_TTL).await? else { continue };
        let keeper = cluster.keep(lease);
        match start(state, &leased).await {
            Ok(what) => {
                announce(state, &id, &format!("node {} took the lease and {what}", link.node_id()));
                held.insert(id, (leased, keeper));
            }
            Err(e) => {
                tracing::warn!(output = id, error = %e, "cannot run a leased output; letting the lease go");
                let _ = keeper.release().await;
            }
        }
    }
    Ok(())
}

/// Starts `leased` on this node; answers what it does, for the `output` event.
async fn start(state: &ApiState, leased: &Leased) -> anyhow::Result<String> {
    match leased {
        Leased::Destination(doc) => {
            let outputs = state.show.ask(Request::StartEncoder).await?;
            if outputs.status(&doc.id).is_none() {
                outputs.add_rtmp(&doc.id, &doc.url)?;
            }
            Ok("pushes it".into())
        }
        Leased::Recording(name) => {
            let file = record_here(state, name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(format!("records into recordings/{file}"))
        }
    }
}

/// Stops output `id` here; stops the encoder too when this node runs nothing else.
async fn stop(state: &ApiState, id: &str, nothing_left: bool) {
    let Ok(snapshot) = state.show.snapshot().await else { return };
    if !snapshot.encoding {
        return;
    }
    let Ok(outputs) = state.show.ask(Request::StartEncoder).await else { return };
    let _ = outputs.remove(id);
    if nothing_left {
        let _ = state.show.ask(Request::StopEncoder).await;
    }
}

fn announce(state: &ApiState, id: &str, message: &str) {
    state.show.bus().publish(ShowEvent::Output { id: id.to_string(), message: message.to_string() });
}
