//! Unit tests of [`Limits`] on the in-process cache, a dead memcached and (ignored) a real one.

use std::net::TcpListener;
use std::time::Instant;

use super::*;

fn memory() -> Cache {
    Cache::new(MemoryBackend::new(1 << 20), "t").unwrap()
}

fn limits(rate: &str, cache: Cache) -> Limits {
    let cfg = LimitsConfig {
        signup: rate.into(),
        ..LimitsConfig::default()
    };
    Limits::new(&cfg, cache).unwrap()
}

fn closed_port_cache() -> Cache {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Cache::from_url(Some(&format!("memcache://127.0.0.1:{port}")), "t", 0).unwrap()
}

#[rocket::async_test]
async fn keyed_limits() {
    let l = limits("2/hour", memory());
    let a = || Some("a".to_string());
    assert!(l.check(Action::Signup, a()).await.is_ok());
    assert!(l.check(Action::Signup, a()).await.is_ok());
    match l.check(Action::Signup, a()).await {
        Err(AppError::TooManyRequests {
            retry_after_secs, ..
        }) => assert!(retry_after_secs > 60, "{retry_after_secs}"),
        other => panic!("{other:?}"),
    }
    assert!(
        l.check(Action::Signup, Some("b".into())).await.is_ok(),
        "per key"
    );
    assert!(
        l.check(Action::Signup, None).await.is_ok(),
        "unknown clients are not lumped together"
    );
    let off = Limits::new(
        &LimitsConfig {
            switch: "off".into(),
            ..LimitsConfig::default()
        },
        memory(),
    )
    .unwrap();
    for _ in 0..100 {
        assert!(off.check(Action::Vote, a()).await.is_ok());
    }
    let bad = LimitsConfig {
        search: "often".into(),
        ..LimitsConfig::default()
    };
    let error = Limits::new(&bad, memory()).err().unwrap();
    assert!(error.starts_with("limits_search:"), "{error}");
}

#[rocket::async_test]
async fn two_servers_on_one_cache_share_the_counts() {
    let cache = memory();
    let (one, two) = (limits("3/hour", cache.clone()), limits("3/hour", cache));
    let a = || Some("a".to_string());
    assert!(one.check(Action::Signup, a()).await.is_ok());
    assert!(two.check(Action::Signup, a()).await.is_ok());
    assert!(one.check(Action::Signup, a()).await.is_ok());
    assert!(two.check(Action::Signup, a()).await.is_err());
    assert!(one.check(Action::Signup, a()).await.is_err());
}

#[rocket::async_test]
async fn a_dead_memcached_falls_back_to_own_counts_quickly() {
    let l = limits("2/hour", closed_port_cache());
    let started = Instant::now();
    let a = || Some("a".to_string());
    assert!(l.check(Action::Signup, a()).await.is_ok());
    assert!(l.check(Action::Signup, a()).await.is_ok());
    assert!(
        matches!(
            l.check(Action::Signup, a()).await,
            Err(AppError::TooManyRequests { .. })
        ),
        "still limited"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The back-off too.
    let keys = LoginKeys::new(Some(1), "alice");
    for _ in 0..backoff::FREE_FAILURES {
        l.login_failed(&keys).await.unwrap();
    }
    assert!(l.check_login_backoff(&keys).await.is_err());
    l.login_succeeded(&keys).await.unwrap();
    assert!(l.check_login_backoff(&keys).await.is_ok());
}

#[rocket::async_test]
async fn login_backoff_grows() {
    let l = limits("5/hour", memory());
    let known = |typed: &str| LoginKeys::new(Some(7), typed);
    for _ in 0..backoff::FREE_FAILURES - 1 {
        l.login_failed(&known("Alice")).await.unwrap();
        assert!(l.check_login_backoff(&known("alice")).await.is_ok());
    }
    l.login_failed(&known("alice@example.com")).await.unwrap();
    assert!(l.check_login_backoff(&known("ＡＬＩＣＥ")).await.is_err());
    l.login_succeeded(&known("alice")).await.unwrap();
    assert!(l.check_login_backoff(&known("alice")).await.is_ok());
}

/// The cost of one check on a real memcached (two round trips, off the async workers):
/// `cargo test --lib limits::tests::check_cost_on_memcached -- --ignored --nocapture`.
#[rocket::async_test]
#[ignore = "needs the memcached binary on PATH (apt-get install memcached)"]
async fn check_cost_on_memcached() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new("memcached")
        .args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "16",
        ])
        .args(["-u", "nobody"])
        .spawn()
        .expect("the memcached binary");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "memcached starts");
        std::thread::sleep(Duration::from_millis(10));
    }
    let cache = Cache::from_url(Some(&format!("memcache://127.0.0.1:{port}")), "cost", 0).unwrap();
    let l = Limits::new(
        &LimitsConfig {
            vote: "1000000/hour".into(),
            ..LimitsConfig::default()
        },
        cache.clone(),
    )
    .unwrap();
    let n = 2000;
    for i in 0..100 {
        l.check(Action::Vote, Some(format!("10.0.0.{}", i % 50)))
            .await
            .unwrap();
    }
    let started = Instant::now();
    for i in 0..n {
        l.check(Action::Vote, Some(format!("10.0.{}.{}", i / 250, i % 250)))
            .await
            .unwrap();
    }
    let per_check = started.elapsed() / n;
    let _ = child.kill();
    let _ = child.wait();
    println!("one limit check on memcached (loopback): {per_check:?}");
    assert_eq!(cache.stats().errors, 0);
    assert!(per_check < Duration::from_millis(5), "{per_check:?}");
}
