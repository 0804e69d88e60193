//! Quality adaptation: when the live encoder falls behind (its frame queue nearly full,
//! or a frame dropped), the video bitrate steps down, at most once per cooldown, to a
//! floor; after a quiet spell with no sign of trouble it steps back up to the target.
//! Every step is reported. Pure decision logic with the time passed in, so it is
//! tested without an encoder; it must not touch GStreamer.

use std::time::{Duration, Instant};

/// How the bitrate adapts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityPolicy {
    /// Lowest bitrate, in percent of the configured one (default 50).
    pub floor_percent: u32,
    /// One step, in percent of the configured bitrate (default 25).
    pub step_percent: u32,
    /// Least time between two steps down (default 5 s).
    pub cooldown: Duration,
    /// Time without trouble before a step back up (default 30 s).
    pub recover_after: Duration,
}

impl Default for QualityPolicy {
    fn default() -> Self {
        QualityPolicy {
            floor_percent: 50,
            step_percent: 25,
            cooldown: Duration::from_secs(5),
            recover_after: Duration::from_secs(30),
        }
    }
}

/// A bitrate step and why it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityChange {
    pub from_kbps: u32,
    pub to_kbps: u32,
    /// "the encoder fell behind" or "the encoder kept up".
    pub reason: &'static str,
}

pub(crate) struct QualityController {
    policy: QualityPolicy,
    target_kbps: u32,
    current_kbps: u32,
    last_change: Option<Instant>,
    last_trouble: Option<Instant>,
}

impl QualityController {
    pub(crate) fn new(policy: QualityPolicy, target_kbps: u32) -> QualityController {
        QualityController { policy, target_kbps, current_kbps: target_kbps, last_change: None, last_trouble: None }
    }

    /// A new configured bitrate (the operator changed it): adaptation starts over from it.
    pub(crate) fn retarget(&mut self, kbps: u32) {
        *self = QualityController::new(self.policy, kbps);
    }

    fn step(&self) -> u32 {
        (u64::from(self.target_kbps) * u64::from(self.policy.step_percent) / 100).max(1) as u32
    }

    fn floor(&self) -> u32 {
        (u64::from(self.target_kbps) * u64::from(self.policy.floor_percent.min(100)) / 100) as u32
    }

    /// Called for every frame pushed: `behind` when the encoder's queue was (nearly)
    /// full. Returns the step to take now, if any.
    pub(crate) fn on_frame(&mut self, behind: bool, now: Instant) -> Option<QualityChange> {
        let since = |t: Option<Instant>| t.map_or(Duration::MAX, |t| now.saturating_duration_since(t));
        if behind {
            self.last_trouble = Some(now);
            let floor = self.floor();
            if self.current_kbps > floor && since(self.last_change) >= self.policy.cooldown {
                let to = self.current_kbps.saturating_sub(self.step()).max(floor);
                return Some(self.change(to, "the encoder fell behind", now));
            }
        } else if self.current_kbps < self.target_kbps
            && since(self.last_trouble) >= self.policy.recover_after
            && since(self.last_change) >= self.policy.recover_after
        {
            let to = self.current_kbps.saturating_add(self.step()).min(self.target_kbps);
            return Some(self.change(to, "the encoder kept up", now));
        }
        None
    }

    fn change(&mut self, to: u32, reason: &'static str, now: Instant) -> QualityChange {
        let from = std::mem::replace(&mut self.current_kbps, to);
        self.last_change = Some(now);
        QualityChange { from_kbps: from, to_kbps: to, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falling_behind_steps_down_once_per_cooldown_to_the_floor_then_recovers() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut q = QualityController::new(QualityPolicy::default(), 4000);
        assert_eq!(q.on_frame(false, at(0)), None, "at the target nothing to recover");
        let down = q.on_frame(true, at(1)).unwrap();
        assert_eq!((down.from_kbps, down.to_kbps), (4000, 3000));
        assert_eq!(q.on_frame(true, at(2)), None, "within the cooldown");
        assert_eq!(q.on_frame(true, at(6)).map(|c| c.to_kbps), Some(2000));
        assert_eq!(q.on_frame(true, at(12)), None, "at the floor (50%)");
        assert_eq!(q.on_frame(false, at(30)), None, "trouble 18 s ago");
        let up = q.on_frame(false, at(42)).unwrap();
        assert_eq!((up.from_kbps, up.to_kbps, up.reason), (2000, 3000, "the encoder kept up"));
        assert_eq!(q.on_frame(false, at(50)), None, "one step up per quiet spell");
        assert_eq!(q.on_frame(false, at(72)).map(|c| c.to_kbps), Some(4000));
        assert_eq!(q.on_frame(false, at(200)), None);
    }

    #[test]
    fn retargeting_starts_over_from_the_new_bitrate() {
        let now = Instant::now();
        let mut q = QualityController::new(QualityPolicy::default(), 4000);
        q.on_frame(true, now);
        q.retarget(6000);
        assert_eq!(q.on_frame(true, now).map(|c| (c.from_kbps, c.to_kbps)), Some((6000, 4500)));
    }
}
