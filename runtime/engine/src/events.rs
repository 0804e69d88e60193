//! [`EngineEvent`]: what happened while the show ran, for the operator and the
//! WebSocket: faults, quarantines, takes, respawned workers, cues. Kept in a
//! bounded queue the caller drains; when it is full the oldest event goes and is
//! counted.
//!
//! Must not: block the frame loop or grow without bound.

use std::collections::VecDeque;
use std::time::Duration;

use showrunner_wasm::Fault;

use crate::pool::PoolEvent;

#[derive(Clone, Debug, PartialEq)]
pub enum EngineEvent {
    /// A layer's module faulted this frame; its last good list stays on screen.
    LayerFault { layer: String, fault: Fault },
    /// The layer faulted too often and stays off until released or swapped.
    Quarantined { layer: String, fault: Fault },
    /// The program scene changed without a transition (from the next frame on).
    Cut { from: String, to: String },
    TransitionStarted { from: String, to: String, module: String, frames: u64 },
    /// `fault`: the transition faulted and the take finished as a cut.
    /// `interrupted`: a new take finished it early.
    TransitionFinished { to: String, fault: Option<Fault>, interrupted: bool },
    WorkerRespawned { worker: usize, reason: String, layers: Vec<String>, failed: Vec<(String, String)> },
    /// A pool task panicked inside its guard (a host bug); the worker lives on.
    TaskPanicked { worker: usize, layer: Option<String>, message: String },
    CueFired { at: Duration, frame: u64, cue: String },
    CueFailed { at: Duration, frame: u64, cue: String, error: String },
}

impl From<PoolEvent> for EngineEvent {
    fn from(event: PoolEvent) -> Self {
        match event {
            PoolEvent::WorkerRespawned { worker, reason, layers, failed } => EngineEvent::WorkerRespawned { worker, reason, layers, failed },
            PoolEvent::TaskPanicked { worker, layer, message } => EngineEvent::TaskPanicked { worker, layer, message },
        }
    }
}

/// A bounded FIFO of events.
#[derive(Debug)]
pub(crate) struct EventQueue {
    events: VecDeque<EngineEvent>,
    capacity: usize,
    pub dropped: u64,
}

impl EventQueue {
    pub fn new(capacity: usize) -> EventQueue {
        EventQueue { events: VecDeque::new(), capacity: capacity.max(1), dropped: 0 }
    }

    pub fn push(&mut self, event: EngineEvent) {
        if self.events.len() >= self.capacity {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    pub fn drain(&mut self) -> Vec<EngineEvent> {
        self.events.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts() {
        let mut q = EventQueue::new(2);
        for to in ["b", "c", "d"] {
            q.push(EngineEvent::Cut { from: "a".into(), to: to.into() });
        }
        assert_eq!(q.dropped, 1);
        let targets: Vec<_> = q.drain().into_iter().map(|e| if let EngineEvent::Cut { to, .. } = e { to } else { String::new() }).collect();
        assert_eq!(targets, ["c", "d"]);
    }
}
