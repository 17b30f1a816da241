//! One `lethe serve` session over the imported database: search load per consumer set,
//! and the server's memory before and after.

use crate::import::Layout;
use crate::lethe::{self, Lethe, ACCOUNT};
use crate::load::{self, Stats, Target};
use crate::machine::{self, Machine};
use crate::report::{self, Scale};
use crate::server::{Memory, Server};
use crate::{Common, LoadArgs, RssArgs};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::time::Duration;

/// Search must answer within this at the 99th percentile.
pub const REQUIRED_P99_MS: f64 = 5.0;
/// An idle server must stay below this resident size.
pub const REQUIRED_IDLE_MIB: f64 = 50.0;
/// A started server is left alone this long before its startup RSS is read, so the
/// figure is of a settled process rather than one still allocating.
const SETTLE: Duration = Duration::from_secs(2);
/// The single-connection probe follows a loaded phase; a short warm-up suffices.
const PROBE_WARMUP_SECONDS: u64 = 2;

/// Which consumers a load phase asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerSet {
    /// Any consumer, uniformly: mostly a handful of conversations each.
    Uniform,
    /// The busiest 1% (ids below consumers/100), who hold the demo's skewed share:
    /// hundreds of conversations each at full scale, so every page is full.
    Hot,
    /// One consumer in the middle of the id range, asked about again and again: what a
    /// load generator with a fixed request body (`oha -d …`) measures.
    Fixed,
}

impl ConsumerSet {
    fn ids(self, consumers: u64) -> Range<u64> {
        match self {
            ConsumerSet::Uniform => 0..consumers,
            ConsumerSet::Hot => 0..(consumers / 100).max(1),
            ConsumerSet::Fixed => consumers / 2..consumers / 2 + 1,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ConsumerSet::Uniform => "uniform (all consumers)",
            ConsumerSet::Hot => "hot (busiest 1% of consumers)",
            ConsumerSet::Fixed => "one typical consumer, repeated (a fixed request body, as with `oha`)",
        }
    }
}

/// What a session measures and which results it saves.
pub struct Plan {
    load: LoadArgs,
    sets: Vec<ConsumerSet>,
    /// Seconds of idleness before the after-load RSS reading; `None`: RSS not saved.
    idle: Option<u64>,
    save_search: bool,
}

impl Plan {
    pub fn search(load: LoadArgs) -> Self {
        Self {
            load,
            sets: vec![ConsumerSet::Uniform, ConsumerSet::Hot, ConsumerSet::Fixed],
            idle: None,
            save_search: true,
        }
    }

    pub fn rss(args: RssArgs) -> Self {
        Self {
            load: args.load,
            sets: vec![ConsumerSet::Uniform],
            idle: Some(args.idle),
            save_search: false,
        }
    }

    pub fn both(args: RssArgs) -> Self {
        Self {
            load: args.load,
            sets: vec![ConsumerSet::Uniform, ConsumerSet::Hot, ConsumerSet::Fixed],
            idle: Some(args.idle),
            save_search: true,
        }
    }
}

/// Latency of one consumer set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetResult {
    pub set: ConsumerSet,
    pub ids: (u64, u64),
    /// Conversations of the set's middle consumer, as search reports them.
    pub sample: (String, u64),
    pub stats: Stats,
    /// The same requests over one connection, when a probe was asked for.
    pub single_connection: Option<Stats>,
}

/// What `search` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResult {
    pub machine: Machine,
    pub date: String,
    pub command: String,
    #[serde(default)]
    pub lethe_build: String,
    pub scale: Scale,
    pub connections: usize,
    pub warmup_seconds: u64,
    pub duration_seconds: u64,
    pub sets: Vec<SetResult>,
}

/// What `rss` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RssResult {
    pub machine: Machine,
    pub date: String,
    pub command: String,
    pub lethe_build: String,
    pub scale: Scale,
    pub startup: Memory,
    pub after_load: Memory,
    pub idle_seconds: u64,
    pub load: String,
}

/// Runs a session and saves what the plan asks for.
pub async fn run(common: &Common, plan: &Plan) -> anyhow::Result<()> {
    let layout = Layout::new(common);
    anyhow::ensure!(
        layout.lethe_db().is_file(),
        "{} does not exist: run `lethe-bench import` at this scale first",
        layout.lethe_db().display()
    );
    let lethe = Lethe::new(common, &layout.lethe_db())?;
    let key = lethe.create_read_key()?;
    // Read before the start: lethe may be rebuilt while the session runs.
    let build = lethe::build_identity(common);
    read_through(&layout.lethe_db())?;
    let server = Server::start(&lethe, &layout.root.join("serve.log")).await?;
    let outcome = measure(common, plan, &server, key, &build).await;
    server.stop().await?;
    let (sets, rss) = outcome?;
    if plan.save_search {
        report::save(common, "search", &search_result(common, plan, sets, build))?;
    }
    if let Some(rss) = rss {
        report::save(common, "rss", &rss)?;
    }
    Ok(())
}

/// Reads the database file once, so that the measured requests find it in the OS page
/// cache, as on a server that has been up for a while. This machine's kernel evicts any
/// page left untouched for a minute (DAMON `pageout`), so a 4 GiB database is partly on
/// disk again after a build or another data set, and runs without this varied by a
/// factor of two.
fn read_through(db: &std::path::Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bytes = std::io::copy(&mut std::fs::File::open(db)?, &mut std::io::sink())?;
    eprintln!(
        "lethe-bench: read the {:.2} GiB database once in {:.1}s (page cache)",
        bytes as f64 / (1u64 << 30) as f64,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn measure(
    common: &Common,
    plan: &Plan,
    server: &Server,
    key: String,
    build: &str,
) -> anyhow::Result<(Vec<SetResult>, Option<RssResult>)> {
    tokio::time::sleep(SETTLE).await;
    let startup = server.memory()?;
    eprintln!("lethe-bench: lethe serve is up, {}", describe_memory(&startup));
    let target = Target {
        url: format!(
            "{}/messaging_history/api/account/{ACCOUNT}/conversations/consumer/search?offset=0&limit=50",
            server.base_url
        ),
        key,
    };
    let mut sets = Vec::new();
    for &set in &plan.sets {
        sets.push(measure_set(common, plan, &target, set).await?);
    }
    let Some(idle) = plan.idle else {
        return Ok((sets, None));
    };
    tokio::time::sleep(Duration::from_secs(idle)).await;
    let after_load = server.memory()?;
    eprintln!(
        "lethe-bench: after load and {idle}s idle, {}",
        describe_memory(&after_load)
    );
    let rss = RssResult {
        machine: Machine::current(),
        date: machine::now(),
        command: crate::invocation(),
        lethe_build: build.to_owned(),
        scale: Scale::of(common),
        startup,
        after_load,
        idle_seconds: idle,
        load: describe_load(plan),
    };
    Ok((sets, Some(rss)))
}

async fn measure_set(common: &Common, plan: &Plan, target: &Target, set: ConsumerSet) -> anyhow::Result<SetResult> {
    let ids = set.ids(common.consumers);
    // The set's middle id: for the uniform set, a typical consumer rather than a hot one.
    let example = format!("cons-{:07}", ids.start + (ids.end - ids.start) / 2);
    let count = load::conversation_count(target, &example).await?;
    eprintln!(
        "lethe-bench: {}: {example} has {count} conversations; {}s warm-up, {}s measured …",
        set.describe(),
        plan.load.warmup,
        plan.load.duration
    );
    let stats = load::run(target, &plan.load, ids.clone(), common.seed).await?;
    print_stats(plan.load.connections, &stats);
    let single_connection = if plan.load.probe > 0 {
        let probe = LoadArgs {
            connections: 1,
            warmup: PROBE_WARMUP_SECONDS,
            duration: plan.load.probe,
            probe: 0,
        };
        let stats = load::run(target, &probe, ids.clone(), common.seed).await?;
        print_stats(1, &stats);
        Some(stats)
    } else {
        None
    };
    Ok(SetResult {
        set,
        ids: (ids.start, ids.end),
        sample: (example, count),
        stats,
        single_connection,
    })
}

fn print_stats(connections: usize, s: &Stats) {
    eprintln!(
        "lethe-bench: {connections} connection(s): {:.0} req/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors",
        s.requests_per_second, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.errors
    );
}

fn describe_memory(m: &Memory) -> String {
    format!(
        "RSS {} KiB (anonymous {}, files {}; peak {}), {} threads",
        m.rss_kib, m.anon_kib, m.file_kib, m.peak_kib, m.threads
    )
}

fn describe_load(plan: &Plan) -> String {
    let sets: Vec<&str> = plan.sets.iter().map(|s| s.describe()).collect();
    let probe = if plan.load.probe > 0 {
        format!(", then 1 connection {PROBE_WARMUP_SECONDS}+{}s", plan.load.probe)
    } else {
        String::new()
    };
    format!(
        "per set, {} connections {}+{}s{probe}; sets: {}",
        plan.load.connections,
        plan.load.warmup,
        plan.load.duration,
        sets.join(", ")
    )
}

fn search_result(common: &Common, plan: &Plan, sets: Vec<SetResult>, lethe_build: String) -> SearchResult {
    SearchResult {
        machine: Machine::current(),
        date: machine::now(),
        command: crate::invocation(),
        lethe_build,
        scale: Scale::of(common),
        connections: plan.load.connections,
        warmup_seconds: plan.load.warmup,
        duration_seconds: plan.load.duration,
        sets,
    }
}
