//! `get_or_rebuild`: single flight, stale serving, leases between processes, failures.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::{FailingBackend, Shared, memory_cache};
use crate::Cache;

const MINUTE: Duration = Duration::from_secs(60);

/// A rebuild that counts its calls and answers `value` after `delay`.
fn counted(
    calls: &Arc<AtomicU64>,
    delay: Duration,
    value: u64,
) -> impl FnOnce() -> Result<u64, String> + use<> {
    let calls = calls.clone();
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        thread::sleep(delay);
        Ok(value)
    }
}

/// Stores `value` as already stale (fresh for 1 ms, kept a minute) and waits until it is.
fn store_stale(cache: &Cache, key: &str, value: u64) {
    let got = cache.get_or_rebuild(key, Duration::from_millis(1), MINUTE, || {
        Ok::<_, String>(value)
    });
    assert_eq!(got, Ok(value));
    thread::sleep(Duration::from_millis(5));
}

#[test]
fn a_fresh_value_is_returned_without_rebuilding() {
    let cache = memory_cache();
    let calls = Arc::new(AtomicU64::new(0));
    for _ in 0..3 {
        let got = cache.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, 7));
        assert_eq!(got, Ok(7));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.rebuilds, stats.sets),
        (2, 1, 1, 1)
    );
}

#[test]
fn sixteen_threads_on_a_cold_key_rebuild_once() {
    let cache = memory_cache();
    let calls = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (cache, calls, barrier) = (cache.clone(), calls.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                cache.get_or_rebuild(
                    "cold",
                    MINUTE,
                    MINUTE,
                    counted(&calls, Duration::from_millis(50), 42),
                )
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Ok(42));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(cache.stats().rebuilds, 1);
}

#[test]
fn a_stale_value_is_served_while_one_rebuild_runs() {
    let cache = memory_cache();
    store_stale(&cache, "k", 1);

    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let rebuilder = {
        let cache = cache.clone();
        thread::spawn(move || {
            cache.get_or_rebuild("k", MINUTE, MINUTE, move || {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok::<_, String>(2)
            })
        })
    };
    started_rx.recv().unwrap();

    let calls = Arc::new(AtomicU64::new(0));
    for _ in 0..5 {
        let t = Instant::now();
        let got = cache.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, 99));
        assert_eq!(got, Ok(1), "the stale value while the rebuild runs");
        assert!(t.elapsed() < Duration::from_millis(20), "{:?}", t.elapsed());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    release_tx.send(()).unwrap();
    assert_eq!(rebuilder.join().unwrap(), Ok(2));
    let got = cache.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, 99));
    assert_eq!(got, Ok(2));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let stats = cache.stats();
    assert_eq!(stats.stale_served, 5);
    assert_eq!(stats.rebuilds, 2); // the stale value's own first build, then the refresh
}

#[test]
fn a_stale_value_expires_with_its_ttl() {
    let cache = memory_cache();
    let calls = Arc::new(AtomicU64::new(0));
    let short = Duration::from_millis(20);
    let got = cache.get_or_rebuild("k", short, short, counted(&calls, Duration::ZERO, 1));
    assert_eq!(got, Ok(1));
    thread::sleep(Duration::from_millis(60));
    let got = cache.get_or_rebuild("k", short, short, counted(&calls, Duration::ZERO, 2));
    assert_eq!(
        got,
        Ok(2),
        "past fresh_for + keep_stale_for the value is gone"
    );
    assert_eq!(cache.stats().stale_served, 0);
}

#[test]
fn a_rebuild_error_is_returned_and_nothing_is_stored() {
    let cache = memory_cache();
    let got: Result<u64, String> =
        cache.get_or_rebuild("k", MINUTE, MINUTE, || Err("db down".into()));
    assert_eq!(got, Err("db down".to_owned()));
    let got = cache.get_or_rebuild("k", MINUTE, MINUTE, || Ok::<_, String>(3));
    assert_eq!(got, Ok(3), "the lease was released, the next call rebuilds");
}

#[test]
fn followers_rebuild_themselves_when_the_leader_fails() {
    let cache = memory_cache();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let leader = {
        let cache = cache.clone();
        thread::spawn(move || {
            cache.get_or_rebuild("k", MINUTE, MINUTE, move || -> Result<u64, String> {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                panic!("rebuild panicked");
            })
        })
    };
    started_rx.recv().unwrap();
    let follower = {
        let cache = cache.clone();
        thread::spawn(move || cache.get_or_rebuild("k", MINUTE, MINUTE, || Ok::<_, String>(5)))
    };
    thread::sleep(Duration::from_millis(20)); // let the follower start waiting
    release_tx.send(()).unwrap();
    assert!(leader.join().is_err());
    assert_eq!(follower.join().unwrap(), Ok(5));
}

#[test]
fn a_failing_cache_just_runs_the_rebuild() {
    let backend = Arc::new(FailingBackend::default());
    let cache = Cache::new(backend.clone(), "app").unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    for i in 0..3 {
        let got = cache.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, i));
        assert_eq!(got, Ok(i));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let stats = cache.stats();
    assert_eq!(stats.rebuilds, 3);
    assert!(
        stats.errors >= 3 * 3,
        "get, add, set (and more) failed: {stats:?}"
    );
    assert_eq!(stats.errors, backend.calls.load(Ordering::SeqCst));
}

#[test]
fn a_failing_cache_still_collapses_concurrent_rebuilds_of_one_process() {
    let cache = Cache::new(Arc::new(FailingBackend::default()), "app").unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (cache, calls, barrier) = (cache.clone(), calls.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                cache.get_or_rebuild(
                    "k",
                    MINUTE,
                    MINUTE,
                    counted(&calls, Duration::from_millis(100), 8),
                )
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Ok(8));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn another_process_serves_stale_while_the_lease_holder_rebuilds() {
    let shared = Shared::new();
    let (a, b) = (shared.process(), shared.process());
    store_stale(&a, "k", 1);

    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        a.get_or_rebuild("k", MINUTE, MINUTE, move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok::<_, String>(2)
        })
    });
    started_rx.recv().unwrap();

    let calls = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let got = b.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, 99));
    assert_eq!(got, Ok(1));
    assert!(t.elapsed() < Duration::from_millis(20), "{:?}", t.elapsed());
    assert_eq!(shared.adds_lost.load(Ordering::SeqCst), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(b.stats().stale_served, 1);
    release_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), Ok(2));
}

#[test]
fn another_process_waits_briefly_for_the_lease_holder_on_a_cold_key() {
    let shared = Shared::new();
    let (a, b) = (shared.process(), shared.process());
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        a.get_or_rebuild("k", MINUTE, MINUTE, move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok::<_, String>(2)
        })
    });
    started_rx.recv().unwrap();

    let calls = Arc::new(AtomicU64::new(0));
    let waiter = {
        let calls = calls.clone();
        thread::spawn(move || {
            b.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, 99))
        })
    };
    // Once `b` has lost the lease it polls; let the holder finish then.
    while shared.adds_lost.load(Ordering::SeqCst) == 0 {
        thread::sleep(Duration::from_millis(1));
    }
    release_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), Ok(2));
    assert_eq!(
        waiter.join().unwrap(),
        Ok(2),
        "found the holder's value while polling"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn another_process_rebuilds_itself_when_the_lease_holder_is_slow() {
    let shared = Shared::new();
    let (a, b) = (shared.process(), shared.process());
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        a.get_or_rebuild("k", MINUTE, MINUTE, move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok::<_, String>(2)
        })
    });
    started_rx.recv().unwrap();

    let calls = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let got = b.get_or_rebuild("k", MINUTE, MINUTE, counted(&calls, Duration::ZERO, 3));
    let waited = t.elapsed();
    assert_eq!(got, Ok(3));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(
        (Duration::from_millis(90)..Duration::from_millis(200)).contains(&waited),
        "waited {waited:?}"
    );
    release_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), Ok(2));
}

#[test]
fn peek_fresh_reads_only_process_memory_and_only_fresh_values() {
    let calls = Arc::new(AtomicU64::new(0));
    let rebuild = counted(&calls, Duration::ZERO, 7);
    // The in-process backend: a stored fresh value is there without I/O.
    let cache = memory_cache();
    assert_eq!(cache.peek_fresh::<u64>("k"), None, "nothing stored yet");
    assert_eq!(
        cache.get_or_rebuild("k", MINUTE, MINUTE, rebuild),
        Ok::<u64, String>(7)
    );
    assert_eq!(cache.peek_fresh::<u64>("k"), Some(7));
    cache.delete("k");
    assert_eq!(cache.peek_fresh::<u64>("k"), None, "deleted");
    store_stale(&cache, "s", 3);
    assert_eq!(
        cache.peek_fresh::<u64>("s"),
        None,
        "a stale value is not fresh"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A remote backend without a near cache: never read from the async path.
    let shared = Shared::new();
    let remote = shared.process();
    let rebuild = counted(&calls, Duration::ZERO, 9);
    assert_eq!(
        remote.get_or_rebuild("r", MINUTE, MINUTE, rebuild),
        Ok::<u64, String>(9)
    );
    assert_eq!(remote.peek_fresh::<u64>("r"), None);
    // ... but with a near cache in front of it, the near copy is.
    let near = Cache::layered(shared.clone(), "shared", Duration::from_secs(5)).unwrap();
    assert_eq!(
        near.peek_fresh::<u64>("r"),
        None,
        "not read through this one yet"
    );
    let rebuild = counted(&calls, Duration::ZERO, 0);
    assert_eq!(
        near.get_or_rebuild("r", MINUTE, MINUTE, rebuild),
        Ok::<u64, String>(9)
    );
    assert_eq!(near.peek_fresh::<u64>("r"), Some(9));
}

/// What `get_or_rebuild_saved` falls back on: only this error.
const DOWN: &str = "database down";

fn keep(stale_for: Duration, saved_for: Duration) -> crate::Keep {
    crate::Keep {
        fresh_for: Duration::from_millis(50),
        stale_for,
        saved_for,
    }
}

#[test]
fn a_failing_rebuild_is_answered_with_the_saved_value_and_when_it_was_built() {
    let cache = memory_cache();
    let k = keep(Duration::ZERO, MINUTE);
    let built = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let first = cache.get_or_rebuild_saved("q", k, || Ok::<_, String>(7), |e| e == DOWN);
    assert_eq!(first.map(|s| (s.value, s.saved)), Ok((7, None)));
    thread::sleep(Duration::from_millis(120));
    // Past freshness and past `stale_for`: a rebuild is needed, and it fails.
    let got = cache
        .get_or_rebuild_saved("q", k, || Err::<u64, _>(DOWN.to_string()), |e| e == DOWN)
        .expect("the saved value");
    assert_eq!(got.value, 7);
    let at = got.saved.expect("marked as saved");
    assert!(
        at >= built.saturating_sub(5) && at <= built + 100,
        "{at} vs {built}"
    );
    // Another error is not a reason to serve it.
    let other = cache.get_or_rebuild_saved(
        "q",
        k,
        || Err::<u64, _>("bad SQL".to_string()),
        |e| e == DOWN,
    );
    assert_eq!(other.map(|s| s.value), Err("bad SQL".to_string()));
    // Once the database answers, the new value, not saved.
    let back = cache.get_or_rebuild_saved("q", k, || Ok::<_, String>(8), |e| e == DOWN);
    assert_eq!(back.map(|s| (s.value, s.saved)), Ok((8, None)));
}

#[test]
fn a_saved_value_older_than_the_window_is_not_served() {
    let cache = memory_cache();
    let k = keep(Duration::ZERO, Duration::from_millis(100));
    cache
        .get_or_rebuild_saved("q", k, || Ok::<_, String>(7), |e| e == DOWN)
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    let got = cache.get_or_rebuild_saved("q", k, || Err::<u64, _>(DOWN.to_string()), |e| e == DOWN);
    assert_eq!(got.map(|s| s.value), Err(DOWN.to_string()));
}

#[test]
fn values_kept_for_errors_are_not_served_as_stale_otherwise() {
    let cache = memory_cache();
    // Stale for 10 ms, saved for a minute: after 100 ms the value is kept, but a rebuild that
    // works must run (and its result be returned), not the old value.
    let k = keep(Duration::from_millis(10), MINUTE);
    cache
        .get_or_rebuild_saved("q", k, || Ok::<_, String>(1), |e| e == DOWN)
        .unwrap();
    thread::sleep(Duration::from_millis(150));
    let calls = Arc::new(AtomicU64::new(0));
    let got = cache.get_or_rebuild_saved("q", k, counted(&calls, Duration::ZERO, 2), |e| e == DOWN);
    assert_eq!(got.map(|s| (s.value, s.saved)), Ok((2, None)));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // And the plain API keeps its meaning: nothing past `keep_stale_for` is served.
    let plain = cache.get_or_rebuild(
        "p",
        Duration::from_millis(1),
        Duration::from_millis(1),
        || Ok::<_, String>(3),
    );
    assert_eq!(plain, Ok(3));
    thread::sleep(Duration::from_millis(20));
    let again = cache.get_or_rebuild(
        "p",
        Duration::from_millis(1),
        Duration::from_millis(1),
        || Err::<u64, _>(DOWN.to_string()),
    );
    assert_eq!(again, Err(DOWN.to_string()));
}

/// A stale value served while another caller rebuilds says when it was built (`Served::stale`),
/// so a caller that knows the rebuild will fail (its database is down) can mark it as saved; a
/// fresh value and a rebuilt one say nothing.
#[test]
fn stale_values_served_during_a_rebuild_say_when_they_were_built() {
    let unix_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let shared = Shared::new();
    let (a, b) = (shared.process(), shared.process());
    let k = keep(MINUTE, MINUTE);
    let before = unix_ms();
    let first = a.get_or_rebuild_saved("k", k, || Ok::<_, String>(1), |e| e == DOWN);
    assert_eq!(
        first.map(|s| (s.value, s.saved, s.stale)),
        Ok((1, None, None))
    );
    let fresh = a.get_or_rebuild_saved("k", k, || Ok::<_, String>(9), |e| e == DOWN);
    assert_eq!(fresh.map(|s| (s.value, s.stale)), Ok((1, None)), "fresh");
    thread::sleep(Duration::from_millis(80)); // past `fresh_for` (50 ms)

    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let rebuilder = {
        let a = a.clone();
        thread::spawn(move || {
            a.get_or_rebuild_saved(
                "k",
                k,
                move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Err::<u64, _>(DOWN.to_string())
                },
                |e| e == DOWN,
            )
        })
    };
    started_rx.recv().unwrap();
    let built_ms = |s: &crate::Served<u64>| s.stale.expect("marked stale");
    // A follower in the same process, and another process that lost the lease.
    for (who, cache) in [("same process", &a), ("other process", &b)] {
        let got = cache
            .get_or_rebuild_saved("k", k, || Ok::<_, String>(99), |e| e == DOWN)
            .expect("the stale value");
        assert_eq!((got.value, got.saved), (1, None), "{who}");
        let at = built_ms(&got);
        assert!(
            at >= before.saturating_sub(5) && at <= before + 60,
            "{who}: {at} vs {before}"
        );
    }
    release_tx.send(()).unwrap();
    // The leader's rebuild failed: it answers with the saved value, marked saved (not stale).
    let led = rebuilder.join().unwrap().expect("the saved value");
    assert_eq!((led.value, led.stale), (1, None));
    assert!(led.saved.is_some());
    let back = a.get_or_rebuild_saved("k", k, || Ok::<_, String>(2), |e| e == DOWN);
    assert_eq!(
        back.map(|s| (s.value, s.saved, s.stale)),
        Ok((2, None, None))
    );
}
