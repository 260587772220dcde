//! Analytics: events from real requests reach the rollups, the HTTP endpoint and the event
//! files; batches apply once; full queues drop (counted) without failing requests; shutdown
//! flushes.

use std::io::Read as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beebeta::analytics::pipeline::Drops;
use beebeta::analytics::sinks::http::HttpSink;
use beebeta::analytics::sinks::rollups;
use beebeta::analytics::{Analytics, Batch, Event, Sink};
use beebeta::config::Secret;
use beebeta::db::Db;
use rocket::http::{ContentType, Header, Status};
use rocket::tokio;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, json_of, question};

backend_tests!(
    requests_land_in_the_rollups,
    a_batch_applies_once,
    two_pipelines_writing_at_once_stay_exact,
    a_full_queue_drops_and_requests_still_succeed,
    http_sink_sends_the_request_context,
    moderation_sends_question_hidden,
    files_sink_writes_gzip_json_lines,
    shutdown_flushes_pending_events,
    generate_fills_the_rollups_from_the_votes,
);

/// Site totals: page views, votes, changes, withdrawals, sign-ups, logins, questions asked.
async fn site_totals(db: &Db) -> [i64; 7] {
    db.run(|c| {
        use beebeta::db::schema::rollup_site_hourly as s;
        use diesel::prelude::*;
        let rows: Vec<(i64, i64, i64, i64, i64, i64, i64)> = s::table
            .select((
                s::page_views,
                s::votes,
                s::vote_changes,
                s::vote_withdrawals,
                s::signups,
                s::logins,
                s::questions_asked,
            ))
            .load(c)?;
        let mut t = [0i64; 7];
        for r in rows {
            for (i, v) in [r.0, r.1, r.2, r.3, r.4, r.5, r.6].into_iter().enumerate() {
                t[i] += v;
            }
        }
        Ok(t)
    })
    .await
    .unwrap()
}

/// (views, votes) of a question from the hourly table, and from the daily table.
async fn question_totals(db: &Db, qid: i64) -> ((i64, i64), (i64, i64)) {
    db.run(move |c| {
        use beebeta::db::schema::{rollup_question_daily as d, rollup_question_hourly as h};
        use diesel::prelude::*;
        let hourly: Vec<(i64, i64)> = h::table
            .filter(h::question_id.eq(qid))
            .select((h::views, h::votes))
            .load(c)?;
        let daily: Vec<(i64, i64)> = d::table
            .filter(d::question_id.eq(qid))
            .select((d::views, d::votes))
            .load(c)?;
        let sum = |v: Vec<(i64, i64)>| v.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
        Ok((sum(hourly), sum(daily)))
    })
    .await
    .unwrap()
}

/// (views, votes) of a tag, by name.
async fn tag_totals(db: &Db, name: &str) -> (i64, i64) {
    let name = name.to_string();
    db.run(move |c| {
        use beebeta::db::schema::{rollup_tag_daily as r, tags};
        use diesel::prelude::*;
        let rows: Vec<(i64, i64)> = r::table
            .inner_join(tags::table.on(tags::id.eq(r::tag_id)))
            .filter(tags::name.eq(name))
            .select((r::views, r::votes))
            .load(c)?;
        Ok(rows.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1)))
    })
    .await
    .unwrap()
}

pub(crate) fn analytics(app: &TestApp) -> Analytics {
    app.client
        .rocket()
        .state::<Analytics>()
        .expect("analytics is managed")
        .clone()
}

async fn requests_land_in_the_rollups(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.signup("eve", "eve@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(r#"{"title":"Which season do you like best?","choices":["Spring","Autumn"],"tags":["alpha","beta"]}"#)
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert_eq!(s, Status::Created, "{v}");
    let id = v["id"].as_i64().unwrap();
    let c = app.choices(id).await;
    let path = app.path(id).await;
    let token = app.csrf_from_page(id).await; // question view 1
    assert_eq!(
        app.post_vote(id, &[c[0]], &token).await.status(),
        Status::SeeOther
    ); // cast
    app.post_vote(id, &[c[1]], &token).await; // changed
    app.post_vote(id, &[c[1]], &token).await; // the same ballot again: no event
    let r = app
        .client
        .post(format!("/q/{id}/withdraw"))
        .header(ContentType::Form)
        .body(format!("csrf_token={token}"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther); // withdrawn
    app.post_vote(id, &[c[0]], &token).await; // cast again
    for page in ["/", "/new", "/t/alpha"] {
        assert_eq!(app.get(page).await.0, Status::Ok);
    }
    assert_eq!(app.logout().await, Status::SeeOther); // a view of "/" first
    assert_eq!(
        app.login_as("eve", PASSWORD, "/").await.status(),
        Status::SeeOther
    );
    let r = app
        .post_form(&path, &format!("/q/{id}/close"), &[("confirm", "yes")])
        .await; // question view 2
    assert_eq!(r.status(), Status::SeeOther);

    analytics(&app).flush().await;
    // page views: 2 question, 3 lists, 1 tag; 2 cast, 1 change, 1 withdrawal; 1 each of the rest.
    assert_eq!(site_totals(&app.db).await, [6, 2, 1, 1, 1, 1, 1]);
    let (hourly, daily) = question_totals(&app.db, id).await;
    assert_eq!(hourly, (2, 2));
    assert_eq!(daily, hourly, "daily sums equal hourly sums");
    assert_eq!(
        tag_totals(&app.db, "alpha").await,
        (3, 2),
        "question views + tag page"
    );
    assert_eq!(tag_totals(&app.db, "beta").await, (2, 2));
    assert_eq!(analytics(&app).dropped(), 0);
}

fn events_for(qid: i64, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| match i % 3 {
            0 => Event::question_view(qid),
            1 => Event::vote_cast(qid, &[1]),
            _ => Event::list_view(),
        })
        .collect()
}

async fn a_batch_applies_once(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Once or twice?").tags(&["once"]))
        .await;
    let batch = Batch::new(events_for(id, 30));
    assert!(
        rollups::apply(&app.db, &batch).await.unwrap(),
        "first apply"
    );
    let after_first = (
        site_totals(&app.db).await,
        question_totals(&app.db, id).await,
    );
    assert!(
        !rollups::apply(&app.db, &batch).await.unwrap(),
        "a retry is a no-op"
    );
    let after_second = (
        site_totals(&app.db).await,
        question_totals(&app.db, id).await,
    );
    assert_eq!(after_first, after_second);
    assert_eq!(after_first.0[0], 20, "10 question views + 10 list views");
    assert_eq!(after_first.1.0, (10, 10));
    assert_eq!(tag_totals(&app.db, "once").await, (10, 10));
    // A different batch with the same events adds up.
    assert!(
        rollups::apply(&app.db, &Batch::new(events_for(id, 30)))
            .await
            .unwrap()
    );
    assert_eq!(question_totals(&app.db, id).await.0, (20, 20));
}

async fn two_pipelines_writing_at_once_stay_exact(b: Backend) {
    let app = TestApp::new(b).await;
    let q1 = app
        .question(question("First of two?").tags(&["shared"]))
        .await;
    let q2 = app
        .question(question("Second of two?").tags(&["shared"]))
        .await;
    // Two "servers": their own database pools and pipelines, small batches.
    let mut pipelines = Vec::new();
    for _ in 0..2 {
        let db = Db::connect(&app.cfg.database).unwrap();
        let mut cfg = app.cfg.analytics.clone();
        cfg.events_flush_ms = 5;
        let a = Analytics::from_config(&cfg, "", &db).unwrap();
        a.start();
        pipelines.push(a);
    }
    let mut tasks = Vec::new();
    for a in pipelines.clone() {
        tasks.push(tokio::spawn(async move {
            for round in 0..20 {
                for e in events_for(q1, 15).into_iter().chain(events_for(q2, 15)) {
                    a.emit(e);
                }
                if round % 5 == 0 {
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for a in &pipelines {
        a.flush().await;
        assert_eq!(a.dropped(), 0);
    }
    // Each pipeline: 20 rounds × 5 of each kind per question.
    assert_eq!(question_totals(&app.db, q1).await, ((200, 200), (200, 200)));
    assert_eq!(question_totals(&app.db, q2).await, ((200, 200), (200, 200)));
    assert_eq!(tag_totals(&app.db, "shared").await, (400, 400));
    assert_eq!(site_totals(&app.db).await[..2], [800, 400]);
}

/// A sink that counts what it receives.
struct Counting(Arc<AtomicUsize>);

#[rocket::async_trait]
impl Sink for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    async fn accept(&mut self, batch: Arc<Batch>) {
        self.0.fetch_add(batch.events.len(), Ordering::SeqCst);
    }
}

async fn a_full_queue_drops_and_requests_still_succeed(b: Backend) {
    // Not started yet: nothing drains the queue of 4.
    let got = Arc::new(AtomicUsize::new(0));
    let a = Analytics::new(
        4,
        Duration::from_secs(3600),
        vec![Box::new(Counting(got.clone())) as Box<dyn Sink>],
    );
    for _ in 0..10 {
        a.emit(Event::list_view());
    }
    assert_eq!(a.dropped(), 6);
    a.flush().await;
    assert_eq!(got.load(Ordering::SeqCst), 4);

    // A tiny queue under concurrent requests: every request succeeds; what was not dropped
    // is counted in the rollups.
    let app = TestApp::with(b, |f| f.merge(("events_queue", 1))).await;
    let id = app.question(question("Crowded queue?")).await;
    let path = app.path(id).await;
    let requests = (0..24).map(|_| async {
        let r = app.client.get(path.clone()).dispatch().await;
        r.status()
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
    let a = analytics(&app);
    a.flush().await;
    let views = question_totals(&app.db, id).await.0.0;
    assert_eq!(views + a.dropped() as i64, 24);
}

/// A local HTTP endpoint standing in for the analytics service.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    events: Arc<Mutex<Vec<serde_json::Value>>>,
    attempts: Arc<AtomicUsize>,
    fail_next: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    pub(crate) async fn start() -> (Receiver, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/import", listener.local_addr().unwrap());
        let r = Receiver::default();
        let state = r.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(state.clone().serve(sock));
            }
        });
        (r, url)
    }

    async fn serve(self, mut sock: tokio::net::TcpStream) {
        let mut buf = Vec::new();
        loop {
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let mut chunk = [0u8; 4096];
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < head_end + len {
                let mut chunk = [0u8; 4096];
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let body: Vec<u8> = buf.drain(..head_end + len).skip(head_end).collect();
            self.attempts.fetch_add(1, Ordering::SeqCst);
            let failing = self.down.load(Ordering::SeqCst)
                || self
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            let reply: &[u8] = if failing {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
            } else {
                let batch: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
                self.events.lock().unwrap().extend(batch);
                b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n1"
            };
            if sock.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    pub(crate) fn received(&self) -> Vec<serde_json::Value> {
        self.events.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            if self.received().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.received()
    }
}

async fn http_sink_sends_the_request_context(b: Backend) {
    let (receiver, url) = Receiver::start().await;
    let app = TestApp::with(b, |f| {
        f.merge(("analytics_url", url))
            .merge(("analytics_token", "tok-123"))
    })
    .await;
    let id = app.question(question("Sent where?")).await;
    let c = app.choices(id).await;
    let path = app.path(id).await;
    let r = app
        .client
        .get(path.clone())
        .header(Header::new(
            "Referer",
            "https://News.Example.com/item?id=42&secret=1",
        ))
        .header(Header::new(
            "User-Agent",
            "Mozilla/5.0 (X11; rv:120.0) Gecko/20100101 Firefox/120.0",
        ))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    let (s, _) = app
        .api_vote(id, &format!(r#"{{"choices":[{}]}}"#, c[0]))
        .await;
    assert_eq!(s, Status::Ok);
    analytics(&app).flush().await;

    let events = receiver.received();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["page_view", "vote_cast"]);
    let (view, vote) = (&events[0]["properties"], &events[1]["properties"]);
    for p in [view, vote] {
        assert_eq!(p["token"], "tok-123");
        let now = chrono::Utc::now().timestamp();
        assert!((now - p["time"].as_i64().unwrap()).abs() < 60);
        assert!(uuid::Uuid::parse_str(p["$insert_id"].as_str().unwrap()).is_ok());
    }
    assert_ne!(view["$insert_id"], vote["$insert_id"]);
    // The same anonymous visitor (the voter cookie) on both.
    let who = view["distinct_id"].as_str().unwrap();
    assert!(who.starts_with("c:"), "{who}");
    assert_eq!(vote["distinct_id"], who);
    assert_eq!(view["route"], "/q/<id>/<slug>");
    assert_eq!(view["referrer_domain"], "news.example.com");
    assert_eq!(view["ua_family"], "firefox");
    assert_eq!(view["question_id"], id);
    assert_eq!(vote["route"], "/api/v1/questions/<id>/vote");
    assert_eq!(vote["choice_ids"], serde_json::json!([c[0]]));
    let raw = serde_json::to_string(&events).unwrap();
    assert!(
        !raw.contains("secret=1") && !raw.contains(&path),
        "no raw URLs"
    );
}

async fn moderation_sends_question_hidden(b: Backend) {
    let (receiver, url) = Receiver::start().await;
    let app = TestApp::with(b, |f| f.merge(("analytics_url", url))).await;
    let spam = app.question(question("Spam to hide?")).await;
    app.signup("mallory", "mallory@example.com", crate::helpers::PASSWORD)
        .await;
    let uid = app.user_id("mallory").await;
    let hers = app.question(question("Mallory's own?")).await;
    app.set_author(hers, uid).await;
    crate::admin::login_admin(&app).await;
    let admin = app.user_id("boss").await;
    let hide = format!("/admin/questions/{spam}/hide");
    let s = crate::admin::moderate(&app, "/admin/questions", &hide, &[("reason", "spam")]).await;
    assert_eq!(s, Status::SeeOther);
    let ban = format!("/admin/users/{uid}/ban");
    let fields = [("reason", "brigading"), ("hide_questions", "true")];
    let s = crate::admin::moderate(&app, "/admin/users", &ban, &fields).await;
    assert_eq!(s, Status::SeeOther);
    // Unhiding is not a `question_hidden`.
    let unhide = format!("/admin/questions/{spam}/unhide");
    let s = crate::admin::moderate(&app, "/admin/questions", &unhide, &[("reason", "ok")]).await;
    assert_eq!(s, Status::SeeOther);
    analytics(&app).flush().await;

    let hidden: Vec<serde_json::Value> = receiver
        .received()
        .into_iter()
        .filter(|e| e["event"] == "question_hidden")
        .map(|e| e["properties"].clone())
        .collect();
    let ids: Vec<i64> = hidden
        .iter()
        .map(|p| p["question_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [spam, hers],
        "one event per hidden question: {hidden:?}"
    );
    for p in &hidden {
        assert_eq!(
            p["distinct_id"],
            format!("u:{admin}"),
            "the admin who hid it"
        );
    }
}

#[rocket::async_test]
async fn http_sink_retries_through_an_outage_with_bounded_memory() {
    let (receiver, url) = Receiver::start().await;
    // A short outage: three failed attempts, then delivery.
    receiver.fail_next.store(3, Ordering::SeqCst);
    let drops = Arc::new(Drops::default());
    let sink = HttpSink::new(&url, Secret::new("tok"), 2, drops.clone()).unwrap();
    let a = Analytics::with_drops(
        100,
        Duration::from_millis(20),
        vec![Box::new(sink) as Box<dyn Sink>],
        drops,
    );
    a.start();
    a.emit(Event::list_view());
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "delivered after the outage");
    assert!(receiver.attempts.load(Ordering::SeqCst) >= 4, "retried");

    // A long outage: at most 2 batches are kept; older ones are dropped and counted.
    receiver.down.store(true, Ordering::SeqCst);
    for i in 0..5 {
        a.emit(Event::question_view(100 + i));
        a.flush().await; // one batch each, one failed attempt each
    }
    assert_eq!(a.dropped(), 3);
    receiver.down.store(false, Ordering::SeqCst);
    let got = receiver.wait_for(3).await;
    let ids: Vec<i64> = got[1..]
        .iter()
        .map(|e| e["properties"]["question_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [103, 104], "the newest batches survive, in order");
}

async fn files_sink_writes_gzip_json_lines(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let app = TestApp::with(b, |f| {
        f.merge(("events_dir", url)).merge(("server_id", "web-1"))
    })
    .await;
    let id = app.question(question("Written down?")).await;
    let path = app.path(id).await;
    for uri in [path.as_str(), "/", "/new"] {
        assert_eq!(app.get(uri).await.0, Status::Ok);
    }
    analytics(&app).flush().await;

    let mut files = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert_eq!(files.len(), 1, "{files:?}");
    let rel = files[0]
        .strip_prefix(dir.path())
        .unwrap()
        .display()
        .to_string();
    let hour = chrono::Utc::now()
        .format("events/%Y/%m/%d/%H-web-1-")
        .to_string();
    let prev = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("events/%Y/%m/%d/%H-web-1-")
        .to_string();
    assert!(rel.starts_with(&hour) || rel.starts_with(&prev), "{rel}");
    assert!(rel.ends_with(".jsonl.gz"), "{rel}");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&files[0]).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["event"] == "page_view"));
    assert_eq!(lines[0]["properties"]["question_id"], id);
    assert_eq!(lines[1]["properties"]["route"], "/");
    assert!(lines.iter().all(|l| l["properties"].get("token").is_none()));
}

async fn shutdown_flushes_pending_events(b: Backend) {
    // Batches would wait ten minutes: only the shutdown flush can deliver them.
    let app = TestApp::with(b, |f| f.merge(("events_flush_ms", 600_000))).await;
    let id = app.question(question("Flushed at the end?")).await;
    let path = app.path(id).await;
    // Let the first (immediate) tick of the batching task pass.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..3 {
        assert_eq!(app.get(&path).await.0, Status::Ok);
    }
    assert_eq!(
        question_totals(&app.db, id).await.0,
        (0, 0),
        "nothing written yet"
    );
    let stopped = app.shut_down().await;
    assert_eq!(question_totals(&stopped.db, id).await.0, (3, 0));
}

async fn generate_fills_the_rollups_from_the_votes(b: Backend) {
    let app = TestApp::new(b).await;
    let db = app.db.clone();
    let opts = beebeta::cli::generate::GenerateOptions {
        questions: 50,
        votes: 2_000,
        seed: 11,
    };
    let (first, last) =
        tokio::task::spawn_blocking(move || beebeta::cli::generate::generate(&db, opts))
            .await
            .unwrap()
            .unwrap();
    let site = site_totals(&app.db).await;
    assert_eq!(site[1], 2_000, "site votes = ballots");
    assert_eq!(site[6], 50, "questions asked");
    assert!(site[0] >= 3 * 2_000, "three views per vote at least");
    let mut question_votes = 0;
    for id in first..=last {
        let (hourly, daily) = question_totals(&app.db, id).await;
        assert_eq!(hourly, daily);
        assert_eq!(
            hourly.1,
            app.ledger(id).await.0,
            "question {id}: votes = its ballots"
        );
        question_votes += hourly.1;
    }
    assert_eq!(question_votes, 2_000);
    // Every generated question has two different tags: each vote counts for both.
    let tag_votes = app
        .db
        .run(|c| {
            use beebeta::db::schema::rollup_tag_daily as r;
            use diesel::prelude::*;
            let v: Vec<i64> = r::table.select(r::votes).load(c)?;
            Ok(v.iter().sum::<i64>())
        })
        .await
        .unwrap();
    assert_eq!(tag_votes, 4_000);
}
