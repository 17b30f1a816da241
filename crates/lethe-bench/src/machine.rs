//! What ran the benchmark: figures mean little without the machine and the date.

use serde::{Deserialize, Serialize};

/// The host a result was measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub nproc: usize,
    pub ram_mib: u64,
    pub cpu: String,
}

impl Machine {
    /// Reads the host's facts from the standard library and /proc.
    pub fn current() -> Self {
        Self {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ram_mib: mem_total_kib().unwrap_or(0) / 1024,
            cpu: cpu_model().unwrap_or_else(|| "unknown CPU".into()),
        }
    }

    /// One line for a report table.
    pub fn describe(&self) -> String {
        format!(
            "{} CPUs (`nproc`), {:.1} GiB RAM, {}",
            self.nproc,
            self.ram_mib as f64 / 1024.0,
            self.cpu
        )
    }
}

fn mem_total_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    proc_field_kib(&text, "MemTotal:")
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// The value of a `Name:   1234 kB` line of a /proc file, in KiB.
pub fn proc_field_kib(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Now, in UTC, to the minute.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}
