//! Health: [`Cluster::ping`] and the health task that pings Redis every
//! [`crate::ClusterOptions::health_interval`] and publishes [`Health`] on a watch channel,
//! so a server can answer 503 with a reason while Redis is down and resync when it is up.
//!
//! This module owns the up/down signal only; it must not decide what a caller does on a
//! transition.

use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Cluster, ClusterError};

/// Whether Redis answered the last health ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Redis answered.
    Up,
    /// Redis did not answer; `reason` says what failed (connection refused, timeout).
    Down {
        /// What the last ping reported.
        reason: String,
    },
}

impl Health {
    /// True for [`Health::Up`].
    pub fn is_up(&self) -> bool {
        matches!(self, Self::Up)
    }
}

impl Cluster {
    /// One round trip to Redis; returns how long it took.
    pub async fn ping(&self) -> Result<Duration, ClusterError> {
        let started = Instant::now();
        ping_once(self.connection(), self.inner.options.command_timeout)
            .await
            .map_err(|source| ClusterError::redis("ping", source))?;
        Ok(started.elapsed())
    }

    /// The health as of the last ping (at most one health interval old).
    pub fn health(&self) -> Health {
        self.inner.health.borrow().clone()
    }

    /// A receiver that sees every change of [`Health`] (down, then up again).
    pub fn watch_health(&self) -> watch::Receiver<Health> {
        self.inner.health.clone()
    }
}

async fn ping_once(
    mut connection: ConnectionManager,
    limit: Duration,
) -> Result<(), redis::RedisError> {
    let reply = tokio::time::timeout(
        limit,
        redis::cmd("PING").query_async::<String>(&mut connection),
    )
    .await;
    match reply {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(redis::RedisError::from((
            redis::ErrorKind::Io,
            "ping timed out",
            format!("no answer within {limit:?}"),
        ))),
    }
}

/// Starts the health task; it runs until the returned handle is aborted.
pub(crate) fn spawn(
    connection: ConnectionManager,
    interval: Duration,
    limit: Duration,
) -> (watch::Receiver<Health>, JoinHandle<()>) {
    let (sender, receiver) = watch::channel(Health::Up);
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let next = match ping_once(connection.clone(), limit).await {
                Ok(()) => Health::Up,
                Err(error) => Health::Down {
                    reason: format!("Redis does not answer: {error}"),
                },
            };
            sender.send_if_modified(|current| {
                if current.is_up() == next.is_up() {
                    return false;
                }
                match &next {
                    Health::Up => tracing::info!("Redis is reachable again"),
                    Health::Down { reason } => tracing::warn!("{reason}"),
                }
                *current = next;
                true
            });
        }
    });
    (receiver, task)
}
