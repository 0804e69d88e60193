//! The crate's one error type, [`ClusterError`]: what failed and what the caller should do.
//!
//! This module owns error kinds and their messages only; it must not decide how a caller
//! recovers (retry, 409, 503): [`ClusterError::is_unavailable`] and the variants say enough.

use crate::feed::ChangeId;

/// Everything that can go wrong talking to the cluster's Redis.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The first connection failed: Redis is not running, not reachable or refused us.
    #[error(
        "cannot reach Redis at {url}: {source}; start redis-server (or fix --redis / SHOWRUNNER_REDIS) and try again"
    )]
    Unreachable {
        /// The URL given to [`crate::Cluster::connect`], password removed.
        url: String,
        /// What the Redis client reported.
        #[source]
        source: redis::RedisError,
    },
    /// The URL could not be parsed.
    #[error("invalid Redis URL {url:?}: {source}; use redis://HOST:PORT[/DB]")]
    InvalidUrl {
        /// The URL as given, password removed.
        url: String,
        /// What the Redis client reported.
        #[source]
        source: redis::RedisError,
    },
    /// A command failed after the connection was established (Redis went away, timed out,
    /// or answered with an error). Mutations should be refused with 503 until
    /// [`crate::Health`] says Redis is up again.
    #[error(
        "Redis {operation} failed: {source}; the cluster is unavailable until Redis answers again"
    )]
    Redis {
        /// What was being done ("put scene/intro", "renew lease output/main", ...).
        operation: String,
        /// What the Redis client reported.
        #[source]
        source: redis::RedisError,
    },
    /// Compare-and-set refused: the entity is not at the version the write was based on.
    /// `current` is 0 when the entity does not exist.
    #[error(
        "{kind}/{id} is at version {current}, not the expected {expected}; re-read it and retry on top of version {current}"
    )]
    Conflict {
        /// The entity kind.
        kind: String,
        /// The entity id.
        id: String,
        /// The version the write was based on.
        expected: u64,
        /// The version stored now (0: absent).
        current: u64,
    },
    /// A name (cluster, node, kind, id, lease) is empty, too long or has a character the
    /// key layout reserves.
    #[error("invalid {what} {value:?}: {rule}")]
    InvalidName {
        /// Which name ("kind", "id", "node id", ...).
        what: &'static str,
        /// The offending value (truncated to 80 characters).
        value: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A value or blob is larger than the configured cap.
    #[error(
        "{what} is {size} bytes, over the {limit}-byte limit; store something smaller or raise the limit"
    )]
    TooLarge {
        /// What was too large (`entity scene/intro`, `blob HASH`).
        what: String,
        /// Its size in bytes.
        size: usize,
        /// The cap in bytes.
        limit: usize,
    },
    /// `list` found more entities of a kind than the configured cap.
    #[error(
        "kind {kind} has {count} entities, over the {limit} that one list may return; raise max_list_entries"
    )]
    TooManyEntities {
        /// The kind listed.
        kind: String,
        /// How many ids the index holds.
        count: usize,
        /// The cap.
        limit: usize,
    },
    /// `put_blob` was given bytes that do not hash to the claimed hash.
    #[error(
        "blob claimed hash {claimed} but the bytes hash to {actual}; send the blake3 hex of the exact bytes"
    )]
    BlobHashMismatch {
        /// The hash the caller gave.
        claimed: String,
        /// The blake3 hex of the bytes.
        actual: String,
    },
    /// Redis held something this crate did not write in that shape (another program uses
    /// the prefix, or a different version of this crate).
    #[error(
        "unexpected data in Redis at {key}: {detail}; make sure only showrunner uses this cluster prefix"
    )]
    Malformed {
        /// The key (or stream entry) read.
        key: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The change feed cannot continue from `after`: changes after it were trimmed from the
    /// stream (or Redis lost its data). Resync from [`crate::Cluster::list`] and subscribe
    /// again from the snapshot's position.
    #[error(
        "changes after {after} are no longer in the change stream (the oldest kept follows {oldest_kept}); resync from a full list"
    )]
    Trimmed {
        /// The last change the subscriber had.
        after: ChangeId,
        /// The change before the oldest one still in the stream (0 if the stream is empty).
        oldest_kept: ChangeId,
    },
}

impl ClusterError {
    /// True when the error means Redis is down or unreachable (a 503), as opposed to a
    /// refused request (409, 400, 413).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Redis { .. })
    }

    pub(crate) fn redis(operation: impl Into<String>, source: redis::RedisError) -> Self {
        Self::Redis {
            operation: operation.into(),
            source,
        }
    }

    pub(crate) fn malformed(key: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Malformed {
            key: key.into(),
            detail: detail.into(),
        }
    }
}
