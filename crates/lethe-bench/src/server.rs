//! `lethe serve` as a child process: started on a free port, watched through /proc,
//! stopped with SIGTERM like a service manager would.

use crate::lethe::Lethe;
use crate::machine::proc_field_kib;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long a server may take to answer `/readyz`.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);
/// How long a stopping server may take before it is killed.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(15);

/// A reading of a process's memory. The split tells heap growth (anonymous) from
/// mapped files (the binary, SQLite's memory map), and threads hint at per-thread arenas.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Memory {
    /// VmRSS: all resident pages.
    pub rss_kib: u64,
    /// RssAnon: heap and stacks.
    pub anon_kib: u64,
    /// RssFile: resident pages of mapped files.
    pub file_kib: u64,
    /// VmHWM: the peak of VmRSS since start.
    pub peak_kib: u64,
    pub threads: u64,
}

/// A running `lethe serve`.
pub struct Server {
    child: Child,
    pid: u32,
    pub base_url: String,
}

impl Server {
    /// Starts the server and waits until it is ready. Its log goes to `log` (a pipe
    /// nobody reads would fill and stall it).
    pub async fn start(lethe: &Lethe, log: &Path) -> anyhow::Result<Self> {
        Self::start_with(lethe, log, &[]).await
    }

    /// Starts the server with extra `LETHE_*` configuration variables.
    pub async fn start_with(lethe: &Lethe, log: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(log)?;
        let mut command = Command::from(lethe.command());
        command
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command.spawn().context("starting lethe serve")?;
        let pid = child.id().context("lethe serve exited at once")?;
        let server = Self {
            child,
            pid,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let url = format!("{}/readyz", self.base_url);
        while started.elapsed() < STARTUP_LIMIT {
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("lethe serve was not ready within {STARTUP_LIMIT:?}")
    }

    /// Resident memory now, from /proc/PID/status.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let field = |name: &str| {
            proc_field_kib(&status, name).with_context(|| format!("no {name} in /proc/{}/status", self.pid))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            anon_kib: field("RssAnon:")?,
            file_kib: field("RssFile:")?,
            peak_kib: field("VmHWM:")?,
            threads: field("Threads:")?,
        })
    }

    /// SIGTERM (graceful shutdown), then SIGKILL if it lingers.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        // `kill(1)` rather than libc: this workspace forbids unsafe code.
        std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()?;
        if tokio::time::timeout(SHUTDOWN_LIMIT, self.child.wait()).await.is_err() {
            eprintln!("lethe-bench: lethe serve ignored SIGTERM; killing it");
            self.child.kill().await?;
        }
        Ok(())
    }
}

/// A port nothing listens on now (the OS picks it; the tiny race is harmless here).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
