//! Limits shared by all app servers (issue 17, point 6): two servers on one cache allow together
//! what one allows; with memcached down each still limits on its own counts; the login back-off
//! counts every spelling of an account (and of an unknown login) as one; a per-client cap on
//! live streams; search rate-limited. Each runs on the in-process cache; with the `memcached`
//! binary (`--include-ignored`) also on a memcached started for the test.

use std::time::{Duration, Instant};

use rocket::figment::Figment;
use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::{Backend, Memcached, PASSWORD, TestApp, free_port, json_of, question};

backend_tests!(
    two_servers_share_one_cache,
    a_dead_memcached_still_limits,
    login_backoff_counts_every_spelling,
    live_streams_are_capped_per_client,
    searches_are_rate_limited,
);

mod real_memcached {
    use super::*;

    backend_tests!(
        #[ignore = "needs the memcached binary (apt-get install memcached; .ci/run installs it)"]
        two_servers_share_memcached,
        limits_survive_memcached_dying,
    );
}

/// Limits on, with small quotas, on `cache` (`None`: in-process).
fn limited(cache: Option<String>) -> impl Fn(Figment) -> Figment + Clone {
    move |f| {
        let f = f
            .merge(("limits", "on"))
            .merge(("limits_vote", "4/minute"))
            .merge(("limits_search", "3/minute"));
        match &cache {
            Some(url) => f.merge(("cache", url.clone())),
            None => f,
        }
    }
}

/// A vote on `id` by a new voter from client address `addr` (no proxy); the status.
async fn vote_from(app: &TestApp, id: i64, choice: i64, addr: &str) -> Status {
    app.client
        .put(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .remote(format!("{addr}:4000").parse().unwrap())
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(format!("{{\"choices\":[{choice}]}}"))
        .dispatch()
        .await
        .status()
}

/// Votes alternately on `a` and `b` from one address until refused; the statuses.
async fn alternate_votes(a: &TestApp, b: &TestApp, addr: &str) -> Vec<Status> {
    let id = a.question(question(&format!("Shared limit {addr}"))).await;
    let c = a.choices(id).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let server = if i % 2 == 0 { a } else { b };
        statuses.push(vote_from(server, id, c[0], addr).await);
    }
    statuses
}

fn four_then_refused() -> Vec<Status> {
    let mut want = vec![Status::Ok; 4];
    want.extend([Status::TooManyRequests; 2]);
    want
}

/// Fails `n` logins as `login` on `app`; asserts each was a plain wrong-password answer.
async fn fail_logins(app: &TestApp, login: &str, n: usize) {
    for _ in 0..n {
        let r = app.login_as(login, "not the password!!", "").await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "{login}");
    }
}

async fn two_servers_share_one_cache(b: Backend) {
    let settings = limited(None);
    let a = TestApp::with(b, settings.clone()).await;
    let other = a.sibling(settings).await;
    assert_eq!(
        alternate_votes(&a, &other, "203.0.113.10").await,
        four_then_refused(),
        "two servers allow together what one allows (4/minute)"
    );
    shared_login_backoff(&a, &other).await;
}

/// Five failed logins on one server: the account backs off on the other one too.
async fn shared_login_backoff(a: &TestApp, other: &TestApp) {
    assert_eq!(
        a.signup("carol", "carol@example.com", PASSWORD).await,
        Status::SeeOther
    );
    a.logout().await;
    fail_logins(a, "carol", 3).await;
    fail_logins(other, "CAROL", 2).await;
    let r = other.login_as("carol@example.com", PASSWORD, "").await;
    assert_eq!(
        r.status(),
        Status::TooManyRequests,
        "backing off everywhere"
    );
    drop(r);
    let r = a.login_as("carol", PASSWORD, "").await;
    assert_eq!(r.status(), Status::TooManyRequests);
}

async fn a_dead_memcached_still_limits(b: Backend) {
    let url = format!("memcache://127.0.0.1:{}", free_port());
    let app = TestApp::with(b, limited(Some(url))).await;
    let id = app.question(question("Limited without memcached")).await;
    let c = app.choices(id).await;
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(vote_from(&app, id, c[0], "203.0.113.20").await);
    }
    assert_eq!(statuses, four_then_refused(), "never open, never a 500");
    assert_eq!(vote_from(&app, id, c[1], "203.0.113.21").await, Status::Ok);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The login back-off too.
    assert_eq!(
        app.signup("dora", "dora@example.com", PASSWORD).await,
        Status::SeeOther
    );
    app.logout().await;
    fail_logins(&app, "dora", 5).await;
    let r = app.login_as("dora", PASSWORD, "").await;
    assert_eq!(r.status(), Status::TooManyRequests);
    assert!(app.state().cache.stats().errors > 0);
}

async fn login_backoff_counts_every_spelling(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("limits", "on"))).await;
    assert_eq!(
        app.signup("alice", "alice@example.com", PASSWORD).await,
        Status::SeeOther
    );
    app.logout().await;
    // Full-width letters name the account too (NFKC), so they log in...
    let r = app.login_as("ａｌｉｃｅ", PASSWORD, "").await;
    assert_eq!(r.status(), Status::SeeOther, "ａｌｉｃｅ is alice");
    drop(r);
    app.logout().await;
    // ...and count against it like every other spelling: no spelling failed five times, the
    // account did (the back-off starts at 1 s, so the checks follow at once).
    for spelling in ["alice", "ALICE", "alice@example.com", "ａｌｉｃｅ", "Alice"] {
        fail_logins(&app, spelling, 1).await;
    }
    for spelling in ["ａｌｉｃｅ", "ALICE@EXAMPLE.COM"] {
        let r = app.login_as(spelling, PASSWORD, "").await;
        assert_eq!(
            r.status(),
            Status::TooManyRequests,
            "{spelling}: one account, one count"
        );
        assert!(r.headers().get_one("Retry-After").is_some());
    }
    // An unknown login backs off the same way under its spellings, telling nothing.
    for spelling in ["ghost", "GHOST", "ｇｈｏｓｔ", "Ghöst", " ghost "] {
        fail_logins(&app, spelling, 1).await;
    }
    let r = app.login_as("gHoSt", "not the password!!", "").await;
    assert_eq!(r.status(), Status::TooManyRequests, "unknown logins too");
    drop(r);
    // Other logins are untouched.
    let r = app.login_as("bob", "not the password!!", "").await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
}

async fn live_streams_are_capped_per_client(b: Backend) {
    let app = TestApp::with(b, |f| {
        f.merge(("limits", "on"))
            .merge(("live_streams_per_client", 2))
    })
    .await;
    let id = app.question(question("Watched from one address")).await;
    let open = |addr: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(format!("/q/{id}/live"))
                .remote(format!("{addr}:5000").parse().unwrap())
                .dispatch()
                .await
        }
    };
    let first = open("198.51.100.7").await;
    let second = open("198.51.100.7").await;
    assert_eq!((first.status(), second.status()), (Status::Ok, Status::Ok));
    let third = open("198.51.100.7").await;
    assert_eq!(
        third.status(),
        Status::TooManyRequests,
        "past the client's cap"
    );
    assert!(third.headers().get_one("Retry-After").is_some());
    drop(third);
    let other = open("198.51.100.8").await;
    assert_eq!(
        other.status(),
        Status::Ok,
        "another client still gets a stream"
    );
    drop(first);
    let again = open("198.51.100.7").await;
    assert_eq!(
        again.status(),
        Status::Ok,
        "a closed stream frees its place"
    );
    drop((second, other, again));
}

async fn searches_are_rate_limited(b: Backend) {
    let app = TestApp::with(b, limited(None)).await;
    app.question(question("Searchable colours")).await;
    let search = |uri: &'static str, addr: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(uri)
                .remote(format!("{addr}:6000").parse().unwrap())
                .dispatch()
                .await
        }
    };
    // The page and the API's `?q=` share one count (3/minute here).
    for uri in [
        "/search?q=colours",
        "/api/v1/questions?q=colours",
        "/search?q=other",
    ] {
        assert_eq!(
            search(uri, "192.0.2.30").await.status(),
            Status::Ok,
            "{uri}"
        );
    }
    let page = search("/search?q=colours", "192.0.2.30").await;
    assert_eq!(page.status(), Status::TooManyRequests);
    assert!(page.headers().get_one("Retry-After").is_some());
    drop(page);
    let (status, body) = json_of(search("/api/v1/questions?q=colours", "192.0.2.30").await).await;
    assert_eq!(status, Status::TooManyRequests);
    assert_eq!(body["error"]["code"], "rate_limited");
    // Not searching is not limited; another client searches on.
    assert_eq!(search("/search", "192.0.2.30").await.status(), Status::Ok);
    assert_eq!(
        search("/api/v1/questions", "192.0.2.30").await.status(),
        Status::Ok
    );
    assert_eq!(
        search("/search?q=colours", "192.0.2.31").await.status(),
        Status::Ok
    );
}

async fn two_servers_share_memcached(b: Backend) {
    let mc = Memcached::start();
    let settings = limited(Some(mc.url()));
    let a = TestApp::with(b, settings.clone()).await;
    let other = a.sibling(settings).await;
    assert!(!a.state().cache.is_in_process());
    assert_eq!(
        alternate_votes(&a, &other, "203.0.113.30").await,
        four_then_refused(),
        "two servers on one memcached allow together what one allows"
    );
    shared_login_backoff(&a, &other).await;
    let errors = a.state().cache.stats().errors + other.state().cache.stats().errors;
    assert_eq!(errors, 0);
}

async fn limits_survive_memcached_dying(b: Backend) {
    let mc = Memcached::start();
    let app = TestApp::with(b, limited(Some(mc.url()))).await;
    let id = app.question(question("Limited while memcached dies")).await;
    let c = app.choices(id).await;
    for _ in 0..2 {
        assert_eq!(vote_from(&app, id, c[0], "203.0.113.40").await, Status::Ok);
    }
    drop(mc);
    // This server's own counts start afresh: up to the limit, then refused.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(vote_from(&app, id, c[0], "203.0.113.40").await);
    }
    assert_eq!(statuses, four_then_refused());
}
