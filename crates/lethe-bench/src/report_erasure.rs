//! The report sections of the erasure-engine benchmarks.

use crate::erase::EraseResult;
use crate::online::OnlineResult;
use crate::report::{mib, or_unrecorded, thousands, verdict};
use crate::subject::SubjectResult;
use std::fmt::Write;

fn provenance(text: &mut String, machine: &str, build: &str, date: &str, command: &str) -> anyhow::Result<()> {
    writeln!(text, "| | |\n|---|---|")?;
    writeln!(text, "| Machine | {machine} |")?;
    writeln!(text, "| lethe build | {} |", or_unrecorded(build))?;
    writeln!(text, "| Date | {date} |")?;
    writeln!(
        text,
        "| Reproduce | `cargo build --release -p lethe-cli && cargo run --release -p lethe-bench -- {command}` |\n"
    )?;
    Ok(())
}

/// Erasure throughput against plain `DELETE` batches.
pub fn erase_section(text: &mut String, r: &EraseResult) -> anyhow::Result<()> {
    let share = r.lethe_rows_per_second() / r.baseline_rows_per_second().max(1e-9);
    writeln!(
        text,
        "One deletion request for {} closed conversations spread evenly through a store of {} (the import data set), run as a job with `job_batch_size = {}` and `retain_metrics = false`, timed from the job's claim to `completed` (every batch, the blob deletions, verification and the WAL truncation). The baseline deletes the same rows from a copy of the same database with plain `DELETE … WHERE conversation_id IN (…)` statements per table, {} conversations per `BEGIN IMMEDIATE` transaction through one connection with the same pragmas (`secure_delete=ON`), unlinks the same blob files after each commit and truncates the WAL at the end.\n",
        thousands(r.rows.conversations), thousands(r.store_conversations), r.batch, r.batch
    )?;
    provenance(text, &r.machine, &r.build, &r.date, "erase")?;
    let rows = &r.rows;
    writeln!(
        text,
        "Items erased: {} ({} conversations, {} messages, {} attributes, {} survey answers, {} files, {} metrics rows; each conversation's messages and data key are in its row; rows/s below counts these items).\n",
        thousands(rows.total()), thousands(rows.conversations), thousands(rows.messages), thousands(rows.attributes),
        thousands(rows.survey_answers), thousands(rows.files), thousands(rows.metrics)
    )?;
    writeln!(text, "| Side | Seconds | Rows/s |\n|---|---|---|")?;
    writeln!(
        text,
        "| lethe job | {:.1} | {} |",
        r.lethe_seconds,
        thousands(r.lethe_rows_per_second() as u64)
    )?;
    writeln!(
        text,
        "| plain DELETE | {:.1} | {} |",
        r.baseline_seconds,
        thousands(r.baseline_rows_per_second() as u64)
    )?;
    writeln!(
        text,
        "\nlethe / plain DELETE: **{:.0} %** (requirement ≥ 70 %: {}). The job's own counters: `{}`.\n",
        share * 100.0,
        verdict(share >= 0.7),
        r.job["erased"]
    )?;
    let growth = mib(r.rss_peak_during.rss_kib.saturating_sub(r.rss_job_start.rss_kib));
    writeln!(
        text,
        "The runner's memory, with no other traffic: RSS {:.1} MiB before the request, {:.1} MiB once it was created (the request handler holds every listed id for a moment) and its job started, at most {:.1} MiB while the job ran: growth **{growth:.1} MiB** over {} items (requirement ≤ 50 MB whatever the job size: {}).",
        mib(r.rss_before.rss_kib),
        mib(r.rss_job_start.rss_kib),
        mib(r.rss_peak_during.rss_kib),
        thousands(r.rows.conversations),
        verdict(growth <= 50.0)
    )?;
    Ok(())
}

/// One person's erasure, final to completed.
pub fn subject_section(text: &mut String, r: &SubjectResult) -> anyhow::Result<()> {
    let (lethe, raw) = (SubjectResult::median(&r.lethe_ms), SubjectResult::median(&r.raw_ms));
    let bound = 2.0 * raw + 20.0;
    writeln!(
        text,
        "{} people, one after another, each a consumer with {} closed conversations ({} messages and one free-text survey answer each). lethe: `POST …/deletion-requests {{consumer_ids: [id], include_conversations: true}}` on an account with no grace period, timed from the request's `finalized` entry to its `completed` entry in its own timeline (the job: erasure, verification, WAL truncation). Raw: one `BEGIN IMMEDIATE` transaction deleting the same rows (conversations and their messages, attributes, survey answers, metrics and keys; the consumer's profile, lookups and key) with plain statements on a copy of the same database.\n",
        r.subjects, r.conversations_each, r.messages_each
    )?;
    provenance(text, &r.machine, &r.build, &r.date, "subject")?;
    let total = |v: &[f64]| v.iter().sum::<f64>() / 1000.0;
    writeln!(text, "| Side | Median ms | Max ms | All people, s |\n|---|---|---|---|")?;
    for (name, values) in [
        ("lethe, final → completed", &r.lethe_ms),
        ("one raw transaction", &r.raw_ms),
    ] {
        let max = values.iter().copied().fold(0.0, f64::max);
        writeln!(
            text,
            "| {name} | {:.1} | {max:.1} | {:.2} |",
            SubjectResult::median(values),
            total(values)
        )?;
    }
    writeln!(
        text,
        "\nMedian {lethe:.1} ms against a bound of 2 × {raw:.1} + 20 = {bound:.1} ms: {}; {} of {} people within their own bound.",
        verdict(lethe <= bound),
        r.within_bound(),
        r.subjects
    )?;
    Ok(())
}

/// Search and ingest while a job runs, and the server's memory.
pub fn online_section(text: &mut String, r: &OnlineResult) -> anyhow::Result<()> {
    let growth_mib = mib(r.rss_peak.rss_kib.saturating_sub(r.rss_job_start.rss_kib));
    let met = r.search.p99_ms <= 25.0 && r.ingest.p99_ms <= 50.0;
    writeln!(
        text,
        "A job erasing {} conversations from a store of {} (as in *Erasure throughput*, default `job_batch_size`) starts; for the next {} s, {} closed-loop connections run LivePerson consumer searches (`limit=50`, random consumers) and {} closed-loop connections ingest new single conversations (five messages, an existing consumer) through `POST /v1/accounts/{{site_id}}/conversations`. The job must still be running when the window ends. RSS is read before the request, once it is created and every second until the job completes. While ingests arrive the runner keeps its batches to 5 items.\n",
        thousands(r.job_conversations as u64), thousands(r.store_conversations), r.measured_seconds,
        r.search_connections, r.ingest_connections
    )?;
    provenance(text, &r.machine, &r.build, &r.date, "online")?;
    writeln!(
        text,
        "| Traffic | Requests | Req/s | p50 ms | p95 ms | p99 ms | max ms | Errors |\n|---|---|---|---|---|---|---|---|"
    )?;
    for (name, s) in [
        ("consumer search", &r.search),
        ("single-conversation ingest", &r.ingest),
    ] {
        writeln!(
            text,
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            s.requests, s.requests_per_second, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.errors
        )?;
    }
    writeln!(
        text,
        "\nThe job had done {} of {} items when the window ended and completed after {:.1} s. Requirement (search p99 ≤ 25 ms, ingest p99 ≤ 50 ms while the job runs): {}. The whole server's RSS under this traffic: {:.1} MiB before the request, {:.1} MiB once it was created and its job started, at most {:.1} MiB while the job ran (growth {:.1} MiB, search handlers and their threads included; anonymous memory {:.1} → {:.1} MiB, the rest pages of the database file mapped by the readers, unmapped once the server is quiet); the runner's own growth, without traffic, is in *Erasure throughput*.",
        r.job_items_done_at_end,
        r.job_items_total,
        r.job_seconds,
        verdict(met),
        mib(r.rss_before.rss_kib),
        mib(r.rss_job_start.rss_kib),
        mib(r.rss_peak.rss_kib),
        growth_mib,
        mib(r.rss_job_start.anon_kib),
        mib(r.rss_peak.anon_kib)
    )?;
    Ok(())
}
