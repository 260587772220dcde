//! When the database stalls or fails: bounded waits, 503 with `Retry-After` (never a 500),
//! saved copies of what was read before, the breaker, and votes that are either saved or
//! answered "not saved" — never lost once acknowledged.
//!
//! A stall is a lock held by another connection: on SQLite a write transaction
//! (`BEGIN IMMEDIATE`; readers are not blocked in WAL mode), on MariaDB `LOCK TABLES ... WRITE` on
//! every table (reads wait too). A stopped database is a TCP proxy in front of MariaDB that
//! refuses connections and cuts the open ones.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rocket::http::Status;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    a_stalled_vote_answers_503_in_time_and_is_never_counted,
    a_refused_list_counter_refresh_stays_pending,
    a_server_error_page_keeps_the_members_header,
);

/// Short limits so that the tests are quick: reads give up after 400 ms, writes after 800 ms.
const READ_MS: u64 = 400;
const WRITE_MS: u64 = 800;
/// What a request may take beyond its limit (a loaded CI machine, the page render).
const SLACK: Duration = Duration::from_millis(1500);

async fn app_with_limits(b: Backend) -> TestApp {
    TestApp::with(b, |f| {
        f.merge(("db_read_timeout_ms", READ_MS))
            .merge(("db_write_timeout_ms", WRITE_MS))
            .merge(("db_acquire_timeout_ms", 1000))
    })
    .await
}

/// A lock held by another connection until dropped.
enum Stall {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

#[cfg(feature = "mysql")]
#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

impl Stall {
    /// Holds the database's write lock (SQLite) or a write lock on every table (MariaDB).
    fn start(app: &TestApp) -> Stall {
        let url = beebeta::db::DbUrl::parse(&app.cfg.database.url).unwrap();
        match url.backend {
            beebeta::db::Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&url.target).unwrap();
                c.batch_execute("BEGIN IMMEDIATE").unwrap();
                Stall::Sqlite(c)
            }
            #[cfg(feature = "mysql")]
            beebeta::db::Backend::Mysql => {
                let mut c = diesel::MysqlConnection::establish(&url.target).unwrap();
                let tables: Vec<TableName> = diesel::sql_query(
                    "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables \
                     WHERE table_schema = DATABASE()",
                )
                .load(&mut c)
                .unwrap();
                let list: Vec<String> = tables
                    .iter()
                    .map(|t| format!("`{}` WRITE", t.name))
                    .collect();
                c.batch_execute(&format!("LOCK TABLES {}", list.join(", ")))
                    .unwrap();
                Stall::Mysql(c)
            }
            #[cfg(not(feature = "mysql"))]
            beebeta::db::Backend::Mysql => unreachable!(),
        }
    }
}

impl Drop for Stall {
    fn drop(&mut self) {
        match self {
            Stall::Sqlite(c) => {
                let _ = c.batch_execute("ROLLBACK");
            }
            #[cfg(feature = "mysql")]
            Stall::Mysql(c) => {
                let _ = c.batch_execute("UNLOCK TABLES");
            }
        }
    }
}

/// Votes through the API until one is saved (the breaker lets a probe through after its
/// cooldown); panics after `within`.
async fn vote_until_saved(app: &TestApp, qid: i64, body: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let (status, json) = app.api_vote(qid, body).await;
        if status == Status::Ok {
            return;
        }
        assert_eq!(status, Status::ServiceUnavailable, "{json}");
        assert!(Instant::now() < deadline, "no vote saved within {within:?}");
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn a_stalled_vote_answers_503_in_time_and_is_never_counted(b: Backend) {
    let app = app_with_limits(b).await;
    let qid = app
        .question(question("Does a stalled vote wait forever?").choices(&["Yes", "No"]))
        .await;
    let choices = app.choices(qid).await;
    let token = app.csrf_from_page(qid).await;
    let body = format!("{{\"choices\":[{}]}}", choices[1]);
    let outages_before = app.state().db.health().outages_reported();

    let stall = Stall::start(&app);
    // The API: 503 with Retry-After and the JSON error, within the write limit.
    let started = Instant::now();
    let r = app
        .client
        .put(format!("/api/v1/questions/{qid}/vote"))
        .header(rocket::http::ContentType::JSON)
        .body(&body)
        .dispatch()
        .await;
    let took = started.elapsed();
    assert_eq!(r.status(), Status::ServiceUnavailable);
    assert_eq!(r.headers().get_one("Retry-After"), Some("2"));
    let json: serde_json::Value = serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
    assert_eq!(json["error"]["code"], "unavailable", "{json}");
    assert!(
        took < Duration::from_millis(WRITE_MS) + SLACK,
        "answered after {took:?}"
    );
    // The plain form: the page again, 503, the choice kept, and what to do.
    let started = Instant::now();
    let r = app.post_vote(qid, &[choices[1]], &token).await;
    let took = started.elapsed();
    assert_eq!(r.status(), Status::ServiceUnavailable);
    assert!(r.headers().get_one("Retry-After").is_some());
    let html = r.into_string().await.unwrap();
    assert!(
        html.contains("We could not save your vote — try again"),
        "{html}"
    );
    assert!(
        html.contains(&format!("value=\"{}\" checked", choices[1])),
        "the choice is kept"
    );
    assert!(!html.contains(&format!("value=\"{}\" checked", choices[0])));
    assert!(
        took < Duration::from_millis(WRITE_MS + READ_MS) + SLACK,
        "answered after {took:?}"
    );
    // While it lasts, more votes are refused (quickly, once the breaker is open).
    for _ in 0..3 {
        let (status, _) = app.api_vote(qid, &body).await;
        assert_eq!(status, Status::ServiceUnavailable);
    }
    let started = Instant::now();
    let (status, _) = app.api_vote(qid, &body).await;
    assert_eq!(status, Status::ServiceUnavailable);
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "the open breaker answers at once: {:?}",
        started.elapsed()
    );
    drop(stall);

    // Nothing of it was written, or is written later.
    rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.ledger(qid).await.0, 0, "no refused vote was counted");
    // Back: the same vote is saved (once the breaker lets its probe through) and counted once.
    vote_until_saved(&app, qid, &body, Duration::from_secs(10)).await;
    let (ballots, votes) = app.ledger(qid).await;
    assert_eq!(ballots, 1);
    assert_eq!(votes, vec![(choices[1], 1)]);
    // The outage was reported once, not once per refused request.
    assert_eq!(
        app.state().db.health().outages_reported(),
        outages_before + 1
    );
}

/// A 5xx page shows the member's own header as far as the request had looked them up, and
/// asks nothing more of the stalled database (it answers in time).
async fn a_server_error_page_keeps_the_members_header(b: Backend) {
    let app = app_with_limits(b).await;
    app.signup("stella", "stella@example.com", crate::helpers::PASSWORD)
        .await;
    let (_, page) = app.get("/settings").await;
    let token = crate::helpers::extract_csrf(&page).unwrap();
    let stall = Stall::start(&app);
    let started = Instant::now();
    let r = app
        .client
        .post("/settings/profile")
        .header(rocket::http::ContentType::Form)
        .body(crate::helpers::form_body(&[("csrf_token", &token)]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::ServiceUnavailable);
    let html = r.into_string().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(WRITE_MS + READ_MS) + SLACK,
        "answered after {:?}",
        started.elapsed()
    );
    if b == Backend::Sqlite {
        // The session was read (SQLite readers are not blocked); the write failed.
        assert!(html.contains("@stella"), "the member's header: {html}");
        assert!(!html.contains("href=\"/signup\""), "no sign-up link");
    }
    drop(stall);
}

/// Reads during a stall (MariaDB: reads wait for the locked tables).
#[cfg(feature = "mysql")]
mod mysql_reads {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    #[rocket::async_test]
    #[ignore = "needs MariaDB: BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test --features mysql -- --include-ignored"]
    async fn reads_during_a_stall_get_the_saved_copy_or_a_quick_503() {
        let app = app_with_limits(Backend::Mysql).await;
        let warm = app
            .question(question("Is this page saved?").tags(&["saved"]))
            .await;
        let cold = app.question(question("Was this page ever read?")).await;
        let warm_path = app.path(warm).await;
        let cold_path = format!("/q/{cold}/was-this-page-ever-read");
        // A second server on the same database and cache, whose visitor has voted on `warm`.
        let voter = app
            .sibling(|f| {
                f.merge(("db_read_timeout_ms", READ_MS))
                    .merge(("db_write_timeout_ms", WRITE_MS))
            })
            .await;
        let status = voter
            .signup("stalled", "stalled@example.com", "a long enough passphrase")
            .await;
        assert_eq!(status, Status::SeeOther, "signed up and logged in");
        let choices = app.choices(warm).await;
        let (s, _) = voter
            .api_vote(warm, &format!("{{\"choices\":[{}]}}", choices[0]))
            .await;
        assert_eq!(s, Status::Ok);
        for uri in [
            warm_path.as_str(),
            "/",
            "/t/saved",
            "/tags",
            &format!("/api/v1/questions/{warm}"),
            "/api/v1/questions",
        ] {
            let (status, _) = app.get(uri).await;
            assert_eq!(status, Status::Ok, "{uri}");
        }
        // Past every freshness window of pages and counts (1 s and 2 s), not of the saved copy.
        rocket::tokio::time::sleep(Duration::from_millis(2500)).await;

        let stall = Stall::start(&app);
        let get = |uri: String| {
            let app = &app;
            async move {
                let started = Instant::now();
                let r = app.client.get(uri.clone()).dispatch().await;
                let status = r.status();
                let age = r.headers().get_one("Age").map(str::to_string);
                let retry = r.headers().get_one("Retry-After").map(str::to_string);
                let body = r.into_string().await.unwrap_or_default();
                (status, age, retry, body, started.elapsed())
            }
        };
        // Still fresh in the cache (the tag cloud, 30 s): served as it is.
        let (status, age, _, body, _) = get("/tags".into()).await;
        assert_eq!((status, age), (Status::Ok, None), "{body}");
        // Saved copies: 200, the note on pages, an Age header.
        for uri in [warm_path.clone(), "/".into(), "/t/saved".into()] {
            let (status, age, _, body, took) = get(uri.clone()).await;
            assert_eq!(status, Status::Ok, "{uri}: {body}");
            assert!(body.contains("data-saved-copy"), "{uri} has the note");
            assert!(age.is_some(), "{uri} has Age");
            assert!(
                took < Duration::from_millis(READ_MS) + SLACK,
                "{uri}: {took:?}"
            );
        }
        // No shared cache may keep a saved copy as the page.
        let r = app.client.get(warm_path.clone()).dispatch().await;
        assert_eq!(r.status(), Status::Ok);
        assert_eq!(r.headers().get_one("Cache-Control"), Some("no-store"));
        drop(r);
        for uri in [
            format!("/api/v1/questions/{warm}"),
            "/api/v1/questions".into(),
        ] {
            let (status, age, _, body, _) = get(uri.clone()).await;
            assert_eq!(status, Status::Ok, "{uri}: {body}");
            assert!(age.is_some(), "{uri} has Age");
        }
        // Never read: 503 with Retry-After, the site's page or the API's JSON, in time.
        let (status, _, retry, body, took) = get(cold_path.clone()).await;
        assert_eq!(status, Status::ServiceUnavailable, "{body}");
        assert!(retry.is_some());
        assert!(body.contains("Temporarily unavailable"), "{body}");
        assert!(took < Duration::from_millis(READ_MS) + SLACK, "{took:?}");
        let (status, _, retry, body, _) = get(format!("/api/v1/questions/{cold}")).await;
        assert_eq!(status, Status::ServiceUnavailable);
        assert!(retry.is_some());
        assert!(body.contains("\"unavailable\""), "{body}");
        // The signed-in voter's page: the shared parts, their vote and account left out, and said so.
        let r = voter.client.get(warm_path.clone()).dispatch().await;
        assert_eq!(r.status(), Status::Ok);
        let html = r.into_string().await.unwrap();
        assert!(html.contains("data-saved-copy"));
        assert!(
            html.contains("Your own vote and account are left out"),
            "{html}"
        );
        // A page that needs to know who they are: try again, not "please log in".
        let r = voter.client.get("/settings").dispatch().await;
        assert_eq!(r.status(), Status::ServiceUnavailable);
        assert!(r.headers().get_one("Retry-After").is_some());
        drop(r);
        // Health and readiness.
        let (status, _) = app.get("/healthz").await;
        assert_eq!(status, Status::Ok);
        let (status, _) = app.get("/readyz").await;
        assert_eq!(status, Status::ServiceUnavailable);
        drop(stall);

        // Back: fresh pages without the note.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, age, _, body, _) = get(warm_path.clone()).await;
            if status == Status::Ok && age.is_none() && !body.contains("data-saved-copy") {
                break;
            }
            assert!(Instant::now() < deadline, "fresh again");
            rocket::tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(voter);
    }

    #[rocket::async_test]
    #[ignore = "needs MariaDB: BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test --features mysql -- --include-ignored"]
    async fn a_saved_copy_is_not_served_past_stale_if_error() {
        let app = TestApp::with(Backend::Mysql, |f| {
            f.merge(("db_read_timeout_ms", READ_MS))
                .merge(("stale_if_error_secs", 1))
        })
        .await;
        let qid = app.question(question("Is an old copy served?")).await;
        let path = app.path(qid).await;
        let (status, _) = app.get(&path).await;
        assert_eq!(status, Status::Ok);
        // Counts are fresh for 0.5 s and kept 1 s more for errors: gone after 3 s.
        rocket::tokio::time::sleep(Duration::from_secs(3)).await;
        let _stall = Stall::start(&app);
        let (status, body) = app.get(&path).await;
        assert_eq!(status, Status::ServiceUnavailable, "{body}");
    }

    #[rocket::async_test]
    #[ignore = "needs MariaDB: BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test --features mysql -- --include-ignored"]
    async fn a_stopped_database_is_refused_fast_and_back_at_once() {
        let app = TestApp::new(Backend::Mysql).await;
        let warm = app
            .question(question("Does the page outlive the database?"))
            .await;
        let cold = app.question(question("Is this one refused quickly?")).await;
        let choices = app.choices(cold).await;
        // The server under test reaches MariaDB through a proxy that can be stopped.
        let url = beebeta::db::DbUrl::parse(&app.cfg.database.url)
            .unwrap()
            .target;
        let proxy = Proxy::start(&url);
        let server = app
            .sibling(|f| {
                f.merge(("database_url", proxy.url(&url)))
                    .merge(("db_acquire_timeout_ms", 500))
            })
            .await;
        let warm_path = app.path(warm).await;
        assert_eq!(server.get(&warm_path).await.0, Status::Ok);
        rocket::tokio::time::sleep(Duration::from_millis(1500)).await;
        // The segments the page offers for breakdowns were read past their freshness (30 s)
        // in a long outage: the saved copy must not need them (CI's fault run found it did).
        server.state().cache.delete("segments");

        proxy.stop();
        let started = Instant::now();
        let (status, body) = server.get(&warm_path).await;
        assert_eq!(status, Status::Ok, "{body}");
        assert!(body.contains("data-saved-copy"));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        // A few reads and writes open the breakers; then refusals are immediate.
        let body = format!("{{\"choices\":[{}]}}", choices[0]);
        for _ in 0..4 {
            let (status, _) = server.get(&format!("/api/v1/questions/{cold}")).await;
            assert_eq!(status, Status::ServiceUnavailable);
            let (status, _) = server.api_vote(cold, &body).await;
            assert_eq!(status, Status::ServiceUnavailable);
        }
        let started = Instant::now();
        let (status, _) = server.get(&format!("/api/v1/questions/{cold}")).await;
        assert_eq!(status, Status::ServiceUnavailable);
        let (vote, _) = server.api_vote(cold, &body).await;
        assert_eq!(vote, Status::ServiceUnavailable);
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "refused at once: {:?}",
            started.elapsed()
        );
        assert_eq!(server.get("/healthz").await.0, Status::Ok);
        assert_eq!(server.get("/readyz").await.0, Status::ServiceUnavailable);

        proxy.restart();
        let back = Instant::now();
        vote_until_saved(&server, cold, &body, Duration::from_secs(10)).await;
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "{:?}",
            back.elapsed()
        );
        // Reads have their own breaker: ready once its probe went through.
        while server.get("/readyz").await.0 != Status::Ok {
            assert!(back.elapsed() < Duration::from_secs(10), "ready again");
            rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (ballots, votes) = app.ledger(cold).await;
        assert_eq!((ballots, votes), (1, vec![(choices[0], 1)]));
        drop(server);
    }

    /// A TCP proxy to MariaDB on a fixed local port: `stop` refuses new connections and cuts the
    /// open ones; `restart` listens again on the same port.
    struct Proxy {
        port: u16,
        upstream: String,
        running: Arc<AtomicBool>,
        open: Arc<Mutex<Vec<TcpStream>>>,
    }

    impl Proxy {
        fn start(mysql_url: &str) -> Proxy {
            let upstream = mysql_url
                .split('@')
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("127.0.0.1:3306")
                .to_string();
            let port = crate::helpers::free_port();
            let proxy = Proxy {
                port,
                upstream,
                running: Arc::new(AtomicBool::new(false)),
                open: Arc::default(),
            };
            proxy.restart();
            proxy
        }

        /// `mysql_url` with the proxy's address.
        fn url(&self, mysql_url: &str) -> String {
            mysql_url.replacen(&self.upstream, &format!("127.0.0.1:{}", self.port), 1)
        }

        fn restart(&self) {
            let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
            listener.set_nonblocking(true).unwrap();
            self.running.store(true, Ordering::SeqCst);
            let (running, open, upstream) = (
                self.running.clone(),
                self.open.clone(),
                self.upstream.clone(),
            );
            std::thread::spawn(move || {
                while running.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let _ = client.set_nonblocking(false);
                            let Ok(server) = TcpStream::connect(&upstream) else {
                                continue;
                            };
                            let mut held = open.lock().unwrap();
                            held.push(client.try_clone().unwrap());
                            held.push(server.try_clone().unwrap());
                            drop(held);
                            pump(client.try_clone().unwrap(), server.try_clone().unwrap());
                            pump(server, client);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                // Dropping the listener: connections are refused from now on.
            });
        }

        fn stop(&self) {
            self.running.store(false, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            for s in self.open.lock().unwrap().drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.stop();
        }
    }

    fn pump(mut from: TcpStream, mut to: TcpStream) {
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

/// A list-counter refresh the database refuses (here: the write breaker open) keeps its
/// questions pending, and the next run refreshes them: `questions.vote_count` catches up.
async fn a_refused_list_counter_refresh_stays_pending(b: Backend) {
    use beebeta::db::Work;
    use beebeta::db::health::{COOLDOWN, FAILURES};
    use beebeta::error::{AppError, AppResult};
    use beebeta::services::count_refresher::CountRefresher;

    let app = TestApp::new(b).await;
    let qid = app.question(question("Is a refused refresh kept?")).await;
    let choices = app.choices(qid).await;
    let (status, _) = app
        .api_vote(qid, &format!("{{\"choices\":[{}]}}", choices[0]))
        .await;
    assert_eq!(status, Status::Ok);
    // The list counter behind the ledger, as after a vote whose refresh was left for later.
    let db = app.db.clone();
    db.write(move |c| {
        use beebeta::db::schema::questions;
        diesel::update(questions::table.find(qid))
            .set(questions::vote_count.eq(0))
            .execute(c)?;
        Ok(())
    })
    .await
    .unwrap();
    let refresher = CountRefresher::new(Duration::from_secs(60));
    refresher.defer(&[qid]);
    let failed: AppResult<()> = Err(AppError::DbUnavailable("a test outage".into()));
    for _ in 0..FAILURES {
        db.health().record(Work::Write, &failed);
    }
    assert!(db.health().is_open(Work::Write));
    assert!(
        refresher.run_pending(&db).await.is_err(),
        "refused while the breaker is open"
    );
    rocket::tokio::time::sleep(COOLDOWN + Duration::from_millis(200)).await;
    assert_eq!(
        refresher
            .run_pending(&db)
            .await
            .expect("the database answers"),
        1,
        "the refused question was kept for this run"
    );
    // `ledger` waits (5 s at most) for `questions.vote_count` to equal the ballots.
    assert_eq!(app.ledger(qid).await.0, 1, "questions.vote_count caught up");
}
