//! [`Cache`]: prefixed keys, JSON values, counters, and errors turned into misses.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::memcached::{MemcachedBackend, MemcachedOptions};
use super::memory::MemoryBackend;
use super::rebuild::Flights;
use super::stats::{CacheStats, Counters, LogLimiter};
use super::{CacheBackend, CacheError, keys};

/// The application's cache: cheap to clone, safe to share, blocking (call it from
/// `spawn_blocking`, next to the Diesel work).
///
/// No method fails: a backend error is logged (at most once per second per server), counted,
/// and read as a miss; a write that fails is simply lost.
#[derive(Clone)]
pub struct Cache {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub backend: Box<dyn CacheBackend>,
    pub prefix: String,
    pub counters: Counters,
    log: LogLimiter,
    pub flights: Flights,
    /// The near cache: this process's copy of recently read memcached entries.
    near: Option<moka::sync::Cache<String, Arc<Vec<u8>>>>,
    /// How long past freshness values are kept for a failing rebuild (ms; see
    /// [`Cache::set_saved_for`]).
    saved_for_ms: std::sync::atomic::AtomicU64,
}

/// Bytes the near cache may hold.
const NEAR_CAPACITY_BYTES: u64 = 16 << 20;

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.inner.backend.name())
            .field("prefix", &self.inner.prefix)
            .finish()
    }
}

impl Cache {
    /// A cache over `backend` whose keys all start with `<prefix>:v2:`. The prefix is 1 to 64
    /// characters of `A-Z a-z 0-9 _ . -`; give each deployment (and each test run sharing a
    /// memcached) its own.
    pub fn new(backend: impl CacheBackend + 'static, prefix: &str) -> Result<Cache, String> {
        keys::validate_prefix(prefix)?;
        Ok(Cache {
            inner: Arc::new(Inner {
                backend: Box::new(backend),
                prefix: prefix.to_owned(),
                counters: Counters::default(),
                log: LogLimiter::new(Duration::from_secs(1)),
                flights: Flights::default(),
                near: None,
                saved_for_ms: Default::default(),
            }),
        })
    }

    /// Like [`Cache::new`], with a near cache in front of `backend`: entries read or written
    /// through this `Cache` are kept in process memory for `near_ttl` (16 MiB at most), so a hot
    /// key costs one backend round trip per `near_ttl` instead of one per request. Deletes
    /// through this `Cache` clear its copy at once; a delete by another app server reaches this
    /// one's copy only when it expires, so other servers may serve a value up to `near_ttl`
    /// longer. `Duration::ZERO` means no near cache.
    pub fn layered(
        backend: impl CacheBackend + 'static,
        prefix: &str,
        near_ttl: Duration,
    ) -> Result<Cache, String> {
        keys::validate_prefix(prefix)?;
        let near = (!near_ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(NEAR_CAPACITY_BYTES)
                .weigher(|k: &String, v: &Arc<Vec<u8>>| {
                    u32::try_from(k.len() + v.len() + 64).unwrap_or(u32::MAX)
                })
                .time_to_live(near_ttl)
                .build()
        });
        Ok(Cache {
            inner: Arc::new(Inner {
                backend: Box::new(backend),
                prefix: prefix.to_owned(),
                counters: Counters::default(),
                log: LogLimiter::new(Duration::from_secs(1)),
                flights: Flights::default(),
                near,
                saved_for_ms: Default::default(),
            }),
        })
    }

    /// A cache from configuration: `None`, `""` or `"memory"` is an in-process cache of
    /// `memory_capacity_bytes`; `memcache://host:port[,host:port...]` is memcached with the
    /// default [`MemcachedOptions`] (100 ms timeouts, breaker after 3 failures for 2 s).
    /// Never connects, so it succeeds with every server down.
    pub fn from_url(
        url: Option<&str>,
        prefix: &str,
        memory_capacity_bytes: u64,
    ) -> Result<Cache, String> {
        Cache::from_url_layered(url, prefix, memory_capacity_bytes, Duration::ZERO)
    }

    /// [`Cache::from_url`] with a near cache of `near_ttl` in front of memcached (see
    /// [`Cache::layered`]); the in-process backend needs none.
    pub fn from_url_layered(
        url: Option<&str>,
        prefix: &str,
        memory_capacity_bytes: u64,
        near_ttl: Duration,
    ) -> Result<Cache, String> {
        match url.map(str::trim) {
            None | Some("") | Some("memory") => {
                Cache::new(MemoryBackend::new(memory_capacity_bytes), prefix)
            }
            Some(list) if list.starts_with("memcache://") => Cache::layered(
                MemcachedBackend::new(list, MemcachedOptions::default())?,
                prefix,
                near_ttl,
            ),
            Some(other) => Err(format!(
                "unsupported cache URL {other:?}: use \"memory\" or memcache://host:port[,host:port...]"
            )),
        }
    }

    /// How long past their freshness values are kept to be served when their rebuild fails (the
    /// stale-if-error window of [`Cache::get_or_rebuild_saved`] callers); zero by default.
    pub fn set_saved_for(&self, saved_for: Duration) {
        self.inner.saved_for_ms.store(
            saved_for.as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The window set by [`Cache::set_saved_for`].
    pub fn saved_for(&self) -> Duration {
        Duration::from_millis(
            self.inner
                .saved_for_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// What the cache runs on, for logs and the admin page.
    pub fn backend_name(&self) -> &str {
        self.inner.backend.name()
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.inner
            .counters
            .snapshot(self.inner.backend.breaker_open_events())
    }

    /// The bytes stored under `key`, if any.
    pub fn get_bytes(&self, key: &str) -> Option<Vec<u8>> {
        let found = self.get_raw(&self.full_key(key));
        self.count_lookups(u64::from(found.is_some()), u64::from(found.is_none()));
        found
    }

    /// The bytes stored under each of `keys` that has some; absent keys are left out.
    pub fn get_multi_bytes(&self, keys: &[String]) -> HashMap<String, Vec<u8>> {
        let found = self.get_multi_raw(keys);
        let hits = found.len() as u64;
        self.count_lookups(hits, keys.len() as u64 - hits);
        found
    }

    /// Stores `value` under `key` for `ttl` (memcached rounds up to whole seconds).
    pub fn set_bytes(&self, key: &str, value: &[u8], ttl: Duration) {
        self.set_raw(&self.full_key(key), value, ttl);
    }

    /// The JSON value stored under `key`; a value that does not decode as `T` is a miss.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let decoded = self
            .get_raw(&self.full_key(key))
            .and_then(|bytes| self.decode(key, &bytes));
        self.count_lookups(u64::from(decoded.is_some()), u64::from(decoded.is_none()));
        decoded
    }

    /// The JSON values stored under `keys`; absent and undecodable ones are left out.
    pub fn get_multi_json<T: DeserializeOwned>(&self, keys: &[String]) -> HashMap<String, T> {
        let result: HashMap<String, T> = self
            .get_multi_raw(keys)
            .into_iter()
            .filter_map(|(key, bytes)| self.decode(&key, &bytes).map(|v| (key, v)))
            .collect();
        let hits = result.len() as u64;
        self.count_lookups(hits, keys.len() as u64 - hits);
        result
    }

    /// Stores `value` as JSON under `key` for `ttl`.
    pub fn set_json<T: Serialize + ?Sized>(&self, key: &str, value: &T, ttl: Duration) {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.set_bytes(key, &bytes, ttl),
            Err(error) => self.report_other("encode", key, &error),
        }
    }

    /// Takes the lease `key` for `ttl` when nobody holds it (memcached `add`): true for the one
    /// caller that got it. A failing cache grants it (the work is then done as if uncached).
    pub fn try_lease(&self, key: &str, ttl: Duration) -> bool {
        match self.inner.backend.add(&self.full_key(key), b"1", ttl) {
            Ok(won) => won,
            Err(error) => {
                self.report(&error);
                true
            }
        }
    }

    /// Whether the backend lives in this process's memory, so its calls never wait for I/O
    /// (they may run on an async worker).
    pub fn is_in_process(&self) -> bool {
        self.inner.backend.in_process()
    }

    /// Adds `delta` to the counter `key` and keeps it for `ttl` from now (a missing counter
    /// starts at `delta`); atomic across every process sharing the backend (memcached `ma`).
    /// The new value, or `None` when the cache failed: the error is counted and logged like
    /// any other, and a caller that must not fail open falls back to something of its own.
    pub fn incr(&self, key: &str, delta: u64, ttl: Duration) -> Option<u64> {
        let full = self.full_key(key);
        if let Some(near) = &self.inner.near {
            near.invalidate(&full);
        }
        match self.inner.backend.incr(&full, delta, ttl) {
            Ok(value) => {
                Counters::add(&self.inner.counters.sets, 1);
                Some(value)
            }
            Err(error) => {
                self.report(&error);
                None
            }
        }
    }

    /// Subtracts `delta` from the counter `key` (not below 0, expiry unchanged): the new value,
    /// 0 for a missing counter, `None` when the cache failed.
    pub fn decr(&self, key: &str, delta: u64) -> Option<u64> {
        let full = self.full_key(key);
        if let Some(near) = &self.inner.near {
            near.invalidate(&full);
        }
        match self.inner.backend.decr(&full, delta) {
            Ok(value) => {
                Counters::add(&self.inner.counters.sets, 1);
                Some(value.unwrap_or(0))
            }
            Err(error) => {
                self.report(&error);
                None
            }
        }
    }

    /// Stores `value` as the counter `key` for `ttl`; `None` when the cache failed.
    pub fn set_counter(&self, key: &str, value: u64, ttl: Duration) -> Option<()> {
        let full = self.full_key(key);
        if let Some(near) = &self.inner.near {
            near.invalidate(&full);
        }
        match self
            .inner
            .backend
            .set(&full, value.to_string().as_bytes(), ttl)
        {
            Ok(()) => {
                Counters::add(&self.inner.counters.sets, 1);
                Some(())
            }
            Err(error) => {
                self.report(&error);
                None
            }
        }
    }

    /// The counters under `keys`, in order (0 for a missing one), read from the backend itself
    /// (never the near cache, whose copy could be behind); `None` when the cache failed for
    /// any of them.
    pub fn counters(&self, keys: &[String]) -> Option<Vec<u64>> {
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k)).collect();
        let found = match self.inner.backend.get_multi(&full) {
            Ok(found) => found,
            Err(error) => {
                self.report(&error);
                return None;
            }
        };
        let hits = full.iter().filter(|k| found.contains_key(*k)).count() as u64;
        self.count_lookups(hits, keys.len() as u64 - hits);
        Some(
            full.iter()
                .map(|k| {
                    found.get(k).map_or(0, |bytes| {
                        super::parse_counter(bytes).unwrap_or_else(|| {
                            self.report_other("decode", k, &"not a counter");
                            0
                        })
                    })
                })
                .collect(),
        )
    }

    /// Removes `key`. Call it after the transaction that changed the data has committed:
    /// deleting before the commit lets a concurrent reader cache the old rows again.
    pub fn delete(&self, key: &str) {
        let full = self.full_key(key);
        if let Some(near) = &self.inner.near {
            near.invalidate(&full);
        }
        match self.inner.backend.delete(&full) {
            Ok(()) => Counters::add(&self.inner.counters.deletes, 1),
            Err(error) => self.report(&error),
        }
    }

    /// Removes each of `keys` (after the commit, as for [`Cache::delete`]).
    pub fn delete_many(&self, keys: &[String]) {
        keys.iter().for_each(|key| self.delete(key));
    }

    pub(crate) fn full_key(&self, key: &str) -> String {
        keys::full_key(&self.inner.prefix, key)
    }

    /// The bytes under a full key if they are in this process's memory (the near cache, or an
    /// in-process backend); never waits for I/O. Counts nothing.
    pub(crate) fn get_local_raw(&self, full: &str) -> Option<Vec<u8>> {
        match &self.inner.near {
            Some(near) => near.get(full).map(|b| b.as_ref().clone()),
            None if self.inner.backend.in_process() => self.inner.backend.get(full).ok().flatten(),
            None => None,
        }
    }

    /// A backend read by full key; errors are reported and read as a miss. Counts nothing else.
    pub(crate) fn get_raw(&self, full: &str) -> Option<Vec<u8>> {
        if let Some(near) = &self.inner.near
            && let Some(bytes) = near.get(full)
        {
            return Some(bytes.as_ref().clone());
        }
        match self.inner.backend.get(full) {
            Ok(found) => {
                if let (Some(near), Some(bytes)) = (&self.inner.near, &found) {
                    near.insert(full.to_owned(), Arc::new(bytes.clone()));
                }
                found
            }
            Err(error) => {
                self.report(&error);
                None
            }
        }
    }

    /// A backend multi-read keyed by the caller's keys. Counts nothing but errors.
    fn get_multi_raw(&self, keys: &[String]) -> HashMap<String, Vec<u8>> {
        let full: Vec<String> = keys.iter().map(|k| self.full_key(k)).collect();
        let mut near_found = HashMap::new();
        let wanted: Vec<String> = match &self.inner.near {
            Some(near) => full
                .iter()
                .filter(|k| match near.get(*k) {
                    Some(bytes) => {
                        near_found.insert((*k).clone(), bytes.as_ref().clone());
                        false
                    }
                    None => true,
                })
                .cloned()
                .collect(),
            None => full.clone(),
        };
        let fetched = if wanted.is_empty() {
            Ok(HashMap::new())
        } else {
            self.inner.backend.get_multi(&wanted)
        };
        let mut found = match fetched {
            Ok(found) => found,
            Err(CacheError::Partial { found, errors }) => {
                errors.iter().for_each(|e| self.report(e));
                found
            }
            Err(error) => {
                self.report(&error);
                HashMap::new()
            }
        };
        if let Some(near) = &self.inner.near {
            for (k, v) in &found {
                near.insert(k.clone(), Arc::new(v.clone()));
            }
        }
        found.extend(near_found);
        keys.iter()
            .zip(&full)
            .filter_map(|(key, full)| found.remove(full).map(|v| (key.clone(), v)))
            .collect()
    }

    pub(crate) fn set_raw(&self, full: &str, value: &[u8], ttl: Duration) {
        let result = self.inner.backend.set(full, value, ttl);
        if let Some(near) = &self.inner.near {
            match &result {
                Ok(()) if ttl >= Duration::from_secs(1) => {
                    near.insert(full.to_owned(), Arc::new(value.to_vec()))
                }
                _ => near.invalidate(full),
            }
        }
        match result {
            Ok(()) => Counters::add(&self.inner.counters.sets, 1),
            Err(error) => self.report(&error),
        }
    }

    pub(crate) fn count_lookups(&self, hits: u64, misses: u64) {
        Counters::add(&self.inner.counters.hits, hits);
        Counters::add(&self.inner.counters.misses, misses);
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, bytes: &[u8]) -> Option<T> {
        serde_json::from_slice(bytes)
            .map_err(|error| self.report_other("decode", key, &error))
            .ok()
    }

    /// Counts a backend error and logs it, at most once per second per server.
    pub(crate) fn report(&self, error: &CacheError) {
        if let CacheError::Partial { errors, .. } = error {
            errors.iter().for_each(|e| self.report(e));
            return;
        }
        Counters::add(&self.inner.counters.errors, 1);
        if let Some(held_back) = self.inner.log.allow(error.server(), Instant::now()) {
            tracing::warn!(
                backend = self.backend_name(),
                %error,
                similar_errors_not_logged = held_back,
                "cache error; read as a miss"
            );
        }
    }

    /// Counts and logs (rate-limited) an error that is not the backend's, such as bad JSON.
    pub(crate) fn report_other(&self, what: &str, key: &str, error: &dyn std::fmt::Display) {
        Counters::add(&self.inner.counters.errors, 1);
        if let Some(held_back) = self.inner.log.allow(what, Instant::now()) {
            tracing::warn!(
                key,
                %error,
                similar_errors_not_logged = held_back,
                "cache value could not be {what}d; read as a miss"
            );
        }
    }
}
