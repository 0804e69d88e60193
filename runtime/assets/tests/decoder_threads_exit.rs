//! Dropping the last `AssetStore` handle stops its decoder threads. Alone in its own test
//! binary so no other store's threads are counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use showrunner_assets::{AssetStore, DecoderSettings};

/// Threads of this process named `asset-decode-*` (Linux), or `None` elsewhere.
fn decoder_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let count = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("asset-decode"))
        .count();
    Some(count)
}

#[test]
fn decoder_threads_start_on_first_load_and_exit_when_the_store_is_dropped() {
    let Some(before) = decoder_threads() else { return };
    assert_eq!(before, 0);
    let store = AssetStore::new(Default::default(), DecoderSettings { threads: 2, queue_capacity: 2 });
    assert_eq!(decoder_threads(), Some(0), "no threads before the first load");
    store.load("x", common::png(2, 2, &[0; 16])).unwrap();
    assert!(store.wait_idle(Duration::from_secs(30)));
    assert_eq!(decoder_threads(), Some(2));
    let image = store.get("x").unwrap();
    drop(store);
    let deadline = Instant::now() + Duration::from_secs(10);
    while decoder_threads() != Some(0) {
        assert!(Instant::now() < deadline, "decoder threads still running: {:?}", decoder_threads());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(image.width, 2, "images outlive the store for readers holding them");
}
