//! Gives freed heap back to the operating system once the server goes quiet.
//!
//! glibc keeps freed memory in per-thread arenas for reuse; after a burst of requests a
//! two-core server holds tens of megabytes it no longer needs until the next burst.
//! `malloc_trim` releases the free pages of every arena. It runs after a quiet period,
//! and every ten seconds under load that never pauses (a call takes about a millisecond).
//! The `lethe` binary allocates Rust objects with mimalloc, set to return freed pages as
//! soon as they are free (`lethe-cli`'s allocator module); glibc still holds what SQLite
//! allocates (page caches, statements), and that is what the trim releases.
//! A quiet period also unmaps the database file from the store's readers: under load
//! the mapped pages are what make reads cheap, once quiet they are only resident size.

use lethe_store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// Under load that never pauses, how often the server trims anyway: one large request
/// (a deletion request listing 100,000 ids) would otherwise stay in RSS while polling
/// keeps the server from ever being quiet.
const BUSY_TRIM_TICKS: u32 = 5;

/// Trims once after every busy spell, and every few quiet-checks while busy, until
/// shutdown; read memory goes back only after a busy spell.
pub async fn trim_when_quiet(store: Arc<dyn Store>, shutdown: CancellationToken) {
    let mut seen = ANSWERED.load(Ordering::Relaxed);
    let (mut busy, mut busy_ticks) = (false, 0);
    let mut ticks = tokio::time::interval(QUIET);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let now = ANSWERED.load(Ordering::Relaxed);
                if now != seen {
                    seen = now;
                    busy = true;
                    busy_ticks += 1;
                    if busy_ticks >= BUSY_TRIM_TICKS {
                        busy_ticks = 0;
                        release_free_heap();
                    }
                } else if busy {
                    (busy, busy_ticks) = (false, 0);
                    if let Err(e) = store.release_read_memory() {
                        tracing::warn!(error = %e, "could not release the readers' memory");
                    }
                    release_free_heap();
                }
            }
        }
    }
}

/// Allocations from this size up are mapped on their own and unmapped when freed
/// (glibc's starting value, kept).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Fixes glibc's mmap threshold, which also stops the trim threshold from moving. By
/// default glibc raises both after a large block is freed (up to 32 and 64 MiB): once a
/// request listing 100,000 ids had been answered, later large buffers came from the
/// arenas and stayed there, and an erasure job's RSS grew 48–57 MiB. Fixed, it grew
/// 11 MiB. (Also fixing the trim threshold at 1 MiB left idle RSS 5 MiB higher.)
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn fix_heap_thresholds() {
    const M_MMAP_THRESHOLD: i32 = -3;
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt takes two integers and only changes glibc's allocation policy for
    // later calls; it is safe to call from any thread at any time.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Fixes the allocator's thresholds (a no-op off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_heap_thresholds() {}

/// Returns the free pages of glibc's arenas to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_heap() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim takes no pointers and only returns unused pages of glibc's
    // own arenas to the kernel; it is safe to call from any thread at any time.
    unsafe {
        malloc_trim(0);
    }
}

/// Returns free heap to the kernel (a no-op off glibc).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_heap() {}
