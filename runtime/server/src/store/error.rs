//! What can go wrong in the show database, and how redb's errors map onto it. It owns
//! the messages a user sees about the data directory; it must not decide HTTP status
//! codes (that is the API's job).

use std::path::{Path, PathBuf};

/// A failed store operation. Every variant that touches the disk names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the data directory {path}: {source}; check that its parent exists and is writable"
    )]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "{path} is already in use by another showrunner (or another open of the same data directory); stop it or choose a different data directory"
    )]
    InUse { path: PathBuf },

    #[error("{path} is corrupt ({detail}); move it aside and restore a backup")]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "{path} was written in an unsupported database format (version {format}); open it with the showrunner that wrote it"
    )]
    UnsupportedFormat { path: PathBuf, format: u8 },

    #[error("I/O error on {path} while {action}: {source}; check disk space and permissions")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },

    #[error("{path}: {action} failed: {detail}")]
    Database {
        path: PathBuf,
        action: &'static str,
        detail: String,
    },

    #[error("{what} is too large for the store ({size} bytes)")]
    TooLarge { what: String, size: usize },

    #[error("invalid id {id:?}: an id is 1 to 128 characters of A-Z, a-z, 0-9, '_', '.' or '-'")]
    InvalidId { id: String },

    #[error(
        "module record says hash {claimed} but the bytes hash to {actual}; send the blake3 hex of the exact bytes"
    )]
    HashMismatch { claimed: String, actual: String },

    #[error("module record says {claimed} bytes but {actual} bytes were given")]
    SizeMismatch { claimed: u64, actual: u64 },

    #[error(
        "{path}: the stored {what} cannot be decoded ({detail}); the file is damaged or was written by an incompatible showrunner"
    )]
    Decode {
        path: PathBuf,
        what: String,
        detail: String,
    },

    #[error("cannot encode {what}: {detail}")]
    Encode { what: String, detail: String },
}

/// Turns any redb error into a [`StoreError`] that names the file and what was being done.
pub(crate) fn from_redb(
    path: &Path,
    action: &'static str,
    err: impl Into<redb::Error>,
) -> StoreError {
    let path = path.to_path_buf();
    match err.into() {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            StoreError::InUse { path }
        }
        redb::Error::Corrupted(detail) => StoreError::Corrupt { path, detail },
        redb::Error::UpgradeRequired(format) => StoreError::UnsupportedFormat { path, format },
        // redb reports a file that is not a redb database (bad magic) as InvalidData.
        redb::Error::Io(source) if source.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::Corrupt {
                path,
                detail: source.to_string(),
            }
        }
        redb::Error::Io(source) => StoreError::Io {
            path,
            action,
            source,
        },
        redb::Error::ValueTooLarge(size) => StoreError::TooLarge {
            what: "a value".to_string(),
            size,
        },
        other => StoreError::Database {
            path,
            action,
            detail: other.to_string(),
        },
    }
}
