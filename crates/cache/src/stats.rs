//! Counters of a [`super::Cache`] and the rate limit on its error logs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// A snapshot of a cache's counters since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Keys looked up and found (fresh or stale).
    pub hits: u64,
    /// Keys looked up and not found, including lookups that failed.
    pub misses: u64,
    /// Backend calls that failed or were refused by an open breaker, and values that did not
    /// decode.
    pub errors: u64,
    /// Values written.
    pub sets: u64,
    /// Keys deleted.
    pub deletes: u64,
    /// Calls of a `get_or_rebuild` closure.
    pub rebuilds: u64,
    /// `get_or_rebuild` answers that were stale values.
    pub stale_served: u64,
    /// Times a server's circuit breaker opened.
    pub breaker_open_events: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub errors: AtomicU64,
    pub sets: AtomicU64,
    pub deletes: AtomicU64,
    pub rebuilds: AtomicU64,
    pub stale_served: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self, breaker_open_events: u64) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            errors: get(&self.errors),
            sets: get(&self.sets),
            deletes: get(&self.deletes),
            rebuilds: get(&self.rebuilds),
            stale_served: get(&self.stale_served),
            breaker_open_events,
        }
    }
}

/// Lets one log line per source through per interval and counts the ones held back.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    interval: Duration,
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl LogLimiter {
    pub fn new(interval: Duration) -> LogLimiter {
        LogLimiter {
            interval,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` if a line about `source` may be logged now, `n` being how many were held back
    /// since the last one; `None` if this one should be held back.
    pub fn allow(&self, source: &str, now: Instant) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match last.get_mut(source) {
            Some((at, held)) if now.saturating_duration_since(*at) < self.interval => {
                *held += 1;
                None
            }
            Some((at, held)) => {
                let skipped = *held;
                *at = now;
                *held = 0;
                Some(skipped)
            }
            None => {
                last.insert(source.to_owned(), (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_source_per_interval() {
        let limiter = LogLimiter::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(limiter.allow("m1", t0), Some(0));
        assert_eq!(limiter.allow("m1", t0 + Duration::from_millis(10)), None);
        assert_eq!(limiter.allow("m1", t0 + Duration::from_millis(900)), None);
        assert_eq!(
            limiter.allow("m2", t0),
            Some(0),
            "sources are limited separately"
        );
        assert_eq!(limiter.allow("m1", t0 + Duration::from_secs(1)), Some(2));
        assert_eq!(limiter.allow("m1", t0 + Duration::from_millis(1500)), None);
    }
}
