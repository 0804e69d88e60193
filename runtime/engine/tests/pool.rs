//! The worker pool with real modules: layers stay on their worker's thread, dead
//! workers are replaced, priorities and refusals, metrics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use showrunner_core::{Event, FrameInfo};
use showrunner_engine::{Pool, PoolConfig, PoolError, PoolEvent, Priority};
use showrunner_wasm::{FaultPolicy, SandboxLimits};

fn frame(n: u64) -> FrameInfo {
    FrameInfo::at(n, 1280, 720, 30, 1)
}

fn pool(workers: usize) -> Pool {
    Pool::new(PoolConfig { workers, ..PoolConfig::default() }).unwrap()
}

const OVERLAYS: [&str; 4] = ["scene-lower-third", "scene-ticker", "scene-clock", "scene-scoreboard"];

/// Eight layers: two of each example overlay, shown.
fn eight_layers(pool: &Pool) -> Vec<String> {
    let host = host();
    let mut ids = Vec::new();
    for (i, name) in OVERLAYS.iter().cycle().take(8).enumerate() {
        let id = format!("{name}-{i}");
        pool.add_layer(&id, load(&host, name), &[], FaultPolicy::default()).unwrap();
        pool.event(&id, Event::named("play")).unwrap();
        ids.push(id);
    }
    ids
}

#[test]
fn each_layer_ticks_on_one_worker_thread_and_the_load_is_spread() {
    let pool = pool(4);
    let ids = eight_layers(&pool);
    let mut threads: HashMap<String, HashSet<std::thread::ThreadId>> = HashMap::new();
    for n in 0..30 {
        let ticks = pool.tick_all(&frame(n), Priority::Program).unwrap();
        assert_eq!(ticks.len(), 8);
        for tick in ticks {
            assert!(tick.fresh && tick.fault.is_none(), "{}: {:?}", tick.id, tick.fault);
            assert_eq!(Some(tick.worker), pool.worker_of(&tick.id));
            threads.entry(tick.id.to_string()).or_default().insert(tick.thread.unwrap());
        }
    }
    for id in &ids {
        assert_eq!(threads[id].len(), 1, "layer {id} ran on {:?}", threads[id]);
    }
    let distinct: HashSet<_> = threads.values().flatten().collect();
    assert_eq!(distinct.len(), 4, "four worker threads");
    let mut per_worker = [0; 4];
    for id in &ids {
        per_worker[pool.worker_of(id).unwrap()] += 1;
    }
    assert_eq!(per_worker, [2, 2, 2, 2], "least-loaded placement");
    let m = pool.metrics();
    assert_eq!((m.workers, m.layers, m.tasks_total, m.tasks_refused, m.respawns), (4, 8, 120, 0, 0));
    assert!(m.task_latency.samples > 0 && m.task_latency.p50 <= m.task_latency.p99);
    assert!(m.busy_ratio > 0.0 && m.busy_ratio <= 1.0, "{}", m.busy_ratio);
}

/// Clocks draw from the first frame without events, so a restarted layer shows.
fn clocks(pool: &Pool, n: usize) -> Vec<String> {
    let host = host();
    let ids: Vec<String> = (0..n).map(|i| format!("clock-{i}")).collect();
    for id in &ids {
        pool.add_layer(id, load(&host, "scene-clock"), &[text("label", id)], FaultPolicy::default()).unwrap();
    }
    ids
}

fn respawn_event(pool: &Pool) -> (usize, Vec<String>) {
    let events = pool.drain_events();
    match &events[..] {
        [PoolEvent::WorkerRespawned { worker, layers, failed, reason }] => {
            assert!(failed.is_empty(), "{failed:?}");
            assert!(reason.contains("fault injection"), "{reason}");
            (*worker, layers.clone())
        }
        other => panic!("expected one respawn event, got {other:?}"),
    }
}

#[test]
fn a_dead_worker_is_replaced_and_its_layers_tick_again() {
    let pool = pool(2);
    let ids = clocks(&pool, 4);
    let before = pool.tick_all(&frame(0), Priority::Program).unwrap();
    pool.kill_worker(0);
    let after = pool.tick_all(&frame(1), Priority::Program).unwrap();
    let (worker, mut layers) = respawn_event(&pool);
    layers.sort();
    let mut on_zero: Vec<String> = ids.iter().filter(|id| pool.worker_of(id) == Some(0)).cloned().collect();
    on_zero.sort();
    assert_eq!((worker, layers), (0, on_zero));
    for (b, a) in before.iter().zip(&after) {
        assert!(a.fresh && a.fault.is_none() && !a.ops.is_empty(), "{} ticks again", a.id);
        assert!(a.version >= b.version, "versions keep counting up");
        assert_eq!(a.thread != b.thread, a.worker == 0, "{}: only worker 0's thread is new", a.id);
    }
    assert_eq!(pool.metrics().respawns, 1);
    // Commands reach the new thread too.
    pool.set_props(&ids[0], &[text("label", "again")]).unwrap();
}

#[test]
fn a_respawned_layer_continues_from_its_checkpoint_not_from_scratch() {
    // A lower third that was played shows until stopped; a replacement that started
    // from its initial state would draw nothing.
    let pool = pool(1);
    pool.add_layer("lt", load(&host(), "scene-lower-third"), &[], FaultPolicy::default()).unwrap();
    pool.event("lt", Event::named("play")).unwrap();
    let mut shown = Vec::new();
    for n in 0..60 {
        shown = pool.tick_all(&frame(n), Priority::Program).unwrap();
    }
    assert!(!shown[0].ops.is_empty(), "the played lower third draws");
    pool.kill_worker(0);
    for n in 60..63 {
        let after = pool.tick_all(&frame(n), Priority::Program).unwrap();
        assert!(after[0].fresh, "ticked on the new thread");
        assert_eq!(after[0].ops, shown[0].ops, "frame {n}: still shown as before the worker died");
    }
    respawn_event(&pool);
}

#[test]
fn a_worker_that_dies_mid_tick_is_replaced_within_the_same_tick() {
    let pool = pool(2);
    clocks(&pool, 4);
    let before = pool.tick_all(&frame(0), Priority::Program).unwrap();
    pool.kill_worker_during_next_tick(1);
    let during = pool.tick_all(&frame(1), Priority::Program).unwrap();
    let (worker, layers) = respawn_event(&pool);
    assert_eq!((worker, layers.len()), (1, 2));
    for (b, d) in before.iter().zip(&during) {
        assert!(d.fresh && d.thread.is_some(), "{} was ticked again on the new thread", d.id);
        assert_eq!(d.thread != b.thread, d.worker == 1);
    }
}

#[test]
fn a_full_offline_queue_refuses_more_offline_work_while_program_ticks_go_first() {
    // One worker; a layer that spins until its 300 ms deadline keeps it busy.
    let slow_host = host_with(SandboxLimits { tick_deadline: Duration::from_millis(300), ..relaxed() });
    let pool = Pool::new(PoolConfig { workers: 1, queue_capacity: 2, ..PoolConfig::default() }).unwrap();
    pool.add_layer("slow", load(&slow_host, "guest-hostile"), &[text("mode", "tick-loop")], FaultPolicy::default()).unwrap();
    clocks(&pool, 1);

    let busy = pool.submit(&frame(0), Priority::Offline, &["slow"]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let queued: Vec<_> = (1..=2).map(|n| pool.submit(&frame(n), Priority::Offline, &["clock-0"]).unwrap()).collect();
    let refused = pool.submit(&frame(3), Priority::Offline, &["clock-0"]);
    assert!(matches!(refused, Err(PoolError::Refused { priority: Priority::Offline, worker: 0 })), "{:?}", refused.err());

    let asked = Instant::now();
    let program = pool.submit(&frame(4), Priority::Program, &["clock-0"]).unwrap();
    assert!(asked.elapsed() < Duration::from_millis(100), "a Program tick is queued without waiting");
    let program = pool.wait(program).remove(0);
    assert!(program.fresh && program.fault.is_none());

    let slow = pool.wait(busy).remove(0);
    assert!(matches!(slow.fault.map(|f| f.kind), Some(showrunner_wasm::FaultKind::Deadline { .. })));
    assert!(slow.finished_at < program.finished_at);
    for pending in queued {
        let offline = pool.wait(pending).remove(0);
        assert!(program.finished_at < offline.finished_at, "Program ran before the queued Offline ticks");
    }
    let m = pool.metrics();
    assert_eq!((m.tasks_refused, m.tasks_total), (1, 4));
    assert_eq!(m.queue_depth, 0);
}

#[test]
fn layer_commands_answer_with_the_layers_name() {
    let pool = pool(1);
    let host = host();
    pool.add_layer("lower", load(&host, "scene-lower-third"), &[], FaultPolicy::default()).unwrap();
    assert!(matches!(pool.add_layer("lower", load(&host, "scene-lower-third"), &[], FaultPolicy::default()), Err(PoolError::DuplicateLayer(_))));
    assert!(matches!(pool.event("nope", Event::named("play")), Err(PoolError::UnknownLayer(id)) if id == "nope"));
    assert!(matches!(pool.tick(&frame(0), Priority::Program, &["nope"]), Err(PoolError::UnknownLayer(_))));
    let err = pool.add_layer("t", load(&host, "transition-crossfade"), &[], FaultPolicy::default()).unwrap_err();
    assert!(err.to_string().contains("layer `t` did not start") && err.to_string().contains("not a scene"), "{err}");
    pool.remove_layer("lower").unwrap();
    assert!(pool.layer_ids().is_empty());
}
