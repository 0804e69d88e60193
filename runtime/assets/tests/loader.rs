//! Background loading: `load` + `wait_idle`, failures recorded per name, the bounded queue,
//! and later changes to a name winning over queued loads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{gradient, png, rgba};
use showrunner_assets::{AssetError, AssetLimits, AssetStatus, AssetStore, DecoderSettings};

const WAIT: Duration = Duration::from_secs(30);

fn solid_png(width: u32, height: u32, colour: [u8; 4]) -> Vec<u8> {
    png(width, height, &rgba(width, height, |_, _| colour))
}

/// A PNG that takes tens of milliseconds to decode (2048 × 2048).
fn slow_png() -> Vec<u8> {
    png(2048, 2048, &gradient(2048, 2048))
}

#[test]
fn load_decodes_in_the_background_and_wait_idle_sees_it() {
    let store = AssetStore::default();
    store.load("bg", solid_png(20, 10, [0, 255, 0, 255])).unwrap();
    assert!(store.wait_idle(WAIT));
    assert_eq!(store.pending(), 0);
    assert_eq!(store.size("bg"), Some((20, 10)));
    assert!(matches!(store.status("bg"), AssetStatus::Ready(info) if info.width == 20));
}

#[test]
fn failed_background_decode_is_reported_by_status_and_keeps_the_old_image() {
    let store = AssetStore::default();
    store.insert("banner", &solid_png(4, 4, [1, 1, 1, 255])).unwrap();
    let valid = png(32, 32, &gradient(32, 32));
    store.load("banner", valid[..valid.len() / 2].to_vec()).unwrap();
    assert!(store.wait_idle(WAIT));
    let status = store.status("banner");
    match &status {
        AssetStatus::Failed(error) => assert!(matches!(**error, AssetError::Corrupt { .. }), "{error:?}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(status.to_string().starts_with("decoding failed: "), "{status}");
    assert_eq!(store.size("banner"), Some((4, 4)), "the old image stays");
    // A later successful load clears the failure.
    store.load("banner", solid_png(6, 6, [2, 2, 2, 255])).unwrap();
    assert!(store.wait_idle(WAIT));
    assert!(matches!(store.status("banner"), AssetStatus::Ready(info) if info.width == 6));
}

#[test]
fn load_rejects_bad_names_and_oversized_input_without_queueing() {
    let store = AssetStore::new(AssetLimits { max_encoded_bytes: 10, ..AssetLimits::default() }, DecoderSettings::default());
    assert!(matches!(store.load("", vec![1]), Err(AssetError::BadName { .. })));
    assert!(matches!(store.load("big", vec![0; 11]), Err(AssetError::TooLarge { .. })));
    assert_eq!(store.pending(), 0);
}

#[test]
fn a_full_queue_returns_queue_full_instead_of_waiting() {
    let settings = DecoderSettings { threads: 1, queue_capacity: 1 };
    let store = AssetStore::new(AssetLimits::default(), settings);
    // Each decode takes milliseconds; queueing takes microseconds, so the one queue slot and
    // the one worker (once it has taken a job) fill up within the first calls.
    let bytes = slow_png();
    let mut accepted = 0;
    let mut full = None;
    for index in 0..50 {
        match store.load(&format!("big{index}"), bytes.clone()) {
            Ok(()) => accepted += 1,
            Err(error) => {
                full = Some(error);
                break;
            }
        }
    }
    match full {
        Some(AssetError::QueueFull { capacity: 1, .. }) => {}
        other => panic!("expected QueueFull after {accepted} loads, got {other:?}"),
    }
    assert!((1..=2).contains(&accepted), "accepted {accepted}");
    assert!(store.wait_idle(WAIT));
    assert_eq!(store.list().len(), accepted);
    assert_eq!(store.pending(), 0);
}

#[test]
fn remove_after_load_wins_over_the_queued_load() {
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings { threads: 1, queue_capacity: 4 });
    // Keep the worker busy so the second job is still queued when `remove` runs.
    store.load("busy", slow_png()).unwrap();
    store.load("doomed", solid_png(8, 8, [5, 5, 5, 255])).unwrap();
    store.remove("doomed");
    assert!(store.wait_idle(WAIT));
    assert!(store.get("doomed").is_none(), "a removed name must not come back");
    assert!(matches!(store.status("doomed"), AssetStatus::Unknown));
}

#[test]
fn insert_after_load_wins_over_the_queued_load() {
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings { threads: 1, queue_capacity: 4 });
    store.load("busy", slow_png()).unwrap();
    store.load("logo", solid_png(8, 8, [5, 5, 5, 255])).unwrap();
    assert!(matches!(store.status("logo"), AssetStatus::Decoding));
    store.insert("logo", &solid_png(3, 3, [7, 7, 7, 255])).unwrap();
    assert!(store.wait_idle(WAIT));
    assert_eq!(store.size("logo"), Some((3, 3)));
}

#[test]
fn later_load_of_a_name_wins_over_an_earlier_one() {
    let store = AssetStore::new(AssetLimits::default(), DecoderSettings { threads: 2, queue_capacity: 4 });
    // The first version is slow to decode, the second fast; with two workers the second
    // finishes first, and the first must not overwrite it.
    store.load("clip", slow_png()).unwrap();
    store.load("clip", solid_png(5, 5, [9, 9, 9, 255])).unwrap();
    assert!(store.wait_idle(WAIT));
    assert_eq!(store.size("clip"), Some((5, 5)));
    assert_eq!(store.total_decoded_bytes(), 5 * 5 * 4);
}
