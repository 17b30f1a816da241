//! Intercom synchronous delete: `DELETE /conversations/{id}` over HTTP with 8 concurrent
//! clients, against raw-SQL deletes of the same rows (and unlinks of the same blob files)
//! at the same concurrency on a copy of the same database, in the same run.

use crate::lethe::{Lethe, ACCOUNT};
use crate::report;
use crate::server::Server;
use crate::{Common, IntercomArgs};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Latencies of one side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    pub deletes: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: usize,
}

/// The saved result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntercomResult {
    pub conversations: usize,
    pub messages_each: usize,
    pub files_each: usize,
    pub clients: usize,
    pub lethe: Side,
    pub baseline: Side,
    pub build: String,
    pub date: String,
    pub machine: String,
}

fn side(mut latencies: Vec<Duration>, errors: usize) -> Side {
    latencies.sort_unstable();
    let at = |q: f64| crate::raw::quantile_ms(&latencies, q);
    Side {
        deletes: latencies.len(),
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        max_ms: at(1.0),
        errors,
    }
}

fn ndjson(args: &IntercomArgs, path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let file = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![b'x'; 2048]);
    for c in 0..args.deletes {
        let messages: Vec<_> = (0..args.delete_messages)
            .map(|m| {
                json!({"id": format!("m{m}"), "time": format!("2026-03-01T10:{:02}:{:02}Z", m / 60, m % 60),
                       "sent_by": if m % 2 == 0 { "consumer" } else { "agent" },
                       "text": format!("message {m} of conversation {c}, with some ordinary length to it")})
            })
            .collect();
        let files: Vec<_> = (0..3)
            .map(|f| json!({"id": format!("f-{c}-{f}"), "content_type": "text/plain", "data_base64": file}))
            .collect();
        let conv = json!({"conversation": {"id": format!("ic-{c:05}"), "start_time": "2026-03-01T10:00:00Z",
            "end_time": "2026-03-01T11:00:00Z", "consumer_id": format!("u{c}"), "messages": messages, "files": files}});
        writeln!(out, "{conv}")?;
    }
    Ok(())
}

/// Runs both sides and saves the result.
pub async fn run(common: &Common, args: &IntercomArgs) -> anyhow::Result<()> {
    let dir = common.data.join("intercom");
    let _ = std::fs::remove_dir_all(&dir);
    let (lethe_dir, base_dir) = (dir.join("lethe"), dir.join("baseline"));
    std::fs::create_dir_all(&lethe_dir)?;
    let input = dir.join("intercom.ndjson");
    ndjson(args, &input)?;
    let lethe = Lethe::new(common, &lethe_dir.join("lethe.db"))?;
    lethe.create_account()?;
    let key = lethe.create_key("conversations:delete,conversations:read")?;
    eprintln!(
        "lethe-bench: importing {} conversations × {} messages, 3 files each …",
        args.deletes, args.delete_messages
    );
    lethe.import(&input, 50, &dir)?;
    crate::raw::copy_dir(&lethe_dir, &base_dir)?;

    let server = Server::start(&lethe, &dir.join("serve.log")).await?;
    let ids: Vec<String> = (0..args.deletes).map(|c| format!("ic-{c:05}")).collect();
    let started = Instant::now();
    let lethe_side = http_deletes(&server.base_url, &key, &ids, args.clients).await;
    eprintln!(
        "lethe-bench: lethe: {} deletes in {:.1}s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    server.stop().await?;
    let baseline_side = sql_deletes(&base_dir, &ids, args.clients).await?;
    let result = IntercomResult {
        conversations: args.deletes,
        messages_each: args.delete_messages,
        files_each: 3,
        clients: args.clients,
        lethe: lethe_side,
        baseline: baseline_side,
        build: crate::lethe::build_identity(common),
        date: crate::machine::now(),
        machine: crate::machine::Machine::current().describe(),
    };
    eprintln!(
        "lethe-bench: intercom delete p99 {:.2} ms (lethe) vs {:.2} ms (raw SQL): ratio {:.2}",
        result.lethe.p99_ms,
        result.baseline.p99_ms,
        result.lethe.p99_ms / result.baseline.p99_ms.max(0.001)
    );
    report::save(common, "intercom", &result)
}

async fn http_deletes(base: &str, key: &str, ids: &[String], clients: usize) -> Side {
    let chunks: Vec<Vec<String>> = (0..clients)
        .map(|c| ids.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    let tasks = chunks.into_iter().map(|chunk| {
        let (base, key) = (base.to_owned(), key.to_owned());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut latencies, mut errors) = (Vec::new(), 0);
            for id in chunk {
                let at = Instant::now();
                let ok = client
                    .delete(format!("{base}/conversations/{id}?retain_metrics=true"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(at.elapsed());
                errors += usize::from(!ok);
            }
            (latencies, errors)
        })
    });
    let (mut all, mut errors) = (Vec::new(), 0);
    for joined in futures_join(tasks).await {
        let (l, e) = joined;
        all.extend(l);
        errors += e;
    }
    side(all, errors)
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        if let Ok(value) = task.await {
            out.push(value);
        }
    }
    out
}

/// The same rows deleted with plain SQL, one transaction per conversation through one
/// writer connection (SQLite's one writer), blob files unlinked after the commit.
async fn sql_deletes(dir: &Path, ids: &[String], clients: usize) -> anyhow::Result<Side> {
    let pool = crate::raw::writer(dir).await?;
    let blobs: PathBuf = dir.join("lethe-blobs");
    let chunks: Vec<Vec<String>> = (0..clients)
        .map(|c| ids.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    let tasks = chunks.into_iter().map(|chunk| {
        let (pool, blobs) = (pool.clone(), blobs.clone());
        tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            for id in chunk {
                let at = Instant::now();
                errors += usize::from(delete_one(&pool, &blobs, &id).await.is_err());
                latencies.push(at.elapsed());
            }
            (latencies, errors)
        })
    });
    let (mut all, mut errors) = (Vec::new(), 0);
    for (l, e) in futures_join(tasks).await {
        all.extend(l);
        errors += e;
    }
    Ok(side(all, errors))
}

async fn delete_one(pool: &sqlx::SqlitePool, blobs: &Path, id: &str) -> anyhow::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT blob_key FROM files WHERE account_id = $1 AND conversation_id = $2")
            .bind(ACCOUNT)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    crate::raw::delete_conversations(&mut tx, ACCOUNT, &[id.to_owned()]).await?;
    tx.commit().await?;
    for key in keys {
        let _ = tokio::fs::remove_file(blobs.join(key)).await;
    }
    Ok(())
}
