//! `AssetStore::load_dir`: images named by file stem, detected by content; everything else
//! skipped and reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use common::{gif, gradient, jpeg, png, webp_lossless};
use showrunner_assets::{AssetError, AssetStore};

#[test]
fn load_dir_loads_images_by_stem_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    fs::write(path.join("logo.png"), png(10, 5, &gradient(10, 5))).unwrap();
    fs::write(path.join("photo.jpg"), jpeg(16, 8, &gradient(16, 8))).unwrap();
    fs::write(path.join("sprite.webp"), webp_lossless(3, 3, &gradient(3, 3))).unwrap();
    // Content decides the format, not the extension.
    fs::write(path.join("spinner.dat"), gif(4, 4, &[([255, 0, 0, 255], 50), ([0, 255, 0, 255], 50)])).unwrap();
    fs::write(path.join("notes.txt"), "not an image").unwrap();
    fs::write(path.join("fake.png"), "<html></html>").unwrap();
    fs::write(path.join("logo.webp"), webp_lossless(2, 2, &gradient(2, 2))).unwrap();
    fs::create_dir(path.join("nested")).unwrap();
    fs::write(path.join("nested").join("deep.png"), png(1, 1, &[0, 0, 0, 255])).unwrap();

    let store = AssetStore::default();
    let report = store.load_dir(path).unwrap();

    let loaded: Vec<_> = report.loaded.iter().map(|info| (info.name.as_str(), info.width, info.height, info.frames)).collect();
    assert_eq!(loaded, [("logo", 10, 5, 1), ("photo", 16, 8, 1), ("spinner", 4, 4, 2), ("sprite", 3, 3, 1)]);
    assert_eq!(store.size("logo"), Some((10, 5)), "logo.png comes first in file-name order");
    assert!(store.get("deep").is_none(), "subfolders are not loaded");

    let mut skipped: Vec<_> = report.skipped.iter().map(|file| (file.path.file_name().unwrap().to_str().unwrap(), &file.error)).collect();
    skipped.sort_by_key(|(name, _)| *name);
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(matches!(skipped[0], ("fake.png", AssetError::Unsupported { .. })));
    assert!(matches!(skipped[1], ("logo.webp", AssetError::BadName { .. })), "duplicate stem: {:?}", skipped[1]);
    assert!(matches!(skipped[2], ("notes.txt", AssetError::Unsupported { .. })));
}

#[test]
fn load_dir_of_a_missing_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    match AssetStore::default().load_dir(&missing) {
        Err(AssetError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io error, got {other:?}"),
    }
}
