//! lethe-bench: measures what lethe promises about performance and writes the figures
//! to BENCHMARKS.md.
//!
//! * `import`: `lethe import` against a plaintext SQLite loader over the same file;
//! * `search`: consumer-search latency of `lethe serve` under closed-loop load;
//! * `rss`: the resident memory of an idle `lethe serve`, before and after load;
//! * `intercom`: synchronous conversation deletes against raw-SQL deletes;
//! * `erase`: erasure-job throughput against plain `DELETE` batches;
//! * `online`: search and ingest latency and memory while an erasure job runs;
//! * `subject`: one person's erasure, final to completed, against one raw transaction;
//! * `all`: the three first in one go (one server session serves both `search` and `rss`).
//!
//! lethe is always driven as the release binary in a child process, the way operators
//! run it, so the figures include everything a real import or request pays for.

mod api;
mod baseline;
mod counts;
mod erase;
mod import;
mod intercom;
mod lethe;
mod load;
mod machine;
mod online;
mod raw;
mod report;
mod report_erasure;
mod server;
mod session;
mod subject;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Benchmarks for lethe; results go to BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "lethe-bench")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Options every benchmark shares.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// The lethe binary to measure (build it with `cargo build --release -p lethe-cli`).
    #[arg(long, global = true, default_value = "target/release/lethe")]
    pub lethe: PathBuf,
    /// Where data sets, databases and raw results go.
    #[arg(long, global = true, default_value = "bench-data")]
    pub data: PathBuf,
    /// The report to (re)write.
    #[arg(long, global = true, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// lethe's SQLite migrations, applied as-is to the baseline database.
    #[arg(long, global = true, default_value = "crates/lethe-store/migrations/sqlite")]
    pub migrations: PathBuf,
    #[arg(long, global = true, default_value_t = 100_000)]
    pub consumers: u64,
    #[arg(long, global = true, default_value_t = 1_000_000)]
    pub conversations: u64,
    /// Messages per conversation.
    #[arg(long, global = true, default_value_t = 10)]
    pub messages: u32,
    #[arg(long, global = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import throughput: lethe against a plaintext prepared-statement loader.
    Import(ImportArgs),
    /// Consumer-search latency under load (needs `import` at the same scale first).
    Search(LoadArgs),
    /// Idle RSS of `lethe serve` after startup and after load (needs `import` first).
    Rss(RssArgs),
    /// Intercom synchronous deletes over HTTP against raw-SQL deletes of the same rows.
    Intercom(IntercomArgs),
    /// Erasure-job throughput against plain DELETE batches (needs `import` first).
    Erase(EraseArgs),
    /// One person's erasure, final to completed, against one raw-SQL transaction.
    Subject(SubjectArgs),
    /// Search and ingest latency and server memory while an erasure job runs.
    Online(OnlineArgs),
    /// Rewrites the report from the saved results, running nothing.
    Report,
    /// `import`, then one server session measuring search and RSS.
    All {
        #[command(flatten)]
        import: ImportArgs,
        #[command(flatten)]
        rss: RssArgs,
    },
}

/// Options of the import benchmark.
#[derive(Debug, Args, Clone)]
pub struct ImportArgs {
    /// Regenerate the NDJSON even if a file for this scale exists.
    #[arg(long)]
    pub regenerate: bool,
    /// Records per transaction, for lethe and the baseline alike (lethe's default).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
}

/// Options of the Intercom delete benchmark.
#[derive(Debug, Args, Clone)]
pub struct IntercomArgs {
    /// Conversations to delete (each side).
    #[arg(long, default_value_t = 400)]
    pub deletes: usize,
    /// Messages per deleted conversation.
    #[arg(long, default_value_t = 200)]
    pub delete_messages: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
}

/// Options of the erasure throughput benchmark.
#[derive(Debug, Args, Clone)]
pub struct EraseArgs {
    /// Conversations to erase, spread through the store.
    #[arg(long, default_value_t = 100_000)]
    pub erase: usize,
    /// Conversations per transaction, for the job (`job_batch_size`) and the baseline.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
}

/// Options of the online-traffic benchmark.
#[derive(Debug, Args, Clone)]
pub struct OnlineArgs {
    /// Conversations the job erases, spread through the store.
    #[arg(long, default_value_t = 100_000)]
    pub erase: usize,
    /// Closed-loop consumer-search connections.
    #[arg(long, default_value_t = 4)]
    pub search_connections: usize,
    /// Closed-loop single-conversation ingest connections.
    #[arg(long, default_value_t = 2)]
    pub ingest_connections: usize,
    /// Seconds of traffic, from the job's start (it must still be running at the end).
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
}

/// Options of the end-to-end subject benchmark.
#[derive(Debug, Args, Clone)]
pub struct SubjectArgs {
    /// People erased one after another.
    #[arg(long, default_value_t = 20)]
    pub subjects: usize,
    /// Conversations per person.
    #[arg(long, default_value_t = 50)]
    pub conversations_each: usize,
    /// Messages per conversation.
    #[arg(long, default_value_t = 20)]
    pub messages_each: usize,
}

/// Options of the load generator.
#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// Concurrent connections, each a task with its own keep-alive client.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Seconds of load before measuring (caches, connection set-up).
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Seconds of an extra single-connection phase per set (0: none). Its latency is
    /// the service time without queueing, which tells a slow server from a busy one.
    #[arg(long, default_value_t = 10)]
    pub probe: u64,
}

/// Options of the RSS benchmark.
#[derive(Debug, Args, Clone)]
pub struct RssArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Seconds of idleness after the load before reading RSS again.
    #[arg(long, default_value_t = 10)]
    pub idle: u64,
}

/// The command line as typed, for the "reproduce" rows of the report.
pub fn invocation() -> String {
    measured_args(std::env::args().skip(1))
}

/// The arguments that shape a measurement: `--out` only says where the report goes.
fn measured_args(mut args: impl Iterator<Item = String>) -> String {
    let mut kept = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--out" {
            args.next();
        } else if !arg.starts_with("--out=") {
            kept.push(arg);
        }
    }
    format!(
        "cargo build --release -p lethe-cli && cargo run --release -p lethe-bench -- {}",
        kept.join(" ")
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let common = &cli.common;
    anyhow::ensure!(
        common.lethe.is_file(),
        "{} not found: run `cargo build --release -p lethe-cli` first",
        common.lethe.display()
    );
    match cli.command {
        Command::Import(args) => {
            import::run(common, &args).await?;
        }
        Command::Search(load) => {
            session::run(common, &session::Plan::search(load)).await?;
        }
        Command::Intercom(args) => {
            intercom::run(common, &args).await?;
        }
        Command::Erase(args) => {
            erase::run(common, &args).await?;
        }
        Command::Subject(args) => {
            subject::run(common, &args).await?;
        }
        Command::Online(args) => {
            online::run(common, &args).await?;
        }
        Command::Report => {}
        Command::Rss(rss) => {
            session::run(common, &session::Plan::rss(rss)).await?;
        }
        Command::All { import, rss } => {
            import::run(common, &import).await?;
            session::run(common, &session::Plan::both(rss)).await?;
        }
    }
    report::render(common)?;
    eprintln!("lethe-bench: wrote {}", common.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reproduce_line_leaves_out_where_the_report_went() {
        let line = |args: &[&str]| super::measured_args(args.iter().map(|a| a.to_string()));
        assert!(line(&["--out", "/tmp/B.md", "search", "--duration", "5"]).ends_with("-- search --duration 5"));
        assert!(line(&["--out=/tmp/B.md", "--consumers", "10", "rss"]).ends_with("-- --consumers 10 rss"));
    }
}
