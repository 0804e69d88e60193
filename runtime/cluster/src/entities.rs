//! Versioned entities: `get`, compare-and-set `put` and `delete`, and `list` (a snapshot to
//! resync from). Each successful change is one Lua script that checks the version, writes
//! the entity and appends the change to the stream, so a change is stored and published
//! together or not at all.
//!
//! Versions start at 1 and go up by one on every put or delete of an id, across deletes
//! (a delete leaves a tombstone holding the version), so "newer" is always "higher".
//! This module must not interpret the bytes.

use crate::feed::ChangeId;
use crate::options::{check_id, check_kind};
use crate::{Cluster, ClusterError};

/// KEYS: entity, index, changes, seq. ARGV: expected ('' = any), bytes, kind, id, node, maxlen.
/// Returns {1, new_version, change_seq} or {0, current_version}.
pub(crate) const PUT_SCRIPT: &str = r"
local raw = redis.call('HGET', KEYS[1], 'v')
local stored = 0
if raw then stored = tonumber(raw) end
local current = 0
if redis.call('HEXISTS', KEYS[1], 'd') == 1 then current = stored end
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {0, current} end
local version = stored + 1
local seq = redis.call('INCR', KEYS[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], seq .. '-0',
  'op', 'put', 'kind', ARGV[3], 'id', ARGV[4], 'v', version, 'node', ARGV[5], 'data', ARGV[2])
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
return {1, version, seq}
";

/// KEYS: entity, index, changes, seq. ARGV: expected ('' = any), kind, id, node, maxlen.
/// Returns {1, tombstone_version, change_seq}, {0, current_version} or {2} (nothing to delete).
pub(crate) const DELETE_SCRIPT: &str = r"
local raw = redis.call('HGET', KEYS[1], 'v')
local stored = 0
if raw then stored = tonumber(raw) end
local live = redis.call('HEXISTS', KEYS[1], 'd') == 1
local current = 0
if live then current = stored end
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= current then return {0, current} end
if not live then return {2} end
local version = stored + 1
local seq = redis.call('INCR', KEYS[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], seq .. '-0',
  'op', 'del', 'kind', ARGV[2], 'id', ARGV[3], 'v', version, 'node', ARGV[4])
redis.call('HSET', KEYS[1], 'v', version)
redis.call('HDEL', KEYS[1], 'd')
redis.call('SREM', KEYS[2], ARGV[3])
return {1, version, seq}
";

/// How many entities one pipelined `HMGET` round trip of `list` reads.
const LIST_CHUNK: usize = 256;

/// A successful change: the entity's new version and the change's place in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The entity's version after the change (a delete's tombstone version).
    pub version: u64,
    /// The change's id in the change feed.
    pub change: ChangeId,
}

/// One live entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// The entity id.
    pub id: String,
    /// Its version.
    pub version: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// All live entities of a kind, with the feed position to subscribe from afterwards.
///
/// `position` is read before the entities, so replaying the feed from it may repeat
/// changes the entities already include: apply a change only when its version is higher
/// than the version held, and the result is exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Subscribe from here after loading the entities.
    pub position: ChangeId,
    /// The entities, sorted by id.
    pub entities: Vec<Entity>,
}

impl Cluster {
    /// The version and bytes of `kind/id`, or `None` when it does not exist.
    pub async fn get(&self, kind: &str, id: &str) -> Result<Option<(u64, Vec<u8>)>, ClusterError> {
        check_kind(kind)?;
        check_id("id", id)?;
        let key = self.inner.keys.entity(kind, id);
        let (version, bytes): (Option<u64>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(&key)
            .arg("v")
            .arg("d")
            .query_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("get {kind}/{id}"), source))?;
        match (version, bytes) {
            (Some(version), Some(bytes)) => Ok(Some((version, bytes))),
            (_, None) => Ok(None),
            (None, Some(_)) => Err(ClusterError::malformed(
                key,
                "entity bytes without a version",
            )),
        }
    }

    /// Stores `bytes` as `kind/id` and publishes the change. With `expected_version:
    /// Some(v)` the write happens only when the entity is at version `v` (0: does not
    /// exist), else [`ClusterError::Conflict`] with the current version; `None` writes
    /// whatever is there.
    pub async fn put(
        &self,
        kind: &str,
        id: &str,
        bytes: &[u8],
        expected_version: Option<u64>,
    ) -> Result<Written, ClusterError> {
        check_kind(kind)?;
        check_id("id", id)?;
        let limit = self.inner.options.max_value_bytes;
        if bytes.len() > limit {
            return Err(ClusterError::TooLarge {
                what: format!("entity {kind}/{id}"),
                size: bytes.len(),
                limit,
            });
        }
        let keys = &self.inner.keys;
        let reply: Vec<u64> = self
            .inner
            .scripts
            .put
            .key(keys.entity(kind, id))
            .key(keys.index(kind))
            .key(keys.changes())
            .key(keys.change_seq())
            .arg(expected_version.map(|v| v.to_string()).unwrap_or_default())
            .arg(bytes)
            .arg(kind)
            .arg(id)
            .arg(&self.inner.node_id)
            .arg(self.inner.options.changes_max_len)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("put {kind}/{id}"), source))?;
        self.written_or_conflict(kind, id, expected_version, &reply)
    }

    /// Deletes `kind/id` (leaving a tombstone version) and publishes the change.
    /// `expected_version` works as in [`Cluster::put`]. `Ok(None)`: there was nothing to
    /// delete (and nothing was published).
    pub async fn delete(
        &self,
        kind: &str,
        id: &str,
        expected_version: Option<u64>,
    ) -> Result<Option<Written>, ClusterError> {
        check_kind(kind)?;
        check_id("id", id)?;
        let keys = &self.inner.keys;
        let reply: Vec<u64> = self
            .inner
            .scripts
            .delete
            .key(keys.entity(kind, id))
            .key(keys.index(kind))
            .key(keys.changes())
            .key(keys.change_seq())
            .arg(expected_version.map(|v| v.to_string()).unwrap_or_default())
            .arg(kind)
            .arg(id)
            .arg(&self.inner.node_id)
            .arg(self.inner.options.changes_max_len)
            .invoke_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("delete {kind}/{id}"), source))?;
        if reply.as_slice() == [2] {
            return Ok(None);
        }
        self.written_or_conflict(kind, id, expected_version, &reply)
            .map(Some)
    }

    /// Every live entity of `kind` and the feed position to subscribe from afterwards
    /// (see [`Snapshot`]). Refuses kinds with more than `max_list_entries` entities.
    pub async fn list(&self, kind: &str) -> Result<Snapshot, ClusterError> {
        check_kind(kind)?;
        let keys = &self.inner.keys;
        let failed = |source| ClusterError::redis(format!("list {kind}"), source);
        let mut connection = self.connection();
        let (position, count): (Option<u64>, usize) = redis::pipe()
            .cmd("GET")
            .arg(keys.change_seq())
            .cmd("SCARD")
            .arg(keys.index(kind))
            .query_async(&mut connection)
            .await
            .map_err(failed)?;
        let limit = self.inner.options.max_list_entries;
        if count > limit {
            return Err(ClusterError::TooManyEntities {
                kind: kind.to_owned(),
                count,
                limit,
            });
        }
        let mut ids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(keys.index(kind))
            .query_async(&mut connection)
            .await
            .map_err(failed)?;
        ids.sort_unstable();
        ids.truncate(limit);
        let mut entities = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(LIST_CHUNK) {
            let mut pipe = redis::pipe();
            for id in chunk {
                pipe.cmd("HMGET")
                    .arg(keys.entity(kind, id))
                    .arg("v")
                    .arg("d");
            }
            let rows: Vec<(Option<u64>, Option<Vec<u8>>)> =
                pipe.query_async(&mut connection).await.map_err(failed)?;
            for (id, row) in chunk.iter().zip(rows) {
                // A row without bytes was deleted after SMEMBERS; the feed will say so.
                if let (Some(version), Some(bytes)) = row {
                    entities.push(Entity {
                        id: id.clone(),
                        version,
                        bytes,
                    });
                }
            }
        }
        Ok(Snapshot {
            position: ChangeId(position.unwrap_or(0)),
            entities,
        })
    }

    fn written_or_conflict(
        &self,
        kind: &str,
        id: &str,
        expected_version: Option<u64>,
        reply: &[u64],
    ) -> Result<Written, ClusterError> {
        match reply {
            [1, version, seq] => Ok(Written {
                version: *version,
                change: ChangeId(*seq),
            }),
            [0, current] => Err(ClusterError::Conflict {
                kind: kind.to_owned(),
                id: id.to_owned(),
                expected: expected_version.unwrap_or_default(),
                current: *current,
            }),
            other => Err(ClusterError::malformed(
                self.inner.keys.entity(kind, id),
                format!("unexpected script reply {other:?}"),
            )),
        }
    }
}
