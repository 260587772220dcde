//! The cache layer seen through the site: writes show at once, a voter sees their own vote at
//! once and others within seconds, one rebuild per cold key, and a dead or frozen memcached costs
//! no request more than a bounded delay. Each runs with the in-process cache and (with the
//! `memcached` binary, `--include-ignored`) against a memcached started for the test.

use std::time::{Duration, Instant};

use rocket::http::Status;

use crate::backend_tests;
use crate::helpers::{Backend, Memcached, PASSWORD, TestApp, free_port, json_of, question};

async fn app_with_cache(b: Backend, cache: Option<String>) -> TestApp {
    TestApp::with(b, move |f| match cache {
        Some(url) => f.merge(("cache", url)),
        None => f,
    })
    .await
}

fn ask_fields<'a>(title: &'a str, tags: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("description", ""),
        ("tags", tags),
        ("kind", "single"),
        ("results_visibility", "always"),
        ("duplicate_protection", "browser"),
        ("action", "submit"),
        ("choice", "Yes"),
        ("choice", "No"),
    ]
}

/// Asking, editing, closing and deleting show on the next request: lists, tag cloud, page.
async fn writes_show_at_once(app: &TestApp) {
    app.signup("writer", "writer@example.com", PASSWORD).await;
    for uri in ["/", "/new", "/tags", "/api/v1/questions?sort=new"] {
        let (s, _) = app.get(uri).await;
        assert_eq!(s, Status::Ok, "{uri} warms the cache");
    }
    let r = app
        .post_form(
            "/ask",
            "/ask",
            &ask_fields("Cached lists see this at once", "caching"),
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let path = r.headers().get_one("Location").unwrap().to_string();
    drop(r);
    let id: i64 = path.split('/').nth(2).unwrap().parse().unwrap();
    let (_, new) = app.get("/new").await;
    assert!(
        new.contains("Cached lists see this at once"),
        "a new question shows at once"
    );
    let (_, api) = app.get("/api/v1/questions?sort=new").await;
    assert!(api.contains("Cached lists see this at once"));
    let (_, tags) = app.get("/tags").await;
    assert!(
        tags.contains("caching"),
        "the tag cloud shows the new tag at once"
    );

    let (_, page) = app.get(&path).await;
    assert!(page.contains("Cached lists see this at once"));
    let r = app
        .post_form(
            &format!("/q/{id}/edit"),
            &format!("/q/{id}/edit"),
            &ask_fields("Edited while cached", "caching"),
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, page) = app.get(&app.path(id).await).await;
    assert!(
        page.contains("Edited while cached"),
        "an edit shows at once"
    );
    let (_, new) = app.get("/new").await;
    assert!(new.contains("Edited while cached") && !new.contains("Cached lists see this at once"));

    let canonical = app.path(id).await;
    let r = app
        .post_form(&canonical, &format!("/q/{id}/close"), &[("confirm", "yes")])
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, v) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(v["status"], "closed", "closing shows at once");

    let r = app
        .post_form(
            &canonical,
            &format!("/q/{id}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (s, _) = app.get(&canonical).await;
    assert_eq!(s, Status::NotFound, "a deleted question is gone at once");
    let (_, new) = app.get("/new").await;
    assert!(
        !new.contains("Edited while cached"),
        "and gone from the lists"
    );
}

/// A voter sees their own vote at once; another visitor within a few seconds.
async fn votes_show_to_the_voter_at_once(app: &TestApp) {
    let id = app.question(question("Counted while cached")).await;
    let c = app.choices(id).await;
    let (alice, bob) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let get_as = |voter: String| {
        let client = &app.client;
        async move {
            json_of(
                client
                    .get(format!("/api/v1/questions/{id}"))
                    .private_cookie(("bb_voter", voter))
                    .dispatch()
                    .await,
            )
            .await
            .1
        }
    };
    assert_eq!(
        get_as(alice.clone()).await["total_votes"],
        0,
        "warms the counts"
    );
    let (s, _) = json_of(
        app.client
            .put(format!("/api/v1/questions/{id}/vote"))
            .header(rocket::http::ContentType::JSON)
            .private_cookie(("bb_voter", bob.clone()))
            .body(format!("{{\"choices\":[{}]}}", c[1]))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    let mine = get_as(bob).await;
    assert_eq!(mine["total_votes"], 1, "the voter sees their vote at once");
    assert_eq!(mine["results"]["total"], 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if get_as(alice.clone()).await["total_votes"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "others see the vote within seconds"
        );
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.ledger(id).await.0, 1);
}

/// Concurrent requests for a cold question rebuild each of its entries once.
async fn one_rebuild_per_cold_key(app: &TestApp) {
    let id = app.question(question("Many readers at once")).await;
    let path = app.path(id).await;
    let cache = &app.state().cache;
    let before = cache.stats().rebuilds;
    let requests = (0..16).map(|_| {
        let p = path.clone();
        let client = &app.client;
        async move { client.get(p).dispatch().await.status() }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == Status::Ok));
    assert_eq!(
        cache.stats().rebuilds - before,
        2,
        "the question and its counts were each loaded once"
    );
}

async fn with_memory(b: Backend) {
    let app = app_with_cache(b, None).await;
    writes_show_at_once(&app).await;
    votes_show_to_the_voter_at_once(&app).await;
    one_rebuild_per_cold_key(&app).await;
}

/// A memcached that is not there: every page still answers, quickly once the breaker is open.
async fn memcached_down(b: Backend) {
    let url = format!("memcache://127.0.0.1:{}", free_port());
    let app = app_with_cache(b, Some(url)).await;
    let id = app.question(question("Served without memcached")).await;
    let path = app.path(id).await;
    for _ in 0..3 {
        let t = Instant::now();
        let (s, body) = app.get(&path).await;
        assert_eq!(s, Status::Ok);
        assert!(body.contains("Served without memcached"));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    let t = Instant::now();
    for uri in ["/", "/new", "/tags", path.as_str()] {
        assert_eq!(app.get(uri).await.0, Status::Ok, "{uri}");
    }
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "with the breaker open, pages cost no cache delay: {:?}",
        t.elapsed()
    );
    let stats = app.state().cache.stats();
    assert!(stats.errors > 0 && stats.hits == 0, "{stats:?}");
}

async fn with_memcached(b: Backend) {
    let mc = Memcached::start();
    let app = app_with_cache(b, Some(mc.url())).await;
    writes_show_at_once(&app).await;
    votes_show_to_the_voter_at_once(&app).await;
    one_rebuild_per_cold_key(&app).await;
    let stats = app.state().cache.stats();
    assert!(stats.hits > 0 && stats.errors == 0, "{stats:?}");
}

/// memcached frozen (SIGSTOP) mid-way, then stopped: pages stay 200 within the time bound.
async fn memcached_frozen_then_stopped(b: Backend) {
    let mc = Memcached::start();
    let app = app_with_cache(b, Some(mc.url())).await;
    let id = app
        .question(question("Served while memcached is frozen"))
        .await;
    let path = app.path(id).await;
    assert_eq!(app.get(&path).await.0, Status::Ok);
    mc.signal("-STOP");
    std::thread::sleep(Duration::from_millis(100));
    for i in 0..5 {
        let t = Instant::now();
        let (s, body) = app.get(&path).await;
        assert_eq!(s, Status::Ok);
        assert!(body.contains("Served while memcached is frozen"));
        // Each cache call is bounded by its 100 ms timeouts until the breaker opens.
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "request {i}: {:?}",
            t.elapsed()
        );
    }
    let t = Instant::now();
    assert_eq!(app.get(&path).await.0, Status::Ok);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "breaker open: {:?}",
        t.elapsed()
    );
    drop(mc);
    assert_eq!(
        app.get(&path).await.0,
        Status::Ok,
        "and with memcached gone"
    );
}

backend_tests!(with_memory, memcached_down);

mod real_memcached {
    use super::*;

    backend_tests!(
        #[ignore = "needs the memcached binary (apt-get install memcached; .ci/run installs it)"]
        with_memcached,
        memcached_frozen_then_stopped,
    );
}
