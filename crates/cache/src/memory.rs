//! The in-process backend: a moka cache bounded by bytes, with a time to live per entry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache as Moka;

use super::{CacheBackend, CacheError};

/// Default capacity of the in-process cache.
pub const DEFAULT_MEMORY_CAPACITY: u64 = 64 * 1024 * 1024;

/// Bytes charged per entry on top of its key and value, for moka's and our bookkeeping.
const ENTRY_OVERHEAD: usize = 96;

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
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
            ttl,
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
