//! A served show shared by several nodes through Redis (`redis = URL` in the config).
//! Redis holds the authoritative scenes, layers, program/preview, live inputs, outputs
//! and the recording asked for, each with a version, and passes events sent to layers on
//! to every node;
//! the embedded store stays each node's local copy, so a node restarts and renders
//! even while Redis is down.
//!
//! Owns [`ClusterLink`]: the connection, the versions this node last saw, the write path
//! (every change is written to Redis with compare-and-set on the version this node holds,
//! so a stale write is a 409 and never a silent overwrite) and the health check that
//! refuses changes with 503 while Redis is down. [`follow`] applies other nodes' changes
//! and resyncs; [`sync`] joins a cluster at start.
//!
//! Must not: be called from the frame thread, or let a change reach Redis that the show
//! refused (changes are applied first, then written).

pub mod follow;
pub mod outputs;
pub mod sync;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use showrunner_cluster::{Cluster, ClusterError, ClusterOptions, Health};

use crate::api::ApiError;
use crate::store::{DocKind, DocOp};

/// This node's link to the cluster. Shared by the API and the follower. Until Redis
/// answered once and the node joined, changes are refused (503).
pub struct ClusterLink {
    cluster: OnceLock<Cluster>,
    /// Set once the node has joined (seeded or taken the cluster's show).
    joined: AtomicBool,
    /// Set from Redis going down until the node has resynced after it came back.
    resyncing: AtomicBool,
    node_id: String,
    /// Redis versions of the shared documents, as this node last wrote or applied them.
    versions: Mutex<HashMap<(DocKind, String), u64>>,
    /// Wakes the output leases (an output or the show document changed).
    outputs_changed: tokio::sync::Notify,
    /// Set when this node's own API made the change that woke them.
    changed_here: AtomicBool,
}

/// The Redis kind of a shared document kind; `None` for what stays on this node
/// (guest state is per node).
pub fn shared_kind(kind: DocKind) -> Option<&'static str> {
    match kind {
        DocKind::Scene => Some("scene"),
        DocKind::Layer => Some("layer"),
        DocKind::Output => Some("output"),
        DocKind::Input => Some("input"),
        DocKind::Show => Some("show"),
        DocKind::GuestState => None,
    }
}

/// The shared kinds, in the order they are applied (a layer needs its scene, the
/// program its layers; inputs before the layers that draw them).
pub const SHARED_KINDS: [DocKind; 5] = [DocKind::Scene, DocKind::Input, DocKind::Layer, DocKind::Output, DocKind::Show];

/// The Redis kind of the events sent to layers: one entity (`events`), written without a
/// version check; each write is a change in the feed every node delivers.
pub const EVENT_KIND: &str = "event";
const EVENT_ID: &str = "events";

/// An event for a layer, as the nodes of a cluster pass it on.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SharedEvent {
    pub layer: String,
    pub event: showrunner_core::Event,
}

/// The document kind of a Redis kind.
pub fn doc_kind(kind: &str) -> Option<DocKind> {
    SHARED_KINDS.into_iter().find(|k| shared_kind(*k) == Some(kind))
}

/// A Redis error as the API answers it: 503 when Redis is down, 409 on a stale version.
pub fn api_error(error: ClusterError) -> ApiError {
    match error {
        ClusterError::Conflict { kind, id, expected, current } => ApiError::VersionConflict { what: format!("{kind} {id:?}"), expected, current },
        e if e.is_unavailable() => ApiError::ClusterUnavailable(e.to_string()),
        e => ApiError::Internal(format!("the cluster refused a change: {e}")),
    }
}

impl ClusterLink {
    /// A link for node `node_id`, not connected yet (see [`sync::connect_and_join`]).
    pub fn new(node_id: &str) -> Arc<ClusterLink> {
        Arc::new(ClusterLink { cluster: OnceLock::new(), joined: AtomicBool::new(false), resyncing: AtomicBool::new(false), node_id: node_id.to_string(), versions: Mutex::new(HashMap::new()), outputs_changed: tokio::sync::Notify::new(), changed_here: AtomicBool::new(false) })
    }

    /// Connects as this node to the show `cluster_name` on the Redis at `url`.
    pub async fn connect(url: &str, node_id: &str, cluster_name: &str) -> Result<Cluster, ClusterError> {
        let options = ClusterOptions { cluster_name: cluster_name.to_string(), ..ClusterOptions::default() };
        Cluster::connect(url, node_id, options).await
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The connection, once Redis was reached.
    pub fn cluster(&self) -> Result<&Cluster, ApiError> {
        self.cluster.get().ok_or_else(|| ApiError::ClusterUnavailable("this node has not reached Redis yet".into()))
    }

    /// Keeps the connection (the node is joining: it may read, not yet change).
    pub(crate) fn connected(&self, cluster: Cluster) {
        let _ = self.cluster.set(cluster);
    }

    /// The node has joined: changes are accepted from now on.
    pub(crate) fn mark_joined(&self) {
        self.joined.store(true, Ordering::Release);
    }

    /// Marks the node as catching up with Redis (changes refused) or caught up.
    pub(crate) fn set_resyncing(&self, on: bool) {
        self.resyncing.store(on, Ordering::Release);
    }

    /// Whether the node has joined (it stays joined while Redis is down later).
    pub fn has_joined(&self) -> bool {
        self.joined.load(Ordering::Acquire)
    }

    /// 503 while Redis is down or the node has not joined yet: checked before a change is applied.
    pub fn check_up(&self) -> Result<(), ApiError> {
        if !self.joined.load(Ordering::Acquire) {
            return Err(ApiError::ClusterUnavailable("this node is still joining the cluster".into()));
        }
        if self.resyncing.load(Ordering::Acquire) {
            return Err(ApiError::ClusterUnavailable("Redis is back and this node is catching up with it".into()));
        }
        match self.cluster()?.health() {
            Health::Up => Ok(()),
            Health::Down { reason } => Err(ApiError::ClusterUnavailable(reason)),
        }
    }

    /// The version of a shared document as this node knows it (0: absent).
    pub fn version(&self, kind: DocKind, id: &str) -> u64 {
        self.lock().get(&(kind, id.to_string())).copied().unwrap_or(0)
    }

    /// Notes that `kind/id` is at `version`; answers false when this node already had it
    /// (or a newer one), so the change needs no applying.
    pub fn note(&self, kind: DocKind, id: &str, version: u64) -> bool {
        let mut versions = self.lock();
        let known = versions.entry((kind, id.to_string())).or_insert(0);
        if *known >= version {
            return false;
        }
        *known = version;
        true
    }

    /// Has the output leases look at what should run now rather than at their next tick;
    /// `here`: the change came through this node's API (see [`outputs`]).
    pub fn wake_outputs(&self, here: bool) {
        if here {
            self.changed_here.store(true, Ordering::Release);
        }
        self.outputs_changed.notify_one();
    }

    /// Resolves when [`ClusterLink::wake_outputs`] was called; answers whether a change
    /// made here was among those that woke it.
    pub(crate) async fn outputs_woken(&self) -> bool {
        self.outputs_changed.notified().await;
        self.changed_here.swap(false, Ordering::AcqRel)
    }

    /// Forgets every version (before a full resync).
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(DocKind, String), u64>> {
        self.versions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Passes an event this node delivered on to the other nodes (503 when Redis cannot
    /// take it: the event reached this node only).
    pub async fn publish_event(&self, layer: &str, event: &showrunner_core::Event) -> Result<(), ApiError> {
        let bytes = serde_json::to_vec(&SharedEvent { layer: layer.to_string(), event: event.clone() }).map_err(|e| ApiError::Internal(e.to_string()))?;
        match self.cluster()?.put(EVENT_KIND, EVENT_ID, &bytes, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_unavailable() => Err(ApiError::ClusterUnavailable(format!("the event reached this node only: {e}"))),
            Err(e) => Err(ApiError::Internal(format!("the event reached this node only: {e}"))),
        }
    }

    /// Writes the shared documents among `ops` to Redis, each only if it is still at the
    /// version this node holds; notes the new versions.
    pub async fn write(&self, ops: &[DocOp]) -> Result<(), ApiError> {
        let cluster = self.cluster()?;
        for op in ops {
            let (kind, id) = match op {
                DocOp::Put(kind, id, _) | DocOp::Delete(kind, id) => (*kind, id.as_str()),
            };
            let Some(shared) = shared_kind(kind) else { continue };
            let expected = Some(self.version(kind, id));
            let written = match op {
                DocOp::Put(_, _, doc) => {
                    let bytes = serde_json::to_vec(doc).map_err(|e| ApiError::Internal(e.to_string()))?;
                    Some(cluster.put(shared, id, &bytes, expected).await.map_err(api_error)?)
                }
                DocOp::Delete(..) => cluster.delete(shared, id, expected).await.map_err(api_error)?,
            };
            if let Some(written) = written {
                self.note(kind, id, written.version);
            }
        }
        Ok(())
    }
}
