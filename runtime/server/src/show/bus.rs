//! The event bus of a served show: one typed, bounded broadcast of [`ShowEvent`]s
//! (layer and scene changes, swaps, faults and quarantines, takes, output and input
//! status, stats every second) that the WebSocket, persistence and metrics read.
//! Every message carries a sequence number so a reader that fell behind knows how
//! many it missed. Publishing never blocks: a reader that lags loses the oldest
//! messages (and is told how many), it is never buffered without bound.
//!
//! Must not: hold show state, or block the frame thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

/// Messages a reader may fall behind by before it loses the oldest.
pub const BUS_CAPACITY: usize = 1024;

/// What changed about a layer or scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Updated,
    Props,
    Removed,
}

/// Something that happened in the show.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ShowEvent {
    LayerChanged { layer: String, scene: String, change: Change },
    SceneChanged { scene: String, change: Change },
    /// An event was sent to a layer.
    LayerEvent { layer: String, name: String },
    /// Program, preview or a running transition changed.
    ProgramChanged { program: String, preview: Option<String>, incoming: Option<String> },
    ModuleSwapped { layer: String, from: String, to: String, swap_ms: f64, state_carried: bool, frame: u64 },
    SwapFailed { layer: String, module: String, reason: String },
    /// A layer's module faulted; its last good picture stays on screen.
    ModuleFault { layer: String, module: String, call: String, reason: String },
    /// The layer faulted too often and stays off until released or swapped.
    Quarantined { layer: String, module: String, reason: String },
    /// A layer's quarantine was lifted.
    Released { layer: String },
    Output { id: String, message: String },
    /// The encoder stopped (the stream went off and no recording runs): what it took in
    /// and what it had to drop because it fell behind.
    EncoderStopped { frames_queued: u64, frames_encoded: u64, frames_dropped: u64 },
    Input { name: String, message: String },
    /// Anything else the engine reports (cues, respawned workers), as text.
    Engine { message: String },
    /// Once a second while the show runs.
    Stats(ShowStats),
    /// The config file changed and was read: the settings `applied` took effect at
    /// once; those in `needs_restart` wait for the next start.
    ConfigReloaded { applied: Vec<String>, needs_restart: Vec<String> },
    /// The config file changed but cannot be used; the settings in force stay.
    ConfigRejected { reason: String },
    /// This node's link to the cluster's Redis went down or came back (or it resynced).
    ClusterStatus { up: bool, message: String },
    /// A frame took more than 75 % of the frame interval, or frames were late or
    /// dropped in the last second (see `show::alerts`).
    PerformanceWarning { kind: super::alerts::WarningKind, message: String, frame_ms_max: f64, budget_ms: f64, frames_late: u64, frames_dropped: u64 },
}

/// Frame-loop counters, published once a second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct ShowStats {
    /// Index of the last frame slot.
    pub frame: u64,
    pub frames_rendered: u64,
    /// Slots rendering missed (repeated or skipped).
    pub frames_late: u64,
    /// Frames the encoder dropped (0 while nothing is encoding).
    pub frames_dropped: u64,
    /// Mean and worst time to make one frame over the last second, in milliseconds.
    pub frame_ms_mean: f64,
    pub frame_ms_max: f64,
    /// The frame interval, in milliseconds.
    pub budget_ms: f64,
    pub layers: usize,
    /// Whether the encoder runs (an output or recording is on).
    pub encoding: bool,
    /// The whole process's CPU use over the last second, in percent of one core.
    pub cpu_percent: f64,
    /// The process's resident memory.
    pub rss_bytes: u64,
}

/// One message on the bus.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BusMessage {
    /// Goes up by one per message, from 1.
    pub seq: u64,
    /// Wall-clock time, milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub event: ShowEvent,
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<BusMessage>>,
    seq: Arc<AtomicU64>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new(BUS_CAPACITY)
    }
}

impl EventBus {
    pub fn new(capacity: usize) -> EventBus {
        let (sender, _) = broadcast::channel(capacity.max(1));
        EventBus { sender, seq: Arc::new(AtomicU64::new(0)) }
    }

    /// Sends `event` to every current reader; returns its sequence number.
    pub fn publish(&self, event: ShowEvent) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        // No reader is not an error: events are for whoever listens.
        let _ = self.sender.send(Arc::new(BusMessage { seq, at_ms, event }));
        seq
    }

    /// A new reader that sees every message published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusMessage>> {
        self.sender.subscribe()
    }

    /// Sequence number of the last message published (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_lagging_reader_loses_the_oldest_and_is_told_how_many() {
        let bus = EventBus::new(4);
        let mut reader = bus.subscribe();
        for n in 0..10 {
            bus.publish(ShowEvent::Engine { message: format!("{n}") });
        }
        match reader.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(missed)) => assert_eq!(missed, 6),
            other => panic!("expected a lag report, got {other:?}"),
        }
        let next = reader.try_recv().unwrap();
        assert_eq!(next.seq, 7);
        assert_eq!(bus.last_seq(), 10);
    }

    #[test]
    fn events_serialize_with_a_type_tag() {
        let json = serde_json::to_value(ShowEvent::LayerChanged { layer: "score".into(), scene: "main".into(), change: Change::Props }).unwrap();
        assert_eq!(json, serde_json::json!({"type": "layer_changed", "layer": "score", "scene": "main", "change": "props"}));
    }
}
