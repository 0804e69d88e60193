//! Call budgets counted in the CPU time of the calling thread, not wall time.
//!
//! The epoch ticker interrupts a call once its deadline has passed on the wall clock;
//! the store's epoch callback then asks how much CPU time the thread actually spent in
//! the call. A guest that was merely preempted (a busy machine, a test run beside a
//! build) gets more ticks; a guest that used its budget is interrupted. A wall-clock
//! cap (`SandboxLimits::wall_cap_factor` × the budget) still ends a call that cannot
//! get the CPU, so the frame loop is never held indefinitely.
//!
//! Must not: allocate or block (it runs inside every interrupted guest call).

use std::time::{Duration, Instant};

use wasmtime::{StoreContextMut, Trap, UpdateDeadline};

use crate::store::StoreState;

/// The running call's budget and where it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallBudget {
    pub budget: Duration,
    /// Wall-clock time after which the call ends, CPU or not.
    pub wall_cap: Duration,
    pub cpu_start: Option<Duration>,
    pub wall_start: Instant,
}

impl CallBudget {
    /// A call of `budget` CPU time, ended anyway after `wall_cap_factor` × `budget`.
    pub fn start(budget: Duration, wall_cap_factor: u32) -> CallBudget {
        CallBudget { budget, wall_cap: budget.saturating_mul(wall_cap_factor.max(1)), cpu_start: thread_cpu_time(), wall_start: Instant::now() }
    }

    /// True when the call has used its budget (CPU time, or the wall-clock cap).
    pub fn spent(&self) -> bool {
        let wall = self.wall_start.elapsed();
        if wall >= self.wall_cap {
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
        let call = CallBudget::start(Duration::from_millis(20), 10);
        std::thread::sleep(Duration::from_millis(30));
        assert!(!call.spent(), "30 ms asleep used almost no CPU");
        let spin = CallBudget::start(Duration::from_millis(5), 10);
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(40) && !spin.spent() {}
        assert!(spin.spent(), "spinning uses the budget");
    }

    #[test]
    fn the_wall_clock_cap_ends_a_call_that_gets_no_cpu() {
        let call = CallBudget::start(Duration::from_millis(2), 10);
        std::thread::sleep(Duration::from_millis(25));
        assert!(call.spent());
        // A larger factor waits longer for the CPU.
        let patient = CallBudget::start(Duration::from_millis(2), 100);
        std::thread::sleep(Duration::from_millis(25));
        assert!(!patient.spent(), "25 ms asleep is below 100 × 2 ms");
    }
}
