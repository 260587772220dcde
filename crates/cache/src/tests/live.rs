//! Against real memcached processes: `cargo test --lib cache -- --include-ignored`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::memcached_server::MemcachedProcess;
use crate::{
    BreakerConfig, Cache, CacheBackend, MemcachedBackend, MemcachedOptions, hashing, keys,
};

const MINUTE: Duration = Duration::from_secs(60);

fn options(cooldown: Duration) -> MemcachedOptions {
    MemcachedOptions {
        breaker: BreakerConfig {
            threshold: 3,
            cooldown,
        },
        ..MemcachedOptions::default()
    }
}

fn cache_on(url: &str, prefix: &str, cooldown: Duration) -> Cache {
    Cache::new(
        MemcachedBackend::new(url, options(cooldown)).unwrap(),
        prefix,
    )
    .unwrap()
}

/// Runs `call` and returns how long it took.
fn timed(call: impl FnOnce()) -> Duration {
    let t = Instant::now();
    call();
    t.elapsed()
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn two_servers_get_set_add_delete_and_multi() {
    let (m1, m2) = (MemcachedProcess::start(), MemcachedProcess::start());
    let url = format!("memcache://127.0.0.1:{},127.0.0.1:{}", m1.port, m2.port);
    let cache = cache_on(&url, "two", MINUTE);
    let direct = [
        MemcachedBackend::new(&m1.url(), MemcachedOptions::default()).unwrap(),
        MemcachedBackend::new(&m2.url(), MemcachedOptions::default()).unwrap(),
    ];
    let ids = [
        format!("127.0.0.1:{}", m1.port),
        format!("127.0.0.1:{}", m2.port),
    ];

    let names: Vec<String> = (0..40).map(|i| format!("question:{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        cache.set_json(name, &i, MINUTE);
    }
    let mut per_server = [0; 2];
    for (i, name) in names.iter().enumerate() {
        assert_eq!(cache.get_json::<usize>(name), Some(i));
        let full = keys::full_key("two", name);
        let owner = hashing::pick(&ids, &keys::memcached_key(&full));
        per_server[owner] += 1;
        assert!(
            direct[owner].get(&full).unwrap().is_some(),
            "{name} on its server"
        );
        assert!(
            direct[1 - owner].get(&full).unwrap().is_none(),
            "{name} only there"
        );
    }
    assert!(
        per_server.iter().all(|&n| n >= 8),
        "keys spread: {per_server:?}"
    );

    let mut wanted = names[..10].to_vec();
    wanted.push("absent".into());
    let got = cache.get_multi_json::<usize>(&wanted);
    assert_eq!(got.len(), 10);
    assert_eq!(got["question:7"], 7);

    let odd = [
        "tag:two words".to_owned(),
        "x".repeat(400),
        "ünï\ncode".to_owned(),
    ];
    for key in &odd {
        cache.set_bytes(key, key.as_bytes(), MINUTE);
    }
    let got = cache.get_multi_bytes(&odd);
    for key in &odd {
        assert_eq!(got[key], key.as_bytes(), "{key:?}");
        assert_eq!(cache.get_bytes(key).as_deref(), Some(key.as_bytes()));
    }

    let backend = MemcachedBackend::new(&url, MemcachedOptions::default()).unwrap();
    assert!(backend.add("two:v1:lease:x", b"1", MINUTE).unwrap());
    assert!(!backend.add("two:v1:lease:x", b"2", MINUTE).unwrap());
    backend.delete("two:v1:lease:x").unwrap();
    assert!(backend.add("two:v1:lease:x", b"3", MINUTE).unwrap());

    cache.delete_many(&names);
    assert!(cache.get_multi_json::<usize>(&names).is_empty());
    let stats = cache.stats();
    assert_eq!(stats.errors, 0, "{stats:?}");
    assert_eq!(stats.deletes, 40);
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn expiration_is_passed_in_seconds() {
    let m = MemcachedProcess::start();
    let cache = cache_on(&m.url(), "ttl", MINUTE);
    cache.set_bytes("short", b"1", Duration::from_millis(300)); // rounded up to 1 s
    cache.set_bytes("long", b"1", MINUTE);
    assert!(cache.get_bytes("short").is_some());
    let deadline = Instant::now() + Duration::from_secs(3);
    while cache.get_bytes("short").is_some() {
        assert!(Instant::now() < deadline, "a 1 s item outlived 3 s");
        thread::sleep(Duration::from_millis(100));
    }
    assert!(cache.get_bytes("long").is_some());
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn counters_are_atomic_across_processes_and_expire() {
    let m = MemcachedProcess::start();
    // Two "processes" (each its own connections and breaker) on one memcached.
    let (a, b) = (
        cache_on(&m.url(), "ctr", MINUTE),
        cache_on(&m.url(), "ctr", MINUTE),
    );
    assert_eq!(a.incr("n", 3, MINUTE), Some(3), "created at the delta");
    assert_eq!(b.incr("n", 1, MINUTE), Some(4));
    assert_eq!(b.decr("n", 10), Some(0), "floored at zero");
    assert_eq!(a.decr("never", 1), Some(0));
    assert_eq!(a.counters(&["n".into(), "never".into()]), Some(vec![0, 0]));
    assert_eq!(a.get_bytes("never"), None, "decr creates nothing");
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|cache| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                (0..300)
                    .map(|_| cache.incr("race", 1, MINUTE).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=600).collect::<Vec<_>>(), "every value once");
    // Long keys (hashed for memcached) count as well.
    let long = format!("rl:login:{}", "2001:db8::/64".repeat(30));
    assert_eq!(a.incr(&long, 1, MINUTE), Some(1));
    assert_eq!(b.counters(std::slice::from_ref(&long)), Some(vec![1]));
    // The TTL (whole seconds) is set by every increment.
    assert_eq!(a.incr("short", 1, Duration::from_millis(500)), Some(1));
    let deadline = Instant::now() + Duration::from_secs(3);
    while a.counters(&["short".into()]) != Some(vec![0]) {
        assert!(Instant::now() < deadline, "a 1 s counter outlived 3 s");
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn two_prefixes_on_one_server_do_not_collide() {
    let m = MemcachedProcess::start();
    let (a, b) = (
        cache_on(&m.url(), "run-a", MINUTE),
        cache_on(&m.url(), "run-b", MINUTE),
    );
    a.set_json("k", &"a", MINUTE);
    b.set_json("k", &"b", MINUTE);
    assert_eq!(a.get_json::<String>("k").as_deref(), Some("a"));
    assert_eq!(b.get_json::<String>("k").as_deref(), Some("b"));
    let long = "y".repeat(300);
    a.set_json(&long, &1, MINUTE);
    assert_eq!(b.get_json::<i32>(&long), None);
    a.delete("k");
    assert_eq!(a.get_json::<String>("k"), None);
    assert_eq!(b.get_json::<String>("k").as_deref(), Some("b"));
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn a_killed_server_gives_quick_misses_then_none_at_all() {
    let mut m = MemcachedProcess::start();
    let cache = cache_on(&m.url(), "killed", MINUTE);
    cache.set_json("k", &1, MINUTE);
    assert_eq!(cache.get_json::<i32>("k"), Some(1));
    m.kill();

    let mut failing = Vec::new();
    for _ in 0..3 {
        let took = timed(|| assert_eq!(cache.get_json::<i32>("k"), None));
        assert!(took < Duration::from_millis(150), "{took:?}");
        failing.push(took);
    }
    assert_eq!(cache.stats().breaker_open_events, 1);
    let mut open = Duration::ZERO;
    for i in 0..50 {
        let took = timed(|| {
            if i % 2 == 0 {
                assert_eq!(cache.get_json::<i32>("k"), None);
            } else {
                cache.set_json("k", &2, MINUTE);
            }
        });
        assert!(took < Duration::from_millis(5), "{took:?}");
        open = open.max(took);
    }
    eprintln!(
        "killed memcached: calls before the breaker opened {failing:?}; slowest of 50 calls while open {open:?}"
    );
    let stats = cache.stats();
    assert_eq!(stats.errors, 53);
    assert_eq!(stats.breaker_open_events, 1);
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn a_frozen_server_is_bounded_then_skipped_then_recovers() {
    let cooldown = Duration::from_millis(500);
    let m = MemcachedProcess::start();
    let cache = cache_on(&m.url(), "frozen", cooldown);
    cache.set_json("k", &1, MINUTE);
    assert_eq!(cache.get_json::<i32>("k"), Some(1));
    m.freeze();

    let mut failing = Vec::new();
    for _ in 0..3 {
        let took = timed(|| assert_eq!(cache.get_json::<i32>("k"), None));
        assert!(took < Duration::from_millis(250), "{took:?}");
        failing.push(took);
    }
    let opened_at = Instant::now();
    let mut open = Duration::ZERO;
    for _ in 0..50 {
        let took = timed(|| assert_eq!(cache.get_json::<i32>("k"), None));
        assert!(took < Duration::from_millis(5), "{took:?}");
        open = open.max(took);
    }
    assert!(
        opened_at.elapsed() < cooldown,
        "the open checks outlasted the cooldown"
    );

    m.thaw();
    thread::sleep(cooldown.saturating_sub(opened_at.elapsed()) + Duration::from_millis(20));
    let trial = Instant::now();
    let value = cache.get_json::<i32>("k");
    let trial = trial.elapsed();
    assert_eq!(
        value,
        Some(1),
        "the trial call after the cooldown reaches the thawed server"
    );
    assert_eq!(cache.get_json::<i32>("k"), Some(1));
    eprintln!(
        "frozen memcached: calls before the breaker opened {failing:?}; slowest of 50 calls while open {open:?}; trial after thaw {trial:?}"
    );
    let stats = cache.stats();
    assert_eq!(stats.breaker_open_events, 1);
    assert_eq!(stats.errors, 53);
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn a_restarted_server_costs_no_error() {
    let mut m = MemcachedProcess::start();
    let cache = cache_on(&m.url(), "restart", MINUTE);
    for i in 0..4 {
        cache.set_json(&format!("k{i}"), &i, MINUTE);
    }
    let port = m.port;
    m.kill();
    let _m = MemcachedProcess::start_on(port);
    assert_eq!(
        cache.get_json::<i32>("k0"),
        None,
        "the restarted server is empty"
    );
    cache.set_json("k0", &5, MINUTE);
    assert_eq!(cache.get_json::<i32>("k0"), Some(5));
    let stats = cache.stats();
    assert_eq!(
        (stats.errors, stats.breaker_open_events),
        (0, 0),
        "{stats:?}"
    );
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn two_processes_on_a_cold_key_rebuild_once() {
    let m = MemcachedProcess::start();
    let processes = [
        cache_on(&m.url(), "lease", MINUTE),
        cache_on(&m.url(), "lease", MINUTE),
    ];
    let calls = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let cache = processes[i % 2].clone();
            let (calls, barrier) = (calls.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                cache.get_or_rebuild("hot", MINUTE, MINUTE, move || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(10));
                    Ok::<_, String>(vec![1, 2, 3])
                })
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Ok(vec![1, 2, 3]));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(processes[0].stats().errors + processes[1].stats().errors, 0);
}

#[test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached; .ci/run installs it and runs these with --include-ignored)"]
fn a_late_reply_is_never_read_as_the_next_answer() {
    let m = MemcachedProcess::start();
    let cache = cache_on(&m.url(), "late", MINUTE);
    cache.set_json("a", &"value of a", MINUTE);
    cache.set_json("b", &"value of b", MINUTE);
    m.freeze();
    assert_eq!(cache.get_json::<String>("a"), None, "times out");
    m.thaw();
    thread::sleep(Duration::from_millis(50)); // the reply to `get a` is now on the wire
    assert_eq!(cache.get_json::<String>("b").as_deref(), Some("value of b"));
    assert_eq!(cache.get_json::<String>("a").as_deref(), Some("value of a"));
}
