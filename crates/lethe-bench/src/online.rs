//! Online traffic during an erasure job: while a job erases a tenth of the import data
//! set's conversations, closed-loop consumer searches and single-conversation ingests
//! run against the same server; their latency, and the server's memory over the whole
//! job, are what is measured.

use crate::api::{ended, Api};
use crate::erase::{pick_targets, DELETION_SCOPES};
use crate::lethe::{Lethe, ACCOUNT};
use crate::load::{Stats, Target};
use crate::raw::quantile_ms;
use crate::server::{Memory, Server};
use crate::{report, Common, LoadArgs, OnlineArgs};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::{Duration, Instant};

/// The saved result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OnlineResult {
    pub store_conversations: u64,
    pub job_conversations: usize,
    pub search_connections: usize,
    pub ingest_connections: usize,
    pub measured_seconds: u64,
    pub search: Stats,
    pub ingest: Stats,
    /// Items the job had done when the measured window ended, of its total.
    pub job_items_done_at_end: i64,
    pub job_items_total: i64,
    pub job_seconds: f64,
    /// Before the request was created (which holds every listed id for a moment).
    pub rss_before: Memory,
    /// Once the request was created and its job started: the runner's starting point.
    pub rss_job_start: Memory,
    pub rss_peak: Memory,
    pub build: String,
    pub date: String,
    pub machine: String,
}

/// Runs the job with traffic alongside and saves the result.
pub async fn run(common: &Common, args: &OnlineArgs) -> anyhow::Result<OnlineResult> {
    let (dir, store_conversations) = crate::raw::copy_of_import(common, "online").await?;
    let pool = crate::raw::writer(&dir.join("lethe")).await?;
    let ids = pick_targets(&pool, args.erase).await?;
    pool.close().await;

    let lethe = Lethe::new(common, &dir.join("lethe").join("lethe.db"))?;
    let key = lethe.create_key(DELETION_SCOPES)?;
    let env = [
        ("LETHE_MAX_IDS_PER_REQUEST", ids.len().to_string()),
        ("LETHE_BODY_LIMIT_BYTES", (64 * 1024 * 1024).to_string()),
    ];
    let server = Server::start_with(&lethe, &dir.join("serve.log"), &env).await?;
    let api = Api::new(&server.base_url, &key);
    api.settings(json!({"grace_period_seconds": 0, "retain_metrics": false}))
        .await?;
    let rss_before = server.memory()?;
    let request = api.create_request(&json!({"conversation_ids": ids})).await?;
    let rss_job_start = server.memory()?;
    eprintln!(
        "lethe-bench: job of {} conversations running; measuring traffic for {} s …",
        ids.len(),
        args.duration
    );
    let search = Target {
        url: format!(
            "{}/messaging_history/api/account/{ACCOUNT}/conversations/consumer/search?offset=0&limit=50",
            server.base_url
        ),
        key: key.clone(),
    };
    let load = LoadArgs {
        connections: args.search_connections,
        warmup: 0,
        duration: args.duration,
        probe: 0,
    };
    let consumers = 0..common.consumers;
    let ingest = ingest_load(
        &server.base_url,
        &key,
        args.ingest_connections,
        args.duration,
        consumers.clone(),
    );
    let sampler = async {
        let mut peak = rss_job_start;
        for _ in 0..args.duration {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(now) = server.memory() {
                if now.rss_kib > peak.rss_kib {
                    peak = now;
                }
            }
        }
        peak
    };
    let (search, ingest, mut rss_peak) = tokio::join!(
        crate::load::run(&search, &load, consumers, common.seed),
        ingest,
        sampler
    );
    let at_end = api.request(request).await?;
    let finished = loop {
        let now = server.memory()?;
        if now.rss_kib > rss_peak.rss_kib {
            rss_peak = now;
        }
        let current = api.request(request).await?;
        if ended(&current) {
            break current;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    server.stop().await?;
    anyhow::ensure!(
        finished["status"] == "completed",
        "the job ended {}",
        finished["status"]
    );
    let job = &finished["job"];
    let job_seconds =
        (crate::api::millis(&job["finished_at"])? - crate::api::millis(&job["started_at"])?) as f64 / 1000.0;
    let result = OnlineResult {
        store_conversations: store_conversations as u64,
        job_conversations: ids.len(),
        search_connections: args.search_connections,
        ingest_connections: args.ingest_connections,
        measured_seconds: args.duration,
        search: search?,
        ingest: ingest?,
        job_items_done_at_end: at_end["job"]["items_done"].as_i64().unwrap_or(0),
        job_items_total: at_end["job"]["items_total"].as_i64().unwrap_or(0),
        job_seconds,
        rss_before,
        rss_job_start,
        rss_peak,
        build: crate::lethe::build_identity(common),
        date: crate::machine::now(),
        machine: crate::machine::Machine::current().describe(),
    };
    eprintln!(
        "lethe-bench: during the job: search p99 {:.1} ms, ingest p99 {:.1} ms; RSS {:.0} → {:.0} MiB; job done at {}/{} when the window ended",
        result.search.p99_ms,
        result.ingest.p99_ms,
        result.rss_job_start.rss_kib as f64 / 1024.0,
        result.rss_peak.rss_kib as f64 / 1024.0,
        result.job_items_done_at_end,
        result.job_items_total
    );
    report::save(common, "online", &result)?;
    Ok(result)
}

/// Closed-loop ingests of new single conversations (five messages, an existing consumer)
/// on `connections` keep-alive connections for `seconds`.
async fn ingest_load(
    base: &str,
    key: &str,
    connections: usize,
    seconds: u64,
    consumers: std::ops::Range<u64>,
) -> anyhow::Result<Stats> {
    let end = Instant::now() + Duration::from_secs(seconds);
    let url = format!("{base}/v1/accounts/{ACCOUNT}/conversations");
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let (url, key, consumers) = (url.clone(), key.to_owned(), consumers.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
                let mut rng = rand::rngs::StdRng::seed_from_u64(c as u64);
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                let mut n = 0u64;
                while Instant::now() < end {
                    n += 1;
                    let body = new_conversation(c, n, rng.gen_range(consumers.clone()));
                    let sent = Instant::now();
                    let ok = client
                        .post(&url)
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    latencies.push(sent.elapsed());
                    errors += u64::from(!ok);
                }
                anyhow::Ok((latencies, errors))
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, e) = task.await??;
        all.extend(latencies);
        errors += e;
    }
    all.sort_unstable();
    Ok(Stats {
        requests: all.len() as u64,
        errors,
        requests_per_second: all.len() as f64 / seconds as f64,
        p50_ms: quantile_ms(&all, 0.50),
        p95_ms: quantile_ms(&all, 0.95),
        p99_ms: quantile_ms(&all, 0.99),
        max_ms: quantile_ms(&all, 1.0),
    })
}

fn new_conversation(connection: usize, n: u64, consumer: u64) -> serde_json::Value {
    let messages: Vec<_> = (0..5)
        .map(|m| {
            json!({"id": format!("m{m}"), "time": format!("2026-06-01T10:00:{m:02}Z"),
                   "sent_by": if m % 2 == 0 { "consumer" } else { "agent" },
                   "text": format!("an online message {m}, written while a job runs")})
        })
        .collect();
    json!({"id": format!("online-{connection}-{n}"), "kind": "messaging",
           "start_time": "2026-06-01T10:00:00Z", "consumer_id": format!("cons-{consumer:07}"),
           "messages": messages})
}
