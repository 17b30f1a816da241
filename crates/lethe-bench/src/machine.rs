//! What ran the benchmark: figures mean little without the machine and the date.

use serde::{Deserialize, Serialize};

/// The host a result was measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub nproc: usize,
    pub ram_mib: u64,
    pub cpu: String,
    /// Milliseconds one core takes for a fixed workload (`cpu_check_ms`): the same model
    /// name has meant hosts twice as fast as others, so this is what makes figures from
    /// different runs comparable. Absent in results saved before it was measured.
    #[serde(default)]
    pub cpu_check_ms: Option<f64>,
}

impl Machine {
    /// Reads the host's facts from the standard library and /proc.
    pub fn current() -> Self {
        Self {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ram_mib: mem_total_kib().unwrap_or(0) / 1024,
            cpu: cpu_model().unwrap_or_else(|| "unknown CPU".into()),
            cpu_check_ms: Some(cpu_check_ms()),
        }
    }

    /// One line for a report table.
    pub fn describe(&self) -> String {
        let check = self
            .cpu_check_ms
            .map(|ms| format!("; CPU check {ms:.0} ms (sorting {CHECK_LEN} integers on one core, best of {CHECK_RUNS}; lower is faster)"))
            .unwrap_or_default();
        format!(
            "{} CPUs (`nproc`), {:.1} GiB RAM, {}{check}",
            self.nproc,
            self.ram_mib as f64 / 1024.0,
            self.cpu
        )
    }
}

/// Integers sorted by the CPU check.
const CHECK_LEN: usize = 4_000_000;
/// Runs of the CPU check; the fastest counts, as the one least disturbed.
const CHECK_RUNS: usize = 3;

/// Times a fixed single-core workload: an unstable sort of pseudo-random integers from a
/// fixed seed, which exercises branches, caches and memory the way a server does.
pub fn cpu_check_ms() -> f64 {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let input: Vec<u64> = (0..CHECK_LEN)
        .map(|_| {
            // xorshift64: reproducible without a dependency on a generator's version.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        })
        .collect();
    (0..CHECK_RUNS)
        .map(|_| {
            let mut data = input.clone();
            let started = std::time::Instant::now();
            data.sort_unstable();
            std::hint::black_box(&data);
            started.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(cpu_check_ms: Option<f64>) -> Machine {
        Machine {
            nproc: 2,
            ram_mib: 24 * 1024,
            cpu: "AMD EPYC".into(),
            cpu_check_ms,
        }
    }

    #[test]
    fn the_cpu_check_is_described_only_when_measured() {
        assert_eq!(machine(None).describe(), "2 CPUs (`nproc`), 24.0 GiB RAM, AMD EPYC");
        let described = machine(Some(312.4)).describe();
        assert!(described
            .ends_with("; CPU check 312 ms (sorting 4000000 integers on one core, best of 3; lower is faster)"));
    }

    #[test]
    fn results_saved_before_the_check_still_load() {
        let old = r#"{"nproc": 2, "ram_mib": 1024, "cpu": "AMD EPYC"}"#;
        let machine: Machine = serde_json::from_str(old).unwrap();
        assert_eq!(machine.cpu_check_ms, None);
    }
}
