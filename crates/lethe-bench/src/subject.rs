//! End to end: one person's erasure (a consumer request with `include_conversations`)
//! from final to completed, one person after another, against one raw-SQL transaction
//! deleting the same rows on a copy of the same database, in the same run.

use crate::api::{ended, millis, Api};
use crate::erase::DELETION_SCOPES;
use crate::lethe::{Lethe, ACCOUNT};
use crate::raw::{copy_dir, quantile_ms};
use crate::server::Server;
use crate::{report, Common, SubjectArgs};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::SqlitePool;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The saved result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubjectResult {
    pub subjects: usize,
    pub conversations_each: usize,
    pub messages_each: usize,
    /// Final to completed, per person, in milliseconds (lethe's own timeline).
    pub lethe_ms: Vec<f64>,
    /// One raw transaction per person, in milliseconds.
    pub raw_ms: Vec<f64>,
    pub build: String,
    pub date: String,
    pub machine: String,
}

impl SubjectResult {
    pub fn median(values: &[f64]) -> f64 {
        let mut sorted: Vec<Duration> = values.iter().map(|ms| Duration::from_secs_f64(ms / 1000.0)).collect();
        sorted.sort_unstable();
        quantile_ms(&sorted, 0.5)
    }

    /// People whose erasure took at most twice their raw transaction plus 20 ms.
    pub fn within_bound(&self) -> usize {
        self.lethe_ms
            .iter()
            .zip(&self.raw_ms)
            .filter(|(lethe, raw)| **lethe <= 2.0 * **raw + 20.0)
            .count()
    }
}

fn subject(n: usize) -> String {
    format!("subject-{n:03}")
}

fn ndjson(args: &SubjectArgs, path: &Path) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for n in 0..args.subjects {
        let person = json!({"consumer": {"id": subject(n), "first_name": format!("Person {n}"),
            "email": format!("person{n}@example.org"),
            "channel_identities": [{"channel": "web", "cid": format!("cid-{n}")}]}});
        writeln!(out, "{person}")?;
        for c in 0..args.conversations_each {
            let messages: Vec<Value> = (0..args.messages_each)
                .map(|m| {
                    json!({"id": format!("m{m}"), "time": format!("2026-03-{:02}T10:{:02}:00Z", c % 28 + 1, m % 60),
                           "sent_by": if m % 2 == 0 { "consumer" } else { "agent" },
                           "text": format!("message {m} from person {n}, of a typical length for a chat line")})
                })
                .collect();
            let conversation = json!({"conversation": {"id": format!("{}-c{c:02}", subject(n)),
                "start_time": format!("2026-03-{:02}T10:00:00Z", c % 28 + 1),
                "end_time": format!("2026-03-{:02}T11:00:00Z", c % 28 + 1),
                "consumer_id": subject(n), "messages": messages,
                "surveys": [{"survey_id": "csat", "answers": [{"question_id": "q1", "text": format!("free text of person {n}")}]}]}});
            writeln!(out, "{conversation}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Runs both sides and saves the result.
pub async fn run(common: &Common, args: &SubjectArgs) -> anyhow::Result<SubjectResult> {
    let dir = common.data.join("subject");
    let _ = std::fs::remove_dir_all(&dir);
    let (lethe_dir, base_dir) = (dir.join("lethe"), dir.join("baseline"));
    std::fs::create_dir_all(&lethe_dir)?;
    let input = dir.join("subjects.ndjson");
    ndjson(args, &input)?;
    let lethe = Lethe::new(common, &lethe_dir.join("lethe.db"))?;
    lethe.create_account()?;
    let key = lethe.create_key(DELETION_SCOPES)?;
    lethe.import(&input, 500, &dir)?;
    copy_dir(&lethe_dir, &base_dir)?;

    let server = Server::start(&lethe, &dir.join("serve.log")).await?;
    let api = Api::new(&server.base_url, &key);
    api.settings(json!({"grace_period_seconds": 0, "retain_metrics": false}))
        .await?;
    let mut lethe_ms = Vec::new();
    for n in 0..args.subjects {
        lethe_ms.push(erase_person(&api, &subject(n)).await?);
    }
    server.stop().await?;
    let pool = crate::raw::writer(&base_dir).await?;
    let mut raw_ms = Vec::new();
    for n in 0..args.subjects {
        raw_ms.push(raw_transaction(&pool, &subject(n)).await?);
    }
    let result = SubjectResult {
        subjects: args.subjects,
        conversations_each: args.conversations_each,
        messages_each: args.messages_each,
        lethe_ms,
        raw_ms,
        build: crate::lethe::build_identity(common),
        date: crate::machine::now(),
        machine: crate::machine::Machine::current().describe(),
    };
    eprintln!(
        "lethe-bench: one person: median {:.1} ms (lethe, final to completed) vs {:.1} ms (one raw transaction); {} of {} within 2× + 20 ms",
        SubjectResult::median(&result.lethe_ms),
        SubjectResult::median(&result.raw_ms),
        result.within_bound(),
        result.subjects
    );
    report::save(common, "subject", &result)?;
    Ok(result)
}

/// Creates the request (final at once: no grace period) and waits for its end; the time
/// between the two timeline entries.
async fn erase_person(api: &Api, consumer: &str) -> anyhow::Result<f64> {
    let id = api
        .create_request(&json!({"consumer_ids": [consumer], "include_conversations": true}))
        .await?;
    let request = loop {
        let request = api.request(id).await?;
        if ended(&request) {
            break request;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    anyhow::ensure!(
        request["status"] == "completed",
        "request {id} ended {}",
        request["status"]
    );
    let at = |event: &str| -> anyhow::Result<i64> {
        let timeline = request["timeline"].as_array().cloned().unwrap_or_default();
        let entry = timeline
            .iter()
            .find(|e| e["event"] == event)
            .ok_or_else(|| anyhow::anyhow!("no {event} in the timeline of request {id}"))?;
        millis(&entry["at"])
    };
    Ok((at("completed")? - at("finalized")?) as f64)
}

/// The person's rows, deleted in one transaction with plain statements.
async fn raw_transaction(pool: &SqlitePool, consumer: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT conversation_id FROM conversations WHERE account_id = $1 AND consumer_id = $2")
            .bind(ACCOUNT)
            .bind(consumer)
            .fetch_all(&mut *tx)
            .await?;
    crate::raw::delete_conversations(&mut tx, ACCOUNT, &ids).await?;
    for sql in [
        "DELETE FROM consumers WHERE account_id = $1 AND consumer_id = $2",
        "DELETE FROM consumer_lookups WHERE account_id = $1 AND consumer_id = $2",
        "DELETE FROM data_keys WHERE account_id = $1 AND owner_kind = 'consumer' AND owner_id = $2",
    ] {
        sqlx::query(sql).bind(ACCOUNT).bind(consumer).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}
