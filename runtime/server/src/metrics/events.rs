//! The metrics' reader of the show's event bus: a thread of its own that turns faults,
//! quarantines, swaps and encoder drops into counters. It ends when the bus closes
//! (every sender dropped).
//!
//! Must not: hold a sender of the bus (the thread would keep itself alive), or keep
//! more than [`MAX_LAYER_SERIES`] label pairs.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use super::{MAX_LAYER_SERIES, Metrics, MetricsError};
use crate::show::{EventBus, ShowEvent};

/// What the reader remembers between events.
#[derive(Default)]
struct ReaderState {
    /// `(layer, module)` pairs given series of their own.
    layer_series: HashSet<(String, String)>,
    /// Drops the running encoder had reported at the last `Stats`.
    encoder_dropped: u64,
}

impl ReaderState {
    /// The label pair for `layer` and `module`, `("other", "other")` once the cap is reached.
    fn labels<'a>(&mut self, layer: &'a str, module: &'a str) -> [&'a str; 2] {
        let key = (layer.to_string(), module.to_string());
        if self.layer_series.contains(&key) || self.layer_series.len() < MAX_LAYER_SERIES && self.layer_series.insert(key) {
            [layer, module]
        } else {
            ["other", "other"]
        }
    }

    /// New encoder drops to count, from a per-encoder running total.
    fn dropped_since(&mut self, total: u64) -> u64 {
        // A smaller total is a new encoder, counting from 0.
        let new = if total < self.encoder_dropped { total } else { total - self.encoder_dropped };
        self.encoder_dropped = total;
        new
    }
}

impl Metrics {
    /// Starts the thread that counts what `bus` carries from now on.
    pub fn listen(self: &Arc<Self>, bus: &EventBus) -> Result<(), MetricsError> {
        let mut events = bus.subscribe();
        let metrics = self.clone();
        std::thread::Builder::new()
            .name("show-metrics".into())
            .spawn(move || {
                let mut state = ReaderState::default();
                loop {
                    match events.blocking_recv() {
                        Ok(message) => metrics.count_event(&message.event, &mut state),
                        Err(RecvError::Lagged(missed)) => metrics.events_missed.inc_by(missed),
                        Err(RecvError::Closed) => return,
                    }
                }
            })
            .map_err(MetricsError::Thread)?;
        Ok(())
    }

    fn count_event(&self, event: &ShowEvent, state: &mut ReaderState) {
        match event {
            ShowEvent::ModuleFault { layer, module, .. } => self.layer_faults.with_label_values(&state.labels(layer, module)).inc(),
            ShowEvent::Quarantined { layer, module, .. } => self.layer_quarantines.with_label_values(&state.labels(layer, module)).inc(),
            ShowEvent::ModuleSwapped { swap_ms, .. } => {
                self.swaps.inc();
                self.swap_seconds.observe(swap_ms / 1000.0);
            }
            ShowEvent::SwapFailed { .. } => self.swap_failures.inc(),
            ShowEvent::PerformanceWarning { kind, .. } => self.performance_warnings.with_label_values(&[kind.name()]).inc(),
            ShowEvent::Stats(stats) if stats.encoding => self.encoder_dropped.inc_by(state.dropped_since(stats.frames_dropped)),
            ShowEvent::Stats(_) => state.encoder_dropped = 0,
            ShowEvent::EncoderStopped { frames_dropped, .. } => {
                self.encoder_dropped.inc_by(frames_dropped.saturating_sub(state.encoder_dropped));
                state.encoder_dropped = 0;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_drops_count_across_encoder_restarts() {
        let mut state = ReaderState::default();
        assert_eq!([3, 5, 5, 2, 4].map(|total| state.dropped_since(total)), [3, 2, 0, 2, 2]);
    }

    #[test]
    fn layer_label_pairs_stop_at_the_cap() {
        let mut state = ReaderState::default();
        let names: Vec<String> = (0..=MAX_LAYER_SERIES).map(|n| format!("layer-{n}")).collect();
        let kept = names.iter().filter(|name| state.labels(name, "m") == [name.as_str(), "m"]).count();
        assert_eq!(kept, MAX_LAYER_SERIES);
        assert_eq!(state.labels(&names[0], "m"), [names[0].as_str(), "m"], "a known pair keeps its labels");
        assert_eq!(state.labels("late", "m"), ["other", "other"]);
    }
}
