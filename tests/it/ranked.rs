//! Ranked-choice questions: rankings through the API and the plain form, refused rankings
//! (422, nothing stored), changes and withdrawals, the instant-runoff rounds in the API and on
//! the page, and the ranking counters against the ledger after each step.

use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::*;

/// PUTs `body` as a new visitor (a voter cookie of their own); the status and the answer.
async fn as_stranger(app: &TestApp, qid: i64, body: &str) -> (Status, serde_json::Value) {
    let r = app
        .client
        .put(format!("/api/v1/questions/{qid}/vote"))
        .header(ContentType::JSON)
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(body)
        .dispatch()
        .await;
    json_of(r).await
}

fn ranking(ids: &[i64]) -> String {
    serde_json::json!({ "ranking": ids }).to_string()
}

async fn question_json(app: &TestApp, qid: i64) -> serde_json::Value {
    let (s, q) = app.get(&format!("/api/v1/questions/{qid}")).await;
    assert_eq!(s, Status::Ok);
    serde_json::from_str(&q).unwrap()
}

/// The hand-worked count of `domain::runoff` (21 ballots, B wins in round 3 after D and C are
/// eliminated and two ballots are exhausted), cast through the API.
async fn api_rounds_of_a_hand_worked_count(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("Best fruit?")
                .choices(&["A", "B", "C", "D"])
                .ranked(4),
        )
        .await;
    let ids = app.choices(qid).await;
    let [a, bb, c, d] = [ids[0], ids[1], ids[2], ids[3]];
    let ballots: [(&[i64], usize); 4] = [(&[a], 8), (&[bb, a], 7), (&[c, bb], 4), (&[d, c], 2)];
    for (r, n) in ballots {
        for _ in 0..n {
            let (s, body) = as_stranger(&app, qid, &ranking(r)).await;
            assert_eq!(s, Status::Ok, "{body}");
            assert_eq!(body["ballot"]["choices"], serde_json::json!(r));
        }
    }
    let (ballots_n, per_choice) = app.ledger(qid).await;
    assert_eq!(ballots_n, 21);
    assert_eq!(per_choice, vec![(a, 8), (bb, 7), (c, 4), (d, 2)]);

    let q = question_json(&app, qid).await;
    assert_eq!(q["kind"], "ranked");
    assert_eq!(q["max_ranks"], 4);
    let results = &q["results"];
    let first: Vec<i64> = results["first_preferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["votes"].as_i64().unwrap())
        .collect();
    assert_eq!(first, vec![8, 7, 4, 2]);
    let rounds = results["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    let key = |id: i64| id.to_string();
    assert_eq!(rounds[0]["counts"][key(d)], 2);
    assert_eq!(rounds[0]["eliminated"], serde_json::json!([d]));
    assert_eq!(rounds[1]["counts"][key(c)], 6);
    assert_eq!(rounds[1]["eliminated"], serde_json::json!([c]));
    assert_eq!(rounds[2]["counts"][key(a)], 8);
    assert_eq!(rounds[2]["counts"][key(bb)], 11);
    assert!(rounds[2]["counts"].get(key(c)).is_none());
    assert_eq!(rounds[2]["exhausted"], 2);
    assert_eq!(results["winner"], bb);

    // The same count in the results endpoint and on the page (a table of the rounds, a chart).
    let (s, r) = app.get(&format!("/api/v1/questions/{qid}/results")).await;
    assert_eq!(s, Status::Ok);
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    assert_eq!(r["winner"], bb);
    assert_eq!(r["rounds"].as_array().unwrap().len(), 3);
    let (s, page) = app.get(&app.path(qid).await).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Instant-runoff count"), "{page}");
    assert!(page.contains("class=\"runoff-table\""));
    assert!(page.contains("<svg") && page.contains("runoff-chart"));
    assert!(page.contains("<strong>B</strong> wins"));
}

/// Rankings that repeat a choice, name another question's choice, are longer than `max_ranks`
/// or empty: 422 and nothing stored (nor changed, for a voter who had voted).
async fn bad_rankings_are_refused_and_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("Your top two of these?")
                .choices(&["A", "B", "C", "D"])
                .ranked(2),
        )
        .await;
    let other = app.question(question("Another question here?")).await;
    let ids = app.choices(qid).await;
    let foreign = app.choices(other).await[0];
    let bad: [(&[i64], &str); 4] = [
        (&[ids[0], ids[1], ids[0]], "repeated_choice"),
        (&[ids[0], foreign], "invalid_choice"),
        (&[ids[0], ids[1], ids[2]], "too_many_ranks"),
        (&[], "empty_ranking"),
    ];
    for (r, code) in bad {
        let (s, body) = app.api_vote(qid, &ranking(r)).await;
        assert_eq!(s, Status::UnprocessableEntity, "{r:?}: {body}");
        assert_eq!(body["error"]["code"], code);
    }
    let (s, body) = app.api_vote(qid, &ranking(&[ids[0], ids[0]])).await;
    assert_eq!(
        (s, &body["error"]["code"]),
        (Status::UnprocessableEntity, &"repeated_choice".into())
    );
    assert_eq!(app.ledger(qid).await, (0, vec![]));

    let (s, _) = app.api_vote(qid, &ranking(&[ids[1], ids[0]])).await;
    assert_eq!(s, Status::Ok);
    for (r, _) in bad {
        let (s, _) = app.api_vote(qid, &ranking(r)).await;
        assert_eq!(s, Status::UnprocessableEntity);
    }
    let q = question_json(&app, qid).await;
    assert_eq!(q["ballot"]["choices"], serde_json::json!([ids[1], ids[0]]));
    assert_eq!(app.ledger(qid).await, (1, vec![(ids[1], 1)]));
}

/// A ranking is changed (also behind the same first choice), kept when sent again, and
/// withdrawn; the counters follow the ledger at every step.
async fn rankings_change_and_withdraw(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("In which order then?")
                .choices(&["A", "B", "C"])
                .ranked(3),
        )
        .await;
    let ids = app.choices(qid).await;
    let (s, v) = app.api_vote(qid, &ranking(&[ids[0], ids[1]])).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["results"]["winner"], ids[0]);
    assert_eq!(app.ledger(qid).await, (1, vec![(ids[0], 1)]));
    let (s, v) = app.api_vote(qid, &ranking(&[ids[1], ids[0], ids[2]])).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(
        v["ballot"]["choices"],
        serde_json::json!([ids[1], ids[0], ids[2]])
    );
    assert_eq!(app.ledger(qid).await, (1, vec![(ids[1], 1)]));
    // Same first choice, another ranking.
    let (s, _) = app.api_vote(qid, &ranking(&[ids[1], ids[2]])).await;
    assert_eq!(s, Status::Ok);
    app.ledger(qid).await;
    let q = question_json(&app, qid).await;
    assert_eq!(q["ballot"]["choices"], serde_json::json!([ids[1], ids[2]]));
    // The same again changes nothing.
    let (s, _) = app.api_vote(qid, &ranking(&[ids[1], ids[2]])).await;
    assert_eq!(s, Status::Ok);
    // `choices` is taken as the ranking too.
    let (s, v) = app
        .api_vote(qid, &format!("{{\"choices\":[{},{}]}}", ids[2], ids[1]))
        .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["ballot"]["choices"], serde_json::json!([ids[2], ids[1]]));
    app.ledger(qid).await;
    let r = app
        .client
        .delete(format!("/api/v1/questions/{qid}/vote"))
        .header(ContentType::JSON)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NoContent);
    assert_eq!(app.ledger(qid).await, (0, vec![]));
    let q = question_json(&app, qid).await;
    assert_eq!(q["results"]["winner"], serde_json::Value::Null);
    assert_eq!(q["results"]["rounds"][0]["counts"][ids[0].to_string()], 0);
}

/// Without JavaScript: a numbered select per choice, posted as a plain form; gaps and repeats
/// are refused with the page again (nothing stored); the ballot shows as the selects' values.
async fn plain_form_ranks_with_numbered_selects(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("Ranked by form?")
                .choices(&["A", "B", "C"])
                .ranked(3),
        )
        .await;
    let ids = app.choices(qid).await;
    let path = app.path(qid).await;
    let (_, page) = app.get(&path).await;
    assert!(page.contains("class=\"rank-form\""));
    for id in &ids {
        assert!(page.contains(&format!("name=\"rank[{id}]\"")), "{page}");
    }
    assert!(page.contains("js/rank."));
    let field = |id: i64| format!("rank[{id}]");
    let (f0, f1, f2) = (field(ids[0]), field(ids[1]), field(ids[2]));
    for bad in [
        vec![(f0.as_str(), "1"), (f1.as_str(), "3")],
        vec![(f0.as_str(), "1"), (f1.as_str(), "1")],
        vec![(f0.as_str(), ""), (f1.as_str(), "")],
    ] {
        let r = app.post_form(&path, &format!("/q/{qid}/vote"), &bad).await;
        assert!(
            matches!(r.status().code, 400 | 422),
            "{bad:?}: {}",
            r.status()
        );
        let body = r.into_string().await.unwrap();
        assert!(body.contains("class=\"rank-form\""), "the page again");
    }
    assert_eq!(app.ledger(qid).await, (0, vec![]));
    let fields = [(f0.as_str(), "2"), (f1.as_str(), ""), (f2.as_str(), "1")];
    let r = app
        .post_form(&path, &format!("/q/{qid}/vote"), &fields)
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(app.ledger(qid).await, (1, vec![(ids[2], 1)]));
    let q = question_json(&app, qid).await;
    assert_eq!(q["ballot"]["choices"], serde_json::json!([ids[2], ids[0]]));
    let (_, page) = app.get(&path).await;
    assert!(page.contains("Change ranking"));
    assert!(page.contains("<option value=\"1\" selected>"));
    // Withdrawn by the plain form too.
    let r = app
        .post_form(&path, &format!("/q/{qid}/withdraw"), &[])
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(app.ledger(qid).await, (0, vec![]));
}

/// A visitor's ranked ballot adopted by their new account moves to its trust's counters; the
/// results follow the visibility rule.
async fn adopted_rankings_and_visibility(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("After voting?")
                .choices(&["A", "B", "C"])
                .ranked(2)
                .visibility("after_vote"),
        )
        .await;
    let ids = app.choices(qid).await;
    let q = question_json(&app, qid).await;
    assert_eq!(
        q["results"],
        serde_json::Value::Null,
        "hidden before voting"
    );
    let (s, _) = as_stranger(&app, qid, &ranking(&[ids[2], ids[1]])).await;
    assert_eq!(s, Status::Ok);
    let (s, v) = app.api_vote(qid, &ranking(&[ids[0], ids[1]])).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["results"]["rounds"][0]["counts"][ids[0].to_string()], 1);
    assert_eq!(
        app.signup("ranker", "ranker@example.com", PASSWORD).await,
        Status::SeeOther
    );
    app.ledger(qid).await;
    let trusts: Vec<i16> = beebeta_counters(&app, qid).await;
    assert!(
        trusts.contains(&0),
        "the stranger's ballot stays a browser's"
    );
}

async fn beebeta_counters(app: &TestApp, qid: i64) -> Vec<i16> {
    app.db
        .run(move |c| Ok(beebeta::models::ranking::counters(c, qid)?))
        .await
        .unwrap()
        .keys()
        .map(|(_, t)| *t)
        .collect()
}

/// Asking through the API: `kind: "ranked"` with `max_ranks`, which must be 2 to the number of
/// choices.
async fn asking_ranked_questions_by_api(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.signup("asker", "asker@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let ask = |max: u32| {
        serde_json::json!({
            "title": format!("Rank these {max}?"),
            "choices": ["One", "Two", "Three"],
            "kind": "ranked",
            "max_ranks": max,
        })
        .to_string()
    };
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(ask(2))
        .dispatch()
        .await;
    let (s, q) = json_of(r).await;
    assert_eq!(s, Status::Created, "{q}");
    assert_eq!(q["kind"], "ranked");
    assert_eq!(q["max_ranks"], 2);
    for bad in [1, 4] {
        let r = app
            .client
            .post("/api/v1/questions")
            .header(ContentType::JSON)
            .body(ask(bad))
            .dispatch()
            .await;
        let (s, body) = json_of(r).await;
        assert_eq!(s, Status::UnprocessableEntity, "{body}");
    }
}

backend_tests!(
    api_rounds_of_a_hand_worked_count,
    bad_rankings_are_refused_and_store_nothing,
    rankings_change_and_withdraw,
    plain_form_ranks_with_numbered_selects,
    adopted_rankings_and_visibility,
    asking_ranked_questions_by_api,
);
