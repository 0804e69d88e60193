//! How the show is kept in the store: one document per scene, per layer and one for
//! the show itself (program, preview, whether outputs are on). The API writes them
//! after the frame thread accepted a change; `restore` reads them at start.
//!
//! Must not: be the API's wire format (that is `api::show_types`); these shapes only
//! have to read back what this version wrote.

use serde::{Deserialize, Serialize};
use showrunner_core::LayerSpec;

/// Id of the one show document.
pub const SHOW_DOC_ID: &str = "show";
/// The scene a new show starts with.
pub const FIRST_SCENE: &str = "main";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneDoc {
    pub name: String,
    /// Creation order (scenes come back in it).
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerDoc {
    pub scene: String,
    /// Creation order within the show (layers come back in it, which breaks z ties).
    pub seq: u64,
    /// The layer as the engine runs it; `module` is the module's content hash.
    pub layer: LayerSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShowDoc {
    pub program: String,
    pub preview: Option<String>,
    /// Whether the stream (RTMP destinations) is on.
    #[serde(default)]
    pub streaming: bool,
    /// The transition the last take used (other nodes of a cluster take with it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<TakeTransition>,
    /// The programme recording asked for (its file name in DATA_DIR/recordings/), while
    /// it should run: a restarted server, or in a cluster the node that takes its lease,
    /// records it (into the next free name when the file exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

impl ShowDoc {
    /// The show document of a new show: the first scene on program, nothing running.
    pub fn first() -> ShowDoc {
        ShowDoc { program: FIRST_SCENE.into(), preview: None, streaming: false, transition: None, recording: None }
    }
}

/// A take's transition as kept in the show document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TakeTransition {
    /// Content hash of the transition module.
    pub module: String,
    pub duration_ms: u64,
}

/// A creation sequence number: milliseconds since the Unix epoch times 1000 plus a
/// counter, so documents made in the same millisecond keep their order.
pub fn next_seq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0).saturating_mul(1000);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}
