//! `AssetStore` behaviour: sharing by content hash, replacing and removing, the store-wide
//! budget, missing-name warnings and readers racing writers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use common::{gradient, png, rgba};
use showrunner_assets::{AssetError, AssetLimits, AssetStatus, AssetStore, ContentHash, LimitKind};

fn solid_png(width: u32, height: u32, colour: [u8; 4]) -> Vec<u8> {
    png(width, height, &rgba(width, height, |_, _| colour))
}

#[test]
fn same_bytes_under_two_names_share_one_image() {
    let store = AssetStore::default();
    let bytes = png(16, 16, &gradient(16, 16));
    let a = store.insert("a", &bytes).unwrap();
    let b = store.insert("b", &bytes).unwrap();
    assert_eq!(a.hash, b.hash);
    assert!(Arc::ptr_eq(&store.get("a").unwrap(), &store.get("b").unwrap()));
    assert_eq!(store.total_decoded_bytes(), 16 * 16 * 4, "a shared image counts once");
    assert!(store.remove("a"));
    assert_eq!(store.total_decoded_bytes(), 16 * 16 * 4, "still held by b");
    assert!(store.remove("b"));
    assert_eq!(store.total_decoded_bytes(), 0);
    assert!(store.get_by_hash(&a.hash).is_none());
}

#[test]
fn content_hash_is_blake3_of_the_encoded_bytes() {
    let bytes = solid_png(2, 2, [1, 2, 3, 255]);
    let info = AssetStore::default().insert("x", &bytes).unwrap();
    let hex = info.hash.to_string();
    assert_eq!(hex.len(), 64);
    assert_eq!(info.hash, ContentHash::of(&bytes));
    assert_eq!(info.hash.id(), u64::from_le_bytes(info.hash.as_bytes()[..8].try_into().unwrap()));
    assert_eq!(&hex[..2], format!("{:02x}", info.hash.as_bytes()[0]));
}

#[test]
fn replacing_a_name_swaps_the_image_and_frees_the_old_one() {
    let store = AssetStore::default();
    store.insert("logo", &solid_png(4, 4, [255, 0, 0, 255])).unwrap();
    let old = store.get("logo").unwrap();
    let info = store.insert("logo", &solid_png(8, 2, [0, 0, 255, 255])).unwrap();
    let new = store.get("logo").unwrap();
    assert!(!Arc::ptr_eq(&old, &new));
    assert_eq!((new.width, new.height), (8, 2));
    assert_eq!(new.hash, info.hash);
    assert_eq!(&new.frames[0].pixels[..4], &[0, 0, 255, 255]);
    assert_eq!(store.total_decoded_bytes(), 8 * 2 * 4);
    assert_eq!(store.list().len(), 1);
    assert!(store.get_by_hash(&old.hash).is_none());
}

#[test]
fn remove_list_and_status() {
    let store = AssetStore::default();
    store.insert("b", &solid_png(2, 2, [0, 0, 0, 255])).unwrap();
    store.insert("a", &solid_png(3, 1, [9, 9, 9, 255])).unwrap();
    let names: Vec<_> = store.list().into_iter().map(|info| (info.name, info.width, info.height)).collect();
    assert_eq!(names, [("a".to_owned(), 3, 1), ("b".to_owned(), 2, 2)]);
    assert!(matches!(store.status("a"), AssetStatus::Ready(info) if info.width == 3));
    assert!(store.remove("a"));
    assert!(!store.remove("a"));
    assert!(store.get("a").is_none() && store.size("a").is_none());
    assert!(matches!(store.status("a"), AssetStatus::Unknown));
}

#[test]
fn store_total_budget_is_enforced_and_freed_by_removal() {
    // Each 32×32 image is 4 KiB decoded; the store holds 10 KiB.
    let limits = AssetLimits { max_total_decoded_bytes: 10 * 1024, ..AssetLimits::default() };
    let store = AssetStore::new(limits, Default::default());
    store.insert("one", &solid_png(32, 32, [1, 0, 0, 255])).unwrap();
    store.insert("two", &solid_png(32, 32, [2, 0, 0, 255])).unwrap();
    let error = store.insert("three", &solid_png(32, 32, [3, 0, 0, 255])).unwrap_err();
    match &error {
        AssetError::TooLarge { what: LimitKind::StoreTotalBytes, actual: Some(12288), limit: 10240, name } => assert_eq!(name, "three"),
        other => panic!("expected store budget error, got {other:?}"),
    }
    assert!(store.get("three").is_none());
    // Replacing a name at the edge of the budget counts the bytes it frees.
    store.insert("two", &solid_png(32, 32, [4, 0, 0, 255])).unwrap();
    // Sharing an existing image costs nothing.
    store.insert("one-again", &solid_png(32, 32, [1, 0, 0, 255])).unwrap();
    assert!(store.remove("two"));
    store.insert("three", &solid_png(32, 32, [3, 0, 0, 255])).unwrap();
    assert_eq!(store.total_decoded_bytes(), 8 * 1024);
}

#[test]
fn note_missing_is_true_once_per_name_until_the_name_is_stored() {
    let store = AssetStore::default();
    assert!(store.note_missing("ghost"));
    assert!(!store.note_missing("ghost"));
    assert!(store.note_missing("other"));
    store.insert("ghost", &solid_png(1, 1, [0, 0, 0, 255])).unwrap();
    assert!(!store.note_missing("ghost"), "present names are not missing");
    assert!(store.remove("ghost"));
    assert!(store.note_missing("ghost"), "warns again after removal");
    assert!(!store.note_missing("ghost"));
}

#[test]
fn note_missing_remembers_a_bounded_number_of_names() {
    let limits = AssetLimits { max_remembered_names: 3, ..AssetLimits::default() };
    let store = AssetStore::new(limits, Default::default());
    let warned = (0..10).filter(|i| store.note_missing(&format!("m{i}"))).count();
    assert_eq!(warned, 3);
    assert!(!store.note_missing("m0"));
    // A huge guest-supplied name is remembered by its first 256 bytes.
    let store = AssetStore::default();
    assert!(store.note_missing(&"y".repeat(100_000)));
    assert!(!store.note_missing(&"y".repeat(100_000)));
}

#[test]
fn readers_never_see_a_gap_while_a_name_is_replaced() {
    let store = AssetStore::default();
    let versions: Vec<Vec<u8>> = (0..4u8).map(|i| solid_png(64 + u32::from(i), 32, [i * 60, 0, 0, 255])).collect();
    store.insert("live", &versions[0]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, stop, reads) = (store.clone(), Arc::clone(&stop), Arc::clone(&reads));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let image = store.get("live").expect("a present name must never disappear during a replace");
                    assert_eq!(image.frames[0].pixels.len(), (image.width * image.height * 4) as usize);
                    assert!(store.size("live").is_some());
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for round in 0..200 {
        store.insert("live", &versions[round % versions.len()]).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert_eq!(store.total_decoded_bytes(), store.get("live").unwrap().decoded_bytes());
}

#[test]
fn store_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<AssetStore>();
    let store = AssetStore::default();
    let clone = store.clone();
    clone.insert("shared", &solid_png(1, 1, [0, 0, 0, 255])).unwrap();
    assert!(store.get("shared").is_some());
}
