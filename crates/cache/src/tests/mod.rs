//! Tests of [`Cache`] over test doubles, the in-process backend and real memcached servers.

mod api;
mod live;
mod memcached_server;
mod rebuild;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Cache, CacheBackend, CacheError, DEFAULT_MEMORY_CAPACITY, MemoryBackend};

pub(super) fn memory_cache() -> Cache {
    Cache::new(MemoryBackend::new(DEFAULT_MEMORY_CAPACITY), "test").unwrap()
}

/// A backend whose every call fails, as a dead memcached would.
#[derive(Default)]
pub(super) struct FailingBackend {
    pub calls: AtomicU64,
}

impl FailingBackend {
    fn fail<T>(&self) -> Result<T, CacheError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(CacheError::Unavailable {
            server: "failing:1".into(),
            message: "connection refused".into(),
        })
    }
}

impl CacheBackend for Arc<FailingBackend> {
    fn get(&self, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.fail()
    }
    fn get_multi(&self, _: &[String]) -> Result<HashMap<String, Vec<u8>>, CacheError> {
        self.fail()
    }
    fn set(&self, _: &str, _: &[u8], _: Duration) -> Result<(), CacheError> {
        self.fail()
    }
    fn add(&self, _: &str, _: &[u8], _: Duration) -> Result<bool, CacheError> {
        self.fail()
    }
    fn incr(&self, _: &str, _: u64, _: Duration) -> Result<u64, CacheError> {
        self.fail()
    }
    fn decr(&self, _: &str, _: u64) -> Result<Option<u64>, CacheError> {
        self.fail()
    }
    fn delete(&self, _: &str) -> Result<(), CacheError> {
        self.fail()
    }
    fn name(&self) -> &str {
        "failing"
    }
}

/// One in-process backend shared by several [`Cache`]s, standing in for one memcached shared by
/// several app processes (each `Cache` has its own in-process single-flight). Counts the
/// lease `add`s that were refused.
#[derive(Clone)]
pub(super) struct Shared {
    pub backend: Arc<MemoryBackend>,
    pub adds_lost: Arc<AtomicU64>,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            backend: Arc::new(MemoryBackend::new(DEFAULT_MEMORY_CAPACITY)),
            adds_lost: Arc::default(),
        }
    }

    /// A `Cache` of one more "process".
    pub fn process(&self) -> Cache {
        Cache::new(self.clone(), "shared").unwrap()
    }
}

impl CacheBackend for Shared {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.backend.get(key)
    }
    fn get_multi(&self, keys: &[String]) -> Result<HashMap<String, Vec<u8>>, CacheError> {
        self.backend.get_multi(keys)
    }
    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.backend.set(key, value, ttl)
    }
    fn add(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        let won = self.backend.add(key, value, ttl)?;
        if !won {
            self.adds_lost.fetch_add(1, Ordering::SeqCst);
        }
        Ok(won)
    }
    fn incr(&self, key: &str, delta: u64, ttl: Duration) -> Result<u64, CacheError> {
        self.backend.incr(key, delta, ttl)
    }
    fn decr(&self, key: &str, delta: u64) -> Result<Option<u64>, CacheError> {
        self.backend.decr(key, delta)
    }
    fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.backend.delete(key)
    }
    fn name(&self) -> &str {
        "shared memory"
    }
}
