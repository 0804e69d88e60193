//! The process's own resource use, read from `/proc/self/stat` and
//! `/proc/self/status` when scraped (Linux; elsewhere there is no sample).
//!
//! Must not: be read on the frame thread, or fail a scrape when `/proc` is missing.

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

#[cfg(test)]
mod tests {
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
}
