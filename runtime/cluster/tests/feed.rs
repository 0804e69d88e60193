//! The change feed on a real redis-server: every change in order across nodes, catch-up
//! from an old id, a trimmed id reported, and resync from a snapshot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{RedisServer, node, node_with, test_options};
use showrunner_cluster::{Change, ChangeFeed, ChangeId, ChangeOp, ClusterError, ClusterOptions};

async fn next_change(feed: &mut ChangeFeed) -> Change {
    match tokio::time::timeout(Duration::from_secs(5), feed.next()).await {
        Ok(Some(Ok(change))) => change,
        other => panic!("expected a change, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_every_change_in_order() {
    let redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    // A small channel and batch: the reader waits on the subscriber and reads in many steps.
    let small = ClusterOptions {
        feed_capacity: 8,
        feed_batch: 5,
        ..test_options()
    };
    let b = node_with(&redis, "node-b", small).await;
    let mut feed = b.subscribe(None).await.unwrap();

    let writer = tokio::spawn(async move {
        let mut expected = Vec::new();
        for i in 0..300u32 {
            let id = format!("p{}", i % 7);
            let written = if i % 5 == 4 {
                a.delete("prop", &id, None)
                    .await
                    .unwrap()
                    .map(|w| (w, ChangeOp::Delete))
            } else {
                let bytes = i.to_le_bytes().to_vec();
                let w = a.put("prop", &id, &bytes, None).await.unwrap();
                Some((w, ChangeOp::Put(bytes)))
            };
            if let Some((w, op)) = written {
                expected.push((w.change, id, w.version, op));
            }
        }
        expected
    });
    let expected = writer.await.unwrap();
    assert!(expected.len() > 250);
    for (index, (change_id, id, version, op)) in expected.into_iter().enumerate() {
        let change = next_change(&mut feed).await;
        assert_eq!(change.id, change_id, "change #{index}");
        assert_eq!(change.id.0, index as u64 + 1, "ids are consecutive");
        assert_eq!(
            (change.kind.as_str(), change.entity_id.as_str()),
            ("prop", id.as_str())
        );
        assert_eq!(change.version, version);
        assert_eq!(change.node, "node-a");
        assert_eq!(change.op, op);
    }
    let nothing_more = tokio::time::timeout(Duration::from_millis(300), feed.next()).await;
    assert!(nothing_more.is_err(), "no extra changes: {nothing_more:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_started_from_an_old_id_catches_up_then_goes_live() {
    let redis = RedisServer::start();
    let a = node(&redis, "a").await;
    for i in 0..20u8 {
        a.put("scene", &format!("s{i}"), &[i], None).await.unwrap();
    }
    // A node that stopped after applying change 12 comes back.
    let b = node(&redis, "b").await;
    let mut feed = b.subscribe(Some(ChangeId(12))).await.unwrap();
    for expected in 13..=20u64 {
        let change = next_change(&mut feed).await;
        assert_eq!(change.id, ChangeId(expected));
        assert_eq!(change.entity_id, format!("s{}", expected - 1));
    }
    let live = a.put("scene", "live", b"now", None).await.unwrap();
    let change = next_change(&mut feed).await;
    assert_eq!(
        (change.id, change.entity_id.as_str()),
        (live.change, "live")
    );
    assert_eq!(change.op, ChangeOp::Put(b"now".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trimmed_id_is_reported_not_skipped() {
    let redis = RedisServer::start();
    let options = ClusterOptions {
        changes_max_len: 10,
        ..test_options()
    };
    let a = node_with(&redis, "a", options).await;
    for i in 0..1000u32 {
        a.put("prop", "counter", &i.to_le_bytes(), None)
            .await
            .unwrap();
    }
    let mut raw = redis
        .raw_client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let kept: usize = redis::cmd("XLEN")
        .arg("showrunner:{test}:changes")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        (10..=200).contains(&kept),
        "MAXLEN ~ 10 keeps {kept} entries"
    );

    let mut feed = a.subscribe(Some(ChangeId(5))).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), feed.next()).await {
        Ok(Some(Err(ClusterError::Trimmed { after, oldest_kept }))) => {
            assert_eq!(after, ChangeId(5));
            assert_eq!(oldest_kept.0, 1000 - kept as u64);
        }
        other => panic!("expected Trimmed, got {other:?}"),
    }
    assert!(feed.next().await.is_none(), "the feed ends after Trimmed");

    // The recent past is still there: a node 5 changes behind catches up.
    let mut recent = a.subscribe(Some(ChangeId(995))).await.unwrap();
    for expected in 996..=1000u64 {
        assert_eq!(next_change(&mut recent).await.id, ChangeId(expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_resyncs_from_a_snapshot_and_its_position() {
    let redis = RedisServer::start();
    let a = node(&redis, "a").await;
    for i in 0..10u8 {
        a.put("layer", &format!("l{i}"), &[i], None).await.unwrap();
    }
    let b = node(&redis, "b").await;
    let snapshot = b.list("layer").await.unwrap();
    assert_eq!(snapshot.entities.len(), 10);
    let mut local: std::collections::BTreeMap<String, (u64, Vec<u8>)> = snapshot
        .entities
        .into_iter()
        .map(|e| (e.id, (e.version, e.bytes)))
        .collect();
    let mut feed = b.subscribe(Some(snapshot.position)).await.unwrap();
    a.put("layer", "l3", b"changed", Some(1)).await.unwrap();
    a.delete("layer", "l4", Some(1)).await.unwrap();
    for _ in 0..2 {
        let change = next_change(&mut feed).await;
        let held = local.get(&change.entity_id).map_or(0, |(v, _)| *v);
        assert!(change.version > held);
        match change.op {
            ChangeOp::Put(bytes) => {
                local.insert(change.entity_id, (change.version, bytes));
            }
            ChangeOp::Delete => {
                local.remove(&change.entity_id);
            }
        }
    }
    let fresh: std::collections::BTreeMap<String, (u64, Vec<u8>)> = a
        .list("layer")
        .await
        .unwrap()
        .entities
        .into_iter()
        .map(|e| (e.id, (e.version, e.bytes)))
        .collect();
    assert_eq!(local, fresh);
}
