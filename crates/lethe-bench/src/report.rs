//! Results: each benchmark saves its figures as JSON under `<data>/results/` (one
//! sub-directory per scale other than the target), and
//! BENCHMARKS.md is rendered from whatever results exist, so benchmarks can be re-run
//! one at a time. A `## Notes` section written by hand is kept across renders.

use crate::import::{ImportResult, REQUIRED_RATIO};
use crate::server::Memory;
use crate::session::{RssResult, SearchResult, REQUIRED_IDLE_MIB, REQUIRED_P99_MS};
use crate::Common;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::PathBuf;

/// The scale the requirements are stated at.
const TARGET: (u64, u64) = (100_000, 1_000_000);
const NOTES_HEADING: &str = "\n## Notes";

/// The size of a data set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scale {
    pub consumers: u64,
    pub conversations: u64,
    pub messages: u32,
    pub seed: u64,
}

impl Scale {
    pub fn of(common: &Common) -> Self {
        Self {
            consumers: common.consumers,
            conversations: common.conversations,
            messages: common.messages,
            seed: common.seed,
        }
    }

    /// The directory of this scale's data set and databases.
    pub fn dir_name(&self) -> String {
        format!(
            "c{}-v{}-m{}-s{}",
            self.consumers, self.conversations, self.messages, self.seed
        )
    }

    /// Whether this is the scale the requirements are stated at.
    fn is_target(&self) -> bool {
        (self.consumers, self.conversations) == TARGET
    }

    fn describe(&self) -> String {
        let mut text = format!(
            "{} consumers, {} conversations × {} messages (`lethe demo`, seed {})",
            thousands(self.consumers),
            thousands(self.conversations),
            self.messages,
            self.seed
        );
        if !self.is_target() {
            text.push_str(&format!(
                " — **not the target scale** ({} / {})",
                thousands(TARGET.0),
                thousands(TARGET.1)
            ));
        }
        text
    }
}

/// The target scale's results sit in `<data>/results/`, any other scale's in a
/// sub-directory named after it, so a quick run at a small scale never replaces a
/// recorded figure.
fn results_dir(common: &Common) -> PathBuf {
    let scale = Scale::of(common);
    let dir = common.data.join("results");
    if scale.is_target() {
        dir
    } else {
        dir.join(scale.dir_name())
    }
}

/// Saves one benchmark's result for rendering.
pub fn save<T: Serialize>(common: &Common, name: &str, result: &T) -> anyhow::Result<()> {
    let dir = results_dir(common);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{name}.json")), serde_json::to_vec_pretty(result)?)?;
    Ok(())
}

fn load<T: DeserializeOwned>(common: &Common, name: &str) -> anyhow::Result<Option<T>> {
    let path = results_dir(common).join(format!("{name}.json"));
    if !path.is_file() {
        return Ok(None);
    }
    match serde_json::from_slice(&std::fs::read(&path)?) {
        Ok(result) => Ok(Some(result)),
        Err(e) => {
            // Saved by an older lethe-bench: re-run that benchmark rather than fail the rest.
            eprintln!("lethe-bench: skipping {} ({e}); re-run that benchmark", path.display());
            Ok(None)
        }
    }
}

/// Rewrites the report from the saved results, keeping hand-written notes.
pub fn render(common: &Common) -> anyhow::Result<()> {
    let mut text = String::from(
        "# lethe benchmarks\n\n\
         Measured with `lethe-bench` (`crates/lethe-bench`), which drives the release `lethe` binary \
         as a child process. Everything above *Notes* is generated: re-running a benchmark rewrites \
         its section. Data sets and databases go to `bench-data/` (git-ignored), each run's figures \
         to `bench-data/results/`, in a sub-directory for any scale but the target one, so a quick \
         small run never replaces a recorded figure.\n",
    );
    let old = std::fs::read_to_string(&common.out).unwrap_or_default();
    let mut report = Sections {
        common,
        old: &old,
        text: &mut text,
    };
    use crate::report_erasure::{erase_section, online_section, subject_section};
    report.add("import", "Import throughput", import_section)?;
    report.add("search", "Consumer search latency", search_section)?;
    report.add("rss", "Idle memory of `lethe serve`", rss_section)?;
    report.add("intercom", "Intercom synchronous delete", intercom_section)?;
    report.add("erase", "Erasure throughput", erase_section)?;
    report.add("online", "Online traffic during an erasure job", online_section)?;
    report.add("subject", "One person's erasure, end to end", subject_section)?;
    text.push_str(&existing_notes(common));
    std::fs::write(&common.out, text)?;
    Ok(())
}

/// The report being written, section by section.
struct Sections<'a> {
    common: &'a Common,
    /// The report as it stood before this render.
    old: &'a str,
    text: &'a mut String,
}

impl Sections<'_> {
    /// Renders a section (its heading, then its body) from the result saved as `name`.
    /// Results live in the git-ignored `bench-data/`, so a checkout usually holds only some
    /// of them: a section without one keeps what the report already says instead of
    /// disappearing.
    fn add<T: DeserializeOwned>(
        &mut self,
        name: &str,
        heading: &str,
        render: fn(&mut String, &T) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        match load::<T>(self.common, name)? {
            Some(r) => {
                writeln!(self.text, "\n## {heading}\n")?;
                render(self.text, &r)
            }
            None => {
                self.text
                    .push_str(existing_section(self.old, heading).unwrap_or_default());
                Ok(())
            }
        }
    }
}

/// The text of `## heading` in a report, up to the next heading.
fn existing_section<'a>(old: &'a str, heading: &str) -> Option<&'a str> {
    let start = old.find(&format!("\n## {heading}\n"))?;
    let body = &old[start + 1..];
    let len = body.find("\n## ").unwrap_or(body.len());
    Some(&old[start..start + 1 + len])
}

fn existing_notes(common: &Common) -> String {
    let old = std::fs::read_to_string(&common.out).unwrap_or_default();
    old.find(NOTES_HEADING)
        .map_or_else(String::new, |at| old[at..].to_owned())
}

/// Results saved before builds were recorded say so rather than show an empty cell.
pub(crate) fn or_unrecorded(build: &str) -> &str {
    if build.is_empty() {
        "not recorded"
    } else {
        build
    }
}

pub(crate) fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**NOT met**"
    }
}

fn import_section(text: &mut String, r: &ImportResult) -> anyhow::Result<()> {
    let cpu = r.lethe_cpu.map_or_else(
        || "not measured".to_owned(),
        |(user, sys, peak)| format!("{user:.1}s user + {sys:.1}s system CPU, peak RSS {} MiB", peak / 1024),
    );
    writeln!(text, "| | |\n|---|---|")?;
    writeln!(text, "| Machine | {} |", r.machine.describe())?;
    writeln!(text, "| Scale | {} |", r.scale.describe())?;
    writeln!(text, "| lethe build | {} |", or_unrecorded(&r.lethe_build))?;
    writeln!(
        text,
        "| Input | {:.2} GiB NDJSON → {} rows ({} records per transaction) |",
        r.ndjson_bytes as f64 / (1u64 << 30) as f64,
        thousands(r.rows),
        r.batch
    )?;
    writeln!(
        text,
        "| lethe `import` | **{} rows/s** ({:.1} s wall; {cpu}; database {:.2} GiB + {} blob files) |",
        thousands(r.lethe.rows_per_second as u64),
        r.lethe.seconds,
        gib(r.lethe.database_bytes),
        thousands(r.blob_files)
    )?;
    writeln!(
        text,
        "| Plaintext baseline | **{} rows/s** ({:.1} s; database {:.2} GiB) |",
        thousands(r.baseline.rows_per_second as u64),
        r.baseline.seconds,
        gib(r.baseline.database_bytes)
    )?;
    writeln!(
        text,
        "| Ratio lethe / baseline | **{:.2}** (requirement ≥ {REQUIRED_RATIO}: {}) |",
        r.ratio,
        verdict(r.ratio >= REQUIRED_RATIO)
    )?;
    writeln!(text, "| Date | {} |", r.date)?;
    writeln!(text, "| Reproduce | `{}` |", r.command)?;
    let tables: Vec<String> = r.tables.iter().map(|(t, n)| format!("{t} {}", thousands(*n))).collect();
    writeln!(
        text,
        "\nRows per table (identical on both sides, checked): {}.\n\n\
         lethe's time is the wall time of the `lethe import` process (start-up included). The \
         baseline reads the same file with `serde_json::Value`, and writes the same rows into a \
         fresh database with lethe's own migration SQL and pragmas (WAL, synchronous=NORMAL, \
         foreign_keys=ON, secure_delete=ON), one prepared single-row INSERT per row through sqlx, \
         with personal fields as plain bytes and empty placeholders for keys and MACs. It does \
         not store hosted-file bytes; lethe writes each sealed file to its blob directory.",
        tables.join(", ")
    )?;
    Ok(())
}

fn search_section(text: &mut String, r: &SearchResult) -> anyhow::Result<()> {
    writeln!(
        text,
        "`POST /messaging_history/api/account/bench/conversations/consumer/search?offset=0&limit=50` \
         with `{{\"consumer\":\"cons-…\"}}` for random consumers of the set; {} closed-loop \
         HTTP/1.1 keep-alive connections, all driven by one thread of `lethe-bench` on the same \
         machine as the server; {} s warm-up, then {} s measured. The database file is read \
         once before the server starts, so that it is in the OS page cache as on a server that has been running.\n",
        r.connections, r.warmup_seconds, r.duration_seconds
    )?;
    writeln!(text, "| | |\n|---|---|")?;
    writeln!(text, "| Machine | {} |", r.machine.describe())?;
    writeln!(text, "| Scale | {} |", r.scale.describe())?;
    writeln!(text, "| lethe build | {} |", or_unrecorded(&r.lethe_build))?;
    writeln!(text, "| Date | {} |", r.date)?;
    writeln!(text, "| Reproduce | `{}` |\n", r.command)?;
    writeln!(
        text,
        "| Consumer set | Example | Connections | Requests/s | p50 ms | p95 ms | p99 ms | max ms | Errors | p99 ≤ {REQUIRED_P99_MS} ms |"
    )?;
    writeln!(text, "|---|---|---|---|---|---|---|---|---|---|")?;
    for s in &r.sets {
        let set = format!("{} (ids {}..{})", s.set.describe(), s.ids.0, s.ids.1);
        let example = format!("{}: {} conversations", s.sample.0, s.sample.1);
        let met = verdict(s.stats.p99_ms <= REQUIRED_P99_MS && s.stats.errors == 0);
        latency_row(text, &set, &example, r.connections, &s.stats, met)?;
        if let Some(single) = &s.single_connection {
            latency_row(text, "same set, one connection (service time)", "", 1, single, "—")?;
        }
    }
    writeln!(
        text,
        "\nThe requirement applies to the {}-connection rows. The single-connection rows (after \
         a 2 s warm-up) show the time one request takes on an otherwise idle server.",
        r.connections
    )?;
    Ok(())
}

fn latency_row(
    text: &mut String,
    set: &str,
    example: &str,
    connections: usize,
    s: &crate::load::Stats,
    verdict: &str,
) -> anyhow::Result<()> {
    writeln!(
        text,
        "| {set} | {example} | {connections} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {verdict} |",
        thousands(s.requests_per_second as u64),
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.max_ms,
        s.errors,
    )?;
    Ok(())
}

fn rss_section(text: &mut String, r: &RssResult) -> anyhow::Result<()> {
    writeln!(text, "| | |\n|---|---|")?;
    writeln!(text, "| Machine | {} |", r.machine.describe())?;
    writeln!(text, "| Scale | {} |", r.scale.describe())?;
    writeln!(text, "| lethe build | {} |", r.lethe_build)?;
    memory_row(text, "RSS after start-up (+2 s)", &r.startup)?;
    memory_row(
        text,
        &format!("RSS after load + {} s idle", r.idle_seconds),
        &r.after_load,
    )?;
    writeln!(
        text,
        "| Peak RSS in the session (VmHWM) | {:.1} MiB |",
        mib(r.after_load.peak_kib)
    )?;
    writeln!(text, "| Load between the readings | {} |", r.load)?;
    writeln!(text, "| Date | {} |", r.date)?;
    writeln!(text, "| Reproduce | `{}` |", r.command)?;
    Ok(())
}

fn memory_row(text: &mut String, label: &str, m: &Memory) -> anyhow::Result<()> {
    writeln!(
        text,
        "| {label} | **{:.1} MiB** VmRSS (anonymous {:.1}, files {:.1}; {} threads) — requirement < {REQUIRED_IDLE_MIB} MiB: {} |",
        mib(m.rss_kib),
        mib(m.anon_kib),
        mib(m.file_kib),
        m.threads,
        verdict(mib(m.rss_kib) < REQUIRED_IDLE_MIB)
    )?;
    Ok(())
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// 1234567 → "1,234,567".
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).expect("ASCII digits"))
        .collect();
    groups.join(",")
}

fn intercom_section(text: &mut String, r: &crate::intercom::IntercomResult) -> anyhow::Result<()> {
    let ratio = r.lethe.p99_ms / r.baseline.p99_ms.max(0.001);
    let met = r.lethe.p99_ms <= 50.0 && ratio <= 4.0 && r.lethe.errors == 0;
    writeln!(
        text,
        "`DELETE /conversations/{{id}}?retain_metrics=true` over HTTP on loopback, {} concurrent clients, each deleting its share of {} conversations ({} messages and {} files each) one after another, on SQLite. The baseline deletes the same rows (attributes, survey answers, files, metrics, and the conversation row with its messages and data key) with plain SQL, one `BEGIN IMMEDIATE` transaction per conversation through one writer connection with the same pragmas (`secure_delete=ON`), and unlinks the same blob files, at the same concurrency, on a copy of the same database.\n",
        r.clients, r.conversations, r.messages_each, r.files_each
    )?;
    writeln!(text, "| | |\n|---|---|")?;
    writeln!(text, "| Machine | {} |", r.machine)?;
    writeln!(text, "| lethe build | {} |", or_unrecorded(&r.build))?;
    writeln!(text, "| Date | {} |", r.date)?;
    writeln!(
        text,
        "| Reproduce | `cargo build --release -p lethe-cli && cargo run --release -p lethe-bench -- intercom` |\n"
    )?;
    writeln!(
        text,
        "| Side | Deletes | p50 ms | p95 ms | p99 ms | max ms | Errors |\n|---|---|---|---|---|---|---|"
    )?;
    for (name, s) in [
        ("lethe (HTTP, engine, blobs, tombstone, change log)", &r.lethe),
        ("raw SQL", &r.baseline),
    ] {
        writeln!(
            text,
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            s.deletes, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.errors
        )?;
    }
    writeln!(
        text,
        "\nlethe p99 / raw-SQL p99: **{ratio:.2}** (requirement: p99 ≤ 50 ms and ratio ≤ 4: {})",
        verdict(met)
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{existing_section, results_dir, thousands};
    use crate::Common;
    use std::path::PathBuf;

    fn common(consumers: u64, conversations: u64) -> Common {
        Common {
            lethe: PathBuf::from("lethe"),
            data: PathBuf::from("data"),
            out: PathBuf::from("B.md"),
            migrations: PathBuf::from("m"),
            consumers,
            conversations,
            messages: 10,
            seed: 1,
        }
    }

    #[test]
    fn only_the_target_scale_saves_to_the_recorded_results() {
        assert_eq!(results_dir(&common(100_000, 1_000_000)), PathBuf::from("data/results"));
        assert_eq!(
            results_dir(&common(10_000, 100_000)),
            PathBuf::from("data/results/c10000-v100000-m10-s1")
        );
    }

    #[test]
    fn a_section_without_a_result_keeps_its_text() {
        let old = "# r\n\n## A\n\nalpha\n\n## B\n\nbeta\n\n## Notes\n\nn\n";
        assert_eq!(existing_section(old, "A"), Some("\n## A\n\nalpha\n"));
        assert_eq!(existing_section(old, "B"), Some("\n## B\n\nbeta\n"));
        assert_eq!(existing_section(old, "C"), None);
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
