//! The guest log: what modules write through `host.log` and WASI stdout/stderr.
//!
//! Bounded three ways: lines per call, bytes per line, lines kept. Everything over
//! a budget is counted as dropped, never buffered. Writes never fail, so a guest
//! that prints in a loop cannot trap itself through its own stdout.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// Severity, mirroring `log-level` in the WIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One line a guest wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub message: String,
}

/// Lines kept per instance; older ones are evicted.
const KEPT_LINES: usize = 256;
/// Bytes of an unterminated stdout/stderr line buffered before it is cut.
const PARTIAL_LINE_BYTES: usize = 1024;

#[derive(Debug)]
struct Inner {
    source: String,
    lines: VecDeque<LogLine>,
    dropped: u64,
    budget_left: u32,
    per_call: u32,
    call_error: Option<String>,
    line_bytes: usize,
    partial: [Vec<u8>; 2],
}

/// A shared, bounded guest log for one instance.
#[derive(Clone, Debug)]
pub struct GuestLog(Arc<Mutex<Inner>>);

impl GuestLog {
    pub fn new(source: String, per_call: u32, line_bytes: usize) -> GuestLog {
        GuestLog(Arc::new(Mutex::new(Inner {
            source,
            lines: VecDeque::new(),
            dropped: 0,
            budget_left: per_call,
            per_call,
            call_error: None,
            line_bytes,
            partial: [Vec::new(), Vec::new()],
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere mid-push; the data is still a log.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a new call: the per-call line budget is refilled.
    pub(crate) fn begin_call(&self) {
        let mut inner = self.lock();
        inner.budget_left = inner.per_call;
        inner.call_error = None;
    }

    /// Records a line, within budget.
    pub fn push(&self, level: Level, message: &str) {
        self.lock().push(level, message);
    }

    /// Lines kept so far (oldest first).
    pub fn lines(&self) -> Vec<LogLine> {
        self.lock().lines.iter().cloned().collect()
    }

    /// Removes and returns the kept lines.
    pub fn drain(&self) -> Vec<LogLine> {
        self.lock().lines.drain(..).collect()
    }

    /// Lines dropped by the rate limit since the instance started.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// The last error-level line of the current call (kept even when over budget),
    /// e.g. the panic message the SDK's hook sends before a trap.
    pub fn call_error(&self) -> Option<String> {
        self.lock().call_error.clone()
    }

    /// Bytes from WASI stdout (`stream` 0) or stderr (1); complete lines are logged.
    pub(crate) fn write_stream(&self, stream: usize, bytes: &[u8]) {
        let mut inner = self.lock();
        let level = if stream == 0 { Level::Info } else { Level::Warn };
        for &b in bytes {
            if b == b'\n' || inner.partial[stream].len() >= PARTIAL_LINE_BYTES {
                let line = std::mem::take(&mut inner.partial[stream]);
                inner.push(level, &String::from_utf8_lossy(&line));
                if b == b'\n' {
                    continue;
                }
            }
            inner.partial[stream].push(b);
        }
    }
}

impl Inner {
    fn push(&mut self, level: Level, message: &str) {
        if level == Level::Error {
            self.call_error = Some(truncate(message, self.line_bytes));
        }
        if self.budget_left == 0 {
            self.dropped += 1;
            return;
        }
        self.budget_left -= 1;
        let text = truncate(message, self.line_bytes);
        match level {
            Level::Error => tracing::error!(target: "guest", source = %self.source, "{text}"),
            Level::Warn => tracing::warn!(target: "guest", source = %self.source, "{text}"),
            Level::Info => tracing::info!(target: "guest", source = %self.source, "{text}"),
            Level::Debug => tracing::debug!(target: "guest", source = %self.source, "{text}"),
            Level::Trace => tracing::trace!(target: "guest", source = %self.source, "{text}"),
        }
        if self.lines.len() >= KEPT_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine { level, message: text });
    }
}

/// `message` cut to at most `max` bytes on a character boundary, marked with "…".
fn truncate(message: &str, max: usize) -> String {
    let mut end = message.len().min(max);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    if end < message.len() { format!("{}…", &message[..end]) } else { message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_over_the_per_call_budget_are_dropped_and_counted() {
        let log = GuestLog::new("t".into(), 3, 8);
        for i in 0..10 {
            log.push(Level::Info, &format!("line {i}"));
        }
        assert_eq!(log.lines().len(), 3);
        assert_eq!(log.dropped(), 7);
        log.begin_call();
        log.push(Level::Error, "é-é-é-é-é-é");
        assert_eq!(log.call_error().as_deref(), Some("é-é-é…"));
        log.begin_call();
        assert_eq!(log.call_error(), None);
    }

    #[test]
    fn stream_bytes_become_lines_and_long_lines_are_cut() {
        let log = GuestLog::new("t".into(), 100, 2048);
        log.write_stream(0, b"hello\nwor");
        log.write_stream(0, b"ld\n");
        log.write_stream(1, &vec![b'x'; 3000]);
        let lines = log.lines();
        assert_eq!(lines[0].message, "hello");
        assert_eq!(lines[1].message, "world");
        assert_eq!(lines[2].message.len(), PARTIAL_LINE_BYTES);
        assert_eq!(lines[2].level, Level::Warn);
    }
}
