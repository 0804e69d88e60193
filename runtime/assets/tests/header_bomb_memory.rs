//! A PNG whose header claims 100000 × 100000 pixels (40 GB decoded) must fail from the header:
//! fast, and without the process's peak memory moving. Alone in its own test binary so no
//! other test disturbs the peak-RSS reading.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use showrunner_assets::{AssetError, AssetStore, LimitKind};

/// Peak resident set size of this process in KiB (Linux), or `None` elsewhere.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn header_claiming_100000_square_fails_fast_without_allocating() {
    let store = AssetStore::default();
    let bomb = common::png_claiming(100_000, 100_000);
    let one_row_too_tall = common::png_claiming(8192, 8192 + 1);
    let before = peak_rss_kib();
    let started = Instant::now();
    let error = store.insert("bomb", &bomb).unwrap_err();
    let tall = store.insert("tall", &one_row_too_tall).unwrap_err();
    let elapsed = started.elapsed();
    let after = peak_rss_kib();

    assert!(matches!(error, AssetError::TooLarge { what: LimitKind::Width, actual: Some(100_000), .. }), "{error:?}");
    assert!(matches!(tall, AssetError::TooLarge { what: LimitKind::Height, actual: Some(8193), .. }), "{tall:?}");
    assert!(elapsed < Duration::from_millis(50), "took {elapsed:?}");
    if let (Some(before), Some(after)) = (before, after) {
        assert!(after - before < 8 * 1024, "peak RSS grew by {} KiB", after - before);
    }
}
