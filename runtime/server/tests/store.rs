//! The show database (`showrunner_server::store`): round trips, versions, batches,
//! reopening, the single-owner lock, and that every acknowledged write survives `kill -9`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use showrunner_server::store::{DocKind, DocOp, ModuleRecord, Store, StoreError};

fn record_for(bytes: &[u8], name: &str, uploaded_at_ms: u64) -> ModuleRecord {
    ModuleRecord {
        hash: Store::module_hash(bytes),
        size: bytes.len() as u64,
        name: name.to_string(),
        version: "1.0.0".to_string(),
        uploaded_at_ms,
    }
}

#[test]
fn module_round_trip_and_listing_by_upload_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let late = b"\0asm late module".to_vec();
    let early = vec![7u8; 100_000];
    store
        .put_module(&record_for(&late, "late", 2_000), &late)
        .unwrap();
    store
        .put_module(&record_for(&early, "early", 1_000), &early)
        .unwrap();

    let hash = Store::module_hash(&early);
    assert_eq!(hash, blake3::hash(&early).to_hex().to_string());
    assert_eq!(hash.len(), 64);
    assert_eq!(
        store.module(&hash).unwrap(),
        Some(record_for(&early, "early", 1_000))
    );
    assert_eq!(store.module_bytes(&hash).unwrap(), Some(early.clone()));
    let names: Vec<String> = store
        .modules()
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["early", "late"]);
    assert_eq!(store.module("0".repeat(64).as_str()).unwrap(), None);
    assert_eq!(store.module_bytes("nope").unwrap(), None);
}

#[test]
fn put_module_is_idempotent_and_keeps_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bytes = b"same bytes".to_vec();
    store
        .put_module(&record_for(&bytes, "first", 10), &bytes)
        .unwrap();
    store
        .put_module(&record_for(&bytes, "second", 20), &bytes)
        .unwrap();
    let all = store.modules().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "first");
    assert_eq!(all[0].uploaded_at_ms, 10);
}

#[test]
fn put_module_refuses_a_record_that_does_not_match_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bytes = b"real bytes".to_vec();
    let mut wrong_hash = record_for(b"other bytes", "m", 1);
    wrong_hash.size = bytes.len() as u64;
    let err = store.put_module(&wrong_hash, &bytes).unwrap_err();
    assert!(matches!(err, StoreError::HashMismatch { .. }), "{err}");
    let mut wrong_size = record_for(&bytes, "m", 1);
    wrong_size.size += 1;
    let err = store.put_module(&wrong_size, &bytes).unwrap_err();
    assert!(matches!(err, StoreError::SizeMismatch { .. }), "{err}");
    assert!(store.modules().unwrap().is_empty());
    assert_eq!(
        store.module_bytes(&Store::module_hash(&bytes)).unwrap(),
        None
    );
}

#[test]
fn delete_module_removes_record_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bytes = b"to delete".to_vec();
    let hash = Store::module_hash(&bytes);
    store
        .put_module(&record_for(&bytes, "gone", 1), &bytes)
        .unwrap();
    assert!(store.delete_module(&hash).unwrap());
    assert!(!store.delete_module(&hash).unwrap());
    assert_eq!(store.module(&hash).unwrap(), None);
    assert_eq!(store.module_bytes(&hash).unwrap(), None);
}

#[test]
fn docs_round_trip_with_versions_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store
            .put_doc(DocKind::Scene, "main", &json!({"v": 1}))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_doc(DocKind::Scene, "main", &json!({"v": 2}))
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .put_doc(DocKind::Scene, "main", &json!({"v": 3}))
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .put_doc(DocKind::Layer, "main", &json!("a layer"))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_doc(DocKind::Scene, "b-2.x_y", &json!(null))
            .unwrap(),
        1
    );

    assert_eq!(
        store.doc(DocKind::Scene, "main").unwrap(),
        Some((3, json!({"v": 3})))
    );
    assert_eq!(
        store.doc(DocKind::Layer, "main").unwrap(),
        Some((1, json!("a layer")))
    );
    assert_eq!(store.doc(DocKind::Output, "main").unwrap(), None);
    assert_eq!(
        store.docs(DocKind::Scene).unwrap(),
        vec![
            ("b-2.x_y".to_string(), 1, json!(null)),
            ("main".to_string(), 3, json!({"v": 3}))
        ]
    );
    assert!(store.docs(DocKind::GuestState).unwrap().is_empty());
}

#[test]
fn delete_doc_removes_it_and_a_new_put_starts_at_version_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .put_doc(DocKind::Input, "cam1", &json!({"url": "rtmp://x"}))
        .unwrap();
    store
        .put_doc(DocKind::Input, "cam1", &json!({"url": "rtmp://y"}))
        .unwrap();
    assert!(store.delete_doc(DocKind::Input, "cam1").unwrap());
    assert!(!store.delete_doc(DocKind::Input, "cam1").unwrap());
    assert_eq!(store.doc(DocKind::Input, "cam1").unwrap(), None);
    assert_eq!(store.put_doc(DocKind::Input, "cam1", &json!(1)).unwrap(), 1);
}

#[test]
fn invalid_ids_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let too_long = "a".repeat(129);
    for id in ["", "has space", "slash/id", "ünicode", too_long.as_str()] {
        let err = store.put_doc(DocKind::Scene, id, &json!(1)).unwrap_err();
        match &err {
            StoreError::InvalidId { id: named } => assert_eq!(named, id),
            other => panic!("{id:?}: expected InvalidId, got {other}"),
        }
    }
    assert_eq!(
        store
            .put_doc(DocKind::Scene, &"a".repeat(128), &json!(1))
            .unwrap(),
        1
    );
    assert!(matches!(
        store.doc(DocKind::Scene, "a b"),
        Err(StoreError::InvalidId { .. })
    ));
    assert!(matches!(
        store.delete_doc(DocKind::Scene, ""),
        Err(StoreError::InvalidId { .. })
    ));
}

#[test]
fn batch_applies_all_ops_in_one_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.put_doc(DocKind::Layer, "old", &json!("old")).unwrap();
    store
        .batch(&[
            DocOp::Put(DocKind::Scene, "s1".into(), json!({"layers": ["l1"]})),
            DocOp::Put(DocKind::Layer, "l1".into(), json!({"module": "abc"})),
            DocOp::Put(DocKind::Layer, "l1".into(), json!({"module": "def"})),
            DocOp::Delete(DocKind::Layer, "old".into()),
        ])
        .unwrap();
    assert_eq!(
        store.doc(DocKind::Scene, "s1").unwrap(),
        Some((1, json!({"layers": ["l1"]})))
    );
    assert_eq!(
        store.doc(DocKind::Layer, "l1").unwrap(),
        Some((2, json!({"module": "def"})))
    );
    assert_eq!(store.doc(DocKind::Layer, "old").unwrap(), None);
}

#[test]
fn batch_with_an_invalid_id_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .put_doc(DocKind::Layer, "keep", &json!("kept"))
        .unwrap();
    let err = store
        .batch(&[
            DocOp::Put(DocKind::Scene, "s1".into(), json!(1)),
            DocOp::Delete(DocKind::Layer, "keep".into()),
            DocOp::Put(DocKind::Scene, "bad id!".into(), json!(2)),
        ])
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidId { id } if id == "bad id!"),
        "{err}"
    );
    assert_eq!(store.doc(DocKind::Scene, "s1").unwrap(), None);
    assert_eq!(
        store.doc(DocKind::Layer, "keep").unwrap(),
        Some((1, json!("kept")))
    );
}

#[test]
fn reopen_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested/data");
    let bytes = vec![42u8; 4096];
    let hash = Store::module_hash(&bytes);
    {
        let store = Store::open(&data_dir).unwrap();
        store
            .put_module(&record_for(&bytes, "kept", 5), &bytes)
            .unwrap();
        store
            .put_doc(DocKind::Output, "main", &json!({"rtmp": "rtmp://a"}))
            .unwrap();
        store
            .put_doc(DocKind::Output, "main", &json!({"rtmp": "rtmp://b"}))
            .unwrap();
        store
            .put_doc(DocKind::GuestState, "l1", &json!([1, 2, 3]))
            .unwrap();
    }
    assert!(data_dir.join("show.redb").is_file());
    let store = Store::open(&data_dir).unwrap();
    assert_eq!(
        store.module(&hash).unwrap(),
        Some(record_for(&bytes, "kept", 5))
    );
    assert_eq!(store.module_bytes(&hash).unwrap(), Some(bytes));
    assert_eq!(
        store.doc(DocKind::Output, "main").unwrap(),
        Some((2, json!({"rtmp": "rtmp://b"})))
    );
    assert_eq!(
        store.doc(DocKind::GuestState, "l1").unwrap(),
        Some((1, json!([1, 2, 3])))
    );
    assert_eq!(
        store
            .put_doc(DocKind::Output, "main", &json!(null))
            .unwrap(),
        3
    );
}

#[test]
fn second_open_of_the_same_dir_says_it_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("already in use by another showrunner"),
        "{message}"
    );
    assert!(
        message.contains(&dir.path().join("show.redb").display().to_string()),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("show.redb");
    std::fs::write(&path, vec![0xA5u8; 64 * 1024]).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn data_dir_that_cannot_be_created_is_a_create_dir_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&file.join("data")).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err}");
}

#[test]
fn store_is_send_and_sync_and_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path()).unwrap());
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    store
                        .put_doc(DocKind::Layer, "shared", &json!([t, i]))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(
        store.doc(DocKind::Layer, "shared").unwrap().map(|(v, _)| v),
        Some(40)
    );
}

/// Env var that turns `kill_child_writer` into the child of `acknowledged_writes_survive_kill_9`.
const CHILD_DIR_ENV: &str = "SHOWRUNNER_STORE_TEST_CHILD_DIR";
const ACK_PREFIX: &str = "ACK ";

#[test]
fn acknowledged_writes_survive_kill_9() {
    const WANTED: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "kill_child_writer",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.len() < WANTED && Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(id) = line.strip_prefix(ACK_PREFIX) {
                    acked.push(id.to_string());
                }
            }
            _ => break,
        }
    }
    // While the child holds the file, another process cannot open it.
    let in_use = Store::open(dir.path());
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(
        matches!(in_use, Err(StoreError::InUse { .. })),
        "{in_use:?}"
    );
    assert_eq!(acked.len(), WANTED, "the child acknowledged only {acked:?}");

    let store = Store::open(dir.path()).unwrap();
    for id in &acked {
        let n: u64 = id.trim_start_matches("doc-").parse().unwrap();
        assert_eq!(
            store.doc(DocKind::Scene, id).unwrap(),
            Some((1, json!({"n": n}))),
            "lost {id}"
        );
    }
    let stored = store.docs(DocKind::Scene).unwrap().len();
    assert!(stored >= WANTED, "{stored} stored");
}

/// The child half of `acknowledged_writes_survive_kill_9`: writes until killed, printing
/// each id only after `put_doc` returned. Does nothing without its env var.
#[test]
#[ignore = "child process of acknowledged_writes_survive_kill_9"]
fn kill_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut out = std::io::stdout().lock();
    for n in 0u64.. {
        let id = format!("doc-{n}");
        store
            .put_doc(DocKind::Scene, &id, &json!({"n": n}))
            .unwrap();
        writeln!(out, "{ACK_PREFIX}{id}").unwrap();
        out.flush().unwrap();
    }
}
