//! Propagation latency of entity changes between two nodes, and puts per second.
//!
//! Run: `redis-server --port 6390 --save "" --appendonly no &` then
//! `cargo run --release -p showrunner-cluster --example propagation -- redis://127.0.0.1:6390/ [COUNT]`
//!
//! Node A puts COUNT small values one after another; node B is subscribed and records, for
//! each change, the time from just before A's `put` until B's feed yields it.

use std::time::{Duration, Instant};

use showrunner_cluster::{Cluster, ClusterOptions};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".to_owned());
    let count: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(2000);
    let options = ClusterOptions {
        cluster_name: format!("propagation-{}", std::process::id()),
        ..ClusterOptions::default()
    };
    let a = Cluster::connect(&url, "node-a", options.clone()).await?;
    let b = Cluster::connect(&url, "node-b", options).await?;
    let mut feed = b.subscribe(None).await?;

    let mut latencies = Vec::with_capacity(count);
    let payload = vec![b'x'; 256];
    for i in 0..count {
        let sent = Instant::now();
        a.put("prop", &format!("p{}", i % 16), &payload, None)
            .await?;
        match tokio::time::timeout(Duration::from_secs(5), feed.next()).await {
            Ok(Some(Ok(_))) => latencies.push(sent.elapsed()),
            other => return Err(format!("change {i} did not arrive: {other:?}").into()),
        }
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "propagation over {count} changes: p50 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.99),
        at(1.0)
    );

    let started = Instant::now();
    let puts = 5000;
    for i in 0..puts {
        a.put("prop", &format!("q{}", i % 16), &payload, None)
            .await?;
    }
    let elapsed = started.elapsed();
    println!(
        "sequential puts: {:.0}/s ({puts} in {elapsed:?})",
        puts as f64 / elapsed.as_secs_f64()
    );

    let writers = 8;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let a = a.clone();
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..puts / writers {
                a.put("prop", &format!("w{w}-{}", i % 16), &payload, None)
                    .await?;
            }
            Ok::<(), showrunner_cluster::ClusterError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "puts from {writers} concurrent tasks: {:.0}/s ({puts} in {elapsed:?})",
        puts as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
