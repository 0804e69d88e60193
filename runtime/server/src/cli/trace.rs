//! `--trace-out FILE --trace-seconds N`: records the showrunner crates' tracing spans
//! (frame stages, per-layer ticks, compositing) to a Chrome trace JSON file for the
//! first N seconds, then closes the file while the program keeps running.
//!
//! Owns the trace flags, the recording window (a per-layer filter that is open only
//! while recording) and the file. Must not: filter or change what the stderr log
//! shows, record spans from other crates, or panic when the file cannot be written
//! (write errors are kept and reported once the window closes).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::Metadata;
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

/// Default length of the recording window, in seconds.
pub const DEFAULT_TRACE_SECONDS: u32 = 10;

/// Only spans and events whose target starts with this are recorded.
const RECORDED_TARGET_PREFIX: &str = "showrunner";

/// The trace flags (`serve`).
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

/// Why a trace cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot write the trace to {path}: the folder {folder} does not exist; create it or choose another --trace-out")]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot create the trace file {path}: {source}; check the permissions or choose another --trace-out")]
    Create { path: PathBuf, source: io::Error },
}

/// A trace being recorded. The window closes after its seconds, or when this is
/// dropped, whichever comes first; the file is then complete JSON.
pub struct TraceRecording {
    window: Arc<Window>,
}

impl Drop for TraceRecording {
    fn drop(&mut self) {
        self.window.close();
    }
}

/// The per-layer filter of the Chrome layer: lets the showrunner crates' spans and
/// events through while the window is open, nothing after.
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
        // The interest cache is rebuilt when the window closes, so `always` is safe.
        if self.passes(metadata) { Interest::always() } else { Interest::never() }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        use tracing::level_filters::LevelFilter;
        Some(if self.open.load(Ordering::Relaxed) { LevelFilter::TRACE } else { LevelFilter::OFF })
    }
}

/// The Chrome layer behind its window filter.
pub type TraceLayer<S> = tracing_subscriber::filter::Filtered<tracing_chrome::ChromeLayer<S>, TraceFilter, S>;

/// Checks the destination and opens the file; returns the Chrome layer (behind its
/// window filter) and the recording, whose window starts now. `None` without `--trace-out`.
pub fn start<S>(args: &TraceArgs) -> Result<Option<(TraceLayer<S>, TraceRecording)>, TraceError>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    use tracing_subscriber::Layer as _;
    let Some(path) = args.trace_out.clone() else { return Ok(None) };
    let folder = path.parent().filter(|f| !f.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(TraceError::MissingFolder { folder: folder.to_path_buf(), path });
    }
    let file = std::fs::File::create(&path).map_err(|source| TraceError::Create { path: path.clone(), source })?;
    let write_error = Arc::new(Mutex::new(None));
    let sink = ErrorKeepingFile { file, error: write_error.clone() };
    let (layer, guard) = tracing_chrome::ChromeLayerBuilder::new().writer(sink).include_args(true).build();
    let open = Arc::new(AtomicBool::new(true));
    let length = Duration::from_secs(u64::from(args.trace_seconds));
    let window = Arc::new(Window { open: open.clone(), guard: Mutex::new(Some(guard)), path, length, started: Instant::now(), write_error });
    let timer = window.clone();
    std::thread::Builder::new()
        .name("trace-window".into())
        .spawn(move || {
            std::thread::sleep(timer.length);
            timer.close();
        })
        .map_err(|source| TraceError::Create { path: window.path.clone(), source })?;
    Ok(Some((layer.with_filter(TraceFilter { open }), TraceRecording { window })))
}

/// The recording window: shared by the timer thread and [`TraceRecording`].
struct Window {
    open: Arc<AtomicBool>,
    /// Taken by whoever closes the window first; dropping it writes the closing `]`.
    guard: Mutex<Option<tracing_chrome::FlushGuard>>,
    path: PathBuf,
    length: Duration,
    started: Instant,
    write_error: Arc<Mutex<Option<io::Error>>>,
}

impl Window {
    fn close(&self) {
        let guard = self.guard.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(guard) = guard else { return };
        self.open.store(false, Ordering::Relaxed);
        tracing::callsite::rebuild_interest_cache();
        drop(guard);
        let recorded = self.started.elapsed().min(self.length);
        match self.write_error.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(e) => eprintln!("warning: trace: cannot write {}: {e}; the file is incomplete", self.path.display()),
            None if recorded >= self.length => eprintln!("trace: {} s written to {} (open it in https://ui.perfetto.dev or chrome://tracing)", self.length.as_secs(), self.path.display()),
            None => eprintln!("trace: {:.1} s written to {} (open it in https://ui.perfetto.dev or chrome://tracing)", recorded.as_secs_f64(), self.path.display()),
        }
    }
}

/// The trace file; keeps the first write error instead of returning it, because the
/// Chrome layer's writer thread would panic on it.
struct ErrorKeepingFile {
    file: std::fs::File,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl ErrorKeepingFile {
    fn keep(&self, result: io::Result<()>) {
        if let Err(e) = result {
            self.error.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(e);
        }
    }
}

impl Write for ErrorKeepingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.file.write_all(buf);
        self.keep(result);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.file.flush();
        self.keep(result);
        Ok(())
    }
}
