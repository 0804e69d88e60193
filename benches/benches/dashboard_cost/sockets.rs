//! The dashboard's clients, without a browser: WebSocket readers (the monitor sockets,
//! whose pictures they count, and the page's own events socket) and the page's
//! once-a-second HTTP polls, each on a thread of its own (`showrunner_benches::serve`).
//!
//! Owns: the client threads (stopped and joined when dropped) and their counters. Must
//! not: time the show itself (frame times come from its `stats`), or decode pictures
//! (that is the browser's machine's work, not the show's).

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use showrunner_benches::serve::{Api, Message, Worker, read_socket};

use crate::Result;
use crate::server::TOKEN;

/// How long a blocked read waits before the thread looks at its stop flag.
const READ_TIMEOUT: Duration = Duration::from_millis(200);

/// What a client thread counted.
#[derive(Default)]
pub struct Counts {
    /// Binary messages (monitor pictures: one JPEG each).
    pub pictures: AtomicU64,
    pub picture_bytes: AtomicU64,
    /// HTTP polls answered 200, and those that were not.
    pub polls_ok: AtomicU64,
    pub polls_failed: AtomicU64,
}

/// One client thread: a WebSocket reader or the poller.
pub struct Client {
    pub counts: Arc<Counts>,
    worker: Worker,
}

impl Client {
    /// Reads WebSocket `path` (e.g. `/ws`, `/monitors/program/ws`) of the server on
    /// `port` until dropped, counting binary messages.
    pub fn websocket(port: u16, path: &str) -> Result<Client> {
        let counts = Arc::new(Counts::default());
        let thread_counts = counts.clone();
        let worker = read_socket(&Api::new(port, TOKEN), path, READ_TIMEOUT, move |_, message| {
            if let Message::Binary(bytes) = message {
                thread_counts.pictures.fetch_add(1, Ordering::Relaxed);
                thread_counts.picture_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            ControlFlow::Continue(())
        })?;
        Ok(Client { counts, worker })
    }

    /// What the dashboard page polls: `GET /show` every second, `GET /outputs` and
    /// `GET /inputs` every 2 s (runtime/server/dashboard/app.js), with connections of its own.
    pub fn poller(port: u16) -> Client {
        let counts = Arc::new(Counts::default());
        let thread_counts = counts.clone();
        let worker = Worker::spawn(move |running| {
            let api = Api::new(port, TOKEN);
            let started = Instant::now();
            let mut second = 0u32;
            while running.load(Ordering::Relaxed) {
                let due = started + Duration::from_secs(u64::from(second));
                if Instant::now() < due {
                    std::thread::sleep(Duration::from_millis(50).min(due.saturating_duration_since(Instant::now())));
                    continue;
                }
                let paths: &[&str] = if second.is_multiple_of(2) { &["/show", "/outputs", "/inputs"] } else { &["/show"] };
                for path in paths {
                    let counter = if api.status(path).ok() == Some(200) { &thread_counts.polls_ok } else { &thread_counts.polls_failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                second += 1;
            }
            true
        });
        Client { counts, worker }
    }

    pub fn pictures(&self) -> u64 {
        self.counts.pictures.load(Ordering::Relaxed)
    }

    /// Whether its socket closed or failed while the client still wanted it.
    pub fn broken(&self) -> bool {
        self.worker.failed()
    }
}
