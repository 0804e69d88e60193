//! The preview encoder: a rate limit by pts and a one-frame hand-off to one worker thread
//! that downscales and JPEG-encodes, and the latest image with a condition variable for
//! waiters. It owns that thread and the state shared with it. The caller's side
//! (`offer`) must stay cheap and non-blocking: it checks sizes and the schedule, clones
//! a reference-counted buffer and holds the lock only for a few field updates; the
//! worker never holds the lock while working on pixels.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use jpeg_encoder::{ColorType, Encoder as JpegEncoder, EncodingError};

use super::scale::{BoxScaler, fit_inside};
use super::{MAX_SOURCE_SIDE, PreviewError, PreviewImage, PreviewSettings, PreviewStats, validate_name};

/// Offers up to this much before their slot still count as due, so that pts rounded
/// down to whole nanoseconds (frame `n` at `n * 1e9 / fps` ns) do not miss a slot.
const DUE_TOLERANCE_NS: u64 = 1_000_000;

/// What [`PreviewEncoder::offer`] did with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferOutcome {
    /// Handed to the worker; an image for it will be published.
    Accepted,
    /// Ignored: sooner than `1 / fps` after the last frame taken (by pts).
    TooSoon,
    /// Due, but dropped because the worker was still busy with an earlier frame.
    Busy,
    /// Refused: the buffer length is not width*height*4, or a side is 0 or too large.
    Rejected,
}

/// Makes JPEG previews of offered frames on its own worker thread. Dropping it stops
/// and joins the thread.
pub struct PreviewEncoder {
    name: String,
    settings: PreviewSettings,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a job is pending or on shutdown.
    work: Condvar,
    /// Signalled when an image is published.
    published: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct State {
    schedule: Schedule,
    /// The one frame handed to the worker and not yet taken by it.
    pending: Option<Job>,
    /// From an accepted offer until the worker has finished with it.
    busy: bool,
    shutdown: bool,
    latest: Option<PreviewImage>,
    stats: PreviewStats,
}

struct Job {
    pixels: Bytes,
    width: u32,
    height: u32,
    opaque: bool,
    frame_index: u64,
    pts: Duration,
}

/// Which pts is due next. Slots stay on a grid `interval` apart so the average rate is
/// `fps` whatever the input rate; a late frame (a whole interval past its slot) or a pts
/// that goes backwards (a restart) starts a new grid at that frame.
struct Schedule {
    interval_ns: u64,
    next_due_ns: Option<u64>,
    last_taken_ns: u64,
}

impl Schedule {
    fn is_due(&self, pts_ns: u64) -> bool {
        match self.next_due_ns {
            None => true,
            Some(due) => pts_ns < self.last_taken_ns || pts_ns.saturating_add(DUE_TOLERANCE_NS) >= due,
        }
    }

    fn take(&mut self, pts_ns: u64) {
        let next = match self.next_due_ns {
            Some(due) if pts_ns >= self.last_taken_ns && pts_ns < due.saturating_add(self.interval_ns) => due,
            _ => pts_ns,
        };
        self.next_due_ns = Some(next.saturating_add(self.interval_ns));
        self.last_taken_ns = pts_ns;
    }
}

impl PreviewEncoder {
    /// Validates `settings` and starts the worker thread. `name` (e.g. `program` or
    /// `preview`) names the thread and the log lines.
    pub fn start(name: &str, settings: PreviewSettings) -> Result<PreviewEncoder, PreviewError> {
        validate_name(name)?;
        settings.validate()?;
        let interval_ns = u64::try_from(settings.interval().as_nanos()).unwrap_or(u64::MAX).max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                schedule: Schedule { interval_ns, next_due_ns: None, last_taken_ns: 0 },
                pending: None,
                busy: false,
                shutdown: false,
                latest: None,
                stats: PreviewStats::default(),
            }),
            work: Condvar::new(),
            published: Condvar::new(),
        });
        let worker_shared = Arc::clone(&shared);
        let worker_name = name.to_owned();
        let worker = std::thread::Builder::new()
            .name(format!("preview-{name}"))
            .spawn(move || run_worker(&worker_shared, settings, &worker_name))
            .map_err(|source| PreviewError::SpawnWorker { name: name.to_owned(), source })?;
        Ok(PreviewEncoder { name: name.to_owned(), settings, shared, worker: Some(worker) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn settings(&self) -> &PreviewSettings {
        &self.settings
    }

    /// Offers a finished frame: `pixels` holds `width * height * 4` bytes, top row first,
    /// RGBx when `opaque` (fourth byte ignored), else straight-alpha RGBA (composited
    /// over black). Never blocks on the worker and never touches the pixels: frames
    /// sooner than `1 / fps` by pts, frames while the worker is busy and malformed
    /// frames are dropped and counted; a taken frame shares `pixels` (no copy).
    pub fn offer(
        &self,
        pixels: &Bytes,
        width: u32,
        height: u32,
        opaque: bool,
        frame_index: u64,
        pts: Duration,
    ) -> OfferOutcome {
        let well_formed = frame_is_well_formed(pixels.len(), width, height);
        let pts_ns = u64::try_from(pts.as_nanos()).unwrap_or(u64::MAX);
        let mut state = self.shared.lock();
        if !well_formed {
            state.stats.rejected_frames += 1;
            let first = state.stats.rejected_frames == 1;
            drop(state);
            report_rejected(&self.name, first, pixels.len(), width, height);
            return OfferOutcome::Rejected;
        }
        if !state.schedule.is_due(pts_ns) {
            state.stats.skipped_rate += 1;
            return OfferOutcome::TooSoon;
        }
        if state.busy {
            state.stats.skipped_busy += 1;
            return OfferOutcome::Busy;
        }
        state.schedule.take(pts_ns);
        state.busy = true;
        state.pending = Some(Job { pixels: pixels.clone(), width, height, opaque, frame_index, pts });
        drop(state);
        self.shared.work.notify_one();
        OfferOutcome::Accepted
    }

    /// The most recent image, if any was encoded yet.
    pub fn latest(&self) -> Option<PreviewImage> {
        self.shared.lock().latest.clone()
    }

    /// Waits up to `timeout` for an image with a `sequence` greater than
    /// `after_sequence` (`None`: any image) and returns it, or `None` on timeout.
    /// Returns at once when the latest image is already newer.
    pub fn wait_newer(&self, after_sequence: Option<u64>, timeout: Duration) -> Option<PreviewImage> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.shared.lock();
        loop {
            if let Some(image) = &state.latest
                && after_sequence.is_none_or(|after| image.sequence > after)
            {
                return Some(image.clone());
            }
            let left = match deadline {
                Some(deadline) => deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?,
                None => Duration::from_secs(3600),
            };
            state = self.shared.published.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    pub fn stats(&self) -> PreviewStats {
        self.shared.lock().stats
    }
}

impl Drop for PreviewEncoder {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.shutdown = true;
            state.pending = None;
        }
        self.shared.work.notify_all();
        if let Some(worker) = self.worker.take()
            && worker.join().is_err()
        {
            tracing::error!(encoder = %self.name, "preview worker thread panicked");
        }
    }
}

fn frame_is_well_formed(len: usize, width: u32, height: u32) -> bool {
    let sides_ok = (1..=MAX_SOURCE_SIDE).contains(&width) && (1..=MAX_SOURCE_SIDE).contains(&height);
    let expected = (width as usize).checked_mul(height as usize).and_then(|pixels| pixels.checked_mul(4));
    sides_ok && expected == Some(len)
}

fn report_rejected(name: &str, first: bool, len: usize, width: u32, height: u32) {
    let expected = u64::from(width) * u64::from(height) * 4;
    if first {
        tracing::warn!(
            encoder = name,
            len,
            width,
            height,
            expected,
            "preview frame rejected: the buffer must hold width*height*4 bytes and each side must be 1 to {MAX_SOURCE_SIDE}; \
             further rejections are logged at debug level"
        );
    } else {
        tracing::debug!(encoder = name, len, width, height, expected, "preview frame rejected");
    }
}

/// The worker's reusable buffers.
struct FrameWorker {
    settings: PreviewSettings,
    scaler: BoxScaler,
    rgb: Vec<u8>,
    jpeg_capacity: usize,
}

struct Encoded {
    jpeg: Bytes,
    width: u32,
    height: u32,
    downscale_time: Duration,
    encode_time: Duration,
}

impl FrameWorker {
    fn new(settings: PreviewSettings) -> FrameWorker {
        FrameWorker { settings, scaler: BoxScaler::default(), rgb: Vec::new(), jpeg_capacity: 64 * 1024 }
    }

    fn encode(&mut self, job: &Job) -> Result<Encoded, EncodingError> {
        let started = Instant::now();
        let (width, height) = fit_inside(job.width, job.height, self.settings.max_width, self.settings.max_height);
        self.scaler.downscale(&job.pixels, (job.width, job.height), job.opaque, (width, height), &mut self.rgb);
        let downscale_time = started.elapsed();
        let mut jpeg = Vec::with_capacity(self.jpeg_capacity);
        // Preview sides are at most 3840 (validated), within the encoder's u16.
        let side = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        // Default sampling: 4:2:0 below quality 90, as broadcast previews are.
        JpegEncoder::new(&mut jpeg, self.settings.quality).encode(&self.rgb, side(width), side(height), ColorType::Rgb)?;
        self.jpeg_capacity = jpeg.len() + jpeg.len() / 4;
        Ok(Encoded { jpeg: Bytes::from(jpeg), width, height, downscale_time, encode_time: started.elapsed() })
    }
}

fn run_worker(shared: &Shared, settings: PreviewSettings, name: &str) {
    let mut worker = FrameWorker::new(settings);
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if state.shutdown {
                    return;
                }
                if let Some(job) = state.pending.take() {
                    break job;
                }
                state = shared.work.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let result = catch_unwind(AssertUnwindSafe(|| worker.encode(&job)));
        let mut state = shared.lock();
        state.busy = false;
        match result {
            Ok(Ok(encoded)) => {
                let stats = &mut state.stats;
                stats.encoded += 1;
                stats.last_downscale_time = Some(encoded.downscale_time);
                stats.last_encode_time = Some(encoded.encode_time);
                let sequence = stats.encoded;
                state.latest = Some(PreviewImage {
                    jpeg: encoded.jpeg,
                    width: encoded.width,
                    height: encoded.height,
                    frame_index: job.frame_index,
                    pts: job.pts,
                    sequence,
                });
                drop(state);
                shared.published.notify_all();
            }
            Ok(Err(error)) => {
                state.stats.failed += 1;
                drop(state);
                tracing::warn!(encoder = name, frame = job.frame_index, %error, "preview JPEG encoding failed");
            }
            Err(_) => {
                state.stats.failed += 1;
                drop(state);
                worker = FrameWorker::new(settings);
                tracing::error!(
                    encoder = name,
                    frame = job.frame_index,
                    "preview worker panicked on a frame; it goes on with the next"
                );
            }
        }
    }
}
