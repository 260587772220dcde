//! The cache: memcached or in-process, behind one blocking API that never fails its caller.
//!
//! # Use
//! [`Cache::from_url`] builds it from configuration (`None`/`"memory"` or
//! `memcache://host1:11211,host2:11211`); it opens no connection, so the app starts with
//! memcached down. Every method blocks: call it inside `spawn_blocking`, next to the Diesel work.
//! [`Cache::get_or_rebuild`] is the main entry; `get_json`/`set_json`, their `_bytes` and
//! `_multi` variants and `delete`/`delete_many` are the plain operations. A cache error is never
//! returned: it is counted, logged at most once per second per server, and read as a miss.
//! Invalidation is [`Cache::delete`], called **after** the transaction commits.
//!
//! # Keys
//! The stored key is `<prefix>:v2:<key>`. The prefix (1 to 64 of `A-Z a-z 0-9 _ . -`) separates
//! deployments and test runs sharing a memcached; `v1` is the scheme version, bumped when the
//! stored format changes so that old and new code never read each other's values. For
//! memcached, a stored key longer than 250 bytes or containing anything but printable ASCII
//! (spaces, control characters, non-ASCII) becomes `#` + hex SHA-256 of the whole key. Keys
//! starting with `lease:` are reserved for rebuild leases.
//!
//! # Values
//! `set_json` stores plain JSON. `get_or_rebuild` stores an envelope,
//! `{"fresh_until_ms": <Unix ms>, "value": <the value as JSON>}`, with a backend TTL of
//! `fresh_for + keep_stale_for` (memcached rounds it up to whole seconds, at most 30 days); the
//! envelope says until when the value is fresh, the TTL until when it may still be served stale.
//! Freshness uses the wall clock, so clock skew between app servers shifts it by that much.
//!
//! # Servers
//! Keys go to memcached servers by rendezvous (highest random weight) hashing: each server
//! scores a key with SipHash-1-3 under fixed keys over `"<host:port>" 0xff <key>` and the
//! highest score wins. The score is the same in every process and Rust version; adding a server
//! moves only the keys it now wins (about 1/N), removing one moves only its keys.
//!
//! # Timeouts
//! Per server: connect wait ≤ 100 ms, socket read and write timeouts 100 ms, connections
//! checked out without a test round trip, no connection at start-up ([`MemcachedOptions`];
//! `memcached.rs` lists what the `memcache` crate does and how each wait is bounded). The
//! socket timeouts apply per system call, so a server that answers a large value slowly but
//! steadily can take longer; a silent one costs 100 ms. A connection that had any transport
//! error is closed, never reused (the crate would otherwise read the late reply as the answer
//! to the next command).
//!
//! # Breaker
//! Each server has a circuit breaker: 3 consecutive failures open it for 2 s, during which
//! calls to it fail at once without I/O and its keys are misses (they are not moved to another
//! server, which would serve values that missed invalidations). Then one trial call goes
//! through; success closes the breaker, failure opens it again. Deletes that fail while a
//! server is unreachable are lost: values written before the outage can be read after it until
//! their TTL ends, which is what bounds staleness.
//!
//! # Stampedes
//! `get_or_rebuild` allows one rebuild per key at a time. Across processes, a `lease:<key>`
//! entry added with memcached `add` (3 s TTL) picks the rebuilder; while it works, the others
//! serve the stale value, or, when there is none, poll for up to 100 ms and then rebuild
//! themselves. Within a process, threads asking for the same key share one rebuild (and its
//! result) even with the in-process backend. When the cache fails, the rebuild simply runs.
//! A rebuild that read the database before a commit and stores after that commit's delete
//! leaves the old value for up to `fresh_for`: keep `fresh_for` short for data that must show
//! a user's own change at once.

mod breaker;
mod client;
mod hashing;
mod keys;
mod memcached;
mod memory;
mod rebuild;
mod stats;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

pub use breaker::{Breaker, BreakerConfig, Permit, Transition};
pub use client::Cache;
pub use keys::SCHEME_VERSION;
pub use memcached::{MemcachedBackend, MemcachedOptions};
pub use memory::{DEFAULT_MEMORY_CAPACITY, MemoryBackend};
pub use rebuild::{Keep, Served};
pub use stats::CacheStats;

/// Why a backend call did not answer.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The server could not be reached, timed out or answered garbage; counts towards its
    /// breaker.
    #[error("{server}: {message}")]
    Unavailable { server: String, message: String },
    /// Refused without I/O: the server's breaker is open.
    #[error("{server}: circuit breaker open")]
    CircuitOpen { server: String },
    /// The server answered with an error, e.g. a value over its item size limit.
    #[error("{server}: {message}")]
    Rejected { server: String, message: String },
    /// A multi-get of which some servers failed: `found` holds what the others returned.
    #[error("{} of the servers failed", errors.len())]
    Partial {
        found: HashMap<String, Vec<u8>>,
        errors: Vec<CacheError>,
    },
}

impl CacheError {
    /// The server the error is about (`"several"` for [`CacheError::Partial`]).
    pub fn server(&self) -> &str {
        match self {
            CacheError::Unavailable { server, .. }
            | CacheError::CircuitOpen { server }
            | CacheError::Rejected { server, .. } => server,
            CacheError::Partial { .. } => "several",
        }
    }
}

/// A counter's value as stored (decimal text, as memcached keeps it); `None` for anything else.
pub(crate) fn parse_counter(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// A place to keep bytes for a while. Keys arrive complete (prefixed); implementations must be
/// safe to call from many threads and must bound every wait.
pub trait CacheBackend: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// The values of those `keys` that have one.
    fn get_multi(&self, keys: &[String]) -> Result<HashMap<String, Vec<u8>>, CacheError>;
    /// Stores `value` under `key` for `ttl`.
    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// Stores `value` only if `key` has none; `true` if it was stored. Atomic.
    fn add(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError>;
    /// Adds `delta` to the counter under `key` (stored as decimal text) and keeps it for `ttl`
    /// from now; a missing key starts at `delta`. The new value. Atomic.
    fn incr(&self, key: &str, delta: u64, ttl: Duration) -> Result<u64, CacheError>;
    /// Subtracts `delta` from the counter under `key`, not below 0, keeping its expiry; the new
    /// value, `None` when there is no such counter. Atomic.
    fn decr(&self, key: &str, delta: u64) -> Result<Option<u64>, CacheError>;
    /// Removes `key` (absent is fine).
    fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// A description for logs, such as `memcached (m1:11211, m2:11211)`.
    fn name(&self) -> &str;
    /// How many times a breaker of this backend has opened.
    fn breaker_open_events(&self) -> u64 {
        0
    }
    /// Whether reads are in this process's memory (never wait for I/O), so they may run on an
    /// async worker.
    fn in_process(&self) -> bool {
        false
    }
}
