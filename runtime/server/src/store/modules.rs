//! Module storage: bytes keyed by their blake3 hash in `module_bytes`, records in
//! `module_records`. It must not interpret the bytes (compiling and validating Wasm is
//! the wasm crate's job).

use redb::{ReadableTable as _, TableDefinition};

use super::{MODULE_BYTES, MODULE_RECORDS, ModuleRecord, Store, StoreError};

impl Store {
    /// Stores `bytes` under their hash, with `record`. Idempotent: when the hash is already
    /// stored, the existing record and bytes are kept unchanged. Refuses a record whose hash
    /// or size does not match `bytes`. Durable when it returns `Ok`.
    pub fn put_module(&self, record: &ModuleRecord, bytes: &[u8]) -> Result<(), StoreError> {
        let actual = Store::module_hash(bytes);
        if record.hash != actual {
            return Err(StoreError::HashMismatch {
                claimed: record.hash.clone(),
                actual,
            });
        }
        let actual_size = bytes.len() as u64;
        if record.size != actual_size {
            return Err(StoreError::SizeMismatch {
                claimed: record.size,
                actual: actual_size,
            });
        }
        let encoded = serde_json::to_vec(record).map_err(|e| StoreError::Encode {
            what: format!("module record {actual}"),
            detail: e.to_string(),
        })?;
        let txn = self.begin_write()?;
        {
            let mut records = txn
                .open_table(MODULE_RECORDS)
                .map_err(|e| self.err("opening module records", e))?;
            let exists = records
                .get(actual.as_str())
                .map_err(|e| self.err("reading a module record", e))?
                .is_some();
            if exists {
                return Ok(());
            }
            records
                .insert(actual.as_str(), encoded.as_slice())
                .map_err(|e| self.err("writing a module record", e))?;
            let mut blobs = txn
                .open_table(MODULE_BYTES)
                .map_err(|e| self.err("opening module bytes", e))?;
            blobs
                .insert(actual.as_str(), bytes)
                .map_err(|e| self.err("writing module bytes", e))?;
        }
        self.commit(txn)
    }

    /// The record stored under `hash`, if any.
    pub fn module(&self, hash: &str) -> Result<Option<ModuleRecord>, StoreError> {
        let txn = self.begin_read()?;
        let records = txn
            .open_table(MODULE_RECORDS)
            .map_err(|e| self.err("opening module records", e))?;
        let found = records
            .get(hash)
            .map_err(|e| self.err("reading a module record", e))?;
        found
            .map(|guard| self.decode_record(hash, guard.value()))
            .transpose()
    }

    /// The bytes stored under `hash`, if any.
    pub fn module_bytes(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_blob(MODULE_BYTES, hash)
    }

    /// Every module record, oldest upload first (ties by hash).
    pub fn modules(&self) -> Result<Vec<ModuleRecord>, StoreError> {
        let txn = self.begin_read()?;
        let records = txn
            .open_table(MODULE_RECORDS)
            .map_err(|e| self.err("opening module records", e))?;
        let mut out = Vec::new();
        for entry in records.iter().map_err(|e| self.err("listing modules", e))? {
            let (key, value) = entry.map_err(|e| self.err("listing modules", e))?;
            out.push(self.decode_record(key.value(), value.value())?);
        }
        out.sort_by(|a, b| {
            a.uploaded_at_ms
                .cmp(&b.uploaded_at_ms)
                .then_with(|| a.hash.cmp(&b.hash))
        });
        Ok(out)
    }

    /// Removes the record and bytes stored under `hash`; `false` when there was none.
    pub fn delete_module(&self, hash: &str) -> Result<bool, StoreError> {
        let txn = self.begin_write()?;
        let existed = {
            let mut records = txn
                .open_table(MODULE_RECORDS)
                .map_err(|e| self.err("opening module records", e))?;
            let had_record = records
                .remove(hash)
                .map_err(|e| self.err("deleting a module record", e))?
                .is_some();
            let mut blobs = txn
                .open_table(MODULE_BYTES)
                .map_err(|e| self.err("opening module bytes", e))?;
            let had_bytes = blobs
                .remove(hash)
                .map_err(|e| self.err("deleting module bytes", e))?
                .is_some();
            had_record || had_bytes
        };
        self.commit(txn)?;
        Ok(existed)
    }

    fn read_blob(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.begin_read()?;
        let blobs = txn
            .open_table(table)
            .map_err(|e| self.err("opening module bytes", e))?;
        let found = blobs
            .get(key)
            .map_err(|e| self.err("reading module bytes", e))?;
        Ok(found.map(|guard| guard.value().to_vec()))
    }

    fn decode_record(&self, hash: &str, json: &[u8]) -> Result<ModuleRecord, StoreError> {
        serde_json::from_slice(json).map_err(|e| StoreError::Decode {
            path: self.path.clone(),
            what: format!("module record {hash}"),
            detail: e.to_string(),
        })
    }
}
