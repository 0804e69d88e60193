//! [`FrameClock`]: when a live show renders each frame, and what fills the frame
//! slots a slow frame loop misses.
//!
//! At `num/den` frames per second, frame `n` has the presentation time
//! `pts(n) = n·den/num` seconds, computed exactly in `u128` nanoseconds
//! (`n·den·10⁹ / num`, rounded down to the nanosecond) and never by adding frame
//! durations, so the timeline does not drift however long the show runs. Frame `n`
//! is due at `deadline(n) = start + pts(n)` on the monotonic clock ([`Instant`]).
//!
//! The clock hands out frame indices `0, 1, 2, …`. [`FrameClock::wait_next`] sleeps
//! until the first slot not yet covered (`next`) is due — it never hands a frame out
//! early, so a loop is never faster than real time — and then looks at the time `t`
//! the tick begins:
//! - `t < deadline(next + 1)`: the tick is `next`, on time or a little late.
//! - `t >= deadline(next + 1)`: the loop fell behind and the slots
//!   `next .. current` passed without a frame, where `current` is the slot whose
//!   interval contains `t` (`deadline(current) <= t < deadline(current + 1)`). The
//!   tick is `current`, [`Tick::missed`] is `current - next`, and the
//!   [`LatePolicy`] decides what stands in the missed slots:
//!   - [`LatePolicy::Repeat`] (the default): the caller fills each missed index with
//!     the previous picture at that index's pts ([`Tick::repeat_indices`]); they are
//!     counted in [`ClockStats::repeated`]. The output keeps a constant frame rate
//!     with no gap, which encoders, muxers and RTMP players expect. Before the first
//!     tick there is no previous picture: fill with the starting picture (e.g. the
//!     background).
//!   - [`LatePolicy::Skip`]: the missed indices are left out; they are counted in
//!     [`ClockStats::skipped`]. The output has a gap of whole frames, for sinks that
//!     show frames as they come (a preview window) rather than stream them.
//!
//! Under both policies the tick handed out is the slot that is current, and its pts
//! is `index·den/num`: the timeline never shifts, only what fills missed slots
//! differs. Every slot is accounted for: after a tick with index `last`,
//! `frames + repeated + skipped == last + 1`.
//!
//! A tick is late when it begins more than the tolerance (half a frame interval)
//! after the deadline of `next`; late ticks are counted in [`ClockStats::late`],
//! and a `tracing` warning (at most one a second, carrying the late ticks since the
//! previous one) says so. Nothing late goes uncounted.
//!
//! A live loop at 29.97 fps:
//! ```no_run
//! # fn main() -> Result<(), showrunner_engine::ClockError> {
//! use showrunner_engine::{FrameClock, LatePolicy};
//! let mut clock = FrameClock::new(30000, 1001, LatePolicy::Repeat)?;
//! for _ in 0..300 {
//!     let tick = clock.wait_next();
//!     for n in tick.repeat_indices() {
//!         // hand the previous picture to the encoder again at clock.pts(n)
//! #       let _ = clock.pts(n);
//!     }
//!     // make frame tick.index and hand it to the encoder at tick.pts
//! }
//! # Ok(()) }
//! ```
//!
//! Must not: render, encode or touch frames (the caller repeats pictures), spin on
//! the CPU while waiting (it sleeps), or panic on any frame rate or index (arithmetic
//! saturates; unreachable times are `None` or [`Duration::MAX`]).

use std::ops::Range;
use std::thread;
use std::time::{Duration, Instant};

const NANOS_PER_SEC: u128 = 1_000_000_000;
const WARN_EVERY: Duration = Duration::from_secs(1);

/// Why a [`FrameClock`] could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("frame rate {num}/{den} is not valid: numerator and denominator must both be above zero (e.g. 30/1 or 30000/1001)")]
    ZeroRate { num: u32, den: u32 },
}

/// What stands in the frame slots a late frame loop missed (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LatePolicy {
    /// The caller repeats the previous picture in each missed slot: constant frame
    /// rate, no gap in the output. For encoders and streams.
    #[default]
    Repeat,
    /// Missed slots are left out: the output jumps by whole frames. For sinks that
    /// show frames as they come.
    Skip,
}

/// One frame the loop should make now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// The frame's index: the slot that is current when the tick begins.
    pub index: u64,
    /// Its presentation time, `index·den/num` seconds from the start.
    pub pts: Duration,
    /// Slots `index - missed .. index` whose deadline passed while the previous
    /// frame was being made.
    pub missed: u64,
    /// The clock's policy, which says what fills the missed slots.
    pub policy: LatePolicy,
}

impl Tick {
    /// Indices the caller fills with the previous picture before this frame (each at
    /// its own pts): the missed slots under [`LatePolicy::Repeat`], none under
    /// [`LatePolicy::Skip`].
    pub fn repeat_indices(&self) -> Range<u64> {
        match self.policy {
            LatePolicy::Repeat => self.index.saturating_sub(self.missed)..self.index,
            LatePolicy::Skip => self.index..self.index,
        }
    }
}

/// What the clock has handed out so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockStats {
    /// Ticks handed out (frames the loop was asked to make).
    pub frames: u64,
    /// Ticks that began more than half a frame interval after the deadline of the
    /// first slot they cover (their own, or the first missed one).
    pub late: u64,
    /// Missed slots to be filled by repeating the previous picture.
    pub repeated: u64,
    /// Missed slots left out of the output.
    pub skipped: u64,
    /// The largest gap between a tick's beginning and the deadline of the first
    /// slot it covers.
    pub max_lateness: Duration,
}

/// Paces a live frame loop on the monotonic clock (see the module doc).
#[derive(Debug, Clone)]
pub struct FrameClock {
    fps_num: u32,
    fps_den: u32,
    policy: LatePolicy,
    start: Instant,
    tolerance: Duration,
    /// The first slot not yet covered by a tick, a repeat or a skip.
    next: u64,
    stats: ClockStats,
    late_since_warning: u64,
    /// Time since `start` of the last warning.
    last_warning: Option<Duration>,
}

impl FrameClock {
    /// A clock at `fps_num/fps_den` frames per second whose frame 0 is due now.
    pub fn new(fps_num: u32, fps_den: u32, policy: LatePolicy) -> Result<FrameClock, ClockError> {
        Self::start_at(fps_num, fps_den, policy, Instant::now())
    }

    /// A clock whose frame 0 is due at `start` (in the past or the future).
    pub fn start_at(fps_num: u32, fps_den: u32, policy: LatePolicy, start: Instant) -> Result<FrameClock, ClockError> {
        if fps_num == 0 || fps_den == 0 {
            return Err(ClockError::ZeroRate { num: fps_num, den: fps_den });
        }
        let interval = u128::from(fps_den) * NANOS_PER_SEC;
        Ok(FrameClock {
            fps_num,
            fps_den,
            policy,
            start,
            tolerance: duration_from_nanos(interval / (2 * u128::from(fps_num))),
            next: 0,
            stats: ClockStats::default(),
            late_since_warning: 0,
            last_warning: None,
        })
    }

    /// Presentation time of frame `n`: `n·den/num` seconds, rounded down to the
    /// nanosecond ([`Duration::MAX`] beyond what a `Duration` holds).
    pub fn pts(&self, n: u64) -> Duration {
        duration_from_nanos(self.pts_nanos(n))
    }

    /// When frame `n` is due: `start + pts(n)`. `None` when that instant is beyond
    /// what the platform's [`Instant`] can represent.
    pub fn deadline(&self, n: u64) -> Option<Instant> {
        self.start.checked_add(self.pts(n))
    }

    /// When the next slot [`FrameClock::wait_next`] hands out is due (a caller may do
    /// other work until then).
    pub fn next_due(&self) -> Option<Instant> {
        self.deadline(self.next)
    }

    /// The instant frame 0 is due.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Sleeps until the first uncovered slot is due, then returns the frame to make
    /// now and the slots missed before it (see the module doc).
    pub fn wait_next(&mut self) -> Tick {
        let due = self.pts(self.next);
        let elapsed = loop {
            let now = Instant::now();
            match self.time_until(due, now) {
                Some(wait) => thread::sleep(wait),
                None => break now.saturating_duration_since(self.start),
            }
        };
        self.advance(elapsed)
    }

    /// Counters since the clock started.
    pub fn stats(&self) -> ClockStats {
        self.stats
    }

    /// How long from `now` until `due` after the start; `None` once it has come.
    fn time_until(&self, due: Duration, now: Instant) -> Option<Duration> {
        match now.checked_duration_since(self.start) {
            Some(elapsed) => due.checked_sub(elapsed).filter(|wait| !wait.is_zero()),
            None => Some(self.start.duration_since(now).saturating_add(due)),
        }
    }

    /// Hands out the tick that begins `elapsed` after the start, at or after the
    /// deadline of `next`.
    fn advance(&mut self, elapsed: Duration) -> Tick {
        let first_due = self.next;
        let index = self.current_slot(elapsed).max(first_due);
        let missed = index - first_due;
        match self.policy {
            LatePolicy::Repeat => self.stats.repeated = self.stats.repeated.saturating_add(missed),
            LatePolicy::Skip => self.stats.skipped = self.stats.skipped.saturating_add(missed),
        }
        let lateness = elapsed.saturating_sub(self.pts(first_due));
        self.stats.max_lateness = self.stats.max_lateness.max(lateness);
        if lateness > self.tolerance {
            self.stats.late = self.stats.late.saturating_add(1);
            self.warn_late(elapsed, lateness, missed);
        }
        self.stats.frames = self.stats.frames.saturating_add(1);
        self.next = index.saturating_add(1);
        Tick { index, pts: self.pts(index), missed, policy: self.policy }
    }

    fn warn_late(&mut self, elapsed: Duration, lateness: Duration, missed: u64) {
        self.late_since_warning = self.late_since_warning.saturating_add(1);
        if self.last_warning.is_some_and(|at| elapsed.saturating_sub(at) < WARN_EVERY) {
            return;
        }
        tracing::warn!(
            late_ticks = self.late_since_warning,
            lateness_ms = lateness.as_secs_f64() * 1e3,
            missed,
            policy = ?self.policy,
            total_late = self.stats.late,
            total_repeated = self.stats.repeated,
            total_skipped = self.stats.skipped,
            "live frames are late: making a frame takes longer than the frame interval at {}/{} fps",
            self.fps_num,
            self.fps_den,
        );
        self.late_since_warning = 0;
        self.last_warning = Some(elapsed);
    }

    fn pts_nanos(&self, n: u64) -> u128 {
        u128::from(n) * u128::from(self.fps_den) * NANOS_PER_SEC / u128::from(self.fps_num)
    }

    /// The slot whose interval contains `elapsed`: the largest `n` with
    /// `pts(n) <= elapsed`. With `e` whole nanoseconds, `floor(n·den·10⁹/num) <= e`
    /// exactly when `n·den·10⁹ < (e + 1)·num`.
    fn current_slot(&self, elapsed: Duration) -> u64 {
        let e = elapsed.as_nanos();
        let bound = (e + 1) * u128::from(self.fps_num) - 1;
        let slot = bound / (u128::from(self.fps_den) * NANOS_PER_SEC);
        u64::try_from(slot).unwrap_or(u64::MAX)
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    match u64::try_from(nanos / NANOS_PER_SEC) {
        Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(num: u32, den: u32, policy: LatePolicy) -> FrameClock {
        FrameClock::new(num, den, policy).expect("valid rate")
    }

    #[test]
    fn current_slot_is_the_slot_whose_interval_contains_the_time() {
        for (num, den) in [(30, 1), (30000, 1001), (24000, 1001), (100, 1), (1, 7), (u32::MAX, 1), (1, u32::MAX)] {
            let c = clock(num, den, LatePolicy::Repeat);
            let ns = Duration::from_nanos(1);
            for n in [0u64, 1, 2, 29, 30, 1000, 2_592_000, 1 << 40] {
                let pts = c.pts(n);
                if pts >= Duration::from_secs(1 << 40) {
                    continue;
                }
                for at in [pts.saturating_sub(ns), pts, pts + ns] {
                    let slot = c.current_slot(at);
                    assert!(c.pts(slot) <= at && at < c.pts(slot + 1), "{num}/{den} at {at:?}: slot {slot}");
                }
                if num <= 1_000_000_000 {
                    assert_eq!(c.current_slot(pts), n, "{num}/{den} at pts({n})");
                }
            }
        }
    }

    #[test]
    fn huge_indices_saturate_instead_of_panicking() {
        let slow = clock(1, u32::MAX, LatePolicy::Skip);
        assert_eq!(slow.pts(u64::MAX), Duration::MAX);
        assert_eq!(slow.deadline(u64::MAX), None);
        let fast = clock(u32::MAX, 1, LatePolicy::Skip);
        assert_eq!(fast.current_slot(Duration::MAX), u64::MAX);
        assert!(fast.pts(u64::MAX) < Duration::from_secs(5_000_000_000));
    }

    #[test]
    fn a_tick_within_half_a_frame_of_its_deadline_is_on_time() {
        let mut c = clock(100, 1, LatePolicy::Repeat);
        let t = c.advance(Duration::from_millis(4));
        assert_eq!((t.index, t.missed), (0, 0));
        assert_eq!(c.stats().late, 0);
        let t = c.advance(Duration::from_millis(16));
        assert_eq!((t.index, t.missed), (1, 0));
        assert_eq!(c.stats().late, 1, "6 ms after a 10 ms slot's deadline is past the 5 ms tolerance");
        assert_eq!(c.stats().max_lateness, Duration::from_millis(6));
    }

    #[test]
    fn repeat_fills_missed_slots_and_skip_leaves_them_out() {
        for policy in [LatePolicy::Repeat, LatePolicy::Skip] {
            let mut c = clock(100, 1, policy);
            assert_eq!(c.advance(Duration::ZERO).index, 0);
            let t = c.advance(Duration::from_millis(47));
            assert_eq!((t.index, t.missed, t.pts), (4, 3, Duration::from_millis(40)));
            let t = c.advance(Duration::from_millis(50));
            assert_eq!((t.index, t.missed), (5, 0));
            let s = c.stats();
            assert_eq!(s.frames, 3);
            assert_eq!(s.late, 1);
            assert_eq!(s.max_lateness, Duration::from_millis(37));
            assert_eq!(s.frames + s.repeated + s.skipped, t.index + 1);
            match policy {
                LatePolicy::Repeat => assert_eq!((s.repeated, s.skipped), (3, 0)),
                LatePolicy::Skip => assert_eq!((s.repeated, s.skipped), (0, 3)),
            }
        }
    }

    #[test]
    fn repeat_indices_are_the_missed_slots_only_under_repeat() {
        let repeat = Tick { index: 9, pts: Duration::ZERO, missed: 3, policy: LatePolicy::Repeat };
        assert_eq!(repeat.repeat_indices(), 6..9);
        let skip = Tick { policy: LatePolicy::Skip, ..repeat };
        assert!(skip.repeat_indices().is_empty());
    }

    #[test]
    fn warnings_are_at_most_one_a_second_and_carry_the_late_ticks_between() {
        let mut c = clock(100, 1, LatePolicy::Skip);
        c.advance(Duration::from_millis(30));
        assert_eq!((c.late_since_warning, c.last_warning), (0, Some(Duration::from_millis(30))));
        c.advance(Duration::from_millis(60));
        c.advance(Duration::from_millis(90));
        assert_eq!(c.late_since_warning, 2, "two late ticks wait for the next warning");
        c.advance(Duration::from_millis(1100));
        assert_eq!((c.late_since_warning, c.last_warning), (0, Some(Duration::from_millis(1100))));
        assert_eq!(c.stats().late, 4);
    }
}
