//! Exact counts under concurrency: 200 voters each sending 50 identical votes at once, then
//! concurrent changes and withdrawals; counts must equal ledger rows, one ballot per voter.

use futures::StreamExt;
use rocket::http::{ContentType, Status};
use std::time::Duration;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(parallel_votes_changes_and_withdrawals_stay_exact);

const VOTERS: usize = 200;
const COPIES: usize = 50;
const IN_FLIGHT: usize = 64;

fn voter(i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i)
}

async fn parallel_votes_changes_and_withdrawals_stay_exact(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("How exact are the counts under load?"))
        .await;
    let c = app.choices(id).await;

    #[derive(Clone, Copy)]
    enum Op {
        Vote(i64),
        Withdraw,
    }
    let run = |ops: Vec<(usize, Op)>| {
        let app = &app;
        async move {
            let statuses: Vec<Status> = futures::stream::iter(ops)
                .map(|(i, op)| async move {
                    let v = voter(i);
                    match op {
                        Op::Vote(choice) => app
                            .client
                            .put(format!("/api/v1/questions/{id}/vote"))
                            .header(ContentType::JSON)
                            .private_cookie(("bb_voter", v))
                            .body(format!("{{\"choices\":[{choice}]}}"))
                            .dispatch()
                            .await
                            .status(),
                        Op::Withdraw => app
                            .client
                            .delete(format!("/api/v1/questions/{id}/vote"))
                            .header(ContentType::JSON)
                            .private_cookie(("bb_voter", v))
                            .dispatch()
                            .await
                            .status(),
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            statuses
        }
    };

    // Phase 1: 50 identical votes per voter, interleaved so that each voter's copies overlap.
    let mut ops = Vec::with_capacity(VOTERS * COPIES);
    for copy in 0..COPIES {
        for i in 0..VOTERS {
            let _ = copy;
            ops.push((i, Op::Vote(c[i % 3])));
        }
    }
    let statuses = run(ops).await;
    assert!(
        statuses.iter().all(|s| *s == Status::Ok),
        "every vote acknowledged: {:?}",
        statuses.iter().find(|s| **s != Status::Ok)
    );
    let (ballots, per_choice) = app.ledger(id).await;
    assert_eq!(ballots, VOTERS as i64, "one ballot per voter");
    let expected: Vec<(i64, i64)> = (0..3)
        .map(|k| (c[k], (0..VOTERS).filter(|i| i % 3 == k).count() as i64))
        .collect();
    assert_eq!(per_choice, expected);

    // Phase 2: every voter changes to another choice, several times at once, while odd
    // voters also withdraw concurrently.
    let mut ops = Vec::new();
    for round in 0..5 {
        for i in 0..VOTERS {
            ops.push((i, Op::Vote(c[(i + 1 + round) % 3])));
            if i % 2 == 1 {
                ops.push((i, Op::Withdraw));
            }
        }
    }
    let statuses = run(ops).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == Status::Ok || *s == Status::NoContent)
    );
    let (ballots, per_choice) = app.ledger(id).await;
    assert!(ballots >= (VOTERS / 2) as i64 && ballots <= VOTERS as i64);
    assert_eq!(
        per_choice.iter().map(|(_, n)| n).sum::<i64>(),
        ballots,
        "single choice: one vote row per ballot"
    );

    // Phase 3: odd voters withdraw for good (10 copies each, concurrently): exactly half remain.
    let mut ops = Vec::new();
    for _ in 0..10 {
        for i in (1..VOTERS).step_by(2) {
            ops.push((i, Op::Withdraw));
        }
    }
    let statuses = run(ops).await;
    assert!(statuses.iter().all(|s| *s == Status::NoContent));
    let (ballots, per_choice) = app.ledger(id).await;
    assert_eq!(ballots, (VOTERS / 2) as i64);
    assert_eq!(per_choice.iter().map(|(_, n)| n).sum::<i64>(), ballots);

    // The API's results (a visitor without a ballot: shared counts, cached for about a second)
    // agree with the ledger within the design's bound of a couple of seconds. A vote and a
    // withdrawal of one voter often commit in one batch, so the vote's answer may have cached
    // the counts just before the last withdrawals.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let v = loop {
        let r = app
            .client
            .get(format!("/api/v1/questions/{id}/results"))
            .dispatch()
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
        if v["total"] == ballots || std::time::Instant::now() > deadline {
            break v;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        v["total"], ballots,
        "results agree with the ledger within 3 s"
    );
    for (choice, n) in per_choice {
        let row = v["choices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == choice)
            .unwrap();
        assert_eq!(row["votes"], n);
    }
}
