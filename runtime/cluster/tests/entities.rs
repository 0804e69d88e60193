//! Versioned entities on a real redis-server: round trips, compare-and-set conflicts,
//! concurrent writers, tombstone versions, limits and the unreachable error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{RedisServer, node, node_with, test_options};
use showrunner_cluster::{Cluster, ClusterError, ClusterOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_list_delete_round_trip() {
    let redis = RedisServer::start();
    let a = node(&redis, "a").await;

    assert_eq!(a.get("scene", "intro").await.unwrap(), None);
    let first = a
        .put("scene", "intro", b"{\"v\":1}", Some(0))
        .await
        .unwrap();
    assert_eq!(first.version, 1);
    let second = a
        .put("scene", "intro", b"{\"v\":2}", Some(1))
        .await
        .unwrap();
    assert_eq!(second.version, 2);
    assert_eq!(second.change.0, first.change.0 + 1);
    a.put("scene", "outro", b"bye", None).await.unwrap();
    a.put("layer", "intro", b"other kind", None).await.unwrap();

    assert_eq!(
        a.get("scene", "intro").await.unwrap(),
        Some((2, b"{\"v\":2}".to_vec()))
    );
    let snapshot = a.list("scene").await.unwrap();
    let listed: Vec<(&str, u64, &[u8])> = snapshot
        .entities
        .iter()
        .map(|e| (e.id.as_str(), e.version, e.bytes.as_slice()))
        .collect();
    assert_eq!(
        listed,
        vec![("intro", 2, &b"{\"v\":2}"[..]), ("outro", 1, &b"bye"[..])]
    );
    assert_eq!(
        snapshot.position.0, 4,
        "four changes were made before the list"
    );

    let deleted = a.delete("scene", "intro", Some(2)).await.unwrap().unwrap();
    assert_eq!(
        deleted.version, 3,
        "a delete is a change with its own version"
    );
    assert_eq!(a.get("scene", "intro").await.unwrap(), None);
    assert_eq!(a.delete("scene", "intro", None).await.unwrap(), None);
    let ids: Vec<String> = a
        .list("scene")
        .await
        .unwrap()
        .entities
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec!["outro".to_owned()]);

    // Recreated after a delete: versions keep rising, so "newer" is always "higher".
    let recreated = a.put("scene", "intro", b"again", Some(0)).await.unwrap();
    assert_eq!(recreated.version, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_expected_version_is_a_conflict_with_the_current_version() {
    let redis = RedisServer::start();
    let a = node(&redis, "a").await;
    a.put("prop", "title", b"one", None).await.unwrap();
    a.put("prop", "title", b"two", None).await.unwrap();

    let stale = a.put("prop", "title", b"stale", Some(1)).await.unwrap_err();
    match stale {
        ClusterError::Conflict {
            expected, current, ..
        } => {
            assert_eq!((expected, current), (1, 2));
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(
        a.get("prop", "title").await.unwrap(),
        Some((2, b"two".to_vec()))
    );

    let create_existing = a.put("prop", "title", b"x", Some(0)).await.unwrap_err();
    assert!(matches!(
        create_existing,
        ClusterError::Conflict { current: 2, .. }
    ));
    let update_missing = a.put("prop", "nothing", b"x", Some(3)).await.unwrap_err();
    assert!(matches!(
        update_missing,
        ClusterError::Conflict { current: 0, .. }
    ));
    let stale_delete = a.delete("prop", "title", Some(1)).await.unwrap_err();
    assert!(matches!(
        stale_delete,
        ClusterError::Conflict { current: 2, .. }
    ));
    assert!(!stale_delete.is_unavailable());
    assert_eq!(
        a.last_change().await.unwrap().0,
        2,
        "refused writes publish nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_writers_with_the_same_base_version_exactly_one_wins() {
    let redis = RedisServer::start();
    let a = node(&redis, "a").await;
    let b = node(&redis, "b").await;
    for round in 0..50u64 {
        let id = format!("race-{round}");
        let base = a.put("prop", &id, b"base", None).await.unwrap().version;
        let (from_a, from_b) = tokio::join!(
            tokio::spawn({
                let (a, id) = (a.clone(), id.clone());
                async move { a.put("prop", &id, b"from a", Some(base)).await }
            }),
            tokio::spawn({
                let (b, id) = (b.clone(), id.clone());
                async move { b.put("prop", &id, b"from b", Some(base)).await }
            }),
        );
        let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
        let (winner, loser, winning_bytes): (_, _, &[u8]) = match (&from_a, &from_b) {
            (Ok(w), Err(l)) => (w, l, b"from a"),
            (Err(l), Ok(w)) => (w, l, b"from b"),
            _ => {
                panic!("round {round}: exactly one writer must win, got {from_a:?} and {from_b:?}")
            }
        };
        assert_eq!(winner.version, base + 1);
        assert!(matches!(loser, ClusterError::Conflict { current, .. } if *current == base + 1));
        assert_eq!(
            a.get("prop", &id).await.unwrap(),
            Some((base + 1, winning_bytes.to_vec()))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_names_are_enforced() {
    let redis = RedisServer::start();
    let options = ClusterOptions {
        max_value_bytes: 1024,
        max_list_entries: 3,
        ..test_options()
    };
    let a = node_with(&redis, "a", options).await;
    let too_large = a.put("scene", "big", &[0u8; 1025], None).await.unwrap_err();
    assert!(matches!(
        too_large,
        ClusterError::TooLarge {
            size: 1025,
            limit: 1024,
            ..
        }
    ));
    a.put("scene", "fits", &[0u8; 1024], None).await.unwrap();

    for bad_kind in ["", "a:b", "has space"] {
        let error = a.put(bad_kind, "x", b"", None).await.unwrap_err();
        assert!(
            matches!(error, ClusterError::InvalidName { what: "kind", .. }),
            "{bad_kind:?}"
        );
    }
    let long_id = "x".repeat(257);
    assert!(matches!(
        a.get("scene", &long_id).await.unwrap_err(),
        ClusterError::InvalidName { what: "id", .. }
    ));
    // Ids may hold ':' (kinds may not), so keys stay unambiguous.
    a.put("scene", "a:b", b"colon", None).await.unwrap();
    assert_eq!(
        a.get("scene", "a:b").await.unwrap(),
        Some((1, b"colon".to_vec()))
    );

    for i in 0..3 {
        a.put("layer", &format!("l{i}"), b"", None).await.unwrap();
    }
    assert_eq!(a.list("layer").await.unwrap().entities.len(), 3);
    a.put("layer", "l3", b"", None).await.unwrap();
    let too_many = a.list("layer").await.unwrap_err();
    assert!(matches!(
        too_many,
        ClusterError::TooManyEntities {
            count: 4,
            limit: 3,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_port_without_redis_says_what_to_do() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let error = Cluster::connect(&format!("redis://127.0.0.1:{port}/"), "a", test_options())
        .await
        .err()
        .expect("nothing listens there");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(error.is_unavailable());
    let message = error.to_string();
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("start redis-server"), "{message}");

    let bad_url = Cluster::connect("http://nowhere", "a", test_options())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(bad_url, ClusterError::InvalidUrl { .. }),
        "{bad_url}"
    );
    let bad_node = Cluster::connect("redis://127.0.0.1:1/", "", test_options())
        .await
        .err()
        .unwrap();
    assert!(matches!(
        bad_node,
        ClusterError::InvalidName {
            what: "node id",
            ..
        }
    ));
}
