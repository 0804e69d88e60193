//! [`ClusterOptions`] (what a user configures) and [`Keys`] (the Redis key layout, derived
//! from the cluster name), plus the name rules that keep keys unambiguous.
//!
//! This module owns naming only; it must not talk to Redis.

use std::time::Duration;

use crate::ClusterError;

/// Settings of a cluster client. `Default` gives values fit for a show on a LAN.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Name of the cluster: every key lives under `showrunner:{NAME}:`. Nodes that share a
    /// show use the same name; [a-zA-Z0-9_.-], 1 to 64 characters.
    pub cluster_name: String,
    /// Approximate bound of the change stream (`XADD MAXLEN ~`): Redis keeps at least this
    /// many of the latest changes (up to one radix node, about 100 entries, more). A node
    /// that was away for more changes than this must resync from a full list.
    pub changes_max_len: usize,
    /// Largest entity value accepted by `put` (the server's default `max_body_bytes`).
    pub max_value_bytes: usize,
    /// Largest blob accepted by `put_blob` (the server's `max_module_bytes` goes up to 256 MiB).
    pub max_blob_bytes: usize,
    /// Most entities one `list` may return.
    pub max_list_entries: usize,
    /// Capacity of a change feed's channel; the feed stops reading Redis while it is full.
    /// A feed holds at most `(feed_capacity + feed_batch) * max_value_bytes` of changes.
    pub feed_capacity: usize,
    /// Most changes one `XREAD` fetches.
    pub feed_batch: usize,
    /// How long one `XREAD BLOCK` waits before it asks again (also how quickly a dropped
    /// feed notices its receiver is gone).
    pub feed_block: Duration,
    /// Time limit of one Redis command (a command still unanswered then fails).
    pub command_timeout: Duration,
    /// Time limit of one connection attempt.
    pub connect_timeout: Duration,
    /// How often the health task pings Redis.
    pub health_interval: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            cluster_name: "default".to_owned(),
            changes_max_len: 100_000,
            max_value_bytes: 1024 * 1024,
            max_blob_bytes: 64 * 1024 * 1024,
            max_list_entries: 100_000,
            feed_capacity: 256,
            feed_batch: 64,
            feed_block: Duration::from_millis(1000),
            command_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            health_interval: Duration::from_millis(250),
        }
    }
}

/// Longest kind name.
pub const MAX_KIND_LEN: usize = 64;
/// Longest entity id or lease name.
pub const MAX_ID_LEN: usize = 256;
/// Longest node id.
pub const MAX_NODE_ID_LEN: usize = 128;

/// The Redis key layout of one cluster. The prefix is `showrunner:{NAME}:` with literal
/// braces: a Redis Cluster hash tag, so every key of a show lands in one slot and the
/// multi-key scripts stay valid there.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(cluster_name: &str) -> Result<Self, ClusterError> {
        const RULE: &str = "use 1 to 64 of a-z A-Z 0-9 _ . -";
        check_name("cluster name", cluster_name, MAX_KIND_LEN, RULE, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
        })?;
        Ok(Self {
            prefix: format!("showrunner:{{{cluster_name}}}:"),
        })
    }

    /// `PREFIX` itself.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Hash `{v: version, d: bytes}` of one entity; `d` is absent after a delete (tombstone).
    pub(crate) fn entity(&self, kind: &str, id: &str) -> String {
        format!("{}e:{kind}:{id}", self.prefix)
    }

    /// Set of the live ids of a kind.
    pub(crate) fn index(&self, kind: &str) -> String {
        format!("{}idx:{kind}", self.prefix)
    }

    /// The change stream.
    pub(crate) fn changes(&self) -> String {
        format!("{}changes", self.prefix)
    }

    /// Counter of the last change id.
    pub(crate) fn change_seq(&self) -> String {
        format!("{}changes:seq", self.prefix)
    }

    /// Bytes of a blob.
    pub(crate) fn blob(&self, hash: &str) -> String {
        format!("{}blob:{hash}", self.prefix)
    }

    /// A lease: value is the owning node id, with a TTL.
    pub(crate) fn lease(&self, name: &str) -> String {
        format!("{}lease:{name}", self.prefix)
    }
}

/// Kinds: [a-zA-Z0-9_.-], 1 to 64 characters (no ':', so `e:KIND:ID` is unambiguous).
pub(crate) fn check_kind(kind: &str) -> Result<(), ClusterError> {
    const RULE: &str = "use 1 to 64 of a-z A-Z 0-9 _ . -";
    check_name("kind", kind, MAX_KIND_LEN, RULE, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
    })
}

/// Ids and lease names: 1 to 256 bytes of visible characters (no spaces or controls).
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<(), ClusterError> {
    const RULE: &str = "use 1 to 256 bytes without spaces or control characters";
    check_name(what, id, MAX_ID_LEN, RULE, |c| {
        !c.is_whitespace() && !c.is_control()
    })
}

/// Node ids: 1 to 128 bytes of visible characters.
pub(crate) fn check_node_id(node_id: &str) -> Result<(), ClusterError> {
    const RULE: &str = "use 1 to 128 bytes without spaces or control characters";
    check_name("node id", node_id, MAX_NODE_ID_LEN, RULE, |c| {
        !c.is_whitespace() && !c.is_control()
    })
}

fn check_name(
    what: &'static str,
    value: &str,
    max_len: usize,
    rule: &'static str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), ClusterError> {
    if !value.is_empty() && value.len() <= max_len && value.chars().all(allowed) {
        return Ok(());
    }
    Err(ClusterError::InvalidName {
        what,
        value: value.chars().take(80).collect(),
        rule,
    })
}
