//! Typed guest faults: which module, on which layer, in which call, and what budget
//! or rule it broke.

use std::time::Duration;

use showrunner_core::InvalidDrawList;

/// A module misbehaved. The instance it happened in is discarded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("module `{module}` on layer `{layer}` faulted in {call}: {kind}")]
pub struct Fault {
    /// Module name and version from `describe()` (or its hash before that).
    pub module: String,
    pub layer: String,
    /// The exported function that was running ("tick", "init", ...).
    pub call: &'static str,
    pub kind: FaultKind,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FaultKind {
    #[error("ran past its {} ms deadline", budget.as_secs_f64() * 1000.0)]
    Deadline { budget: Duration },
    #[error("hit its memory cap of {limit_bytes} bytes (tried to grow to {requested_bytes})")]
    MemoryCap { limit_bytes: usize, requested_bytes: usize },
    #[error("handed the host more than its transfer cap of {limit_bytes} bytes in one call")]
    TransferCap { limit_bytes: usize },
    #[error("trapped: {message}")]
    Trap { message: String },
    #[error("broke the core ABI: {what}")]
    MalformedOutput { what: String },
    #[error("returned an invalid draw list: {0}")]
    InvalidDrawList(InvalidDrawList),
    #[error("refused to start: {0}")]
    InitFailed(String),
    #[error("could not be instantiated: {0}")]
    Instantiate(String),
}

impl FaultKind {
    /// Stable machine name, for metrics labels and API codes.
    pub fn code(&self) -> &'static str {
        match self {
            FaultKind::Deadline { .. } => "deadline",
            FaultKind::MemoryCap { .. } => "memory-cap",
            FaultKind::TransferCap { .. } => "transfer-cap",
            FaultKind::Trap { .. } => "trap",
            FaultKind::MalformedOutput { .. } => "malformed-output",
            FaultKind::InvalidDrawList(_) => "invalid-draw-list",
            FaultKind::InitFailed(_) => "init-failed",
            FaultKind::Instantiate(_) => "instantiate",
        }
    }
}
