//! Time as a dependency, so tests can move it instead of sleeping.

use lethe_domain::Millis;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        lethe_domain::time::now()
    }
}

/// A clock that moves only when told to: tests step through grace periods and month
/// boundaries without sleeping.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock showing `now`.
    pub fn at(now: Millis) -> Self {
        Self(std::sync::atomic::AtomicI64::new(now))
    }

    /// Moves the clock forward (or back) by `ms`.
    pub fn advance(&self, ms: Millis) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, now: Millis) {
        self.0.store(now, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
