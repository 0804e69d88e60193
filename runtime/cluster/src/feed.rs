//! The change feed: [`Cluster::subscribe`] reads the change stream on a connection of its
//! own (`XREAD BLOCK`) and hands each [`Change`] to a bounded channel, first the changes
//! after the requested [`ChangeId`] (catch-up), then live ones.
//!
//! Change ids are consecutive (the scripts number them with `INCR` and use `SEQ-0` as the
//! stream id), so a missing change is seen, never skipped: when the next change in the
//! stream is not the one expected, the feed yields [`ClusterError::Trimmed`] and ends.
//! The feed survives Redis restarts: it reconnects and continues from the last change it
//! delivered. It must not apply changes; that is the caller's job.

use std::fmt;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::options::Keys;
use crate::{Cluster, ClusterError, ClusterOptions};

/// The place of a change in the feed: changes are numbered 1, 2, 3... per cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChangeId(pub u64);

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "change {}", self.0)
    }
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOp {
    /// The entity now holds these bytes.
    Put(Vec<u8>),
    /// The entity was deleted (a tombstone with the change's version).
    Delete,
}

/// One change of one entity, as published by the node that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its place in the feed.
    pub id: ChangeId,
    /// The entity kind.
    pub kind: String,
    /// The entity id.
    pub entity_id: String,
    /// The entity's version after the change.
    pub version: u64,
    /// The node that made the change.
    pub node: String,
    /// What it did.
    pub op: ChangeOp,
}

/// A subscription. Dropping it stops its reader task.
pub struct ChangeFeed {
    receiver: mpsc::Receiver<Result<Change, ClusterError>>,
    task: JoinHandle<()>,
}

impl ChangeFeed {
    /// The next change; `Some(Err(..))` ends the feed ([`ClusterError::Trimmed`]: resync
    /// from [`Cluster::list`]; [`ClusterError::Malformed`]: the stream holds foreign data).
    /// `None` after that.
    pub async fn next(&mut self) -> Option<Result<Change, ClusterError>> {
        self.receiver.recv().await
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Cluster {
    /// The id of the newest change (0 before the first one).
    pub async fn last_change(&self) -> Result<ChangeId, ClusterError> {
        let seq: Option<u64> = redis::cmd("GET")
            .arg(self.inner.keys.change_seq())
            .query_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis("read the last change id", source))?;
        Ok(ChangeId(seq.unwrap_or(0)))
    }

    /// Subscribes to changes after `from` (`None`: after the newest change now). A node
    /// that was away passes the id of the last change it applied and catches up.
    pub async fn subscribe(&self, from: Option<ChangeId>) -> Result<ChangeFeed, ClusterError> {
        let after = match from {
            Some(id) => id,
            None => self.last_change().await?,
        };
        let options = &self.inner.options;
        let (sender, receiver) = mpsc::channel(options.feed_capacity.max(1));
        let reader = Reader {
            client: self.inner.client.clone(),
            keys: self.inner.keys.clone(),
            options: options.clone(),
            after,
            sender,
        };
        let task = tokio::spawn(reader.run());
        Ok(ChangeFeed { receiver, task })
    }
}

/// Why the reader stopped reading on its current connection.
enum Stop {
    /// The receiver is gone or the feed ended with an error it has delivered.
    Finished,
    /// Redis failed; reconnect and continue.
    Reconnect(redis::RedisError),
}

struct Reader {
    client: redis::Client,
    keys: Keys,
    options: ClusterOptions,
    /// The last change delivered (or the starting point).
    after: ChangeId,
    sender: mpsc::Sender<Result<Change, ClusterError>>,
}

impl Reader {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.options.connect_timeout))
                .set_response_timeout(Some(self.options.feed_block + self.options.command_timeout));
            let error = match self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(connection) => match self.read(connection).await {
                    Stop::Finished => return,
                    Stop::Reconnect(error) => {
                        backoff = Duration::from_millis(50);
                        error
                    }
                },
                Err(error) => error,
            };
            tracing::debug!("change feed lost Redis ({error}); reconnecting in {backoff:?}");
            if self.sender.is_closed() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    async fn read(&mut self, mut connection: MultiplexedConnection) -> Stop {
        // History lost (Redis restarted without its data): the counter went backwards.
        let seq: Option<u64> = match redis::cmd("GET")
            .arg(self.keys.change_seq())
            .query_async(&mut connection)
            .await
        {
            Ok(seq) => seq,
            Err(error) => return Stop::Reconnect(error),
        };
        if seq.unwrap_or(0) < self.after.0 {
            return self.fail(self.trimmed(ChangeId(0))).await;
        }
        let block_ms = u64::try_from(self.options.feed_block.as_millis()).unwrap_or(u64::MAX);
        let stream = self.keys.changes();
        loop {
            let reply: Value = match redis::cmd("XREAD")
                .arg("COUNT")
                .arg(self.options.feed_batch.max(1))
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(&stream)
                .arg(format!("{}-0", self.after.0))
                .query_async(&mut connection)
                .await
            {
                Ok(reply) => reply,
                Err(error) => return Stop::Reconnect(error),
            };
            let entries = match stream_entries(reply) {
                Ok(entries) => entries,
                Err(detail) => return self.fail(ClusterError::malformed(&stream, detail)).await,
            };
            if entries.is_empty() && self.sender.is_closed() {
                return Stop::Finished;
            }
            for (entry_id, fields) in entries {
                let change = match parse_change(&entry_id, fields) {
                    Ok(change) => change,
                    Err(detail) => {
                        let key = format!("{stream} entry {entry_id}");
                        return self.fail(ClusterError::malformed(key, detail)).await;
                    }
                };
                if change.id.0 != self.after.0 + 1 {
                    let oldest_kept = ChangeId(change.id.0.saturating_sub(1));
                    return self.fail(self.trimmed(oldest_kept)).await;
                }
                let id = change.id;
                if self.sender.send(Ok(change)).await.is_err() {
                    return Stop::Finished;
                }
                self.after = id;
            }
        }
    }

    fn trimmed(&self, oldest_kept: ChangeId) -> ClusterError {
        ClusterError::Trimmed {
            after: self.after,
            oldest_kept,
        }
    }

    async fn fail(&self, error: ClusterError) -> Stop {
        // Whether or not the receiver still listens, the feed is over.
        let _ = self.sender.send(Err(error)).await;
        Stop::Finished
    }
}

type Fields = Vec<(String, Vec<u8>)>;

/// `XREAD` reply (RESP2): nil, or `[[stream, [[id, [field, value, ...]], ...]]]`.
fn stream_entries(reply: Value) -> Result<Vec<(String, Fields)>, String> {
    let streams = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(streams) => streams,
        other => return Err(format!("XREAD replied {other:?}")),
    };
    let mut entries = Vec::new();
    for stream in streams {
        let Value::Array(mut pair) = stream else {
            return Err("XREAD stream is not a [name, entries] pair".to_owned());
        };
        let Some(Value::Array(items)) = pair.pop() else {
            return Err("XREAD stream has no entry list".to_owned());
        };
        for item in items {
            let Value::Array(mut parts) = item else {
                return Err("stream entry is not an [id, fields] pair".to_owned());
            };
            let (Some(Value::Array(flat)), Some(id)) = (parts.pop(), parts.pop()) else {
                return Err("stream entry is not an [id, fields] pair".to_owned());
            };
            let id = text(id).ok_or("stream entry id is not text")?;
            let mut fields = Vec::with_capacity(flat.len() / 2);
            let mut flat = flat.into_iter();
            while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
                let name = text(name).ok_or("stream field name is not text")?;
                let Value::BulkString(value) = value else {
                    return Err(format!("stream field {name} is not a string"));
                };
                fields.push((name, value));
            }
            entries.push((id, fields));
        }
    }
    Ok(entries)
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        _ => None,
    }
}

fn parse_change(entry_id: &str, fields: Fields) -> Result<Change, String> {
    let seq = entry_id
        .strip_suffix("-0")
        .and_then(|seq| seq.parse::<u64>().ok())
        .ok_or("entry id is not SEQ-0")?;
    let (mut op, mut kind, mut id, mut version, mut node, mut data) =
        (None, None, None, None, None, None);
    for (name, value) in fields {
        let slot = match name.as_str() {
            "op" => &mut op,
            "kind" => &mut kind,
            "id" => &mut id,
            "v" => &mut version,
            "node" => &mut node,
            "data" => &mut data,
            _ => continue,
        };
        *slot = Some(value);
    }
    let utf8 = |field: Option<Vec<u8>>, name: &str| {
        field
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(format!("field {name} is missing or not UTF-8"))
    };
    let version = utf8(version, "v")?
        .parse::<u64>()
        .map_err(|_| "field v is not a version".to_owned())?;
    let op = match (utf8(op, "op")?.as_str(), data) {
        ("put", Some(bytes)) => ChangeOp::Put(bytes),
        ("del", _) => ChangeOp::Delete,
        (other, _) => return Err(format!("op {other:?} is not put (with data) or del")),
    };
    Ok(Change {
        id: ChangeId(seq),
        kind: utf8(kind, "kind")?,
        entity_id: utf8(id, "id")?,
        version,
        node: utf8(node, "node")?,
        op,
    })
}
