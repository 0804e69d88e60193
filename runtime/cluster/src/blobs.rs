//! Module blobs by content hash: any node can fetch the bytes of a module uploaded to any
//! other node. The hash is the blake3 hex of the bytes, the same identity the server's
//! store gives a module (`Store::module_hash`), checked on the way in and on the way out.
//!
//! Blobs are immutable and stored once (`SET NX`); this module must not know what a
//! module is or when a blob may be deleted.

use crate::{Cluster, ClusterError};

/// Length of a blake3 hex digest.
const HASH_HEX_LEN: usize = 64;

impl Cluster {
    /// Stores `bytes` under `hash` (blake3 hex, lowercase). `Ok(true)`: stored now;
    /// `Ok(false)`: it was already there. Refuses bytes over `max_blob_bytes` and bytes
    /// that do not hash to `hash`.
    pub async fn put_blob(&self, hash: &str, bytes: &[u8]) -> Result<bool, ClusterError> {
        check_hash(hash)?;
        let limit = self.inner.options.max_blob_bytes;
        if bytes.len() > limit {
            return Err(ClusterError::TooLarge {
                what: format!("blob {hash}"),
                size: bytes.len(),
                limit,
            });
        }
        let actual = blob_hash(bytes);
        if actual != hash {
            return Err(ClusterError::BlobHashMismatch {
                claimed: hash.to_owned(),
                actual,
            });
        }
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.inner.keys.blob(hash))
            .arg(bytes)
            .arg("NX")
            .query_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("store blob {hash}"), source))?;
        Ok(stored.is_some())
    }

    /// The bytes stored under `hash`, or `None`.
    pub async fn get_blob(&self, hash: &str) -> Result<Option<Vec<u8>>, ClusterError> {
        check_hash(hash)?;
        let key = self.inner.keys.blob(hash);
        let bytes: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("read blob {hash}"), source))?;
        match bytes {
            Some(bytes) if blob_hash(&bytes) != hash => Err(ClusterError::malformed(
                key,
                "the stored bytes do not match their hash",
            )),
            other => Ok(other),
        }
    }

    /// Whether a blob is stored under `hash`, without fetching it.
    pub async fn has_blob(&self, hash: &str) -> Result<bool, ClusterError> {
        check_hash(hash)?;
        redis::cmd("EXISTS")
            .arg(self.inner.keys.blob(hash))
            .query_async(&mut self.connection())
            .await
            .map_err(|source| ClusterError::redis(format!("look up blob {hash}"), source))
    }
}

/// blake3 hex of `bytes`: a blob's identity.
pub fn blob_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn check_hash(hash: &str) -> Result<(), ClusterError> {
    let valid = hash.len() == HASH_HEX_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if valid {
        return Ok(());
    }
    Err(ClusterError::InvalidName {
        what: "blob hash",
        value: hash.chars().take(80).collect(),
        rule: "use the 64-character lowercase blake3 hex of the bytes",
    })
}
