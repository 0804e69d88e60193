//! Budgets every guest runs under. Defaults are what a live show needs; every
//! field can be changed in configuration.

use std::time::Duration;

use showrunner_core::DrawListLimits;

#[derive(Clone, Debug, PartialEq)]
pub struct SandboxLimits {
    /// Deadline of one `tick` (or transition `mix`) call.
    pub tick_deadline: Duration,
    /// Deadline of `init`, `describe`, `save-state` and `restore-state`.
    pub init_deadline: Duration,
    /// Deadline of `set-props` and `on-event`.
    pub event_deadline: Duration,
    /// Deadlines count the calling thread's CPU time; a call that cannot get the CPU
    /// is still ended after this many times its deadline on the wall clock. Offline
    /// renders raise it, so that a busy machine cannot change their frames.
    pub wall_cap_factor: u32,
    /// Linear memory one instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// Bytes a guest may hand the host in one call (strings, lists, the draw list);
    /// caps what the host allocates on a guest's behalf.
    pub transfer_bytes: usize,
    /// Table elements one instance may hold.
    pub table_elements: usize,
    /// Core instances, memories and tables one module may create.
    pub instances_per_module: usize,
    pub memories_per_module: usize,
    pub tables_per_module: usize,
    /// Guest instances alive at once across the host (sizes the pooling allocator).
    pub max_live_instances: u32,
    /// Guest log lines kept per call; the rest are counted as dropped.
    pub log_lines_per_call: u32,
    /// Longest guest log line kept, in bytes (longer ones are truncated).
    pub log_line_bytes: usize,
    /// Caps on what a tick may return.
    pub draw_list: DrawListLimits,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            tick_deadline: Duration::from_millis(5),
            init_deadline: Duration::from_millis(200),
            event_deadline: Duration::from_millis(20),
            wall_cap_factor: 10,
            memory_bytes: 64 << 20,
            transfer_bytes: 16 << 20,
            table_elements: 20_000,
            instances_per_module: 16,
            memories_per_module: 2,
            tables_per_module: 16,
            max_live_instances: 128,
            log_lines_per_call: 20,
            log_line_bytes: 512,
            draw_list: DrawListLimits::default(),
        }
    }
}

/// How often the epoch advances; deadlines are rounded up to whole ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// A deadline in epoch ticks, with one tick of slack so that a healthy call
/// straddling an increment is not interrupted early.
pub(crate) fn deadline_ticks(deadline: Duration) -> u64 {
    let ticks = deadline.as_micros().div_ceil(EPOCH_TICK.as_micros().max(1));
    u64::try_from(ticks).unwrap_or(u64::MAX / 2).max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_get_slack() {
        assert_eq!(deadline_ticks(Duration::from_millis(5)), 6);
        assert_eq!(deadline_ticks(Duration::from_micros(1500)), 3);
        assert_eq!(deadline_ticks(Duration::ZERO), 2);
    }
}
