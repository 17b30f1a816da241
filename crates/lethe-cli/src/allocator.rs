//! The process allocator: mimalloc (see the workspace manifest for why not glibc's),
//! told to hand freed pages back to the kernel as soon as they are free.

use libmimalloc_sys::{mi_option_set, mi_option_t};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc.h's `mi_option_e`, which the sys crate
/// does not name. A test checks that it is the option with purge_delay's default.
const PURGE_DELAY: mi_option_t = 15;

/// The environment variable through which an operator sets the delay instead.
const PURGE_DELAY_VARIABLE: &str = "MIMALLOC_PURGE_DELAY";

/// Sets mimalloc's purge delay to zero unless the environment sets it.
///
/// mimalloc gives a freed page back after the delay (1 s), but only when the thread that
/// freed it next calls the allocator; a server's threads go quiet together, so after a
/// busy spell their free pages stayed resident. After 50 s of random and busiest-consumer
/// searches from wrk, the idle server held 52–56 MiB (34 MiB anonymous, all in
/// mimalloc's arena), against 35 MiB with no delay; alternating load runs showed no
/// throughput difference (BENCHMARKS.md, *Notes*).
pub fn return_free_pages_at_once() {
    if std::env::var_os(PURGE_DELAY_VARIABLE).is_some() {
        return;
    }
    // SAFETY: mi_option_set takes two integers and only changes a setting mimalloc reads
    // on later calls; it may be called from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    /// The purge delay mimalloc uses now, in milliseconds.
    #[allow(unsafe_code)]
    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: mi_option_get takes an integer and reads a setting.
        unsafe { mi_option_get(PURGE_DELAY) }
    }

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_none() {
            assert_eq!(purge_delay(), 1000, "mimalloc v3's default purge delay");
        }
        return_free_pages_at_once();
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_none() {
            assert_eq!(purge_delay(), 0);
        }
    }
}
