//! The live frame clock on real time: exact pts, pacing, and every missed slot
//! accounted for under both late policies. Timings are lower bounds and ranges
//! wide enough for a loaded two-core machine; the tests assert order and counts.

#![allow(clippy::expect_used)]

use std::collections::BTreeSet;
use std::thread;
use std::time::{Duration, Instant};

use showrunner_engine::{ClockError, ClockStats, FrameClock, LatePolicy, Tick};

const NANOS: u128 = 1_000_000_000;

fn started_ago(ago: Duration, fps: u32, policy: LatePolicy) -> FrameClock {
    let start = Instant::now().checked_sub(ago).expect("the monotonic clock reaches back a quarter second");
    FrameClock::start_at(fps, 1, policy, start).expect("valid rate")
}

fn assert_every_slot_accounted(stats: ClockStats, last: &Tick) {
    assert_eq!(stats.frames + stats.repeated + stats.skipped, last.index + 1, "{stats:?} after {last:?}");
}

/// Checks `pts(n) == n·den/num` seconds floored to the nanosecond, by exact rational
/// comparison: `pts·num <= n·den·10⁹ < (pts + 1 ns)·num`.
fn assert_exact_pts(clock: &FrameClock, num: u32, den: u32, n: u64) {
    let pts = clock.pts(n).as_nanos();
    let exact = u128::from(n) * u128::from(den) * NANOS;
    assert!(pts * u128::from(num) <= exact && exact < (pts + 1) * u128::from(num), "{num}/{den} frame {n}: {pts} ns");
}

#[test]
fn pts_are_exact_after_a_day_at_30_and_29_97_fps() {
    let day: u64 = 30 * 3600 * 24;
    let c30 = FrameClock::new(30, 1, LatePolicy::Repeat).expect("30/1");
    assert_eq!(c30.pts(day), Duration::from_secs(86_400));
    assert_eq!(c30.pts(day + 1), Duration::new(86_400, 33_333_333));
    let ntsc = FrameClock::new(30000, 1001, LatePolicy::Repeat).expect("30000/1001");
    // 2 592 000 · 1001 / 30000 s = 86 486.4 s exactly.
    assert_eq!(ntsc.pts(day), Duration::new(86_486, 400_000_000));
    assert_eq!(ntsc.pts(30_000), Duration::from_secs(1001));
    for n in [0, 1, 2, 3, 29, 30, 1001, 30_000, day - 1, day, day + 7, 10 * day, u64::from(u32::MAX), 1 << 50] {
        assert_exact_pts(&c30, 30, 1, n);
        assert_exact_pts(&ntsc, 30000, 1001, n);
        assert!(ntsc.pts(n + 1) > ntsc.pts(n));
    }
    // Adding the floored frame duration for a day would run 1.7 ms early.
    let accumulated = ntsc.pts(1) * u32::try_from(day).expect("fits");
    assert!(ntsc.pts(day) - accumulated > Duration::from_millis(1));
}

#[test]
fn deadlines_are_the_start_plus_pts() {
    let clock = FrameClock::new(30000, 1001, LatePolicy::Skip).expect("valid rate");
    for n in [0, 1, 30, 2_592_000] {
        assert_eq!(clock.deadline(n), clock.start().checked_add(clock.pts(n)));
    }
}

#[test]
fn ten_ticks_at_100_fps_take_at_least_90_ms() {
    let before = Instant::now();
    let mut clock = FrameClock::new(100, 1, LatePolicy::Repeat).expect("valid rate");
    let mut last = None;
    for _ in 0..10 {
        let tick = clock.wait_next();
        let began = Instant::now();
        assert!(began >= clock.deadline(tick.index).expect("near deadline"), "tick {} handed out early", tick.index);
        last = Some(tick);
    }
    let last = last.expect("ten ticks");
    assert!(before.elapsed() >= Duration::from_millis(90), "10 ticks in {:?}", before.elapsed());
    assert!(last.index >= 9);
    assert_eq!(clock.stats().frames, 10);
    assert_every_slot_accounted(clock.stats(), &last);
}

#[test]
fn a_clock_started_in_the_future_waits_for_its_start() {
    let start = Instant::now() + Duration::from_millis(40);
    let mut clock = FrameClock::start_at(100, 1, LatePolicy::Repeat, start).expect("valid rate");
    let tick = clock.wait_next();
    assert!(Instant::now() >= start);
    assert_eq!(tick.pts, clock.pts(tick.index));
}

#[test]
fn skip_jumps_to_the_current_slot_when_started_250_ms_late() {
    let mut clock = started_ago(Duration::from_millis(250), 100, LatePolicy::Skip);
    let tick = clock.wait_next();
    assert!((25..=80).contains(&tick.index), "index {}", tick.index);
    assert_eq!(tick.missed, tick.index);
    assert_eq!(tick.pts, Duration::from_millis(10 * tick.index));
    assert!(tick.repeat_indices().is_empty());
    let stats = clock.stats();
    assert_eq!((stats.frames, stats.skipped, stats.repeated, stats.late), (1, tick.index, 0, 1));
    assert!(stats.max_lateness >= Duration::from_millis(250));
    assert_every_slot_accounted(stats, &tick);

    // The schedule goes on from the same start: the next tick waits for its slot.
    let next = clock.wait_next();
    assert!(next.index > tick.index);
    assert!(Instant::now() >= clock.deadline(next.index).expect("near deadline"));
    assert_eq!(next.pts, Duration::from_millis(10 * next.index));
    assert_every_slot_accounted(clock.stats(), &next);
}

#[test]
fn repeat_reports_missed_slots_when_started_250_ms_late() {
    let mut clock = started_ago(Duration::from_millis(250), 100, LatePolicy::Repeat);
    let tick = clock.wait_next();
    assert!((25..=80).contains(&tick.missed), "missed {}", tick.missed);
    assert_eq!(tick.index, tick.missed);
    assert_eq!(tick.repeat_indices(), 0..tick.index);
    assert_eq!(tick.pts, Duration::from_millis(10 * tick.index));
    let stats = clock.stats();
    assert_eq!((stats.frames, stats.repeated, stats.skipped, stats.late), (1, tick.missed, 0, 1));
    assert_every_slot_accounted(stats, &tick);
}

/// Runs a loop at 100 fps that takes 25 ms over every third frame, and returns the
/// ticks.
fn slow_loop(policy: LatePolicy) -> (Vec<Tick>, ClockStats) {
    let mut clock = FrameClock::new(100, 1, policy).expect("valid rate");
    let ticks: Vec<Tick> = (0..9)
        .map(|i| {
            let tick = clock.wait_next();
            if i % 3 == 0 {
                thread::sleep(Duration::from_millis(25));
            }
            tick
        })
        .collect();
    for tick in &ticks {
        assert_eq!(tick.pts, clock.pts(tick.index), "the timeline never shifts");
    }
    (ticks, clock.stats())
}

#[test]
fn repeat_covers_every_index_once_when_frames_run_25_ms_over() {
    let (ticks, stats) = slow_loop(LatePolicy::Repeat);
    let mut covered = Vec::new();
    for tick in &ticks {
        covered.extend(tick.repeat_indices());
        covered.push(tick.index);
    }
    let last = ticks.last().expect("ticks");
    assert_eq!(covered, (0..=last.index).collect::<Vec<_>>(), "every index once, in order");
    let missed: u64 = ticks.iter().map(|t| t.missed).sum();
    // A frame begun at its deadline t and finished at t + 25 ms leaves slot t + 10 ms
    // without a frame and begins the next at t + 20 ms: one missed slot a stall.
    assert!(missed >= 3, "three 25 ms stalls at 10 ms a frame; missed {missed}");
    assert_eq!(stats.repeated, missed);
    assert_eq!(stats.skipped, 0);
    assert!(stats.late >= 3, "{stats:?}");
    assert!(stats.max_lateness >= Duration::from_millis(15), "{stats:?}");
    assert_every_slot_accounted(stats, last);
}

#[test]
fn skip_leaves_whole_frame_gaps_and_accounts_for_them() {
    let (ticks, stats) = slow_loop(LatePolicy::Skip);
    let handed: BTreeSet<u64> = ticks.iter().map(|t| t.index).collect();
    assert_eq!(handed.len(), ticks.len(), "no index handed out twice");
    let mut previous = None;
    for tick in &ticks {
        assert!(tick.repeat_indices().is_empty());
        let expected_first = previous.map_or(0, |p: u64| p + 1);
        assert_eq!(tick.index - tick.missed, expected_first, "the gap is exactly the missed slots");
        previous = Some(tick.index);
    }
    let last = ticks.last().expect("ticks");
    assert!(stats.skipped >= 3, "{stats:?}");
    assert_eq!(stats.repeated, 0);
    assert_every_slot_accounted(stats, last);
}

#[test]
fn a_zero_frame_rate_is_an_error() {
    for (num, den) in [(0, 1), (30, 0), (0, 0)] {
        let error = FrameClock::new(num, den, LatePolicy::default()).expect_err("zero rate");
        assert_eq!(error, ClockError::ZeroRate { num, den });
        assert!(error.to_string().contains(&format!("{num}/{den}")), "{error}");
    }
}

#[test]
fn repeat_is_the_default_policy() {
    assert_eq!(LatePolicy::default(), LatePolicy::Repeat);
}
