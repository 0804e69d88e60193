//! Performance warnings: once a second, from the frame loop's stats, a warning when
//! making a frame took more than 75 % of the frame interval, or when frame slots were
//! missed (late) or frames dropped by the encoder since the last check. The warning
//! goes on the event bus (the dashboard shows it, the metrics count it).
//!
//! Must not: measure anything itself, or warn more than once per stats period.

use super::bus::{ShowEvent, ShowStats};

/// Share of the frame interval a frame may take before it is a warning.
pub const SLOW_FRAME_SHARE: f64 = 0.75;

/// What a warning is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A frame took more than [`SLOW_FRAME_SHARE`] of the interval.
    SlowFrames,
    /// Frame slots were missed (repeated with the last picture).
    LateFrames,
    /// The encoder dropped frames (it fell behind).
    DroppedFrames,
}

impl WarningKind {
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::SlowFrames => "slow_frames",
            WarningKind::LateFrames => "late_frames",
            WarningKind::DroppedFrames => "dropped_frames",
        }
    }
}

/// Remembers the counters of the last check.
#[derive(Debug, Default)]
pub struct PerformanceWatch {
    late: u64,
    dropped: u64,
}

impl PerformanceWatch {
    /// A warning for the period that `stats` closes, if it needs one (the worst kind
    /// first: dropped, then late, then slow).
    pub fn check(&mut self, stats: &ShowStats) -> Option<ShowEvent> {
        let late = stats.frames_late.saturating_sub(self.late);
        // The encoder's counter starts again at 0 when it restarts.
        let dropped = if stats.frames_dropped >= self.dropped { stats.frames_dropped - self.dropped } else { stats.frames_dropped };
        (self.late, self.dropped) = (stats.frames_late, stats.frames_dropped);
        let slow = stats.budget_ms > 0.0 && stats.frame_ms_max > SLOW_FRAME_SHARE * stats.budget_ms;
        let (kind, message) = if dropped > 0 {
            (WarningKind::DroppedFrames, format!("the encoder dropped {dropped} frame(s) in the last second: it cannot keep up (lower the bitrate, the size or the preset)"))
        } else if late > 0 {
            (WarningKind::LateFrames, format!("{late} frame slot(s) missed in the last second: a frame took {:.1} ms of the {:.1} ms interval", stats.frame_ms_max, stats.budget_ms))
        } else if slow {
            (WarningKind::SlowFrames, format!("a frame took {:.1} ms, over {:.0} % of the {:.1} ms interval", stats.frame_ms_max, SLOW_FRAME_SHARE * 100.0, stats.budget_ms))
        } else {
            return None;
        };
        Some(ShowEvent::PerformanceWarning { kind, message, frame_ms_max: stats.frame_ms_max, budget_ms: stats.budget_ms, frames_late: late, frames_dropped: dropped })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(frame_ms_max: f64, late: u64, dropped: u64) -> ShowStats {
        ShowStats { frame_ms_max, budget_ms: 33.3, frames_late: late, frames_dropped: dropped, ..ShowStats::default() }
    }

    fn kind(event: Option<ShowEvent>) -> Option<WarningKind> {
        match event {
            Some(ShowEvent::PerformanceWarning { kind, .. }) => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn warns_on_slow_late_and_dropped_frames_once_per_change() {
        let mut watch = PerformanceWatch::default();
        assert_eq!(kind(watch.check(&stats(20.0, 0, 0))), None, "60 % of the interval is fine");
        assert_eq!(kind(watch.check(&stats(26.0, 0, 0))), Some(WarningKind::SlowFrames), "78 % is not");
        assert_eq!(kind(watch.check(&stats(40.0, 3, 0))), Some(WarningKind::LateFrames));
        assert_eq!(kind(watch.check(&stats(10.0, 3, 0))), None, "no new late slot, fast again");
        assert_eq!(kind(watch.check(&stats(10.0, 3, 2))), Some(WarningKind::DroppedFrames));
        assert_eq!(kind(watch.check(&stats(10.0, 3, 2))), None);
        assert_eq!(kind(watch.check(&stats(10.0, 3, 1))), Some(WarningKind::DroppedFrames), "a restarted encoder counts from 0");
    }
}
