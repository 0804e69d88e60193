//! Call budgets counted in the CPU time of the calling thread, not wall time.
//!
//! The epoch ticker interrupts a call once its deadline has passed on the wall clock;
//! the store's epoch callback then asks how much CPU time the thread actually spent in
//! the call. A guest that was merely preempted (a busy machine, a test run beside a
//! build) gets more ticks; a guest that used its budget is interrupted. A wall-clock
//! cap of [`WALL_CAP_FACTOR`] × the budget still ends a call that cannot get the CPU,
//! so the frame loop is never held indefinitely.
//!
//! Must not: allocate or block (it runs inside every interrupted guest call).

use std::time::{Duration, Instant};

use wasmtime::{StoreContextMut, Trap, UpdateDeadline};

use crate::store::StoreState;

/// A call is ended after this many times its budget on the wall clock, CPU or not.
pub const WALL_CAP_FACTOR: u32 = 10;

/// The running call's budget and where it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallBudget {
    pub budget: Duration,
    pub cpu_start: Option<Duration>,
    pub wall_start: Instant,
}

impl CallBudget {
    pub fn start(budget: Duration) -> CallBudget {
        CallBudget { budget, cpu_start: thread_cpu_time(), wall_start: Instant::now() }
    }

    /// True when the call has used its budget (CPU time, or the wall-clock cap).
    pub fn spent(&self) -> bool {
        let wall = self.wall_start.elapsed();
        if wall >= self.budget.saturating_mul(WALL_CAP_FACTOR) {
            return true;
        }
        match (self.cpu_start, thread_cpu_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start) >= self.budget,
            // No per-thread CPU clock on this platform: wall time decides.
            _ => wall >= self.budget,
        }
    }
}

/// The store's epoch callback: interrupt when the budget is spent, else look again
/// one epoch tick (1 ms) later.
pub(crate) fn on_epoch_deadline(ctx: StoreContextMut<'_, StoreState>) -> wasmtime::Result<UpdateDeadline> {
    match ctx.data().call_budget {
        Some(call) if !call.spent() => Ok(UpdateDeadline::Continue(1)),
        _ => Err(Trap::Interrupt.into()),
    }
}

/// CPU time consumed by the calling thread so far.
#[cfg(unix)]
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    Some(Duration::new(u64::try_from(ts.tv_sec).ok()?, u32::try_from(ts.tv_nsec).ok()?))
}

#[cfg(not(unix))]
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeping_costs_no_cpu_but_spinning_does() {
        let call = CallBudget::start(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!call.spent(), "30 ms asleep used almost no CPU");
        let spin = CallBudget::start(Duration::from_millis(5));
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(40) && !spin.spent() {}
        assert!(spin.spent(), "spinning uses the budget");
    }

    #[test]
    fn the_wall_clock_cap_ends_a_call_that_gets_no_cpu() {
        let call = CallBudget::start(Duration::from_millis(2));
        std::thread::sleep(Duration::from_millis(2 * u64::from(WALL_CAP_FACTOR) + 5));
        assert!(call.spent());
    }
}
