//! Module blobs on a real redis-server: round trip, idempotent store, wrong hash and
//! oversize refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{RedisServer, node, node_with, test_options};
use showrunner_cluster::{ClusterError, ClusterOptions, blob_hash};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_stored_on_one_node_is_read_on_another() {
    let redis = RedisServer::start();
    let a = node(&redis, "a").await;
    let b = node(&redis, "b").await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let hash = blob_hash(&bytes);
    assert_eq!(hash, blake3::hash(&bytes).to_hex().to_string());

    assert_eq!(b.get_blob(&hash).await.unwrap(), None);
    assert!(!b.has_blob(&hash).await.unwrap());
    assert!(
        a.put_blob(&hash, &bytes).await.unwrap(),
        "stored the first time"
    );
    assert!(
        !a.put_blob(&hash, &bytes).await.unwrap(),
        "already there the second time"
    );
    assert!(b.has_blob(&hash).await.unwrap());
    assert_eq!(b.get_blob(&hash).await.unwrap(), Some(bytes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_hash_or_an_oversize_blob_is_refused() {
    let redis = RedisServer::start();
    let options = ClusterOptions {
        max_blob_bytes: 4096,
        ..test_options()
    };
    let a = node_with(&redis, "a", options).await;

    let bytes = vec![1u8; 100];
    let other_hash = blob_hash(b"something else");
    match a.put_blob(&other_hash, &bytes).await.unwrap_err() {
        ClusterError::BlobHashMismatch { claimed, actual } => {
            assert_eq!(claimed, other_hash);
            assert_eq!(actual, blob_hash(&bytes));
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert_eq!(
        a.get_blob(&other_hash).await.unwrap(),
        None,
        "nothing stored"
    );

    let big = vec![2u8; 4097];
    let error = a.put_blob(&blob_hash(&big), &big).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClusterError::TooLarge {
                size: 4097,
                limit: 4096,
                ..
            }
        ),
        "{error}"
    );
    let fits = vec![2u8; 4096];
    assert!(a.put_blob(&blob_hash(&fits), &fits).await.unwrap());

    for bad in [
        "",
        "abc",
        &blob_hash(&bytes).to_uppercase(),
        &format!("{}:x", &other_hash[..62]),
    ] {
        let error = a.get_blob(bad).await.unwrap_err();
        assert!(
            matches!(
                error,
                ClusterError::InvalidName {
                    what: "blob hash",
                    ..
                }
            ),
            "{bad:?}"
        );
    }
}
