//! showrunner's Redis layer for scale-out: the [`Cluster`] client that several showrunner
//! nodes use to share one show.
//!
//! What it owns (see README.md for the key layout):
//! - versioned entities with compare-and-set ([`Cluster::put`], [`Cluster::delete`]), each
//!   change appended to one bounded Redis Stream in the same atomic step;
//! - the change feed over that stream ([`Cluster::subscribe`]), with catch-up from a
//!   [`ChangeId`] and an explicit [`ClusterError::Trimmed`] when history is gone;
//! - module blobs by content hash ([`Cluster::put_blob`]);
//! - leases with a keeper task ([`Cluster::acquire`], [`Cluster::keep`]);
//! - health: [`Cluster::ping`] and a [`Health`] watch that shows Redis going down and up.
//!
//! Everything is async on tokio and every Redis call has a time limit, so a caller on an
//! API task never waits longer than [`ClusterOptions::command_timeout`]. This crate must not
//! know the server, the engine or what the entity bytes mean, and must never be called
//! from a frame thread.

mod blobs;
mod entities;
mod error;
mod feed;
mod health;
mod leases;
mod options;

use std::sync::Arc;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use blobs::blob_hash;
pub use entities::{Entity, Snapshot, Written};
pub use error::ClusterError;
pub use feed::{Change, ChangeFeed, ChangeId, ChangeOp};
pub use health::Health;
pub use leases::{Lease, LeaseKeeper, LeaseState};
pub use options::{ClusterOptions, MAX_ID_LEN, MAX_KIND_LEN, MAX_NODE_ID_LEN};

use options::Keys;

/// A node's handle on the cluster. Cheap to clone; all clones share one reconnecting
/// connection and one health task, which stops when the last clone is dropped.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    connection: ConnectionManager,
    keys: Keys,
    node_id: String,
    options: ClusterOptions,
    scripts: Scripts,
    health: watch::Receiver<Health>,
    health_task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.health_task.abort();
    }
}

/// The Lua scripts, compiled once per client (EVALSHA, reloaded after a Redis restart).
struct Scripts {
    put: Script,
    delete: Script,
    acquire: Script,
    renew: Script,
    release: Script,
}

impl Cluster {
    /// Connects to Redis at `url` (`redis://HOST:PORT[/DB]`) as node `node_id` and starts the
    /// health task. Fails with [`ClusterError::Unreachable`] when Redis does not answer within
    /// [`ClusterOptions::connect_timeout`] (one retry).
    pub async fn connect(
        url: &str,
        node_id: &str,
        options: ClusterOptions,
    ) -> Result<Self, ClusterError> {
        options::check_node_id(node_id)?;
        let keys = Keys::new(&options.cluster_name)?;
        let shown_url = redact_password(url);
        let client = redis::Client::open(url).map_err(|source| ClusterError::InvalidUrl {
            url: shown_url.clone(),
            source,
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.command_timeout))
            .set_number_of_retries(1)
            .set_min_delay(std::time::Duration::from_millis(50))
            .set_max_delay(std::time::Duration::from_millis(500));
        let unreachable = |source| ClusterError::Unreachable {
            url: shown_url.clone(),
            source,
        };
        let mut connection = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(unreachable)?;
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(unreachable)?;
        let (health, health_task) = health::spawn(
            connection.clone(),
            options.health_interval,
            options.command_timeout,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                connection,
                keys,
                node_id: node_id.to_owned(),
                options,
                scripts: Scripts {
                    put: Script::new(entities::PUT_SCRIPT),
                    delete: Script::new(entities::DELETE_SCRIPT),
                    acquire: Script::new(leases::ACQUIRE_SCRIPT),
                    renew: Script::new(leases::RENEW_SCRIPT),
                    release: Script::new(leases::RELEASE_SCRIPT),
                },
                health,
                health_task,
            }),
        })
    }

    /// This node's id (the value of the leases it holds, the `node` of its changes).
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// The key prefix, `showrunner:{CLUSTER_NAME}:`.
    pub fn key_prefix(&self) -> &str {
        self.inner.keys.prefix()
    }

    /// The options this client was connected with.
    pub fn options(&self) -> &ClusterOptions {
        &self.inner.options
    }

    /// A connection handle for one operation (a cheap clone of the shared manager).
    fn connection(&self) -> ConnectionManager {
        self.inner.connection.clone()
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`, for messages and logs.
/// `url` with its password replaced by `****`, for logs and the shown config.
pub fn redacted_url(url: &str) -> String {
    redact_password(url)
}

fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user_info = &rest[..at];
    let user = user_info.split(':').next().unwrap_or_default();
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_password("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_password("redis://alice:pw@host/1"),
            "redis://alice:***@host/1"
        );
        assert_eq!(redact_password("redis://host:6379"), "redis://host:6379");
    }
}
