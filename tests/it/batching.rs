//! Group commit of votes (`services::vote_batcher`): exact counts under concurrent votes across
//! questions and on one question; one voter's requests inside one batch applied in order; a
//! failing request that does not fail the rest of its batch; the bounded queue's 503 with
//! `Retry-After`; shutdown committing what was queued and refusing what comes after.

use std::time::Duration;

use beebeta::db::{Backend as DbBackend, Db};
use beebeta::models::ballot::{Applied, BallotOp, Caster, VoteOutcome, VoteRequest, Voted};
use beebeta::models::counts;
use beebeta::services::vote_batcher::{Committed, VoteBatcher};
use beebeta::state::AppState;
use futures::StreamExt;
use rocket::http::{ContentType, Status};
use rocket::tokio::sync::oneshot;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    concurrent_votes_across_questions_and_on_one_stay_exact,
    one_voters_requests_in_one_batch_apply_in_order,
    a_failing_request_does_not_fail_its_batch,
    a_full_queue_answers_503_with_retry_after,
    shutdown_commits_what_was_queued_and_refuses_the_rest,
);

fn cookie(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i)
}

fn vote(qid: i64, voter: &str, choices: &[i64]) -> BallotOp {
    vote_as(qid, voter, None, choices)
}

fn vote_as(qid: i64, voter: &str, user_id: Option<i64>, choices: &[i64]) -> BallotOp {
    BallotOp::Vote(VoteRequest {
        question_id: qid,
        voter: Caster {
            key: voter.to_string(),
            user_id,
            ip_hash: None,
            verified: false,
        },
        choices: choices.to_vec(),
        sent: Default::default(),
        network_limit: 5,
        now: beebeta::models::now(),
        slot: 0,
    })
}

fn withdraw(qid: i64, voter: &str) -> BallotOp {
    BallotOp::Withdraw {
        question_id: qid,
        voter: voter.to_string(),
        now: beebeta::models::now(),
    }
}

fn batcher(app: &TestApp) -> VoteBatcher {
    app.client
        .rocket()
        .state::<AppState>()
        .expect("the app state is managed")
        .voting
        .batcher()
        .clone()
}

/// Blocks the app's vote writer on its current batch, so later requests wait in the queue:
/// on SQLite by holding the app's own writer lock (`Db::write_blocking`), on MariaDB by holding
/// next-key locks over all of `ballots` on the test's connection. Sending on (or dropping) the
/// returned sender lets go.
async fn hold_writes(
    app: &TestApp,
) -> (
    std::sync::mpsc::Sender<()>,
    rocket::tokio::task::JoinHandle<()>,
) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = oneshot::channel::<()>();
    let handle = match app.db.backend() {
        DbBackend::Sqlite => {
            let db = app.client.rocket().state::<Db>().expect("Db").clone();
            rocket::tokio::task::spawn_blocking(move || {
                let _ = db.write_blocking(move |_| {
                    let _ = locked.send(());
                    let _ = wait.recv_timeout(Duration::from_secs(30));
                    Ok(())
                });
            })
        }
        DbBackend::Mysql => {
            let db = app.db.clone();
            rocket::tokio::task::spawn_blocking(move || {
                let _ = db.run_blocking(move |c| {
                    use diesel::connection::{Connection, SimpleConnection};
                    let _ = c.transaction::<(), diesel::result::Error, _>(|c| {
                        c.batch_execute("SELECT id FROM ballots FOR UPDATE")?;
                        let _ = locked.send(());
                        let _ = wait.recv_timeout(Duration::from_secs(30));
                        Err(diesel::result::Error::RollbackTransaction)
                    });
                    Ok(())
                });
            })
        }
    };
    is_locked.await.expect("the lock is taken");
    (release, handle)
}

/// Queues a request the writer takes alone and then blocks on (while `hold_writes` holds).
async fn occupy_writer(
    b: &VoteBatcher,
    qid: i64,
    choice: i64,
) -> oneshot::Receiver<beebeta::error::AppResult<Committed>> {
    let rx = b
        .enqueue(vote(qid, "c:occupant", &[choice]))
        .expect("queued");
    rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    rx
}

async fn concurrent_votes_across_questions_and_on_one_stay_exact(b: Backend) {
    let app = TestApp::new(b).await;
    let mut qids = Vec::new();
    for i in 0..4 {
        qids.push(
            app.question(question(&format!("Spread question {i}?")))
                .await,
        );
    }
    let hot = app.question(question("The viral question?")).await;
    let mut choices = std::collections::HashMap::new();
    for q in qids.iter().chain([&hot]) {
        choices.insert(*q, app.choices(*q).await);
    }
    // 400 voters spread over four questions, 200 on the hot one, then 100 of them change.
    let mut ops: Vec<(usize, i64, i64)> = Vec::new();
    for i in 0..400 {
        let q = qids[i % 4];
        ops.push((i, q, choices[&q][i % 3]));
    }
    for i in 400..600 {
        ops.push((i, hot, choices[&hot][i % 3]));
    }
    for i in (0..600).step_by(6) {
        let q = if i < 400 { qids[i % 4] } else { hot };
        ops.push((i, q, choices[&q][(i + 1) % 3]));
    }
    let total = ops.len();
    let before = batcher(&app).stats();
    let statuses: Vec<Status> = futures::stream::iter(ops)
        .map(|(i, q, choice)| {
            let app = &app;
            async move {
                app.client
                    .put(format!("/api/v1/questions/{q}/vote"))
                    .header(ContentType::JSON)
                    .private_cookie(("bb_voter", cookie(i)))
                    .body(format!("{{\"choices\":[{choice}]}}"))
                    .dispatch()
                    .await
                    .status()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let acknowledged = statuses.iter().filter(|s| **s == Status::Ok).count();
    assert_eq!(acknowledged, total, "every vote acknowledged: {statuses:?}");
    let mut ballots = 0;
    for q in qids.iter().chain([&hot]) {
        let (n, per_choice) = app.ledger(*q).await;
        assert_eq!(per_choice.iter().map(|(_, v)| v).sum::<i64>(), n);
        ballots += n;
    }
    assert_eq!(
        ballots, 600,
        "one ballot per voter: acknowledged first votes == ballots"
    );
    let after = batcher(&app).stats();
    assert_eq!(
        (after.batched + after.solo) - (before.batched + before.solo),
        total as u64,
        "every request went through the batcher"
    );
    assert!(after.batches > before.batches);
}

async fn one_voters_requests_in_one_batch_apply_in_order(b: Backend) {
    // One writer: the occupied writer holds the queue back, so the rest form one batch.
    let app = TestApp::with(b, |f| f.merge(("vote_writers", 1))).await;
    let q = app
        .question(question("Are one voter's requests applied in order?"))
        .await;
    let c = app.choices(q).await;
    let bat = batcher(&app);
    let before = bat.stats();
    let (release, held) = hold_writes(&app).await;
    let occupant = occupy_writer(&bat, q, c[0]).await;
    let ops = vec![
        vote(q, "c:v", &[c[0]]),
        vote(q, "c:v", &[c[1]]),
        withdraw(q, "c:v"),
        vote(q, "c:v", &[c[2]]),
        withdraw(q, "c:w"),
        vote(q, "c:v", &[c[1]]),
        vote(q, "c:w", &[c[2]]),
    ];
    let receivers: Vec<_> = ops
        .into_iter()
        .map(|op| bat.enqueue(op).expect("queued"))
        .collect();
    release.send(()).unwrap();
    held.await.unwrap();
    assert!(occupant.await.unwrap().is_ok());
    let mut got = Vec::new();
    let mut counted = Vec::new();
    for rx in receivers {
        let committed = rx.await.expect("answered").expect("applied");
        counted.push(committed.counts);
        got.push(committed.applied);
    }
    let voted = |outcome, choice: i64| {
        Applied::Voted(Voted {
            outcome,
            choices: vec![choice],
        })
    };
    let withdrawn = Applied::Withdrawn;
    assert_eq!(
        got,
        vec![
            voted(VoteOutcome::Created, c[0]),
            voted(VoteOutcome::Changed, c[1]),
            withdrawn(true),
            voted(VoteOutcome::Created, c[2]),
            withdrawn(false),
            voted(VoteOutcome::Changed, c[1]),
            voted(VoteOutcome::Created, c[2]),
        ]
    );
    let after = bat.stats();
    assert_eq!(
        after.batches - before.batches,
        2,
        "the occupant's batch, then the seven"
    );
    assert_eq!(after.batched - before.batched, 8);
    let (ballots, per_choice) = app.ledger(q).await;
    assert_eq!(ballots, 3);
    assert_eq!(per_choice, vec![(c[0], 1), (c[1], 1), (c[2], 1)]);
    // Each vote is answered with the counts read after its batch committed (so they include
    // it); withdrawals carry none.
    let after_commit = app
        .db
        .run(move |conn| Ok(counts::read(conn, q)?))
        .await
        .unwrap();
    for (applied, counts) in got.iter().zip(&counted) {
        match applied {
            Applied::Voted(_) => assert_eq!(counts.as_ref(), Some(&after_commit)),
            Applied::Withdrawn(_) => assert_eq!(counts, &None),
        }
    }
}

async fn a_failing_request_does_not_fail_its_batch(b: Backend) {
    // One writer: the occupied writer holds the queue back, so the rest form one batch.
    let app = TestApp::with(b, |f| f.merge(("vote_writers", 1))).await;
    let q = app
        .question(question("Does one bad vote spoil the batch?"))
        .await;
    let closed = app.question(question("Closed already?").closed()).await;
    let c = app.choices(q).await;
    let cc = app.choices(closed).await;
    let bat = batcher(&app);
    let before = bat.stats();
    let (release, held) = hold_writes(&app).await;
    let occupant = occupy_writer(&bat, q, c[0]).await;
    let ops = vec![
        vote(q, "c:good1", &[c[1]]),
        vote(closed, "c:late", &[cc[0]]),
        vote(q, "c:confused", &[999_999]),
        // An account that does not exist: a foreign-key error, which fails the whole
        // transaction, so the batch is applied again one request at a time.
        vote_as(q, "u:999999", Some(999_999), &[c[2]]),
        vote(q, "c:good2", &[c[2]]),
        vote(999_999, "c:lost", &[c[0]]),
        withdraw(q, "c:never"),
    ];
    let receivers: Vec<_> = ops
        .into_iter()
        .map(|op| bat.enqueue(op).expect("queued"))
        .collect();
    release.send(()).unwrap();
    held.await.unwrap();
    assert!(occupant.await.unwrap().is_ok());
    let mut statuses = Vec::new();
    for rx in receivers {
        statuses.push(match rx.await.expect("answered") {
            Ok(_) => 200,
            Err(e) => e.status().code,
        });
    }
    assert_eq!(statuses, vec![200, 409, 400, 500, 200, 404, 200]);
    let after = bat.stats();
    assert_eq!(
        after.solo - before.solo,
        7,
        "the failed batch was applied one by one"
    );
    let (ballots, per_choice) = app.ledger(q).await;
    assert_eq!(ballots, 3, "the occupant, good1 and good2");
    assert_eq!(per_choice, vec![(c[0], 1), (c[1], 1), (c[2], 1)]);
    assert_eq!(app.ledger(closed).await.0, 0);
}

async fn a_full_queue_answers_503_with_retry_after(b: Backend) {
    const SENT: usize = 12;
    let app = TestApp::with(b, |f| {
        // One writer, so exactly one request waits in it while the queue fills.
        f.merge(("vote_queue", 2))
            .merge(("vote_batch_max", 1))
            .merge(("vote_writers", 1))
    })
    .await;
    let q = app.question(question("Is the queue bounded?")).await;
    let first = app.choices(q).await[0];
    let (release, held) = hold_writes(&app).await;
    let requests = futures::future::join_all((0..SENT).map(|i| {
        let app = &app;
        async move {
            let r = app
                .client
                .put(format!("/api/v1/questions/{q}/vote"))
                .header(ContentType::JSON)
                .private_cookie(("bb_voter", cookie(i)))
                .body(format!("{{\"choices\":[{first}]}}"))
                .dispatch()
                .await;
            let retry_after = r.headers().get_one("Retry-After").map(str::to_string);
            let status = r.status();
            let body = r.into_string().await.unwrap_or_default();
            (status, retry_after, body)
        }
    }));
    let releaser = async {
        rocket::tokio::time::sleep(Duration::from_millis(1500)).await;
        release.send(()).unwrap();
    };
    let (answers, ()) = futures::join!(requests, releaser);
    held.await.unwrap();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == Status::ServiceUnavailable)
        .collect();
    let accepted = answers.iter().filter(|(s, _, _)| *s == Status::Ok).count();
    assert_eq!(
        refused.len() + accepted,
        SENT,
        "only 200 or 503: {answers:?}"
    );
    // One request in the blocked writer, at most two in the queue.
    assert!(accepted <= 3 && refused.len() >= SENT - 3, "{answers:?}");
    for (_, retry_after, body) in &refused {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(body.contains("\"unavailable\""), "{body}");
    }
    assert_eq!(
        app.ledger(q).await.0,
        accepted as i64,
        "acknowledged == ballots"
    );
}

async fn shutdown_commits_what_was_queued_and_refuses_the_rest(b: Backend) {
    const QUEUED: usize = 300;
    let app = TestApp::new(b).await;
    let q = app.question(question("Does shutdown lose votes?")).await;
    let c = app.choices(q).await;
    let bat = batcher(&app);
    let receivers: Vec<_> = (0..QUEUED)
        .map(|i| {
            bat.enqueue(vote(q, &format!("c:{}", cookie(i)), &[c[i % 3]]))
                .expect("queued")
        })
        .collect();
    let client = app.client;
    drop(client.terminate().await);
    let (mut ok, mut refused) = (0, 0);
    for rx in receivers {
        match rx.await.expect("every request is answered") {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.status(), Status::ServiceUnavailable, "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!(ok + refused, QUEUED);
    assert_eq!(
        ok, QUEUED,
        "queued votes are committed before the writers stop"
    );
    let late = bat
        .enqueue(vote(q, "c:late", &[c[0]]))
        .expect_err("refused after shutdown");
    assert_eq!(late.status(), Status::ServiceUnavailable);
    let (counters, ledger) = app
        .db
        .run(move |conn| Ok((counts::read(conn, q)?, counts::ledger(conn, q)?)))
        .await
        .unwrap();
    assert_eq!(ledger.total, ok as i64, "acknowledged == ballots");
    assert_eq!(counters, ledger, "the counters equal the ledger");
}

/// MariaDB: the vote writers' statements stay prepared on their connections. When the server
/// closes every connection (a restart, a failover; here `KILL`), the next votes are still
/// answered — the batch that finds its connection gone runs again on a checked one, which
/// prepares its statements afresh — and the counters stay equal to the ledger.
#[cfg(feature = "mysql")]
#[rocket::async_test]
#[ignore = "needs MariaDB: BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test --features mysql -- --include-ignored"]
async fn prepared_statements_survive_killed_connections() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl};

    let app = TestApp::new(Backend::Mysql).await;
    let q = app
        .question(question("Do prepared statements outlive a kill?"))
        .await;
    let c = app.choices(q).await;
    let bat = batcher(&app);
    // Warm: the batches prepare their statements on the write connections.
    for i in 0..20 {
        let r = bat.submit(vote(q, &cookie(i), &[c[i % 2]])).await;
        assert!(r.is_ok(), "vote {i}: {r:?}");
    }
    // Every connection to this test's database, closed by the server.
    let name = app
        .cfg
        .database
        .url
        .rsplit_once('/')
        .map(|(_, n)| n.to_string())
        .expect("a database name");
    let server = std::env::var("BEEBETA_TEST_MYSQL_URL").expect("BEEBETA_TEST_MYSQL_URL");
    let killed = rocket::tokio::task::spawn_blocking(move || {
        #[derive(diesel::QueryableByName)]
        struct Conn {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        let mut admin = diesel::MysqlConnection::establish(&server).expect("connect");
        let ids: Vec<Conn> = diesel::sql_query(format!(
            "SELECT CAST(ID AS SIGNED) AS id FROM information_schema.PROCESSLIST \
             WHERE DB = '{name}' AND ID <> CONNECTION_ID()"
        ))
        .load(&mut admin)
        .expect("list connections");
        for c in &ids {
            // A connection may end by itself meanwhile.
            let _ = admin.batch_execute(&format!("KILL CONNECTION {}", c.id));
        }
        ids.len()
    })
    .await
    .unwrap();
    assert!(killed >= 2, "the app's connections were killed ({killed})");
    // At once (inside the pool's bypass window): every vote is answered and saved, some of them
    // together in one batch.
    let together: Vec<_> = (20..30)
        .map(|i| bat.enqueue(vote(q, &cookie(i), &[c[0]])).expect("queued"))
        .collect();
    for (i, rx) in together.into_iter().enumerate() {
        let r = rx.await.expect("answered");
        assert!(r.is_ok(), "vote {} after the kill: {r:?}", 20 + i);
    }
    for i in 30..40 {
        let r = bat.submit(vote(q, &cookie(i), &[c[1]])).await;
        assert!(r.is_ok(), "vote {i} after the kill: {r:?}");
    }
    // The test's own connections were killed too: a read may need a second try.
    let mut read = None;
    for _ in 0..3 {
        match app
            .db
            .run(move |conn| Ok((counts::read(conn, q)?, counts::ledger(conn, q)?)))
            .await
        {
            Ok(r) => {
                read = Some(r);
                break;
            }
            Err(e) => eprintln!("reading the ledger: {e}"),
        }
    }
    let (counters, ledger) = read.expect("the ledger is read");
    assert_eq!(ledger.total, 40, "every acknowledged vote is stored once");
    assert_eq!(counters, ledger, "the counters equal the ledger");
    assert_eq!(ledger.by_choice.get(&c[0]), Some(&20));
    assert_eq!(ledger.by_choice.get(&c[1]), Some(&20));
}
