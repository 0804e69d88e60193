//! One line of text per output event (state changes with the error and the retry,
//! reconnects, bitrate steps), shared by `showrunner live`'s console and the bus.
//!
//! Must not: print; callers decide where the line goes.

use showrunner_media::{OutputEvent, OutputState};

/// The output an event is about (`None`: the encoder, for every output).
pub fn output_event_id(event: &OutputEvent) -> Option<&str> {
    match event {
        OutputEvent::StateChanged { id, .. } | OutputEvent::Reconnected { id, .. } => Some(id),
        OutputEvent::QualityChanged(_) => None,
    }
}

/// "output rtmp (rtmp://host/app/****): connection refused; retry 2 in 1s".
pub fn output_event_line(event: &OutputEvent, target: Option<&str>) -> String {
    let target = target.map(|t| format!(" ({t})")).unwrap_or_default();
    match event {
        OutputEvent::StateChanged { id, state: OutputState::Retrying { attempt, last_error, retry_in } } => {
            format!("output {id}{target}: {last_error}; retry {attempt} in {}", humantime::format_duration(*retry_in))
        }
        OutputEvent::StateChanged { id, state: OutputState::Failed { error } } => format!("output {id}{target}: failed: {error}"),
        OutputEvent::StateChanged { id, state } => format!("output {id}{target}: {}", state.name()),
        OutputEvent::Reconnected { id, reconnects } => format!("output {id}{target}: reconnected ({reconnects} so far)"),
        OutputEvent::QualityChanged(change) => {
            format!("encoder: video bitrate {} → {} kbit/s ({})", change.from_kbps, change.to_kbps, change.reason)
        }
    }
}
