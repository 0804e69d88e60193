//! Metrics read when scraped: output and input states, the worker pool and the
//! process. Each scrape builds them afresh in a registry of its own, so outputs and
//! inputs that are gone disappear and running totals are shown as they are.
//!
//! Must not: ask the frame thread for anything (the caller brings the statuses) or
//! keep state between scrapes.

use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{Counter, Gauge, GaugeVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use showrunner_engine::PoolMetrics;
use showrunner_media::InputStatus;

use super::process::ProcessSample;
use super::{MetricsError, register};
use crate::api::outputs::{OutputBody, OutputsBody};

/// Values of `showrunner_output_state`'s `state` label (`off`: the stream is off;
/// `remote`: in a cluster, another node pushes it).
pub const OUTPUT_STATES: [&str; 7] = ["off", "connecting", "live", "retrying", "stopped", "failed", "remote"];
/// Values of `showrunner_input_state`'s `state` label.
pub const INPUT_STATES: [&str; 6] = ["starting", "waiting", "live", "ended", "stopped", "failed"];

/// What one scrape reads: statuses the caller collected.
pub struct ScrapeSources<'a> {
    /// `None` when the outputs could not be read (the show stopped).
    pub outputs: Option<&'a OutputsBody>,
    pub inputs: &'a [InputStatus],
    pub pool: &'a PoolMetrics,
    pub process: Option<ProcessSample>,
}

struct Scrape {
    registry: Registry,
}

impl Scrape {
    fn add<C: Collector + Clone + 'static>(&self, name: &str, metric: prometheus::Result<C>) -> Result<C, MetricsError> {
        register(&self.registry, name, metric)
    }
    fn gauge(&self, name: &str, help: &str, value: f64) -> Result<(), MetricsError> {
        self.add(name, Gauge::new(name, help))?.set(value);
        Ok(())
    }
    fn int_gauge(&self, name: &str, help: &str, value: u64) -> Result<(), MetricsError> {
        self.add(name, IntGauge::new(name, help))?.set(i64::try_from(value).unwrap_or(i64::MAX));
        Ok(())
    }
    fn int_counter(&self, name: &str, help: &str, value: u64) -> Result<(), MetricsError> {
        self.add(name, IntCounter::new(name, help))?.inc_by(value);
        Ok(())
    }
    fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<GaugeVec, MetricsError> {
        self.add(name, GaugeVec::new(Opts::new(name, help), labels))
    }
    fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, MetricsError> {
        self.add(name, IntCounterVec::new(Opts::new(name, help), labels))
    }
}

/// The scrape-time metric families of `sources`.
pub fn families(sources: &ScrapeSources<'_>) -> Result<Vec<MetricFamily>, MetricsError> {
    let scrape = Scrape { registry: Registry::new() };
    if let Some(outputs) = sources.outputs {
        outputs_families(&scrape, outputs)?;
    }
    inputs_families(&scrape, sources.inputs)?;
    pool_families(&scrape, sources.pool)?;
    if let Some(process) = sources.process {
        scrape.int_gauge("showrunner_process_resident_memory_bytes", "Resident memory of the server process.", process.resident_bytes)?;
        scrape.add("showrunner_process_cpu_seconds_total", Counter::new("showrunner_process_cpu_seconds_total", "User and system CPU time of the server process."))?.inc_by(process.cpu_seconds);
        scrape.int_gauge("showrunner_process_threads", "Threads of the server process.", process.threads)?;
    }
    Ok(scrape.registry.gather())
}

fn outputs_families(scrape: &Scrape, body: &OutputsBody) -> Result<(), MetricsError> {
    scrape.int_gauge("showrunner_streaming", "1 while the stream is on (destinations are sent to), else 0.", u64::from(body.streaming))?;
    let state = scrape.gauge_vec("showrunner_output_state", "1 for the output's current state, 0 for the others (`off` while the stream is off).", &["output", "state"])?;
    let bitrate = scrape.gauge_vec("showrunner_output_bitrate_bits_per_second", "What the output sent over the last second or so.", &["output"])?;
    let sent = scrape.counter_vec("showrunner_output_sent_bytes_total", "Bytes the output wrote since the stream (or recording) started.", &["output"])?;
    let reconnects = scrape.counter_vec("showrunner_output_reconnects_total", "Times the output went live again after losing its connection, since the stream started.", &["output"])?;
    let leased = scrape.gauge_vec("showrunner_output_lease_held", "In a cluster: 1 while this node holds the output's lease (and pushes it), 0 while another node does.", &["output"])?;
    for output in body.outputs.iter().chain(&body.recording) {
        let OutputBody { id, state: now, bytes_sent, bitrate_kbps, reconnects: times, owner, .. } = output;
        if owner.is_some() {
            leased.with_label_values(&[id]).set(if now == "remote" { 0.0 } else { 1.0 });
        }
        for name in OUTPUT_STATES {
            state.with_label_values(&[id.as_str(), name]).set(if name == now { 1.0 } else { 0.0 });
        }
        bitrate.with_label_values(&[id]).set(f64::from(*bitrate_kbps) * 1000.0);
        sent.with_label_values(&[id]).inc_by(*bytes_sent);
        reconnects.with_label_values(&[id]).inc_by(u64::from(*times));
    }
    Ok(())
}

fn inputs_families(scrape: &Scrape, inputs: &[InputStatus]) -> Result<(), MetricsError> {
    let state = scrape.gauge_vec("showrunner_input_state", "1 for the input's current state, 0 for the others.", &["input", "state"])?;
    let frames = scrape.counter_vec("showrunner_input_frames_total", "Frames the input published to the renderer since it was added.", &["input"])?;
    for input in inputs {
        for name in INPUT_STATES {
            state.with_label_values(&[input.name.as_str(), name]).set(if name == input.state.name() { 1.0 } else { 0.0 });
        }
        frames.with_label_values(&[&input.name]).inc_by(input.frames);
    }
    Ok(())
}

fn pool_families(scrape: &Scrape, pool: &PoolMetrics) -> Result<(), MetricsError> {
    scrape.int_gauge("showrunner_pool_workers", "Worker threads ticking layers.", pool.workers as u64)?;
    scrape.int_gauge("showrunner_pool_layers", "Layers on the worker pool.", pool.layers as u64)?;
    scrape.gauge("showrunner_pool_busy_ratio", "Share of the recent window the workers spent running tasks, averaged over workers (0 to 1).", pool.busy_ratio)?;
    let busy = scrape.add("showrunner_pool_worker_busy_ratio", GaugeVec::new(Opts::new("showrunner_pool_worker_busy_ratio", "Busy share of the recent window, per worker (0 to 1)."), &["worker"]))?;
    for (worker, ratio) in pool.worker_busy_ratio.iter().enumerate() {
        busy.with_label_values(&[&worker.to_string()]).set(*ratio);
    }
    let depth = scrape.add("showrunner_pool_worker_queue_depth", IntGaugeVec::new(Opts::new("showrunner_pool_worker_queue_depth", "Tasks waiting, per worker."), &["worker"]))?;
    for (worker, waiting) in pool.worker_queue_depth.iter().enumerate() {
        depth.with_label_values(&[&worker.to_string()]).set(i64::try_from(*waiting).unwrap_or(i64::MAX));
    }
    scrape.int_gauge("showrunner_pool_queue_depth", "Tasks waiting in all worker queues.", pool.queue_depth as u64)?;
    let latency = pool.task_latency;
    scrape.gauge("showrunner_pool_task_latency_p50_seconds", "Median enqueue-to-finish time of recent tick tasks.", latency.p50.as_secs_f64())?;
    scrape.gauge("showrunner_pool_task_latency_p99_seconds", "99th percentile enqueue-to-finish time of recent tick tasks.", latency.p99.as_secs_f64())?;
    scrape.gauge("showrunner_pool_task_latency_max_seconds", "Longest enqueue-to-finish time of recent tick tasks.", latency.max.as_secs_f64())?;
    scrape.int_counter("showrunner_pool_tasks_total", "Tick tasks the pool accepted.", pool.tasks_total)?;
    scrape.int_counter("showrunner_pool_tasks_refused_total", "Tick tasks refused because a preview or offline queue was full.", pool.tasks_refused)?;
    scrape.int_counter("showrunner_pool_respawns_total", "Worker threads restarted after they died.", pool.respawns)?;
    scrape.int_counter("showrunner_pool_events_dropped_total", "Pool events dropped because nobody drained them in time.", pool.events_dropped)?;
    Ok(())
}
