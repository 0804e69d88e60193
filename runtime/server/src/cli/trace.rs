//! Chrome-trace recording of the showrunner crates' tracing spans (frame stages,
//! per-layer ticks, compositing): the recorder behind `--trace-out FILE --trace-seconds N`
//! (`serve`, `live`) and `POST /api/v1/trace` (installed for the API at start).
//!
//! Owns the trace flags, the Chrome layer (one for the whole process, switched from file
//! to file), its window filter and [`Recorder`], which allows one recording at a time.
//! Outside a recording the filter disables every callsite for this layer, so spans cost
//! what a disabled span costs. Must not: filter or change what the stderr log shows,
//! record spans from other crates, or panic when a file cannot be written (write errors
//! are kept and reported when the recording finishes).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use showrunner_server::api::trace::{ActiveTrace, TraceBeginError, TraceFinishError, TraceRecorder, TraceSource, TraceTarget, TraceWritten};
use tracing::Metadata;
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

/// Default length of the recording window, in seconds.
pub const DEFAULT_TRACE_SECONDS: u32 = 10;

/// Only spans and events whose target starts with this are recorded.
const RECORDED_TARGET_PREFIX: &str = "showrunner";

/// How long finishing waits for the writer thread to complete the file.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// The trace flags (`serve`, `live`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TraceArgs {
    /// Record a Chrome trace of the frame stages, layer ticks and compositing to this
    /// file (overwritten); open it in https://ui.perfetto.dev or chrome://tracing.
    #[arg(long, value_name = "FILE.json")]
    pub trace_out: Option<PathBuf>,
    /// How many seconds from the start the trace covers; the program keeps running after.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TRACE_SECONDS, requires = "trace_out",
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub trace_seconds: u32,
}

/// Why `--trace-out` cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot write the trace to {path}: the folder {folder} does not exist; create it or choose another --trace-out")]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot create the trace file {path}: {source}; check the permissions or choose another --trace-out")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot start the trace: {0}")]
    Begin(#[from] TraceBeginError),
}

/// The per-layer filter of the Chrome layer: lets the showrunner crates' spans and
/// events through while a recording runs, nothing otherwise.
pub struct TraceFilter {
    open: Arc<AtomicBool>,
}

impl TraceFilter {
    fn passes(&self, metadata: &Metadata<'_>) -> bool {
        self.open.load(Ordering::Relaxed) && metadata.target().starts_with(RECORDED_TARGET_PREFIX)
    }
}

impl<S> Filter<S> for TraceFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.passes(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        // The interest cache is rebuilt whenever the window opens or closes.
        if self.passes(metadata) { Interest::always() } else { Interest::never() }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        use tracing::level_filters::LevelFilter;
        Some(if self.open.load(Ordering::Relaxed) { LevelFilter::TRACE } else { LevelFilter::OFF })
    }
}

/// The Chrome layer behind its window filter.
pub type TraceLayer<S> = tracing_subscriber::filter::Filtered<tracing_chrome::ChromeLayer<S>, TraceFilter, S>;

/// Builds the process's Chrome layer, closed, and the recorder that opens it.
pub fn layer<S>() -> (TraceLayer<S>, Recorder)
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    use tracing_subscriber::Layer as _;
    let (chrome, guard) = tracing_chrome::ChromeLayerBuilder::new().writer(io::sink()).include_args(true).build();
    let open = Arc::new(AtomicBool::new(false));
    let inner = RecorderInner { open: open.clone(), state: Mutex::new(RecorderState { chrome: guard, running: None, next_id: 0 }) };
    (chrome.with_filter(TraceFilter { open }), Recorder { inner: Arc::new(inner) })
}

/// Opens and closes the Chrome layer's window, one recording at a time. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<RecorderInner>,
}

struct RecorderInner {
    open: Arc<AtomicBool>,
    state: Mutex<RecorderState>,
}

struct RecorderState {
    /// Switches the Chrome layer's writer thread to another file (`start_new`).
    chrome: tracing_chrome::FlushGuard,
    running: Option<Running>,
    next_id: u64,
}

struct Running {
    id: u64,
    source: TraceSource,
    started: Instant,
    length: Duration,
}

impl RecorderInner {
    fn state(&self) -> MutexGuard<'_, RecorderState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes recording `id`'s window (nothing if it is already closed); the writer
    /// thread completes its file after the spans already sent.
    fn close(&self, id: u64) {
        {
            let mut state = self.state();
            if state.running.as_ref().is_none_or(|r| r.id != id) {
                return;
            }
            state.running = None;
            self.open.store(false, Ordering::Relaxed);
            state.chrome.start_new(Some(Box::new(io::sink())));
        }
        tracing::callsite::rebuild_interest_cache();
    }
}

impl TraceRecorder for Recorder {
    fn begin(&self, target: TraceTarget) -> Result<Box<dyn ActiveTrace>, TraceBeginError> {
        let (id, finished) = {
            let mut state = self.inner.state();
            if let Some(running) = &state.running {
                let seconds_left = running.length.saturating_sub(running.started.elapsed()).as_secs_f64();
                return Err(TraceBeginError::Busy { started_by: running.source, seconds_left });
            }
            let file = std::fs::File::create(&target.file).map_err(|error| TraceBeginError::Create { path: target.file.clone(), error })?;
            let (done, finished) = mpsc::sync_channel(1);
            let sink = RecordingSink { file, limit: target.limit_bytes, report: SinkReport::default(), done };
            state.chrome.start_new(Some(Box::new(sink)));
            state.next_id += 1;
            let id = state.next_id;
            state.running = Some(Running { id, source: target.source, started: Instant::now(), length: target.length });
            self.inner.open.store(true, Ordering::Relaxed);
            (id, finished)
        };
        tracing::callsite::rebuild_interest_cache();
        Ok(Box::new(Window { inner: self.inner.clone(), id, finished, path: target.file, started: Instant::now() }))
    }
}

/// One open recording (see [`ActiveTrace`]).
struct Window {
    inner: Arc<RecorderInner>,
    id: u64,
    /// The file's report, sent when the writer thread lets go of it.
    finished: mpsc::Receiver<SinkReport>,
    path: PathBuf,
    started: Instant,
}

impl ActiveTrace for Window {
    fn finish(self: Box<Self>) -> Result<TraceWritten, TraceFinishError> {
        self.inner.close(self.id);
        let recorded = self.started.elapsed();
        let report = self.finished.recv_timeout(FINISH_TIMEOUT).map_err(|_| TraceFinishError::Stuck { path: self.path.clone(), waited: FINISH_TIMEOUT })?;
        match report {
            SinkReport { error: Some(error), .. } => Err(TraceFinishError::Write { path: self.path.clone(), error }),
            SinkReport { over_limit: Some(limit_bytes), .. } => Err(TraceFinishError::TooLarge { limit_bytes }),
            SinkReport { bytes, .. } => Ok(TraceWritten { bytes, recorded }),
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.inner.close(self.id);
    }
}

/// What happened to a trace file.
#[derive(Debug, Default)]
struct SinkReport {
    bytes: u64,
    /// The first write error; nothing is written after it.
    error: Option<io::Error>,
    /// The limit the trace went over; nothing is written after it.
    over_limit: Option<u64>,
}

/// A trace file as the Chrome layer's writer thread sees it: never fails (that thread
/// would panic), keeps the first error, stops at the size limit, and reports when dropped.
struct RecordingSink {
    file: std::fs::File,
    limit: Option<u64>,
    report: SinkReport,
    done: mpsc::SyncSender<SinkReport>,
}

impl Write for RecordingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let report = &mut self.report;
        if report.error.is_some() || report.over_limit.is_some() {
            return Ok(buf.len());
        }
        let size = report.bytes.saturating_add(buf.len() as u64);
        match self.limit {
            Some(limit) if size > limit => report.over_limit = Some(limit),
            _ => match self.file.write_all(buf) {
                Ok(()) => report.bytes = size,
                Err(e) => report.error = Some(e),
            },
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.report.error.is_none()
            && let Err(e) = self.file.flush()
        {
            self.report.error = Some(e);
        }
        Ok(())
    }
}

impl Drop for RecordingSink {
    fn drop(&mut self) {
        let _ = self.done.try_send(std::mem::take(&mut self.report));
    }
}

/// A `--trace-out` recording. Its window closes after `--trace-seconds`, or when this is
/// dropped, whichever comes first; the file is then complete JSON and stderr says so.
pub struct TraceRecording {
    shared: Arc<FileTrace>,
}

impl Drop for TraceRecording {
    fn drop(&mut self) {
        self.shared.finish();
    }
}

struct FileTrace {
    /// Taken by whoever finishes first: the timer or [`TraceRecording`]'s drop.
    active: Mutex<Option<Box<dyn ActiveTrace>>>,
    path: PathBuf,
    length: Duration,
}

impl FileTrace {
    fn finish(&self) {
        let active = self.active.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(active) = active else { return };
        let path = self.path.display();
        match active.finish() {
            Ok(written) if written.recorded >= self.length => {
                eprintln!("trace: {} s written to {path} (open it in https://ui.perfetto.dev or chrome://tracing)", self.length.as_secs());
            }
            Ok(written) => eprintln!("trace: {:.1} s written to {path} (open it in https://ui.perfetto.dev or chrome://tracing)", written.recorded.as_secs_f64()),
            Err(TraceFinishError::Write { error, .. }) => eprintln!("warning: trace: cannot write {path}: {error}; the file is incomplete"),
            Err(e) => eprintln!("warning: trace: {e}"),
        }
    }
}

/// Starts the `--trace-out` recording, if the flags ask for one: checks the folder,
/// opens the file and the window now, and closes it after `--trace-seconds`.
pub fn record_to_file(recorder: &Recorder, args: &TraceArgs) -> Result<Option<TraceRecording>, TraceError> {
    let Some(path) = args.trace_out.clone() else { return Ok(None) };
    let folder = path.parent().filter(|f| !f.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(TraceError::MissingFolder { folder: folder.to_path_buf(), path });
    }
    let length = Duration::from_secs(u64::from(args.trace_seconds));
    let target = TraceTarget { file: path.clone(), source: TraceSource::CommandLine, length, limit_bytes: None };
    let active = recorder.begin(target).map_err(|e| match e {
        TraceBeginError::Create { path, error } => TraceError::Create { path, source: error },
        other => TraceError::Begin(other),
    })?;
    let shared = Arc::new(FileTrace { active: Mutex::new(Some(active)), path, length });
    let timer = shared.clone();
    std::thread::Builder::new()
        .name("trace-window".into())
        .spawn(move || {
            std::thread::sleep(timer.length);
            timer.finish();
        })
        .map_err(|source| TraceError::Create { path: shared.path.clone(), source })?;
    Ok(Some(TraceRecording { shared }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::{Duration, Instant};

    use showrunner_server::api::trace::{TraceRecorder, TraceSource, TraceTarget};
    use tracing_subscriber::prelude::*;

    fn frame_span() -> tracing::Span {
        tracing::trace_span!(target: "showrunner_engine::engine", "frame", index = 7)
    }

    /// Nanoseconds per `frame` span created, entered and left.
    fn span_cost_ns() -> f64 {
        const SPANS: u32 = 20_000;
        let started = Instant::now();
        for _ in 0..SPANS {
            let _entered = std::hint::black_box(frame_span()).entered();
        }
        started.elapsed().as_nanos() as f64 / f64::from(SPANS)
    }

    #[test]
    fn spans_are_disabled_outside_a_recording_and_recorded_inside_one() {
        let dir = tempfile::tempdir().unwrap();
        let (chrome, recorder) = super::layer();
        let log = tracing_subscriber::fmt::layer().with_writer(std::io::sink).with_filter(tracing_subscriber::EnvFilter::new("warn"));
        let subscriber = tracing_subscriber::registry().with(log).with(chrome);
        tracing::subscriber::with_default(subscriber, || {
            assert!(frame_span().is_disabled(), "a showrunner span is live before any recording");
            let idle_ns = span_cost_ns();

            let file = dir.path().join("trace.json");
            let target = TraceTarget { file: file.clone(), source: TraceSource::Api, length: Duration::from_secs(5), limit_bytes: None };
            let active = recorder.begin(target.clone()).unwrap();
            assert!(!frame_span().is_disabled(), "no span while recording");
            assert!(tracing::trace_span!(target: "wgpu_core::device", "submit").is_disabled(), "another crate's span is recorded");
            assert!(recorder.begin(target).is_err(), "a second recording started while one runs");
            let recording_ns = span_cost_ns();
            let written = active.finish().unwrap();
            assert!(frame_span().is_disabled(), "spans stay live after the recording");
            eprintln!("span cost: {idle_ns:.0} ns idle, {recording_ns:.0} ns recording");
            assert!(idle_ns * 5.0 < recording_ns, "idle spans cost {idle_ns:.0} ns, recorded ones {recording_ns:.0} ns");

            let events: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            assert_eq!(written.bytes, std::fs::metadata(&file).unwrap().len());
            let frames = events.iter().filter(|e| e["name"] == "frame" && e["ph"] == "B").count();
            assert!(frames >= 20_000, "{frames} frame spans recorded");
            assert!(events.iter().filter(|e| e["ph"] == "B").all(|e| e["args"]["index"] == "7"));
        });
    }
}
