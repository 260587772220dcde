//! The in-process backend: a moka cache bounded by bytes, with a time to live per entry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::ops::compute::Op;
use moka::sync::Cache as Moka;

use super::{CacheBackend, CacheError, parse_counter};

/// Default capacity of the in-process cache.
pub const DEFAULT_MEMORY_CAPACITY: u64 = 64 * 1024 * 1024;

/// Bytes charged per entry on top of its key and value, for moka's and our bookkeeping.
const ENTRY_OVERHEAD: usize = 96;

/// Longest TTL kept (memcached's own limit for relative expirations), so `now + ttl` never
/// overflows.
const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    expires: Instant,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, at: Instant) -> Option<Duration> {
        Some(entry.expires.saturating_duration_since(at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.expires.saturating_duration_since(at))
    }
}

/// An in-process cache shared by the threads of one process.
pub struct MemoryBackend {
    cache: Moka<String, Entry>,
    name: String,
}

impl MemoryBackend {
    /// A cache holding at most about `capacity_bytes` of keys and values; least useful entries
    /// are evicted first (TinyLFU).
    pub fn new(capacity_bytes: u64) -> MemoryBackend {
        let cache = Moka::builder()
            .max_capacity(capacity_bytes)
            .weigher(|key: &String, entry: &Entry| {
                u32::try_from(key.len() + entry.value.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        MemoryBackend {
            cache,
            name: format!("memory ({capacity_bytes} bytes)"),
        }
    }

    fn entry(value: &[u8], ttl: Duration) -> Entry {
        Entry {
            value: Arc::from(value),
            expires: Instant::now() + ttl.min(MAX_TTL),
        }
    }
}

impl CacheBackend for MemoryBackend {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.cache.get(key).map(|e| e.value.to_vec()))
    }

    fn in_process(&self) -> bool {
        true
    }

    fn get_multi(&self, keys: &[String]) -> Result<HashMap<String, Vec<u8>>, CacheError> {
        Ok(keys
            .iter()
            .filter_map(|k| self.cache.get(k).map(|e| (k.clone(), e.value.to_vec())))
            .collect())
    }

    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.cache.insert(key.to_owned(), Self::entry(value, ttl));
        Ok(())
    }

    fn add(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        // moka runs one `or_insert_with` per key at a time, so exactly one caller inserts.
        let entry = self
            .cache
            .entry(key.to_owned())
            .or_insert_with(|| Self::entry(value, ttl));
        Ok(entry.is_fresh())
    }

    fn incr(&self, key: &str, delta: u64, ttl: Duration) -> Result<u64, CacheError> {
        // moka runs one `and_upsert_with` per key at a time: the increments are serialised.
        let entry = self.cache.entry(key.to_owned()).and_upsert_with(|old| {
            let old = old.and_then(|e| parse_counter(&e.into_value().value));
            let new = old.unwrap_or(0).saturating_add(delta);
            Self::entry(new.to_string().as_bytes(), ttl)
        });
        Ok(parse_counter(&entry.into_value().value).unwrap_or(0))
    }

    fn decr(&self, key: &str, delta: u64) -> Result<Option<u64>, CacheError> {
        let result = self
            .cache
            .entry(key.to_owned())
            .and_compute_with(|old| match old {
                None => Op::Nop,
                Some(e) => {
                    let e = e.into_value();
                    let new = parse_counter(&e.value).unwrap_or(0).saturating_sub(delta);
                    Op::Put(Entry {
                        value: Arc::from(new.to_string().as_bytes()),
                        expires: e.expires,
                    })
                }
            });
        Ok(result
            .into_entry()
            .and_then(|e| parse_counter(&e.into_value().value)))
    }

    fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.cache.invalidate(key);
        Ok(())
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn get_set_delete() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        assert_eq!(m.get("a").unwrap(), None);
        m.set("a", b"1", MINUTE).unwrap();
        assert_eq!(m.get("a").unwrap().as_deref(), Some(&b"1"[..]));
        m.set("a", b"2", MINUTE).unwrap();
        assert_eq!(m.get("a").unwrap().as_deref(), Some(&b"2"[..]));
        m.delete("a").unwrap();
        assert_eq!(m.get("a").unwrap(), None);
        m.delete("never-set").unwrap();
    }

    #[test]
    fn get_multi_returns_only_present_keys() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        m.set("a", b"1", MINUTE).unwrap();
        m.set("c", b"3", MINUTE).unwrap();
        let keys = ["a", "b", "c"].map(String::from);
        let got = m.get_multi(&keys).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got["a"], b"1");
        assert_eq!(got["c"], b"3");
    }

    #[test]
    fn add_stores_only_when_absent() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        assert!(m.add("lease", b"x", MINUTE).unwrap());
        assert!(!m.add("lease", b"y", MINUTE).unwrap());
        assert_eq!(m.get("lease").unwrap().as_deref(), Some(&b"x"[..]));
        m.delete("lease").unwrap();
        assert!(m.add("lease", b"z", MINUTE).unwrap());
    }

    #[test]
    fn add_is_atomic_across_threads() {
        let m = Arc::new(MemoryBackend::new(DEFAULT_MEMORY_CAPACITY));
        let barrier = Arc::new(Barrier::new(16));
        let winners = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let (m, barrier, winners) = (m.clone(), barrier.clone(), winners.clone());
                thread::spawn(move || {
                    barrier.wait();
                    if m.add("lease", format!("{i}").as_bytes(), MINUTE).unwrap() {
                        winners.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(winners.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn counters_start_at_delta_and_floor_at_zero() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        assert_eq!(m.incr("c", 1, MINUTE).unwrap(), 1);
        assert_eq!(m.incr("c", 5, MINUTE).unwrap(), 6);
        assert_eq!(
            m.get("c").unwrap().as_deref(),
            Some(&b"6"[..]),
            "decimal text"
        );
        assert_eq!(m.decr("c", 2).unwrap(), Some(4));
        assert_eq!(m.decr("c", 10).unwrap(), Some(0));
        assert_eq!(m.decr("absent", 1).unwrap(), None);
        assert_eq!(m.get("absent").unwrap(), None, "decr creates nothing");
        m.set("text", b"abc", MINUTE).unwrap();
        assert_eq!(m.incr("text", 2, MINUTE).unwrap(), 2, "garbage counts as 0");
    }

    #[test]
    fn increments_are_atomic_across_threads() {
        let m = Arc::new(MemoryBackend::new(DEFAULT_MEMORY_CAPACITY));
        let barrier = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (m, barrier) = (m.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    (0..500)
                        .map(|_| m.incr("c", 1, MINUTE).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (1..=4000).collect::<Vec<_>>(), "every value once");
    }

    #[test]
    fn increments_renew_the_ttl_and_decrements_keep_it() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        let ttl = Duration::from_millis(200);
        m.incr("c", 1, ttl).unwrap();
        thread::sleep(Duration::from_millis(120));
        m.incr("c", 1, ttl).unwrap();
        thread::sleep(Duration::from_millis(120));
        assert_eq!(
            m.decr("c", 1).unwrap(),
            Some(1),
            "renewed by the second incr"
        );
        thread::sleep(Duration::from_millis(120));
        assert_eq!(m.get("c").unwrap(), None, "the decr did not renew it");
        assert_eq!(
            m.incr("c", 1, ttl).unwrap(),
            1,
            "an expired counter starts over"
        );
    }

    #[test]
    fn entries_expire_after_their_own_ttl() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        m.set("short", b"1", Duration::from_millis(50)).unwrap();
        m.set("long", b"2", MINUTE).unwrap();
        assert!(m.add("lease", b"x", Duration::from_millis(50)).unwrap());
        thread::sleep(Duration::from_millis(80));
        assert_eq!(m.get("short").unwrap(), None);
        assert!(m.get("long").unwrap().is_some());
        assert!(
            m.add("lease", b"y", MINUTE).unwrap(),
            "an expired entry counts as absent"
        );
    }

    #[test]
    fn overwriting_takes_the_new_ttl() {
        let m = MemoryBackend::new(DEFAULT_MEMORY_CAPACITY);
        m.set("k", b"1", MINUTE).unwrap();
        m.set("k", b"2", Duration::from_millis(30)).unwrap();
        thread::sleep(Duration::from_millis(60));
        assert_eq!(m.get("k").unwrap(), None);
    }

    #[test]
    fn capacity_is_counted_in_bytes() {
        let m = MemoryBackend::new(64 * 1024);
        let big = vec![7u8; 4 * 1024];
        for i in 0..100 {
            m.set(&format!("k{i}"), &big, MINUTE).unwrap();
        }
        m.cache.run_pending_tasks();
        assert!(
            m.cache.weighted_size() <= 64 * 1024,
            "weighted size {}",
            m.cache.weighted_size()
        );
        assert!(m.cache.entry_count() < 100);
    }
}
