//! Leases on a real redis-server: one owner at a time, renewal, takeover after the owner
//! stops renewing, release only by the owner, and the keeper reporting loss.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{RedisServer, node};
use showrunner_cluster::LeaseState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_of_two_nodes_acquires() {
    let redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let b = node(&redis, "node-b").await;
    let ttl = Duration::from_secs(5);
    let (from_a, from_b) =
        tokio::join!(a.acquire("output/main", ttl), b.acquire("output/main", ttl));
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    assert!(
        from_a.is_some() != from_b.is_some(),
        "exactly one wins: {from_a:?} {from_b:?}"
    );
    let winner = if from_a.is_some() { "node-a" } else { "node-b" };
    assert_eq!(
        a.owner("output/main").await.unwrap().as_deref(),
        Some(winner)
    );
    assert_eq!(b.owner("output/other").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_holds_the_lease_past_its_ttl_and_release_frees_it() {
    let redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let b = node(&redis, "node-b").await;
    let ttl = Duration::from_millis(300);
    let lease = a.acquire("output/rtmp", ttl).await.unwrap().unwrap();
    let keeper = a.keep(lease);
    // Four ttls later it is still ours and nobody else can take it.
    for _ in 0..8 {
        tokio::time::sleep(ttl / 2).await;
        assert_eq!(b.acquire("output/rtmp", ttl).await.unwrap(), None);
    }
    assert_eq!(keeper.state(), LeaseState::Held);
    assert_eq!(
        a.owner("output/rtmp").await.unwrap().as_deref(),
        Some("node-a")
    );

    assert!(keeper.release().await.unwrap());
    assert_eq!(a.owner("output/rtmp").await.unwrap(), None);
    assert!(b.acquire("output/rtmp", ttl).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_owner_stops_renewing_the_other_node_acquires_within_ttl() {
    let redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let b = node(&redis, "node-b").await;
    let ttl = Duration::from_millis(600);
    let lease = a.acquire("output/rec", ttl).await.unwrap().unwrap();
    let keeper = a.keep(lease);
    tokio::time::sleep(ttl).await;
    // The owner "crashes": it stops renewing and never releases.
    drop(keeper);
    let stopped = Instant::now();
    let taken = loop {
        if b.acquire("output/rec", ttl).await.unwrap().is_some() {
            break stopped.elapsed();
        }
        assert!(stopped.elapsed() < ttl * 3, "node-b never got the lease");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    println!("lease taken over {taken:?} after the owner stopped (ttl {ttl:?})");
    assert!(taken <= ttl + Duration::from_millis(150), "took {taken:?}");
    assert_eq!(
        b.owner("output/rec").await.unwrap().as_deref(),
        Some("node-b")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_or_renew_by_a_non_owner_does_nothing() {
    let redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let b = node(&redis, "node-b").await;
    let ttl = Duration::from_secs(5);
    let lease = a.acquire("output/main", ttl).await.unwrap().unwrap();
    assert!(!b.release("output/main").await.unwrap());
    assert_eq!(
        a.owner("output/main").await.unwrap().as_deref(),
        Some("node-a")
    );
    // node-b holding a copy of node-a's lease still cannot renew it: the value is the node id.
    assert!(!b.renew(&lease).await.unwrap());
    assert!(a.renew(&lease).await.unwrap());
    assert!(!b.release("output/never-taken").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_reports_a_lease_taken_by_another_node() {
    let redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let b = node(&redis, "node-b").await;
    let ttl = Duration::from_millis(300);
    let mut keeper = a.keep(a.acquire("output/main", ttl).await.unwrap().unwrap());
    // Someone removes the key behind node-a's back and node-b takes it.
    let mut raw = redis
        .raw_client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg("showrunner:{test}:lease:output/main")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(b.acquire("output/main", ttl).await.unwrap().is_some());
    let started = Instant::now();
    let reason = tokio::time::timeout(ttl * 2, keeper.lost())
        .await
        .expect("loss reported");
    assert!(started.elapsed() <= ttl / 3 + Duration::from_millis(150));
    assert!(reason.contains("held by node node-b"), "{reason}");
    assert!(matches!(keeper.state(), LeaseState::Lost { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_reports_loss_when_redis_is_gone_for_too_long() {
    let mut redis = RedisServer::start();
    let a = node(&redis, "node-a").await;
    let ttl = Duration::from_millis(600);
    let mut keeper = a.keep(a.acquire("output/main", ttl).await.unwrap().unwrap());
    redis.kill();
    let killed = Instant::now();
    let reason = tokio::time::timeout(ttl * 3, keeper.lost())
        .await
        .expect("loss reported");
    // Reported before the key could have expired in Redis (ttl after the last renewal).
    assert!(
        killed.elapsed() < ttl + Duration::from_millis(100),
        "{:?}",
        killed.elapsed()
    );
    assert!(reason.contains("could not be renewed in time"), "{reason}");
}
