//! A closed-loop load generator: each connection sends its next request as soon as the
//! previous answer has been read in full, so latency is never hidden by queueing in the
//! client.

use crate::LoadArgs;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Where requests go and how they authenticate.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub key: String,
}

/// Latency figures of one measured phase, in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What one connection saw during the measured window.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// The windows of a run, shared by every connection.
#[derive(Clone, Copy)]
struct Windows {
    measure_from: Instant,
    end: Instant,
}

/// Warms up, then measures, with `args.connections` connections asking about random
/// consumers from `consumers`.
pub async fn run(target: &Target, args: &LoadArgs, consumers: Range<u64>, seed: u64) -> anyhow::Result<Stats> {
    let start = Instant::now();
    let windows = Windows {
        measure_from: start + Duration::from_secs(args.warmup),
        end: start + Duration::from_secs(args.warmup + args.duration),
    };
    let mut tasks = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let target = target.clone();
        let consumers = consumers.clone();
        let rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64));
        tasks.push(tokio::spawn(connection(target, consumers, rng, windows)));
    }
    let mut all = Tally::default();
    for task in tasks {
        let tally = task.await??;
        all.latencies_us.extend(tally.latencies_us);
        all.errors += tally.errors;
        all.first_error = all.first_error.or(tally.first_error);
    }
    if let Some(error) = &all.first_error {
        eprintln!("lethe-bench: {} failed requests; the first: {error}", all.errors);
    }
    Ok(summarize(all, args.duration as f64))
}

/// One keep-alive connection in a closed loop until the end of the run.
async fn connection(target: Target, consumers: Range<u64>, mut rng: StdRng, windows: Windows) -> anyhow::Result<Tally> {
    // One idle connection per client: each task is exactly one keep-alive connection.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .build()?;
    let mut tally = Tally::default();
    loop {
        let sent = Instant::now();
        if sent >= windows.end {
            return Ok(tally);
        }
        let consumer = format!("cons-{:07}", rng.gen_range(consumers.clone()));
        let outcome = request(&client, &target, &consumer).await;
        let done = Instant::now();
        // Only requests wholly inside the measured window count.
        if sent < windows.measure_from || done > windows.end {
            continue;
        }
        match outcome {
            Ok(()) => tally
                .latencies_us
                .push((done - sent).as_micros().min(u32::MAX as u128) as u32),
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// One consumer search; the body is read in full, as a client must before reusing the
/// connection.
async fn request(client: &reqwest::Client, target: &Target, consumer: &str) -> anyhow::Result<()> {
    let response = client
        .post(&target.url)
        .bearer_auth(&target.key)
        .header("content-type", "application/json")
        .body(format!(r#"{{"consumer":"{consumer}"}}"#))
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    Ok(())
}

/// The `count` of one search: a sanity check that the data set is there.
pub async fn conversation_count(target: &Target, consumer: &str) -> anyhow::Result<u64> {
    let response = reqwest::Client::new()
        .post(&target.url)
        .bearer_auth(&target.key)
        .json(&serde_json::json!({ "consumer": consumer }))
        .send()
        .await?
        .error_for_status()?;
    let body: serde_json::Value = response.json().await?;
    body["_metadata"]["count"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no _metadata.count in the answer"))
}

fn summarize(mut tally: Tally, seconds: f64) -> Stats {
    tally.latencies_us.sort_unstable();
    let l = &tally.latencies_us;
    Stats {
        requests: l.len() as u64,
        errors: tally.errors,
        requests_per_second: l.len() as f64 / seconds,
        p50_ms: percentile(l, 0.50),
        p95_ms: percentile(l, 0.95),
        p99_ms: percentile(l, 0.99),
        max_ms: l.last().map_or(0.0, |&us| us as f64 / 1000.0),
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}
