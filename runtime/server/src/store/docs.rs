//! Versioned JSON documents (scenes, layers, outputs, inputs, guest state), one redb
//! table per [`DocKind`]. It must not look inside the JSON: the API and engine give it
//! meaning.

use redb::{ReadableTable as _, WriteTransaction};
use serde_json::Value;

use super::{DocKind, DocOp, Store, StoreError, validate_id};

impl Store {
    /// Writes `doc` under (`kind`, `id`) and returns its new version (1 for a new id).
    /// Durable when it returns `Ok`.
    pub fn put_doc(&self, kind: DocKind, id: &str, doc: &Value) -> Result<u64, StoreError> {
        validate_id(id)?;
        let text = encode(kind, id, doc)?;
        let txn = self.begin_write()?;
        let version = self.put_in(&txn, kind, id, &text)?;
        self.commit(txn)?;
        Ok(version)
    }

    /// The current version and content of (`kind`, `id`), if stored.
    pub fn doc(&self, kind: DocKind, id: &str) -> Result<Option<(u64, Value)>, StoreError> {
        validate_id(id)?;
        let txn = self.begin_read()?;
        let table = txn
            .open_table(kind.table())
            .map_err(|e| self.err("opening documents", e))?;
        let found = table
            .get(id)
            .map_err(|e| self.err("reading a document", e))?;
        match found {
            None => Ok(None),
            Some(guard) => {
                let (version, text) = guard.value();
                Ok(Some((version, self.decode(kind, id, text)?)))
            }
        }
    }

    /// Every document of `kind` as (id, version, content), sorted by id.
    pub fn docs(&self, kind: DocKind) -> Result<Vec<(String, u64, Value)>, StoreError> {
        let txn = self.begin_read()?;
        let table = txn
            .open_table(kind.table())
            .map_err(|e| self.err("opening documents", e))?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| self.err("listing documents", e))? {
            let (key, value) = entry.map_err(|e| self.err("listing documents", e))?;
            let id = key.value();
            let (version, text) = value.value();
            out.push((id.to_string(), version, self.decode(kind, id, text)?));
        }
        Ok(out)
    }

    /// Removes (`kind`, `id`); `false` when it was not stored. Durable when it returns `Ok`.
    pub fn delete_doc(&self, kind: DocKind, id: &str) -> Result<bool, StoreError> {
        validate_id(id)?;
        let txn = self.begin_write()?;
        let existed = self.delete_in(&txn, kind, id)?;
        self.commit(txn)?;
        Ok(existed)
    }

    /// Applies `ops` in order in one durable transaction: all of them or none. Every id is
    /// checked before anything is written.
    pub fn batch(&self, ops: &[DocOp]) -> Result<(), StoreError> {
        let prepared = ops.iter().map(prepare).collect::<Result<Vec<_>, _>>()?;
        let txn = self.begin_write()?;
        for op in &prepared {
            match op {
                PreparedOp::Put(kind, id, text) => {
                    self.put_in(&txn, *kind, id, text)?;
                }
                PreparedOp::Delete(kind, id) => {
                    self.delete_in(&txn, *kind, id)?;
                }
            }
        }
        self.commit(txn)
    }

    fn put_in(
        &self,
        txn: &WriteTransaction,
        kind: DocKind,
        id: &str,
        text: &str,
    ) -> Result<u64, StoreError> {
        let mut table = txn
            .open_table(kind.table())
            .map_err(|e| self.err("opening documents", e))?;
        let previous = table
            .get(id)
            .map_err(|e| self.err("reading a document", e))?
            .map(|guard| guard.value().0)
            .unwrap_or(0);
        let version = previous.saturating_add(1);
        table
            .insert(id, (version, text))
            .map_err(|e| self.err("writing a document", e))?;
        Ok(version)
    }

    fn delete_in(
        &self,
        txn: &WriteTransaction,
        kind: DocKind,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut table = txn
            .open_table(kind.table())
            .map_err(|e| self.err("opening documents", e))?;
        let removed = table
            .remove(id)
            .map_err(|e| self.err("deleting a document", e))?;
        Ok(removed.is_some())
    }

    fn decode(&self, kind: DocKind, id: &str, text: &str) -> Result<Value, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Decode {
            path: self.path.clone(),
            what: format!("{kind:?} document {id:?}"),
            detail: e.to_string(),
        })
    }
}

fn encode(kind: DocKind, id: &str, doc: &Value) -> Result<String, StoreError> {
    serde_json::to_string(doc).map_err(|e| StoreError::Encode {
        what: format!("{kind:?} document {id:?}"),
        detail: e.to_string(),
    })
}

/// A batch step whose id is checked and whose document is already encoded.
enum PreparedOp<'a> {
    Put(DocKind, &'a str, String),
    Delete(DocKind, &'a str),
}

fn prepare(op: &DocOp) -> Result<PreparedOp<'_>, StoreError> {
    match op {
        DocOp::Put(kind, id, doc) => {
            validate_id(id)?;
            Ok(PreparedOp::Put(*kind, id, encode(*kind, id, doc)?))
        }
        DocOp::Delete(kind, id) => {
            validate_id(id)?;
            Ok(PreparedOp::Delete(*kind, id))
        }
    }
}
