//! Driving the `lethe` binary as a child process, the way an operator runs it.

use crate::Common;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The account every benchmark uses.
pub const ACCOUNT: &str = "bench";

/// GNU time, when present, reports the child's CPU time and peak memory, which tell
/// whether an import is bound by CPU (sealing, hashing) or by the disk.
const GNU_TIME: &str = "/usr/bin/time";

/// The lethe binary and the database it works on.
pub struct Lethe {
    bin: PathBuf,
    database_url: String,
}

/// How a `lethe import` run went.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub wall: Duration,
    /// User and system CPU seconds and peak RSS (KiB), when GNU time is installed.
    pub cpu: Option<(f64, f64, u64)>,
    /// lethe's own summary line.
    pub summary: String,
}

impl Lethe {
    /// lethe on the SQLite file `db` (absolute, so the child's working directory is moot).
    pub fn new(common: &Common, db: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            bin: std::path::absolute(&common.lethe)?,
            database_url: format!("sqlite://{}", std::path::absolute(db)?.display()),
        })
    }

    /// A command with the global options set.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command.arg("--database").arg(&self.database_url);
        command
    }

    /// `lethe accounts create bench` (also creates the database and its key file).
    pub fn create_account(&self) -> anyhow::Result<()> {
        checked(
            self.command().args(["accounts", "create", ACCOUNT]).output()?,
            "accounts create",
        )?;
        Ok(())
    }

    /// `lethe keys create`: a key that may read the bench account's conversations.
    pub fn create_read_key(&self) -> anyhow::Result<String> {
        self.create_key("conversations:read")
    }

    /// `lethe keys create` with the given comma-separated scopes for the bench account.
    pub fn create_key(&self, scopes: &str) -> anyhow::Result<String> {
        let out = checked(
            self.command()
                .args(["keys", "create", "--account", ACCOUNT])
                .args(["--scopes", scopes, "--name", "bench"])
                .output()?,
            "keys create",
        )?;
        let key = String::from_utf8(out.stdout)?.trim().to_owned();
        anyhow::ensure!(!key.is_empty(), "keys create printed no key");
        Ok(key)
    }

    /// Times `lethe import --quiet` of `file` into the bench account.
    pub fn import(&self, file: &Path, batch: usize, scratch: &Path) -> anyhow::Result<ImportRun> {
        let time_file = scratch.join("import.time");
        let mut command = if Path::new(GNU_TIME).is_file() {
            let mut c = Command::new(GNU_TIME);
            c.args(["-f", "%U %S %M", "-o"]).arg(&time_file).arg(&self.bin);
            c.arg("--database").arg(&self.database_url);
            c
        } else {
            self.command()
        };
        command
            .args(["import", "--account", ACCOUNT, "--quiet", "--batch-size"])
            .arg(batch.to_string())
            .arg(file);
        let started = Instant::now();
        let out = checked(command.output()?, "import")?;
        let wall = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let summary = stderr
            .lines()
            .find(|l| l.contains("imported"))
            .unwrap_or_default()
            .to_owned();
        Ok(ImportRun {
            wall,
            cpu: read_gnu_time(&time_file),
            summary,
        })
    }
}

/// Which lethe was measured: the binary's build time and the checkout's commit. lethe
/// changes while it is benchmarked, so figures must say which build they belong to.
pub fn build_identity(common: &Common) -> String {
    let built = std::fs::metadata(&common.lethe)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| "unknown".into());
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    format!("`{}` built {built}; checkout at {head}", common.lethe.display())
}

/// `lethe demo … --out FILE`: the data set, written beside its final name and renamed
/// so that an interrupted run never leaves a truncated file to be reused.
pub fn generate(common: &Common, out: &Path) -> anyhow::Result<Duration> {
    let partial = out.with_extension("partial");
    let started = Instant::now();
    let output = Command::new(&common.lethe)
        .args(["demo", "--account", ACCOUNT, "--quiet"])
        .args(["--consumers", &common.consumers.to_string()])
        .args(["--conversations", &common.conversations.to_string()])
        .args(["--messages", &common.messages.to_string()])
        .args(["--seed", &common.seed.to_string()])
        .arg("--out")
        .arg(&partial)
        .stdin(Stdio::null())
        .output()?;
    checked(output, "demo")?;
    std::fs::rename(&partial, out).with_context(|| format!("renaming {}", partial.display()))?;
    Ok(started.elapsed())
}

fn read_gnu_time(path: &Path) -> Option<(f64, f64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    // The format line is the last one; GNU time puts any notes about the child above it.
    let mut fields = text.lines().last()?.split_whitespace();
    Some((
        fields.next()?.parse().ok()?,
        fields.next()?.parse().ok()?,
        fields.next()?.parse().ok()?,
    ))
}

fn checked(out: Output, what: &str) -> anyhow::Result<Output> {
    if !out.status.success() {
        bail!(
            "lethe {what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}
