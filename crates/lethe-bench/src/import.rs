//! `import`: rows per second of `lethe import` against the plaintext baseline, both
//! reading the same NDJSON file in the same run.

use crate::counts::{self, TableCounts};
use crate::lethe::{self, Lethe};
use crate::machine::{self, Machine};
use crate::report::{self, Scale};
use crate::{baseline, Common, ImportArgs};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// lethe must import at least this fraction of the baseline's rows per second.
pub const REQUIRED_RATIO: f64 = 0.5;

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    pub seconds: f64,
    pub rows_per_second: f64,
    pub database_bytes: u64,
}

/// What `import` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportResult {
    pub machine: Machine,
    pub date: String,
    pub command: String,
    #[serde(default)]
    pub lethe_build: String,
    pub scale: Scale,
    pub batch: usize,
    pub ndjson_bytes: u64,
    pub rows: u64,
    pub tables: TableCounts,
    pub lethe: Side,
    pub baseline: Side,
    pub ratio: f64,
    /// lethe's user and system CPU seconds and peak RSS in KiB (GNU time).
    pub lethe_cpu: Option<(f64, f64, u64)>,
    pub lethe_summary: String,
    pub blob_files: u64,
}

/// Where a scale's files live.
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(common: &Common) -> Self {
        Self {
            root: common.data.join(Scale::of(common).dir_name()),
        }
    }
    pub fn ndjson(&self) -> PathBuf {
        self.root.join("demo.ndjson")
    }
    pub fn lethe_dir(&self) -> PathBuf {
        self.root.join("lethe")
    }
    pub fn lethe_db(&self) -> PathBuf {
        self.lethe_dir().join("lethe.db")
    }
    pub fn baseline_dir(&self) -> PathBuf {
        self.root.join("baseline")
    }
}

/// Runs the import benchmark and saves its result.
pub async fn run(common: &Common, args: &ImportArgs) -> anyhow::Result<ImportResult> {
    let layout = Layout::new(common);
    std::fs::create_dir_all(&layout.root)?;
    ensure_data_set(common, &layout, args.regenerate)?;

    let lethe_db = layout.lethe_db();
    fresh_dir(&layout.lethe_dir())?;
    let lethe = Lethe::new(common, &lethe_db)?;
    // Read before the run: lethe may be rebuilt while the benchmark runs.
    let build = lethe::build_identity(common);
    lethe.create_account()?;
    eprintln!("lethe-bench: lethe import …");
    let run = lethe.import(&layout.ndjson(), args.batch, &layout.root)?;
    eprintln!("lethe-bench: {} ({:.1}s wall)", run.summary, run.wall.as_secs_f64());
    let tables = counts::count_rows(&lethe_db).await?;

    let baseline_db = layout.baseline_dir().join("baseline.db");
    fresh_dir(&layout.baseline_dir())?;
    eprintln!("lethe-bench: plaintext baseline …");
    let baseline_time = baseline::load(&layout.ndjson(), &baseline_db, &common.migrations, args.batch).await?;
    eprintln!("lethe-bench: baseline took {:.1}s", baseline_time.as_secs_f64());
    counts::ensure_same(&tables, &counts::count_rows(&baseline_db).await?)?;

    let rows = counts::total(&tables);
    let lethe_side = side(rows, run.wall, &layout.lethe_dir())?;
    let baseline_side = side(rows, baseline_time, &layout.baseline_dir())?;
    let result = ImportResult {
        machine: Machine::current(),
        date: machine::now(),
        command: crate::invocation(),
        lethe_build: build,
        scale: Scale::of(common),
        batch: args.batch,
        ndjson_bytes: std::fs::metadata(layout.ndjson())?.len(),
        rows,
        tables,
        ratio: lethe_side.rows_per_second / baseline_side.rows_per_second,
        lethe: lethe_side,
        baseline: baseline_side,
        lethe_cpu: run.cpu,
        lethe_summary: run.summary,
        blob_files: count_files(&layout.lethe_dir().join("lethe-blobs"))?,
    };
    eprintln!(
        "lethe-bench: {rows} rows; lethe {:.0} rows/s, baseline {:.0} rows/s, ratio {:.2}",
        result.lethe.rows_per_second, result.baseline.rows_per_second, result.ratio
    );
    report::save(common, "import", &result)?;
    Ok(result)
}

/// Generates the data set unless this scale's file exists (generation is slow at full
/// scale and the generator is deterministic for a seed).
fn ensure_data_set(common: &Common, layout: &Layout, regenerate: bool) -> anyhow::Result<()> {
    if layout.ndjson().is_file() && !regenerate {
        eprintln!("lethe-bench: reusing {}", layout.ndjson().display());
        return Ok(());
    }
    eprintln!("lethe-bench: generating {} …", layout.ndjson().display());
    let took = lethe::generate(common, &layout.ndjson())?;
    eprintln!("lethe-bench: generated in {:.1}s", took.as_secs_f64());
    Ok(())
}

fn side(rows: u64, took: Duration, dir: &Path) -> anyhow::Result<Side> {
    let seconds = took.as_secs_f64();
    Ok(Side {
        seconds,
        rows_per_second: rows as f64 / seconds,
        database_bytes: dir_bytes(dir)?,
    })
}

/// Removes and recreates a directory: every run starts from an empty database.
fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Bytes of the SQLite files in a directory (database, WAL, shared memory).
fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().contains(".db") {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Files under a directory tree (lethe's blob store holds one per hosted file).
fn count_files(dir: &Path) -> anyhow::Result<u64> {
    if !dir.is_dir() {
        return Ok(0);
    }
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            total += count_files(&entry.path())?;
        } else {
            total += 1;
        }
    }
    Ok(total)
}
