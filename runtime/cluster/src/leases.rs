//! Leases: a named resource (an output) owned by one node at a time. The key holds the
//! owner's node id with a TTL (`SET NX PX`); renew and release are compare-and-act Lua
//! scripts, so a node can only extend or drop a lease it still holds. [`LeaseKeeper`]
//! renews every ttl/3 and reports loss.
//!
//! This module must not start or stop the resource a lease guards; the caller does that
//! when [`LeaseState`] changes.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::options::check_id;
use crate::{Cluster, ClusterError};

/// KEYS: lease. ARGV: node, ttl_ms. 1 when the lease is now ours (new, or ours already and
/// extended), 0 when another node holds it.
pub(crate) const ACQUIRE_SCRIPT: &str = r"
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// KEYS: lease. ARGV: node, ttl_ms. 1 when extended, 0 when not ours (expired or taken).
pub(crate) const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// KEYS: lease. ARGV: node. 1 when deleted, 0 when not ours.
pub(crate) const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Shortest lease accepted (renewals every ttl/3 must be meaningful).
const MIN_TTL: Duration = Duration::from_millis(30);
/// Longest lease accepted.
const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A lease this node acquired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease name (an output id, say).
    pub name: String,
    /// Its time to live; renewals extend it to this from the moment they run.
    pub ttl: Duration,
    /// When the request that acquired it was sent (the lease ends by this + ttl at the latest).
    pub acquired_at: Instant,
}

/// What a [`LeaseKeeper`] knows about its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseState {
    /// Renewed in time; this node owns it.
    Held,
    /// No longer ours: stop using the resource. `reason` says why.
    Lost {
        /// Taken by another node, expired, or Redis unreachable for too long.
        reason: String,
    },
}

impl Cluster {
    /// Takes lease `name` for `ttl` if no other node holds it (`None` then). Taking a lease
    /// this node already holds extends it.
    pub async fn acquire(&self, name: &str, ttl: Duration) -> Result<Option<Lease>, ClusterError> {
        check_id("lease name", name)?;
        let ttl_ms = check_ttl(ttl)?;
        let acquired_at = Instant::now();
        let taken: u8 = self
            .inner
            .scripts
            .acquire
            .key(self.inner.keys.lease(name))
            .arg(&self.inner.node_id)
            .arg(ttl_ms)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("acquire lease {name}"), source))?;
        Ok((taken == 1).then(|| Lease {
            name: name.to_owned(),
            ttl,
            acquired_at,
        }))
    }

    /// Extends `lease` to its ttl from now; `false` when it is no longer ours.
    pub async fn renew(&self, lease: &Lease) -> Result<bool, ClusterError> {
        let ttl_ms = check_ttl(lease.ttl)?;
        let renewed: u8 = self
            .inner
            .scripts
            .renew
            .key(self.inner.keys.lease(&lease.name))
            .arg(&self.inner.node_id)
            .arg(ttl_ms)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("renew lease {}", lease.name), source))?;
        Ok(renewed == 1)
    }

    /// Gives lease `name` up if this node holds it; `false` when it did not (then nothing
    /// changes).
    pub async fn release(&self, name: &str) -> Result<bool, ClusterError> {
        check_id("lease name", name)?;
        let released: u8 = self
            .inner
            .scripts
            .release
            .key(self.inner.keys.lease(name))
            .arg(&self.inner.node_id)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("release lease {name}"), source))?;
        Ok(released == 1)
    }

    /// The node that holds lease `name`, if any.
    pub async fn owner(&self, name: &str) -> Result<Option<String>, ClusterError> {
        check_id("lease name", name)?;
        redis::cmd("GET")
            .arg(self.inner.keys.lease(name))
            .query_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("read lease {name}"), source))
    }

    /// Starts a task that renews `lease` every ttl/3 until it is lost or the keeper is
    /// released or dropped. Dropping the keeper stops renewing without releasing: the lease
    /// then expires after its ttl (what a crashed node looks like to the others).
    pub fn keep(&self, lease: Lease) -> LeaseKeeper {
        let (sender, state) = watch::channel(LeaseState::Held);
        let task = tokio::spawn(keep_renewing(self.clone(), lease.clone(), sender));
        LeaseKeeper {
            cluster: self.clone(),
            lease,
            state,
            task,
        }
    }
}

/// Renews a lease in the background; see [`Cluster::keep`].
pub struct LeaseKeeper {
    cluster: Cluster,
    lease: Lease,
    state: watch::Receiver<LeaseState>,
    task: JoinHandle<()>,
}

impl LeaseKeeper {
    /// The lease kept.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// The state now.
    pub fn state(&self) -> LeaseState {
        self.state.borrow().clone()
    }

    /// A receiver that sees the change to [`LeaseState::Lost`].
    pub fn watch(&self) -> watch::Receiver<LeaseState> {
        self.state.clone()
    }

    /// Waits until the lease is lost and returns why.
    pub async fn lost(&mut self) -> String {
        let lost = self
            .state
            .wait_for(|state| matches!(state, LeaseState::Lost { .. }))
            .await;
        match lost.as_deref() {
            Ok(LeaseState::Lost { reason }) => reason.clone(),
            _ => "the lease keeper stopped".to_owned(),
        }
    }

    /// Stops renewing and releases the lease; `false` when it was no longer ours.
    pub async fn release(self) -> Result<bool, ClusterError> {
        self.task.abort();
        self.cluster.release(&self.lease.name).await
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn keep_renewing(cluster: Cluster, lease: Lease, state: watch::Sender<LeaseState>) {
    let period = lease.ttl / 3;
    // Past this without a successful renewal the key may expire before the next try.
    let give_up_after = lease.ttl - period;
    let mut last_renewed = lease.acquired_at;
    loop {
        tokio::time::sleep(period).await;
        let sent = Instant::now();
        let attempt = tokio::time::timeout(period, cluster.renew(&lease)).await;
        let reason = match attempt {
            Ok(Ok(true)) => {
                last_renewed = sent;
                continue;
            }
            Ok(Ok(false)) => match cluster.owner(&lease.name).await {
                Ok(Some(owner)) => format!("lease {} is now held by node {owner}", lease.name),
                _ => format!("lease {} expired before it was renewed", lease.name),
            },
            Ok(Err(error)) if sent.duration_since(last_renewed) >= give_up_after => {
                format!("lease {} could not be renewed in time: {error}", lease.name)
            }
            Err(_) if sent.duration_since(last_renewed) >= give_up_after => {
                format!(
                    "lease {} could not be renewed in time: Redis did not answer",
                    lease.name
                )
            }
            Ok(Err(_)) | Err(_) => continue,
        };
        tracing::warn!("{reason}");
        state.send_replace(LeaseState::Lost { reason });
        return;
    }
}

fn check_ttl(ttl: Duration) -> Result<u64, ClusterError> {
    if !(MIN_TTL..=MAX_TTL).contains(&ttl) {
        return Err(ClusterError::InvalidName {
            what: "lease ttl",
            value: format!("{ttl:?}"),
            rule: "use a ttl from 30 ms to 24 h",
        });
    }
    Ok(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
}
