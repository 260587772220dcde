//! The plain operations, construction, counters and failure handling.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{FailingBackend, memory_cache};
use crate::{Cache, CacheStats, MemoryBackend};

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tally {
    question: u64,
    votes: Vec<u64>,
}

fn tally(question: u64) -> Tally {
    Tally {
        question,
        votes: vec![3, 1, 4],
    }
}

#[test]
fn from_url_picks_the_backend() {
    for memory in [None, Some(""), Some("memory"), Some(" memory ")] {
        let cache = Cache::from_url(memory, "app", 1 << 20).unwrap();
        assert!(cache.backend_name().starts_with("memory"), "{memory:?}");
    }
    let cache = Cache::from_url(Some("memcache://127.0.0.1:1,127.0.0.1:2"), "app", 0).unwrap();
    assert_eq!(cache.backend_name(), "memcached (127.0.0.1:1, 127.0.0.1:2)");
    for bad in [
        "redis://localhost",
        "memcached://x:1",
        "memory://",
        "127.0.0.1:11211",
    ] {
        let error = Cache::from_url(Some(bad), "app", 0).unwrap_err();
        assert!(!error.is_empty(), "{bad}");
    }
    assert!(Cache::from_url(None, "bad prefix", 0).is_err());
}

#[test]
fn starting_with_memcached_down_neither_fails_nor_blocks() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let cache = Cache::from_url(Some(&format!("memcache://127.0.0.1:{port}")), "app", 0).unwrap();
    let built = started.elapsed();
    assert!(
        built < Duration::from_millis(150),
        "construction took {built:?}"
    );
    let started = Instant::now();
    assert_eq!(cache.get_json::<Tally>("t"), None);
    let first_call = started.elapsed();
    assert!(
        first_call < Duration::from_millis(150),
        "first call took {first_call:?}"
    );
    eprintln!("memcached down at start-up: construction {built:?}, first get {first_call:?}");
    assert_eq!(cache.stats().errors, 1);
}

#[test]
fn json_round_trip_and_delete() {
    let cache = memory_cache();
    assert_eq!(cache.get_json::<Tally>("tally:1"), None);
    cache.set_json("tally:1", &tally(1), MINUTE);
    assert_eq!(cache.get_json("tally:1"), Some(tally(1)));
    cache.delete("tally:1");
    assert_eq!(cache.get_json::<Tally>("tally:1"), None);
    assert_eq!(
        cache.stats(),
        CacheStats {
            hits: 1,
            misses: 2,
            sets: 1,
            deletes: 1,
            ..CacheStats::default()
        }
    );
}

#[test]
fn bytes_and_multi_get() {
    let cache = memory_cache();
    cache.set_bytes("a", b"1", MINUTE);
    cache.set_json("t2", &tally(2), MINUTE);
    cache.set_json("t3", &tally(3), MINUTE);
    assert_eq!(cache.get_bytes("a").as_deref(), Some(&b"1"[..]));
    assert_eq!(cache.get_bytes("b"), None);

    let keys: Vec<String> = ["t2", "t3", "t4"].map(String::from).to_vec();
    let tallies = cache.get_multi_json::<Tally>(&keys);
    assert_eq!(tallies.len(), 2);
    assert_eq!(tallies["t3"], tally(3));
    let raw = cache.get_multi_bytes(&["a".to_owned(), "zz".to_owned()]);
    assert_eq!(raw.len(), 1);

    cache.delete_many(&keys);
    assert!(cache.get_multi_json::<Tally>(&keys).is_empty());
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (4, 6));
    assert_eq!(stats.deletes, 3);
}

#[test]
fn keys_are_prefixed_and_versioned() {
    let backend = Arc::new(MemoryBackend::new(1 << 20));
    let cache = Cache::new(
        super::Shared {
            backend: backend.clone(),
            adds_lost: Arc::default(),
        },
        "run1",
    )
    .unwrap();
    cache.set_bytes("k", b"v", MINUTE);
    use crate::CacheBackend;
    assert_eq!(backend.get("shared:v2:k").unwrap(), None);
    assert_eq!(
        backend.get("run1:v2:k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn a_value_of_the_wrong_shape_is_a_miss_and_an_error() {
    let cache = memory_cache();
    cache.set_bytes("t", b"not json", MINUTE);
    assert_eq!(cache.get_json::<Tally>("t"), None);
    cache.set_json("n", &5, MINUTE);
    assert!(cache.get_multi_json::<Tally>(&["n".to_owned()]).is_empty());
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.errors), (0, 2, 2));
}

#[test]
fn clones_share_the_store_and_the_counters() {
    let cache = memory_cache();
    let clone = cache.clone();
    clone.set_json("k", &1, MINUTE);
    assert_eq!(cache.get_json::<i32>("k"), Some(1));
    assert_eq!(clone.stats().hits, 1);
}

#[test]
fn a_failing_backend_gives_misses_and_counts_errors() {
    let backend = Arc::new(FailingBackend::default());
    let cache = Cache::new(backend.clone(), "app").unwrap();
    cache.set_json("t", &tally(1), MINUTE);
    assert_eq!(cache.get_json::<Tally>("t"), None);
    assert_eq!(cache.get_bytes("t"), None);
    assert!(
        cache
            .get_multi_json::<Tally>(&["a".into(), "b".into()])
            .is_empty()
    );
    cache.delete("t");
    cache.delete_many(&["a".into(), "b".into()]);
    let stats = cache.stats();
    assert_eq!(stats.errors, 7);
    assert_eq!(stats.errors, backend.calls.load(Ordering::SeqCst));
    assert_eq!(
        (stats.hits, stats.misses, stats.sets, stats.deletes),
        (0, 4, 0, 0)
    );
}

#[test]
fn counters_are_prefixed_and_read_from_the_backend() {
    let cache = memory_cache();
    assert_eq!(cache.incr("rl:a", 1, MINUTE), Some(1));
    assert_eq!(cache.incr("rl:a", 2, MINUTE), Some(3));
    assert_eq!(cache.decr("rl:a", 1), Some(2));
    assert_eq!(cache.decr("rl:never", 1), Some(0));
    assert_eq!(cache.get_bytes("rl:a").as_deref(), Some(&b"2"[..]));
    cache.set_bytes("rl:text", b"not a number", MINUTE);
    assert_eq!(
        cache.counters(&["rl:a".into(), "rl:b".into(), "rl:text".into()]),
        Some(vec![2, 0, 0])
    );
    assert!(
        cache.stats().errors >= 1,
        "a value that is not a counter is reported"
    );
}

#[test]
fn failing_counters_say_so_instead_of_reading_zero() {
    let backend = Arc::new(FailingBackend::default());
    let cache = Cache::new(backend.clone(), "test").unwrap();
    assert_eq!(cache.incr("rl:a", 1, MINUTE), None);
    assert_eq!(cache.decr("rl:a", 1), None);
    assert_eq!(cache.counters(&["rl:a".into()]), None);
    assert_eq!(backend.calls.load(Ordering::SeqCst), 3);
    assert_eq!(cache.stats().errors, 3);
}
