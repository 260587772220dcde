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
    // List pages show the winner and its final-round share (11 of 19 counted: 57.9 %).
    let (_, list) = app.get("/new").await;
    assert!(
        list.contains(
            "Instant runoff: <strong>B</strong> leads with 57.9% in the final round (3 rounds)"
        ),
        "{list}"
    );
    // So do the API's list items.
    let (_, list) = app.get("/api/v1/questions?sort=new").await;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == qid)
        .expect("the question is listed");
    assert_eq!(item["kind"], "ranked");
    assert_eq!(
        item["runoff"],
        serde_json::json!({"winner": "B", "percent": 57.9, "rounds": 3})
    );
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

/// The list a vote names must fit the question: `choices` on a ranked question, `ranking` on a
/// single-choice one, or both at once are 422 and store nothing (nor change a ballot), rather
/// than one list being read as the other.
async fn a_list_that_does_not_fit_the_kind_is_refused(b: Backend) {
    let app = TestApp::new(b).await;
    let ranked = app
        .question(
            question("Rank these three?")
                .choices(&["A", "B", "C"])
                .ranked(3),
        )
        .await;
    let single = app.question(question("Pick just one?")).await;
    let (r, s) = (app.choices(ranked).await, app.choices(single).await);
    let cases = [
        (
            ranked,
            serde_json::json!({ "choices": [r[0]] }),
            "ranking_expected",
        ),
        (
            single,
            serde_json::json!({ "ranking": [s[0]] }),
            "not_ranked",
        ),
        (
            ranked,
            serde_json::json!({ "choices": [r[0]], "ranking": [r[1]] }),
            "ambiguous_vote",
        ),
        (
            single,
            serde_json::json!({ "choices": [s[0]], "ranking": [s[0]] }),
            "ambiguous_vote",
        ),
    ];
    for (qid, body, code) in &cases {
        let (status, answer) = app.api_vote(*qid, &body.to_string()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], *code, "{body}");
    }
    assert_eq!(app.ledger(ranked).await, (0, vec![]));
    assert_eq!(app.ledger(single).await, (0, vec![]));
    // With a ballot on each, the same requests leave it as it was.
    let (status, _) = app.api_vote(ranked, &ranking(&[r[2], r[0]])).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = app
        .api_vote(single, &format!("{{\"choices\":[{}]}}", s[1]))
        .await;
    assert_eq!(status, Status::Ok);
    for (qid, body, _) in &cases {
        let (status, _) = app.api_vote(*qid, &body.to_string()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{body}");
    }
    let q = question_json(&app, ranked).await;
    assert_eq!(q["ballot"]["choices"], serde_json::json!([r[2], r[0]]));
    assert_eq!(app.ledger(ranked).await, (1, vec![(r[2], 1)]));
    assert_eq!(app.ledger(single).await, (1, vec![(s[1], 1)]));
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
    assert_eq!(v["results"]["first_preferences"][0]["votes"], 1);
    // The voter's own page reads the count fresh: their vote is in it.
    assert_eq!(question_json(&app, qid).await["results"]["winner"], ids[0]);
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
    // Another first choice.
    let (s, v) = app.api_vote(qid, &ranking(&[ids[2], ids[1]])).await;
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
    assert!(v["results"]["rounds"].is_array(), "visible once voted: {v}");
    let q = question_json(&app, qid).await;
    assert_eq!(q["results"]["rounds"][0]["counts"][ids[0].to_string()], 1);
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
    // The adopted ballot is a verified account's: the verified-only count has it alone.
    let uri = format!("/api/v1/questions/{qid}/results?trust=verified");
    let (s, r) = app.get(&uri).await;
    assert_eq!(s, Status::Ok);
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    assert_eq!(r["rounds"][0]["counts"][ids[0].to_string()], 1, "{r}");
    assert_eq!(r["rounds"][0]["counts"][ids[2].to_string()], 0, "{r}");
    assert_eq!(r["winner"], ids[0]);
    // An email no longer verified moves the ranking out of the verified count, with its votes.
    app.unverify_email("ranker").await;
    app.ledger(qid).await;
    let r: serde_json::Value = serde_json::from_str(&app.get(&uri).await.1).unwrap();
    assert_eq!(r["winner"], serde_json::Value::Null, "{r}");
    assert!(beebeta_counters(&app, qid).await.contains(&2));
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

/// Reads from a stream until `want` shows up in what was read, or `within` passes.
async fn read_until(
    r: &mut rocket::local::asynchronous::LocalResponse<'_>,
    want: &str,
    within: std::time::Duration,
) -> (bool, String) {
    use rocket::tokio::io::AsyncReadExt;
    let mut seen = String::new();
    let deadline = rocket::tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(rocket::tokio::time::Instant::now());
        match rocket::tokio::time::timeout(left, r.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                if seen.contains(want) {
                    return (true, seen);
                }
            }
            _ => return (seen.contains(want), seen),
        }
    }
}

/// The asking form offers ranked questions with their `max_ranks`; the embed ranks with the
/// same numbered selects and shows the count; the live stream carries the rounds.
async fn asking_form_embed_and_live_stream(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.signup("former", "former@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let (s, page) = app.get("/ask").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("value=\"ranked\"") && page.contains("name=\"max_ranks\""));
    let fields = |max: &'static str| {
        vec![
            ("title", "Which of these rivers is the longest?"),
            ("tags", "geography"),
            ("kind", "ranked"),
            ("max_ranks", max),
            ("results_visibility", "always"),
            ("duplicate_protection", "browser"),
            ("action", "submit"),
            ("choice", "Nile"),
            ("choice", "Amazon"),
            ("choice", "Yangtze"),
        ]
    };
    let r = app.post_form("/ask", "/ask", &fields("1")).await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let r = app.post_form("/ask", "/ask", &fields("2")).await;
    assert_eq!(r.status(), Status::SeeOther);
    let location = r.headers().get_one("Location").unwrap().to_string();
    let qid: i64 = location.split('/').nth(2).unwrap().parse().unwrap();
    let q = question_json(&app, qid).await;
    assert_eq!(
        (q["kind"].as_str(), q["max_ranks"].as_i64()),
        (Some("ranked"), Some(2))
    );
    let ids = app.choices(qid).await;

    let mut live = app.client.get(format!("/q/{qid}/live")).dispatch().await;
    let (ok, first) = read_until(&mut live, "\"rounds\"", std::time::Duration::from_secs(5)).await;
    assert!(ok, "the rounds come with the results: {first}");

    let (s, embed) = app.get(&format!("/q/{qid}/embed")).await;
    assert_eq!(s, Status::Ok);
    assert!(embed.contains("class=\"rank-form\""), "{embed}");
    let token = extract_csrf(&embed).unwrap();
    let (f1, f2) = (format!("rank[{}]", ids[1]), format!("rank[{}]", ids[0]));
    let r = app
        .client
        .post(format!("/q/{qid}/embed"))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &token), (&f1, "1"), (&f2, "2")]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(app.ledger(qid).await, (1, vec![(ids[1], 1)]));
    let (_, embed) = app.get(&format!("/q/{qid}/embed")).await;
    assert!(embed.contains("<strong>Amazon</strong> wins"), "{embed}");
    let (ok, next) = read_until(
        &mut live,
        &format!("\"winner\":{}", ids[1]),
        std::time::Duration::from_secs(6),
    )
    .await;
    assert!(ok, "the new count arrives live: {next}");
}

/// `beebeta seed-demo` adds open ranked questions with votes, one with results always visible,
/// whose counters equal their ledger.
async fn demo_has_ranked_questions(b: Backend) {
    let app = TestApp::new(b).await;
    let db = app.db.clone();
    rocket::tokio::task::spawn_blocking(move || beebeta::services::demo::seed_demo(&db))
        .await
        .unwrap()
        .unwrap();
    let ranked: Vec<(i64, String)> = app
        .db
        .run(|c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            Ok(questions::table
                .filter(questions::kind.eq("ranked"))
                .filter(questions::closes_at.is_null())
                .select((questions::id, questions::results_visibility))
                .load(c)?)
        })
        .await
        .unwrap();
    assert!(ranked.len() >= 2, "{ranked:?}");
    assert!(ranked.iter().any(|(_, v)| v == "always"));
    for (qid, visibility) in ranked {
        let (ballots, _) = app.ledger(qid).await;
        assert!(ballots > 0, "votes on {qid}");
        if visibility == "always" {
            let q = question_json(&app, qid).await;
            assert!(!q["results"]["rounds"].as_array().unwrap().is_empty());
        }
    }
}

async fn reports_name_a_ranked_questions_winner(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("Ranked in the report?")
                .choices(&["Left", "Right", "Up"])
                .ranked(3),
        )
        .await;
    let ids = app.choices(qid).await;
    // Right wins in round 2: 2 + 2 transferred from Up against Left's 3.
    let ballots: [(&[i64], usize); 3] = [(&[ids[0]], 3), (&[ids[1]], 2), (&[ids[2], ids[1]], 2)];
    for (r, n) in ballots {
        for _ in 0..n {
            let (s, body) = as_stranger(&app, qid, &ranking(r)).await;
            assert_eq!(s, Status::Ok, "{body}");
        }
    }
    crate::analytics::analytics(&app).flush().await;
    crate::admin::login_admin(&app).await;
    let (s, page) = app.get("/admin/reports?window=day").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("ranked, won by Right (57.1 %)"), "{page}");
    let r = app
        .client
        .get("/admin/reports?window=day&format=csv&table=questions_by_votes")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    let body = r.into_string().await.unwrap();
    assert!(body.starts_with("rank,question_id,title,votes,views,hidden,ranked_winner\r\n"));
    assert!(
        body.contains(&format!(
            "1,{qid},Ranked in the report?,7,0,no,Right (57.1 %)\r\n"
        )),
        "{body}"
    );
}

backend_tests!(
    asking_form_embed_and_live_stream,
    reports_name_a_ranked_questions_winner,
    demo_has_ranked_questions,
    api_rounds_of_a_hand_worked_count,
    bad_rankings_are_refused_and_store_nothing,
    a_list_that_does_not_fit_the_kind_is_refused,
    rankings_change_and_withdraw,
    plain_form_ranks_with_numbered_selects,
    adopted_rankings_and_visibility,
    asking_ranked_questions_by_api,
);
