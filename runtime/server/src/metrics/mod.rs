//! Prometheus metrics of `showrunner serve`: the [`Metrics`] registry a show owns
//! (frame timings, frames rendered and late, encoder drops and queue depth, layer
//! faults and quarantines, hot swaps, API requests), the event-bus reader that feeds
//! the counters the bus carries ([`events`]), values read only when scraped (outputs,
//! inputs, the worker pool, the process: [`scrape`], [`process`]) and the `GET /metrics`
//! handler with its request-counting middleware ([`http`]). See docs/metrics.md.
//!
//! Must not: block or lock the frame thread (it only records into atomics and
//! histograms), or grow its label sets without bound.

mod events;
pub mod http;
pub mod process;
pub mod scrape;

use std::sync::Arc;
use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use showrunner_engine::Pool;

/// Frame stages timed by [`Metrics::frame_made`] (the `stage` label).
pub const FRAME_STAGES: [&str; 4] = ["tick", "compose_submit", "deliver", "frame"];

/// Distinct `(layer, module)` label pairs kept for faults and quarantines; later
/// pairs are counted under `layer="other", module="other"`.
pub const MAX_LAYER_SERIES: usize = 512;

/// Buckets of the frame-time histogram, in seconds (around 16.7 and 33.3 ms budgets).
const FRAME_BUCKETS: [f64; 16] = [0.0005, 0.001, 0.002, 0.004, 0.006, 0.008, 0.012, 0.0167, 0.02, 0.025, 0.0333, 0.05, 0.0667, 0.1, 0.25, 1.0];
/// Buckets of the swap-latency histogram, in seconds.
const SWAP_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// What can go wrong setting up or reading metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot set up metric {name}: {source} (metric names must be valid and registered once)")]
    Register { name: String, source: prometheus::Error },
    #[error("cannot encode the metrics as Prometheus text: {0}")]
    Encode(prometheus::Error),
    #[error("cannot start the metrics event reader thread: {0} (the system is out of threads or memory)")]
    Thread(std::io::Error),
}

/// How long one frame spent in each stage the frame loop sees.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameTimes {
    /// `Engine::frame`: guest ticks on the worker pool, validation, tessellation.
    pub tick: Duration,
    /// Compositor submit plus waiting for finished frames (render, readback, delivery).
    pub compose_submit: Duration,
    /// The whole frame, from the clock tick to the end of the loop iteration.
    pub frame: Duration,
}

/// The show's long-lived metrics; cheap to share (`Arc`). Recording is lock-free.
pub struct Metrics {
    registry: Registry,
    pool: Arc<Pool>,
    /// `showrunner_frame_seconds` per stage, in [`FRAME_STAGES`] order (resolved once:
    /// the frame thread touches only atomics).
    frame_stages: [Histogram; 4],
    frames_rendered: IntCounter,
    frames_late: IntCounter,
    encoder_queue_depth: IntGauge,
    encoder_dropped: IntCounter,
    layer_faults: IntCounterVec,
    layer_quarantines: IntCounterVec,
    swaps: IntCounter,
    swap_failures: IntCounter,
    swap_seconds: Histogram,
    performance_warnings: IntCounterVec,
    events_missed: IntCounter,
    http_requests: IntCounterVec,
}

/// Creates `metric` and registers a clone of it in `registry`.
fn register<C: Collector + Clone + 'static>(registry: &Registry, name: &str, metric: prometheus::Result<C>) -> Result<C, MetricsError> {
    let fail = |source| MetricsError::Register { name: name.to_string(), source };
    let metric = metric.map_err(fail)?;
    registry.register(Box::new(metric.clone())).map_err(fail)?;
    Ok(metric)
}

impl Metrics {
    /// The registry over the show's worker `pool` (read when scraped).
    pub fn new(pool: Arc<Pool>) -> Result<Metrics, MetricsError> {
        let r = Registry::new();
        let counter = |name: &str, help: &str| register(&r, name, IntCounter::new(name, help));
        let counter_vec = |name: &str, help: &str, labels: &[&str]| register(&r, name, IntCounterVec::new(Opts::new(name, help), labels));
        let frame_seconds = register(&r, "showrunner_frame_seconds", HistogramVec::new(HistogramOpts::new("showrunner_frame_seconds", "Time one frame spent in a stage of the frame loop.").buckets(FRAME_BUCKETS.to_vec()), &["stage"]))?;
        Ok(Metrics {
            frame_stages: FRAME_STAGES.map(|stage| frame_seconds.with_label_values(&[stage])),
            frames_rendered: counter("showrunner_frames_rendered_total", "Frames composited and read back.")?,
            frames_late: counter("showrunner_frames_late_total", "Frame slots the show missed because rendering ran late (repeated or skipped).")?,
            encoder_queue_depth: register(&r, "showrunner_encoder_queue_depth", IntGauge::new("showrunner_encoder_queue_depth", "Frames waiting for the video encoder (0 while nothing encodes)."))?,
            encoder_dropped: counter("showrunner_encoder_frames_dropped_total", "Frames the encoder dropped because it fell behind.")?,
            layer_faults: counter_vec("showrunner_layer_faults_total", "Faults of a layer's module (trap, deadline, memory cap, bad draw list).", &["layer", "module"])?,
            layer_quarantines: counter_vec("showrunner_layer_quarantines_total", "Times a layer's module was quarantined after repeated faults.", &["layer", "module"])?,
            swaps: counter("showrunner_swaps_total", "Hot swaps that reached the screen.")?,
            swap_failures: counter("showrunner_swap_failures_total", "Hot swaps refused or failed (the old module kept running).")?,
            swap_seconds: register(&r, "showrunner_swap_seconds", Histogram::with_opts(HistogramOpts::new("showrunner_swap_seconds", "From the swap request reaching the frame thread to the first frame with the new module.").buckets(SWAP_BUCKETS.to_vec())))?,
            performance_warnings: counter_vec("showrunner_performance_warnings_total", "Seconds in which a frame took over 75 % of the frame interval (slow_frames), slots were missed (late_frames) or the encoder dropped frames (dropped_frames).", &["kind"])?,
            events_missed: counter("showrunner_metrics_events_missed_total", "Show events the metrics reader lost because it fell behind the bus.")?,
            http_requests: counter_vec("showrunner_http_requests_total", "API requests answered, by matched route, method and status.", &["route", "method", "status"])?,
            registry: r,
            pool,
        })
    }

    /// Records one frame: its stage times and the frame slots it missed.
    pub fn frame_made(&self, times: &FrameTimes, missed: u64) {
        let [tick, compose_submit, _, frame] = &self.frame_stages;
        tick.observe(times.tick.as_secs_f64());
        compose_submit.observe(times.compose_submit.as_secs_f64());
        frame.observe(times.frame.as_secs_f64());
        self.frames_late.inc_by(missed);
    }

    /// Records one finished frame and how long handing it to the encoder took.
    pub fn frame_rendered(&self, deliver: Duration) {
        self.frames_rendered.inc();
        let [_, _, deliver_stage, _] = &self.frame_stages;
        deliver_stage.observe(deliver.as_secs_f64());
    }

    /// Sets the encoder's queue depth (0 while nothing encodes).
    pub fn encoder_queue(&self, depth: u64) {
        self.encoder_queue_depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// Counts one answered API request.
    pub fn request_answered(&self, route: &str, method: &str, status: u16) {
        self.http_requests.with_label_values(&[route, method, &status.to_string()]).inc();
    }

    /// The worker pool the scrape reads.
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// Every long-lived metric family, as of now.
    pub fn gather(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.registry.gather()
    }
}

/// `families` as Prometheus text exposition (format 0.0.4), sorted by name.
pub fn encode_text(mut families: Vec<prometheus::proto::MetricFamily>) -> Result<String, MetricsError> {
    families.sort_by(|a, b| a.name().cmp(b.name()));
    prometheus::TextEncoder::new().encode_to_string(&families).map_err(MetricsError::Encode)
}
