//! The background decoder behind `AssetStore::load`: a few named threads fed by a bounded
//! queue, and the pending-job count that `wait_idle` waits on. Owns the threads and the
//! queue; it must never block a sender (a full queue is an error) and must not keep the
//! store alive (workers hold a weak reference and exit when the store is dropped).

use std::sync::{Condvar, Mutex, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::limits::DecoderSettings;

/// Most decoder threads a store starts.
const MAX_THREADS: usize = 4;

/// One queued background decode.
pub(crate) struct Job {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) ticket: u64,
}

/// Whatever runs the jobs (the store's shared state).
pub(crate) trait RunJob: Send + Sync + 'static {
    fn run_job(&self, job: Job);
}

/// Why a job did not reach the queue.
pub(crate) enum SubmitError {
    Full { capacity: usize },
    Stopped,
}

pub(crate) struct Loader {
    sender: Sender<Job>,
    capacity: usize,
}

impl Loader {
    /// Starts `settings.threads` (1..=4) workers. Fails only when no thread could start.
    pub(crate) fn start<R: RunJob>(settings: DecoderSettings, runner: Weak<R>) -> std::io::Result<Loader> {
        let capacity = settings.queue_capacity.max(1);
        let (sender, receiver) = crossbeam_channel::bounded(capacity);
        let mut started = 0;
        let mut last_error = None;
        for index in 0..settings.threads.clamp(1, MAX_THREADS) {
            let receiver = receiver.clone();
            let runner = runner.clone();
            match thread::Builder::new().name(format!("asset-decode-{index}")).spawn(move || work(&receiver, &runner)) {
                Ok(_) => started += 1,
                Err(error) => {
                    tracing::warn!(%error, "could not start asset decoder thread {index}");
                    last_error = Some(error);
                }
            }
        }
        match (started, last_error) {
            (0, Some(error)) => Err(error),
            _ => Ok(Loader { sender, capacity }),
        }
    }

    /// Queues `job` without waiting.
    pub(crate) fn try_submit(&self, job: Job) -> Result<(), SubmitError> {
        match self.sender.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(SubmitError::Full { capacity: self.capacity }),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        }
    }
}

fn work<R: RunJob>(receiver: &Receiver<Job>, runner: &Weak<R>) {
    while let Ok(job) = receiver.recv() {
        let Some(runner) = runner.upgrade() else { break };
        runner.run_job(job);
    }
}

/// Count of loads queued or decoding, with a condition variable for `wait_idle`.
#[derive(Debug, Default)]
pub(crate) struct PendingLoads {
    count: Mutex<usize>,
    idle: Condvar,
}

impl PendingLoads {
    pub(crate) fn begin(&self) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    pub(crate) fn finish(&self) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.idle.notify_all();
        }
    }

    pub(crate) fn get(&self) -> usize {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until nothing is pending; false if `timeout` passed first.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count > 0 {
            count = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.idle.wait_timeout(count, left).unwrap_or_else(PoisonError::into_inner).0
                }
                None => self.idle.wait(count).unwrap_or_else(PoisonError::into_inner),
            };
        }
        true
    }
}
