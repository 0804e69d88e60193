//! What else the machine was doing while a benchmark ran: busy CPU seconds of the
//! whole machine and of this process (from `/proc`), and the load average, so every
//! bench can say how much of its run other processes took. Linux only; elsewhere the
//! readings are absent. It must not time anything itself.

use std::time::Instant;

/// Busy CPU seconds since boot: (the whole machine, this process), from `/proc/stat`
/// and `/proc/self/stat` at 100 ticks per second (Linux's USER_HZ).
pub fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    let busy = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| fields.get(i)).sum::<f64>();
    let me = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the name come field 3 (state) onwards: utime and stime are fields 14 and 15.
    let after_name: Vec<&str> = me.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| after_name.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    Some((busy / 100.0, (field(14)? + field(15)?) / 100.0))
}

/// The 1, 5 and 15 minute load averages, or "unknown".
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(|_| "unknown".into(), |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// Prints how long the run took, the load average, and the cores this bench and
/// other processes used since `started` (when `cpu_seconds()` was `cpu_at_start`).
pub fn print_run_footer(started: Instant, cpu_at_start: Option<(f64, f64)>, cpus: usize) {
    let wall = started.elapsed().as_secs_f64();
    println!("(measured in {wall:.1} s; load average at end: {}, which counts this bench's own threads)", load_average());
    if let (Some((busy0, own0)), Some((busy1, own1))) = (cpu_at_start, cpu_seconds()) {
        let others = ((busy1 - busy0) - (own1 - own0)).max(0.0) / wall;
        println!("CPU used by this bench: {:.2} cores on average; by other processes: {others:.2} cores of {cpus}", (own1 - own0) / wall);
    }
}
