//! The dashboard's clients, without a browser: WebSocket readers (the events socket,
//! whose `stats` events the bench keeps, and the monitor sockets, whose pictures it
//! counts) and the page's once-a-second HTTP polls, each on a thread of its own.
//!
//! Owns: the client threads (stopped and joined when dropped) and their counters. Must
//! not: time the show itself (frame times come from its `stats`), or decode pictures
//! (that is the browser's machine's work, not the show's).

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Result;
use crate::server::{TOKEN, get, http_agent};

/// Stats events kept: one a second, far more than a run lasts.
const MAX_STATS: usize = 4096;
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
    /// Set when the socket closed or failed while the client still wanted it.
    pub broken: AtomicBool,
}

/// `stats` events from the show with the time each arrived, oldest first.
pub type StatsLog = Arc<Mutex<VecDeque<(Instant, Value)>>>;

/// One client thread: a WebSocket reader or the poller.
pub struct Client {
    pub counts: Arc<Counts>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Client {
    /// Reads WebSocket `path` (e.g. `/ws`, `/monitors/program/ws`) until dropped,
    /// counting binary messages and, with `stats`, keeping the show's `stats` events.
    pub fn websocket(port: u16, path: &str, stats: Option<StatsLog>) -> Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("WebSocket {path}: connect: {e}"))?;
        let url = format!("ws://127.0.0.1:{port}/api/v1{path}?token={TOKEN}");
        let (mut socket, _) = tungstenite::client(url.as_str(), stream).map_err(|e| format!("WebSocket {path}: handshake: {e}"))?;
        socket.get_ref().set_read_timeout(Some(READ_TIMEOUT)).map_err(|e| e.to_string())?;
        let (counts, running) = (Arc::new(Counts::default()), Arc::new(AtomicBool::new(true)));
        let (thread_counts, thread_running) = (counts.clone(), running.clone());
        let thread = std::thread::spawn(move || {
            while thread_running.load(Ordering::Relaxed) {
                match socket.read() {
                    Ok(tungstenite::Message::Binary(bytes)) => {
                        thread_counts.pictures.fetch_add(1, Ordering::Relaxed);
                        thread_counts.picture_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    }
                    Ok(tungstenite::Message::Text(text)) => {
                        if let Some(log) = &stats
                            && let Ok(message) = serde_json::from_str::<Value>(text.as_str())
                            && message["type"] == "event"
                            && message["event"]["type"] == "stats"
                            && let Ok(mut log) = log.lock()
                        {
                            if log.len() == MAX_STATS {
                                log.pop_front();
                            }
                            log.push_back((Instant::now(), message["event"].clone()));
                        }
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => {
                        thread_counts.broken.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            }
            let _ = socket.close(None);
            let _ = socket.flush();
        });
        Ok(Client { counts, running, thread: Some(thread) })
    }

    /// What the dashboard page polls: `GET /show` every second, `GET /outputs` and
    /// `GET /inputs` every 2 s (runtime/server/dashboard/app.js).
    pub fn poller(port: u16) -> Client {
        let (counts, running) = (Arc::new(Counts::default()), Arc::new(AtomicBool::new(true)));
        let (thread_counts, thread_running) = (counts.clone(), running.clone());
        let thread = std::thread::spawn(move || {
            let agent = http_agent();
            let started = Instant::now();
            let mut second = 0u32;
            while thread_running.load(Ordering::Relaxed) {
                let due = started + Duration::from_secs(u64::from(second));
                if Instant::now() < due {
                    std::thread::sleep(Duration::from_millis(50).min(due.saturating_duration_since(Instant::now())));
                    continue;
                }
                let paths: &[&str] = if second.is_multiple_of(2) { &["/show", "/outputs", "/inputs"] } else { &["/show"] };
                for path in paths {
                    let counter = if get(&agent, port, path).ok() == Some(200) { &thread_counts.polls_ok } else { &thread_counts.polls_failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                second += 1;
            }
        });
        Client { counts, running, thread: Some(thread) }
    }

    pub fn pictures(&self) -> u64 {
        self.counts.pictures.load(Ordering::Relaxed)
    }
}

/// The stats events that arrived between `from` and `to`, and the last one before `from`.
pub fn stats_between(log: &StatsLog, from: Instant, to: Instant) -> (Option<Value>, Vec<Value>) {
    let Ok(log) = log.lock() else { return (None, Vec::new()) };
    let before = log.iter().rev().find(|(at, _)| *at <= from).map(|(_, s)| s.clone());
    (before, log.iter().filter(|(at, _)| *at > from && *at <= to).map(|(_, s)| s.clone()).collect())
}
