//! The embedded show database: one redb file, `<data_dir>/show.redb`, owned by one
//! showrunner process at a time (a second open fails with [`StoreError::InUse`]).
//!
//! What is stored where:
//! - `module_bytes`: blake3 hex → the module's bytes (content-addressed, stored once).
//! - `module_records`: blake3 hex → [`ModuleRecord`] as JSON (name, version, size, upload time).
//! - `doc.scene`, `doc.layer`, `doc.output`, `doc.input`, `doc.guest_state`: id →
//!   (version, JSON text), one table per [`DocKind`]. Versions start at 1 and go up by one on
//!   every put; a deleted id starts again at 1.
//!
//! Durability promise: every write method commits with redb's `Durability::Immediate`
//! (fsync) before it returns `Ok`, so anything acknowledged survives a crash or `kill -9`.
//! A [`Store::batch`] is one transaction: all of it lands or none of it does.
//!
//! This module owns persistence only. It must not know HTTP, the engine or the show
//! semantics (which layer belongs to which scene): documents are opaque JSON here.

mod docs;
mod error;
mod modules;

use std::path::{Path, PathBuf};

use redb::{Database, Durability, TableDefinition, WriteTransaction};

pub use error::StoreError;
use error::from_redb;

/// The database file name inside the data directory.
pub const DB_FILE_NAME: &str = "show.redb";

/// Longest id accepted for a document.
pub const MAX_ID_LEN: usize = 128;

/// redb's page cache; the show database is small, so this bounds memory, not speed.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

const MODULE_BYTES: TableDefinition<&str, &[u8]> = TableDefinition::new("module_bytes");
const MODULE_RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("module_records");

/// What the store knows about an uploaded Wasm module; the bytes live separately.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModuleRecord {
    /// blake3 hex of the bytes ([`Store::module_hash`]).
    pub hash: String,
    pub size: u64,
    pub name: String,
    pub version: String,
    pub uploaded_at_ms: u64,
}

/// The kinds of JSON documents the store keeps, each in its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Scene,
    Layer,
    Output,
    Input,
    GuestState,
    /// Show-wide settings: the program and preview scenes, whether outputs are on.
    Show,
}

impl DocKind {
    pub const ALL: [DocKind; 6] = [
        DocKind::Scene,
        DocKind::Layer,
        DocKind::Output,
        DocKind::Input,
        DocKind::GuestState,
        DocKind::Show,
    ];

    fn table(self) -> TableDefinition<'static, &'static str, (u64, &'static str)> {
        TableDefinition::new(match self {
            DocKind::Scene => "doc.scene",
            DocKind::Layer => "doc.layer",
            DocKind::Output => "doc.output",
            DocKind::Input => "doc.input",
            DocKind::GuestState => "doc.guest_state",
            DocKind::Show => "doc.show",
        })
    }
}

/// One step of a [`Store::batch`].
#[derive(Debug, Clone, PartialEq)]
pub enum DocOp {
    Put(DocKind, String, serde_json::Value),
    Delete(DocKind, String),
}

/// The show database. `Send + Sync`; share it in an `Arc`. Writes are serialized by redb,
/// reads run concurrently on snapshots.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) `data_dir` and `data_dir/show.redb`, checking the file's
    /// integrity. Fails with [`StoreError::InUse`] while another process (or another `Store`
    /// in this process) has it open.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE_NAME);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .set_check_integrity_on_open(true)
            .create(&path)
            .map_err(|e| from_redb(&path, "opening the database", e))?;
        let store = Store { db, path };
        store.create_tables()?;
        Ok(store)
    }

    /// The database file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// blake3 hex of `bytes`: a module's identity.
    pub fn module_hash(bytes: &[u8]) -> String {
        blake3::hash(bytes).to_hex().to_string()
    }

    fn create_tables(&self) -> Result<(), StoreError> {
        let txn = self.begin_write()?;
        txn.open_table(MODULE_BYTES)
            .map_err(|e| self.err("creating tables", e))?;
        txn.open_table(MODULE_RECORDS)
            .map_err(|e| self.err("creating tables", e))?;
        for kind in DocKind::ALL {
            txn.open_table(kind.table())
                .map_err(|e| self.err("creating tables", e))?;
        }
        self.commit(txn)
    }

    /// A write transaction that will fsync on commit.
    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let mut txn = self
            .db
            .begin_write()
            .map_err(|e| self.err("starting a write", e))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| self.err("requesting a durable commit", e))?;
        Ok(txn)
    }

    fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        use redb::ReadableDatabase as _;
        self.db
            .begin_read()
            .map_err(|e| self.err("starting a read", e))
    }

    fn commit(&self, txn: WriteTransaction) -> Result<(), StoreError> {
        txn.commit().map_err(|e| self.err("committing", e))
    }

    fn err(&self, action: &'static str, e: impl Into<redb::Error>) -> StoreError {
        from_redb(&self.path, action, e)
    }
}

/// Checks that `id` is 1..=128 bytes of `[A-Za-z0-9_.-]`.
pub fn validate_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidId {
            id: id.chars().take(MAX_ID_LEN + 16).collect(),
        })
    }
}
