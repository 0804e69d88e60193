//! Hostile guests end as the right typed fault, the host survives, and a healthy
//! module ticked right after (in the same host) draws its normal list.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::time::Duration;

use common::*;
use showrunner_core::{DrawOp, Event, InvalidDrawList};
use showrunner_wasm::{FaultKind, FaultPolicy, LayerStartError, LayerStatus, SandboxLimits};

/// Ticks `mode` once and returns the fault it raised.
fn tick_fault(limits: SandboxLimits, mode: &str) -> FaultKind {
    let host = host_with(limits);
    let mut layer = hostile_layer(&host, "hostile", mode, FaultPolicy::default()).expect("starts");
    let out = layer.tick(&frame(0));
    assert!(!out.fresh, "{mode}: a faulted tick must not produce a fresh frame");
    let fault = out.fault.unwrap_or_else(|| panic!("{mode}: no fault"));
    assert_eq!(fault.layer, "hostile");
    assert_eq!(fault.call, "tick");
    assert!(fault.module.starts_with("Hostile"), "fault names the module: {}", fault.module);
    healthy_module_still_draws(&host);
    fault.kind
}

/// The lower third in the same host after a fault draws what it always draws.
fn healthy_module_still_draws(host: &std::sync::Arc<showrunner_wasm::Host>) {
    let mut lt = showrunner_wasm::LayerRunner::new("healthy", load(host, "scene-lower-third"), &[], FaultPolicy::default()).expect("lower third starts");
    lt.on_event(Event::named("play")).expect("play");
    lt.tick(&frame(0));
    let out = lt.tick(&frame(30));
    assert!(out.fresh && out.fault.is_none());
    assert!(out.ops.iter().any(|op| matches!(op, DrawOp::Text(t) if t.text == "Jane Doe")), "normal draw list: {:?}", out.ops);
}

#[test]
fn infinite_loop_in_tick_hits_the_deadline() {
    let kind = tick_fault(SandboxLimits::default(), "tick-loop");
    assert_eq!(kind, FaultKind::Deadline { budget: Duration::from_millis(5) });
}

#[test]
fn infinite_loop_in_init_hits_the_init_deadline() {
    let host = host_with(SandboxLimits::default());
    let err = hostile_layer(&host, "init-loop", "init-loop", FaultPolicy::default()).err().expect("init-loop must not start");
    match err {
        LayerStartError::Fault(f) => {
            assert_eq!(f.call, "init");
            assert_eq!(f.kind, FaultKind::Deadline { budget: Duration::from_millis(200) });
        }
        other => panic!("wrong error: {other}"),
    }
    healthy_module_still_draws(&host);
}

#[test]
fn init_error_is_reported_with_the_modules_reason() {
    let host = host_with(relaxed());
    let err = hostile_layer(&host, "l", "init-error", FaultPolicy::default()).err().expect("must not start");
    assert!(err.to_string().contains("init refused"), "{err}");
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    // A long deadline so the cap, not the clock, stops the bomb.
    let limits = SandboxLimits { tick_deadline: Duration::from_secs(5), ..relaxed() };
    match tick_fault(limits, "memory-bomb") {
        FaultKind::MemoryCap { limit_bytes, requested_bytes } => {
            assert_eq!(limit_bytes, 64 << 20);
            assert!(requested_bytes > limit_bytes);
        }
        other => panic!("expected a memory-cap fault, got {other}"),
    }
}

#[test]
fn panic_is_a_trap_that_carries_the_panic_message() {
    match tick_fault(relaxed(), "panic") {
        FaultKind::Trap { message } => assert!(message.contains("hostile panic"), "{message}"),
        other => panic!("expected a trap, got {other}"),
    }
}

#[test]
fn unbounded_recursion_is_a_trap() {
    let limits = SandboxLimits { tick_deadline: Duration::from_secs(5), ..relaxed() };
    assert!(matches!(tick_fault(limits, "recursion"), FaultKind::Trap { .. } | FaultKind::MemoryCap { .. }));
}

#[test]
fn a_million_draw_ops_are_stopped_by_the_transfer_cap_or_the_draw_list_cap() {
    // Time and memory to build the list, so the caps on what crosses are what say no.
    let roomy = SandboxLimits { tick_deadline: Duration::from_secs(20), memory_bytes: 512 << 20, max_live_instances: 8, ..relaxed() };
    match tick_fault(roomy.clone(), "million-ops") {
        FaultKind::TransferCap { limit_bytes } => assert_eq!(limit_bytes, 16 << 20),
        other => panic!("expected the transfer cap, got {other}"),
    }
    let roomier = SandboxLimits { transfer_bytes: 1 << 30, ..roomy };
    match tick_fault(roomier, "million-ops") {
        FaultKind::InvalidDrawList(InvalidDrawList::TooManyOps { count, max }) => assert_eq!((count, max), (1_000_000, 20_000)),
        other => panic!("expected too many ops, got {other}"),
    }
}

#[test]
fn nan_and_infinite_coordinates_are_rejected() {
    match tick_fault(relaxed(), "nan") {
        FaultKind::InvalidDrawList(InvalidDrawList::NotFinite { .. }) => {}
        other => panic!("expected a not-finite draw list, got {other}"),
    }
}

#[test]
fn log_spam_is_rate_limited_and_costs_no_frame() {
    // 100 000 lines take the guest longer than a frame to write; give it the time,
    // since what is under test is the rate limit.
    let limits = SandboxLimits { tick_deadline: Duration::from_secs(10), ..relaxed() };
    for mode in ["log-spam", "stdout-spam"] {
        let host = host_with(limits.clone());
        let mut layer = hostile_layer(&host, "spam", mode, FaultPolicy::default()).expect("starts");
        let out = layer.tick(&frame(0));
        assert!(out.fresh && out.fault.is_none(), "{mode}: {:?}", out.fault);
        assert!(!out.ops.is_empty());
        let kept = layer.log().lines().len();
        assert!(kept <= host.limits().log_lines_per_call as usize, "{mode}: kept {kept}");
        assert!(layer.log().dropped() >= 99_000, "{mode}: dropped {}", layer.log().dropped());
    }
}

#[test]
fn a_faulted_layer_keeps_its_last_good_frame_and_restarts_after_backoff() {
    let host = host_with(relaxed());
    let mut layer = hostile_layer(&host, "flaky", "panic-at-frame", FaultPolicy::default()).expect("starts");
    layer.set_props(&[showrunner_core::Prop { name: "at".into(), value: showrunner_core::PropValue::Number(3.0) }]).expect("prop");
    let mut last_good = None;
    for i in 0..3 {
        let out = layer.tick(&frame(i));
        assert!(out.fresh && out.fault.is_none());
        last_good = Some(out.ops);
    }
    let faulted = layer.tick(&frame(3));
    assert!(faulted.fault.is_some() && !faulted.fresh);
    assert_eq!(faulted.ops, last_good.expect("had a good frame"), "the last good list stays on screen");
    assert_eq!(layer.status(), LayerStatus::Backoff { retry_at_frame: 4 });
    let recovered = layer.tick(&frame(4));
    assert!(recovered.fresh && recovered.fault.is_none(), "restarted: {:?}", recovered.fault);
    assert_eq!(layer.status(), LayerStatus::Live);
    assert_eq!(layer.faults_total, 1);
}

#[test]
fn repeated_faults_quarantine_the_module_with_growing_backoff() {
    let host = host_with(relaxed());
    let policy = FaultPolicy { quarantine_after: 4, ..FaultPolicy::default() };
    let mut layer = hostile_layer(&host, "bad", "panic", policy).expect("starts");
    let mut fault_frames = Vec::new();
    let mut quarantined_at = None;
    for i in 0..40 {
        let out = layer.tick(&frame(i));
        if out.fault.is_some() {
            fault_frames.push(i);
        }
        if out.quarantined {
            quarantined_at = Some(i);
            break;
        }
    }
    // Backoff doubles: retries at +1, +2, +4 frames.
    assert_eq!(fault_frames, vec![0, 1, 3, 7]);
    assert_eq!(quarantined_at, Some(7));
    assert!(matches!(layer.status(), LayerStatus::Quarantined { .. }));
    let later = layer.tick(&frame(100));
    assert!(later.fault.is_none() && !later.fresh, "a quarantined module is not called");
    layer.release();
    assert!(layer.tick(&frame(101)).fault.is_some(), "released: tried again");
}

#[test]
fn faults_in_one_layer_do_not_touch_another() {
    let host = host_with(relaxed());
    let mut bad = hostile_layer(&host, "bad", "panic", FaultPolicy::default()).expect("starts");
    let mut good = hostile_layer(&host, "good", "ok", FaultPolicy::default()).expect("starts");
    for i in 0..20 {
        bad.tick(&frame(i));
        let out = good.tick(&frame(i));
        assert!(out.fresh && out.fault.is_none(), "frame {i}: {:?}", out.fault);
    }
    assert!(bad.faults_total >= 4);
}

#[test]
fn core_modules_and_other_bytes_are_rejected_with_the_reason() {
    let host = host_with(relaxed());
    let err = host.load(b"\0asm\x01\0\0\0").unwrap_err();
    assert!(err.to_string().contains("core Wasm module"), "{err}");
    assert!(host.load(b"definitely not wasm").unwrap_err().to_string().contains("not a WebAssembly file"));
}

/// Host services that take wall time without using CPU, like a thread that is
/// preempted on a busy machine.
struct SlowFonts;

impl showrunner_wasm::HostServices for SlowFonts {
    fn asset_size(&self, _: &str) -> Option<(u32, u32)> {
        None
    }
    fn measure_text(&self, text: &str, _: &str, size: f32) -> (f32, f32) {
        std::thread::sleep(Duration::from_millis(15));
        (text.len() as f32 * size * 0.5, size)
    }
}

#[test]
fn a_tick_that_waits_without_using_cpu_is_not_cut_off_by_the_wall_clock() {
    // The lower third measures its text every tick: 2 × 15 ms of waiting against a
    // 5 ms budget, yet almost no CPU. Budgets count CPU time, so it is not a fault.
    let host = showrunner_wasm::Host::new(SandboxLimits::default(), None, std::sync::Arc::new(SlowFonts)).unwrap();
    let module = load(&host, "scene-lower-third");
    let mut layer = showrunner_wasm::LayerRunner::new("slow-fonts", module, &[], FaultPolicy::default()).unwrap();
    layer.on_event(Event::named("play")).unwrap();
    let mut longest = Duration::ZERO;
    for n in 0..10 {
        let out = layer.tick(&frame(n));
        assert!(out.fault.is_none(), "frame {n}: {:?}", out.fault);
        longest = longest.max(out.guest_time);
    }
    assert!(longest >= Duration::from_millis(15), "the ticks really waited: {longest:?}");
    // A guest that burns its budget is still stopped on time.
    assert!(matches!(tick_fault(SandboxLimits::default(), "tick-loop"), FaultKind::Deadline { .. }));
}
