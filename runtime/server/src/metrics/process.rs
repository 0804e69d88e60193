//! The process's own resource use, read from `/proc/self/stat` and
//! `/proc/self/status` when scraped (Linux; elsewhere there is no sample), and a
//! [`ProcessLoad`] kept fresh by a thread of its own for the show's stats.
//!
//! Must not: be read on the frame thread (it reads [`ProcessLoad`]'s atomics), or fail a
//! scrape when `/proc` is missing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Resident memory, CPU time and threads of this process.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcessSample {
    pub resident_bytes: u64,
    /// User plus system CPU time, in seconds.
    pub cpu_seconds: f64,
    pub threads: u64,
}

/// Reads this process's sample; `None` where `/proc` cannot be read.
pub fn sample() -> Option<ProcessSample> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    // SAFETY: sysconf only reads a system constant.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    parse(&stat, &status, ticks_per_second)
}

/// The sample in the text of `/proc/self/stat` and `/proc/self/status`.
pub fn parse(stat: &str, status: &str, ticks_per_second: i64) -> Option<ProcessSample> {
    // The command name (field 2) may hold spaces and parentheses: fields restart after the last `)`.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status_value = |key: &str| status.lines().find_map(|line| line.strip_prefix(key)).and_then(|rest| rest.split_whitespace().next()).and_then(|v| v.parse::<u64>().ok());
    let ticks_per_second = u64::try_from(ticks_per_second).ok().filter(|t| *t > 0)?;
    Some(ProcessSample {
        resident_bytes: status_value("VmRSS:")? * 1024,
        cpu_seconds: ticks as f64 / ticks_per_second as f64,
        threads: status_value("Threads:").unwrap_or(0),
    })
}

/// CPU use (percent of one core, over the last second) and resident memory, as
/// atomics a sampler thread renews every second.
#[derive(Debug, Default)]
pub struct ProcessLoad {
    cpu_percent_bits: AtomicU64,
    resident_bytes: AtomicU64,
}

impl ProcessLoad {
    /// Starts the sampler thread; it ends when the returned load is dropped.
    pub fn start() -> std::io::Result<Arc<ProcessLoad>> {
        let load = Arc::new(ProcessLoad::default());
        let weak = Arc::downgrade(&load);
        std::thread::Builder::new().name("process-load".into()).spawn(move || sample_every_second(&weak))?;
        Ok(load)
    }

    pub fn cpu_percent(&self) -> f64 {
        f64::from_bits(self.cpu_percent_bits.load(Ordering::Relaxed))
    }

    pub fn resident_bytes(&self) -> u64 {
        self.resident_bytes.load(Ordering::Relaxed)
    }
}

fn sample_every_second(load: &Weak<ProcessLoad>) {
    let mut last: Option<(f64, Instant)> = None;
    loop {
        let Some(load) = load.upgrade() else { return };
        if let Some(now) = sample() {
            if let Some((cpu_seconds, at)) = last {
                let wall = at.elapsed().as_secs_f64();
                let percent = if wall > 0.0 { (now.cpu_seconds - cpu_seconds).max(0.0) / wall * 100.0 } else { 0.0 };
                load.cpu_percent_bits.store(percent.to_bits(), Ordering::Relaxed);
            }
            load.resident_bytes.store(now.resident_bytes, Ordering::Relaxed);
            last = Some((now.cpu_seconds, Instant::now()));
        }
        drop(load);
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_cpu_time_and_memory_despite_a_name_with_spaces() {
        let stat = "4242 (show (frames) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 1000 300";
        let status = "Name:\tshowrunner\nVmRSS:\t  20480 kB\nThreads:\t12\n";
        let sample = parse(stat, status, 100);
        assert_eq!(sample, Some(ProcessSample { resident_bytes: 20480 * 1024, cpu_seconds: 3.0, threads: 12 }));
        assert_eq!(parse("garbage", status, 100), None);
    }

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        if let Some(sample) = sample() {
            assert!(sample.resident_bytes > 1024 * 1024, "{sample:?}");
            assert!(sample.threads >= 1, "{sample:?}");
        }
    }

    #[test]
    fn the_load_sees_a_busy_thread() {
        let load = ProcessLoad::start().unwrap();
        let until = Instant::now() + Duration::from_millis(2500);
        let mut spins = 0u64;
        while Instant::now() < until {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        if sample().is_some() {
            assert!(load.cpu_percent() > 30.0, "a spinning thread shows: {}", load.cpu_percent());
            assert!(load.resident_bytes() > 1024 * 1024);
        }
    }
}
