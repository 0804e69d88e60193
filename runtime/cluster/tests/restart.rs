//! Redis restarted mid-show (append-only file, `kill -9`): acknowledged writes survive, the
//! client reconnects by itself, the health signal shows down then up, and a change feed
//! continues where it stopped without a gap.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{RedisServer, node};
use showrunner_cluster::{ChangeId, ChangeOp, Health};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_a_redis_restart_and_clients_reconnect() {
    let mut redis = RedisServer::start_persistent();
    let a = node(&redis, "node-a").await;
    let b = node(&redis, "node-b").await;
    let mut feed = b.subscribe(None).await.unwrap();
    let mut health = a.watch_health();
    assert_eq!(*health.borrow_and_update(), Health::Up);

    let mut acknowledged = Vec::new();
    for i in 0..100u32 {
        let id = format!("p{i}");
        let written = a.put("prop", &id, &i.to_le_bytes(), None).await.unwrap();
        acknowledged.push((id, written.version, i.to_le_bytes().to_vec()));
    }
    let hash = showrunner_cluster::blob_hash(b"module bytes");
    a.put_blob(&hash, b"module bytes").await.unwrap();

    redis.kill();
    let killed = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), health.wait_for(|h| !h.is_up()))
        .await
        .expect("health shows Redis down")
        .unwrap();
    println!("health down {:?} after kill -9", killed.elapsed());
    match a.health() {
        Health::Down { reason } => assert!(reason.contains("Redis does not answer"), "{reason}"),
        Health::Up => panic!("health must say down"),
    }
    let refused = a.put("prop", "while-down", b"x", None).await.unwrap_err();
    assert!(refused.is_unavailable(), "{refused}");
    assert!(a.ping().await.is_err());

    redis.restart();
    let restarted = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), health.wait_for(Health::is_up))
        .await
        .expect("health shows Redis up again")
        .unwrap();
    println!("health up {:?} after restart", restarted.elapsed());

    // Nothing acknowledged was lost, on either node's connection.
    for (id, version, bytes) in &acknowledged {
        assert_eq!(
            b.get("prop", id).await.unwrap(),
            Some((*version, bytes.clone())),
            "{id}"
        );
    }
    assert_eq!(a.list("prop").await.unwrap().entities.len(), 100);
    assert_eq!(
        b.get_blob(&hash).await.unwrap().as_deref(),
        Some(&b"module bytes"[..])
    );
    assert_eq!(
        a.get("prop", "while-down").await.unwrap(),
        None,
        "the refused write did not land"
    );

    // Writes work again (scripts are reloaded into the fresh script cache).
    let after = a
        .put("prop", "p0", b"after restart", Some(1))
        .await
        .unwrap();
    assert_eq!((after.version, after.change), (2, ChangeId(101)));

    // The feed saw the 100 changes before the crash and continues with the next one.
    for expected in 1..=101u64 {
        let change = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .expect("feed delivers")
            .expect("feed open")
            .expect("no gap");
        assert_eq!(change.id, ChangeId(expected));
        if expected == 101 {
            assert_eq!(change.op, ChangeOp::Put(b"after restart".to_vec()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_reports_history_lost_when_redis_comes_back_empty() {
    let mut redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let mut feed = a.subscribe(None).await.unwrap();
    for i in 0..5u8 {
        a.put("prop", "x", &[i], None).await.unwrap();
    }
    for _ in 0..5 {
        feed.next().await.unwrap().unwrap();
    }
    // Memory-only Redis: a restart loses everything, including the change counter.
    redis.restart();
    let error = tokio::time::timeout(Duration::from_secs(5), feed.next())
        .await
        .expect("the feed notices")
        .expect("an event")
        .unwrap_err();
    assert!(
        matches!(
            error,
            showrunner_cluster::ClusterError::Trimmed {
                after: ChangeId(5),
                ..
            }
        ),
        "{error}"
    );
}
