//! Pool metrics: per-worker busy time over a sliding window, recent task latencies,
//! and the [`PoolMetrics`] snapshot a metrics endpoint publishes.
//!
//! Must not: grow without bound (intervals are pruned by age and count, latencies
//! by count) or take a lock on the tick path for longer than a push.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Busy intervals kept per worker, at most (older ones fall out of the window anyway).
const MAX_INTERVALS: usize = 4096;

/// A snapshot of the worker pool.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolMetrics {
    pub workers: usize,
    pub layers: usize,
    /// Share of the window the workers spent running tasks, averaged over workers (0..=1).
    pub busy_ratio: f64,
    /// The same, per worker.
    pub worker_busy_ratio: Vec<f64>,
    /// Tasks waiting in all queues (every priority and control).
    pub queue_depth: usize,
    /// The same, per worker.
    pub worker_queue_depth: Vec<usize>,
    /// Tick tasks accepted since the pool started.
    pub tasks_total: u64,
    /// Tick tasks refused because a Preview or Offline queue was full.
    pub tasks_refused: u64,
    /// Enqueue-to-finish time of recent tick tasks.
    pub task_latency: LatencySummary,
    /// Worker threads restarted after they died.
    pub respawns: u64,
    /// Pool events dropped because nobody drained them in time.
    pub events_dropped: u64,
}

/// Percentiles over the most recent tasks (all workers together).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    pub samples: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl LatencySummary {
    /// Summarizes `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> LatencySummary {
        if samples.is_empty() {
            return LatencySummary::default();
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        LatencySummary { samples: samples.len(), p50: at(0.5), p99: at(0.99), max: samples[samples.len() - 1] }
    }
}

#[derive(Default)]
struct StatsInner {
    /// Finished tasks' (start, end), oldest first.
    busy: VecDeque<(Instant, Instant)>,
    /// Start of the task running now.
    busy_since: Option<Instant>,
    latencies: VecDeque<Duration>,
}

/// What one worker records about its tasks; read by the pool for snapshots.
pub(crate) struct WorkerStats {
    inner: Mutex<StatsInner>,
    /// Panics caught inside the worker's guards.
    panics: AtomicU64,
    window: Duration,
    latency_samples: usize,
    created: Instant,
}

impl WorkerStats {
    pub fn new(window: Duration, latency_samples: usize) -> WorkerStats {
        WorkerStats { inner: Mutex::new(StatsInner::default()), panics: AtomicU64::new(0), window, latency_samples: latency_samples.max(1), created: Instant::now() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StatsInner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn panic_caught(&self) {
        self.panics.fetch_add(1, Ordering::SeqCst);
    }

    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::SeqCst)
    }

    pub fn task_started(&self, at: Instant) {
        self.lock().busy_since = Some(at);
    }

    pub fn task_finished(&self, started: Instant, finished: Instant, latency: Duration) {
        let mut inner = self.lock();
        inner.busy_since = None;
        inner.busy.push_back((started, finished));
        let horizon = finished.checked_sub(self.window);
        while inner.busy.len() > MAX_INTERVALS || horizon.is_some_and(|h| inner.busy.front().is_some_and(|&(_, end)| end < h)) {
            inner.busy.pop_front();
        }
        if inner.latencies.len() >= self.latency_samples {
            inner.latencies.pop_front();
        }
        inner.latencies.push_back(latency);
    }

    /// Forgets a task that was running when the thread died.
    pub fn thread_replaced(&self) {
        self.lock().busy_since = None;
    }

    /// Busy share of the last `window` (or of the worker's life, if shorter).
    pub fn busy_ratio(&self, now: Instant) -> f64 {
        let span = now.saturating_duration_since(self.created).min(self.window);
        if span.is_zero() {
            return 0.0;
        }
        let from = now - span;
        let inner = self.lock();
        let overlap = |start: Instant, end: Instant| end.min(now).saturating_duration_since(start.max(from));
        let mut busy: Duration = inner.busy.iter().map(|&(s, e)| overlap(s, e)).sum();
        if let Some(since) = inner.busy_since {
            busy += overlap(since, now);
        }
        (busy.as_secs_f64() / span.as_secs_f64()).clamp(0.0, 1.0)
    }

    pub fn latencies_into(&self, out: &mut Vec<Duration>) {
        out.extend(self.lock().latencies.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_recent_latencies() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let s = LatencySummary::of(&mut samples);
        assert_eq!((s.samples, s.max), (100, Duration::from_micros(100)));
        assert_eq!(s.p50, Duration::from_micros(51));
        assert_eq!(s.p99, Duration::from_micros(99));
        assert_eq!(LatencySummary::of(&mut []), LatencySummary::default());
    }

    #[test]
    fn busy_ratio_counts_only_the_window_and_latencies_are_capped() {
        let stats = WorkerStats::new(Duration::from_millis(100), 3);
        std::thread::sleep(Duration::from_millis(120));
        let now = Instant::now();
        // 40 ms busy inside the window, 50 ms before it.
        stats.task_finished(now - Duration::from_millis(200), now - Duration::from_millis(150), Duration::from_millis(1));
        stats.task_finished(now - Duration::from_millis(50), now - Duration::from_millis(10), Duration::from_millis(2));
        let ratio = stats.busy_ratio(now);
        assert!((ratio - 0.4).abs() < 0.01, "{ratio}");
        for i in 0..5 {
            stats.task_finished(now, now, Duration::from_millis(i));
        }
        let mut l = Vec::new();
        stats.latencies_into(&mut l);
        assert_eq!(l, [2, 3, 4].map(Duration::from_millis));
    }
}
