//! Gives freed heap back to the operating system once the server goes quiet.
//!
//! glibc keeps freed memory in per-thread arenas for reuse; after a burst of requests a
//! two-core server holds tens of megabytes it no longer needs until the next burst.
//! `malloc_trim` releases the free pages of every arena. It runs only after a quiet
//! period, so it never competes with requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Requests answered since start; the trimmer watches it for quiet periods.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

/// How long the server must be quiet before it trims.
const QUIET: Duration = Duration::from_secs(2);

/// Counts an answered request.
pub fn note_request() {
    ANSWERED.fetch_add(1, Ordering::Relaxed);
}

/// Trims once after every busy spell, until shutdown.
pub async fn trim_when_quiet(shutdown: CancellationToken) {
    let mut seen = ANSWERED.load(Ordering::Relaxed);
    let mut busy = false;
    let mut ticks = tokio::time::interval(QUIET);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let now = ANSWERED.load(Ordering::Relaxed);
                if now != seen {
                    seen = now;
                    busy = true;
                } else if busy {
                    busy = false;
                    release_free_heap();
                }
            }
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_heap() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim takes no pointers and only returns unused pages of glibc's
    // own arenas to the kernel; it is safe to call from any thread at any time.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_heap() {}
