//! Results by trust: counters per trust level, `?trust=verified` on the API, the page, the embed,
//! the downloads and the live stream, votes moving between levels on sign-in and on email
//! verification, and the admin report's network concentration.

use std::time::Duration;

use rocket::http::{ContentType, Status};
use serde_json::Value;

use crate::analytics::analytics;
use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, ip, json_of, proxy, question};

backend_tests!(
    results_count_each_trust_level,
    every_view_takes_the_trust_parameter,
    bad_trust_values_are_refused_and_nothing_is_stored,
    votes_move_between_levels_on_sign_in_and_verification,
    a_changed_or_withdrawn_vote_leaves_its_own_level,
    the_report_flags_ballots_concentrated_in_one_network,
);

/// The API's results with `query` (e.g. `?trust=verified`) for the tracked browser.
async fn results(app: &TestApp, id: i64, query: &str) -> (Status, Value) {
    json_of(
        app.client
            .get(format!("/api/v1/questions/{id}/results{query}"))
            .dispatch()
            .await,
    )
    .await
}

/// Polls the results (counts are cached for half a second) until `want` holds for them, for at
/// most 5 s; returns the last answer.
async fn results_until(
    app: &TestApp,
    id: i64,
    query: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (s, v) = results(app, id, query).await;
        assert_eq!(s, Status::Ok, "{v}");
        if want(&v) || std::time::Instant::now() > deadline {
            return v;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `by_trust` as (browser, network, account, verified).
fn levels(v: &Value) -> (i64, i64, i64, i64) {
    let t = &v["by_trust"];
    let n = |k: &str| {
        t[k].as_i64()
            .unwrap_or_else(|| panic!("by_trust.{k} in {v}"))
    };
    (n("browser"), n("network"), n("account"), n("verified"))
}

/// Votes of one choice in a results answer.
fn votes_of(v: &Value, choice: i64) -> i64 {
    v["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == choice)
        .and_then(|c| c["votes"].as_i64())
        .unwrap()
}

/// Two strangers (cookies) vote for the first choice, the tracked browser signs up (a verified
/// account) and votes for the second.
async fn two_cookies_and_one_verified(app: &TestApp) -> (i64, Vec<i64>) {
    let id = app
        .question(question("Which trust level counts?").choices(&["Cookies", "Accounts"]))
        .await;
    let c = app.choices(id).await;
    app.vote_as_stranger(id, c[0]).await;
    app.vote_as_stranger(id, c[0]).await;
    assert_eq!(
        app.signup("vera", "vera@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let (s, v) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[1]))
        .await;
    assert_eq!(s, Status::Ok, "{v}");
    (id, c)
}

async fn results_count_each_trust_level(b: Backend) {
    let app = TestApp::new(b).await;
    let (id, c) = two_cookies_and_one_verified(&app).await;

    let all = results_until(&app, id, "", |v| v["total"] == 3).await;
    assert_eq!(all["trust"], "all");
    assert_eq!(all["total"], 3);
    assert_eq!(levels(&all), (2, 0, 0, 1));
    assert_eq!((votes_of(&all, c[0]), votes_of(&all, c[1])), (2, 1));
    assert_eq!(results(&app, id, "?trust=all").await.1["total"], 3);

    let verified = results_until(&app, id, "?trust=verified", |v| v["total"] == 1).await;
    assert_eq!(verified["trust"], "verified");
    assert_eq!(verified["total"], 1, "only the verified account's ballot");
    assert_eq!(
        (votes_of(&verified, c[0]), votes_of(&verified, c[1])),
        (0, 1)
    );
    assert_eq!(verified["choices"][1]["percent"], 100.0);
    assert_eq!(
        levels(&verified),
        (2, 0, 0, 1),
        "every level's totals stay visible"
    );

    // The question itself and the vote's own answer take the view too.
    let (s, q) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}?trust=verified"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(q["results"]["total"], 1, "{q}");
    assert_eq!(q["results"]["by_trust"]["browser"], 2);
    let r = app
        .client
        .put(format!("/api/v1/questions/{id}/vote?trust=verified"))
        .header(ContentType::JSON)
        .body(format!("{{\"choices\":[{}]}}", c[0]))
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert_eq!(s, Status::Ok, "{v}");
    assert_eq!(v["results"]["trust"], "verified");
    assert_eq!(v["results"]["total"], 1);
    assert_eq!(
        votes_of(&v["results"], c[0]),
        1,
        "the changed vote, counted as verified"
    );

    let (ballots, _) = app.ledger(id).await;
    assert_eq!(ballots, 3);
}

async fn every_view_takes_the_trust_parameter(b: Backend) {
    let app = TestApp::new(b).await;
    let (id, _) = two_cookies_and_one_verified(&app).await;
    results_until(&app, id, "", |v| v["total"] == 3).await;
    let path = app.path(id).await;

    let (s, page) = app.get(&path).await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("3 votes, 1 from verified accounts (2 from browsers)."),
        "{page}"
    );
    assert!(
        page.contains("aria-current=\"true\" data-trust=\"all\">All votes</a>"),
        "the page shows all votes by default"
    );
    let (s, page) = app.get(&format!("{path}?trust=verified")).await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("aria-current=\"true\" data-trust=\"verified\""),
        "the verified view is the current one"
    );
    assert!(
        page.contains("(2 from browsers): the bars count those 1 only"),
        "{page}"
    );
    assert!(page.contains("1 vote in total"), "{page}");

    let (s, embed) = app.get(&format!("/q/{id}/embed?trust=verified")).await;
    assert_eq!(s, Status::Ok);
    assert!(
        embed.contains("embed?trust=verified\" aria-current=\"true\""),
        "{embed}"
    );
    assert!(embed.contains("1 vote in total"), "{embed}");
    let (s, embed) = app.get(&format!("/q/{id}/embed")).await;
    assert_eq!(s, Status::Ok);
    assert!(embed.contains("3 votes in total"), "{embed}");

    let (s, v) = json_of(
        app.client
            .get(format!("/q/{id}/results.json?trust=verified"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["total"]["voters"], 1, "{v}");
    assert_eq!(v["trust"], "verified");
    assert_eq!(v["by_trust"]["browser"], 2);
    let r = app
        .client
        .get(format!("/q/{id}/results.csv?trust=verified"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    let disposition = r
        .headers()
        .get_one("Content-Disposition")
        .unwrap()
        .to_string();
    assert!(
        disposition.contains(&format!("beebeta-{id}-results-verified.csv")),
        "{disposition}"
    );
    let csv = r.into_string().await.unwrap();
    assert!(csv.lines().nth(2).unwrap().contains(",1,100.0,1,"), "{csv}");

    // The live stream counts the verified view, with every level's totals.
    let mut r = app
        .client
        .get(format!("/q/{id}/live?trust=verified"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    let (ok, first) =
        crate::live::read_until(&mut r, "\"verified\":1", Duration::from_secs(5)).await;
    assert!(ok, "{first}");
    assert!(first.contains("\"total\":1,"), "{first}");
    assert!(first.contains("\"trust\":\"verified\""), "{first}");
}

async fn bad_trust_values_are_refused_and_nothing_is_stored(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Refused views")).await;
    let c = app.choices(id).await;
    let (s, v) = results(&app, id, "?trust=everyone").await;
    assert_eq!(s, Status::BadRequest, "{v}");
    assert_eq!(v["error"]["code"], "invalid_trust");
    let long = "x".repeat(10_000);
    let (s, _) = results(&app, id, &format!("?trust={long}")).await;
    assert_eq!(s, Status::BadRequest);
    let r = app
        .client
        .put(format!("/api/v1/questions/{id}/vote?trust=nope"))
        .header(ContentType::JSON)
        .body(format!("{{\"choices\":[{}]}}", c[0]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::BadRequest);
    assert_eq!(app.ledger(id).await.0, 0, "a refused vote stores nothing");

    let path = app.path(id).await;
    let (s, page) = app.get(&format!("{path}?trust=%3Cb%3E")).await;
    assert_eq!(s, Status::NotFound);
    assert!(page.contains("is not a way to count the results"), "{page}");
    assert!(
        page.contains(&format!("href=\"{path}?trust=verified\"")),
        "{page}"
    );
    assert!(!page.contains("<b>"), "the value is escaped");
    let (s, _) = app.get(&format!("/q/{id}/embed?trust=x")).await;
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.get(&format!("/q/{id}/results.csv?trust=x")).await;
    assert_eq!(s, Status::BadRequest);
    let (s, _) = app.get(&format!("/q/{id}/live?trust=x")).await;
    assert_eq!(s, Status::BadRequest);
}

async fn votes_move_between_levels_on_sign_in_and_verification(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Who is counted where?")).await;
    let c = app.choices(id).await;
    // A visitor votes with their cookie...
    let (s, _) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[1]))
        .await;
    assert_eq!(s, Status::Ok);
    let v = results_until(&app, id, "", |v| v["total"] == 1).await;
    assert_eq!(levels(&v), (1, 0, 0, 0));
    // ...signs up (the link verifies the email): the ballot is now a verified account's.
    assert_eq!(
        app.signup("moss", "moss@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let v = results_until(&app, id, "", |v| levels(v) == (0, 0, 0, 1)).await;
    assert_eq!(
        levels(&v),
        (0, 0, 0, 1),
        "the cookie's ballot moved to the account"
    );
    app.ledger(id).await;
    // A new address not yet confirmed: an account's ballot, no longer a verified one's.
    app.unverify_email("moss").await;
    let v = results_until(&app, id, "", |v| levels(v) == (0, 0, 1, 0)).await;
    assert_eq!(levels(&v), (0, 0, 1, 0));
    let verified = results_until(&app, id, "?trust=verified", |v| v["total"] == 0).await;
    assert_eq!(verified["total"], 0);
    assert_eq!(votes_of(&verified, c[1]), 0);
    app.ledger(id).await;
    // Confirmed again.
    app.verify_email("moss").await;
    let v = results_until(&app, id, "?trust=verified", |v| v["total"] == 1).await;
    assert_eq!(votes_of(&v, c[1]), 1);
    assert_eq!(levels(&v), (0, 0, 0, 1));
    app.ledger(id).await;

    // Logging in with a cookie ballot on another question moves it too.
    let other = app.question(question("And on this one?")).await;
    let oc = app.choices(other).await;
    assert_eq!(app.logout().await, Status::SeeOther);
    let (s, _) = app
        .api_vote(other, &format!("{{\"choices\":[{}]}}", oc[0]))
        .await;
    assert_eq!(s, Status::Ok);
    let v = results_until(&app, other, "", |v| levels(v) == (1, 0, 0, 0)).await;
    assert_eq!(levels(&v), (1, 0, 0, 0));
    let r = app.login_as("moss", PASSWORD, "/").await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let v = results_until(&app, other, "", |v| levels(v) == (0, 0, 0, 1)).await;
    assert_eq!(levels(&v), (0, 0, 0, 1));
    app.ledger(other).await;
}

async fn a_changed_or_withdrawn_vote_leaves_its_own_level(b: Backend) {
    let app = TestApp::new(b).await;
    let (id, c) = two_cookies_and_one_verified(&app).await;
    // The verified account changes its vote, then withdraws it: the cookies' counts never move.
    let (s, _) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert_eq!(s, Status::Ok);
    let v = results_until(&app, id, "?trust=verified", |v| votes_of(v, c[0]) == 1).await;
    assert_eq!((votes_of(&v, c[0]), votes_of(&v, c[1])), (1, 0));
    app.ledger(id).await;
    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NoContent);
    let v = results_until(&app, id, "", |v| v["total"] == 2).await;
    assert_eq!(levels(&v), (2, 0, 0, 0));
    assert_eq!(votes_of(&v, c[0]), 2);
    app.ledger(id).await;
}

/// Votes `choice` as a new voter from the client address `from`.
async fn vote_from(app: &TestApp, id: i64, choice: i64, from: &str) {
    let r = app
        .client
        .put(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .remote(proxy())
        .header(ip(from))
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(format!("{{\"choices\":[{choice}]}}"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
}

async fn the_report_flags_ballots_concentrated_in_one_network(b: Backend) {
    let app = TestApp::new(b).await;
    let farmed = app.question(question("Farmed from one network?")).await;
    let spread = app.question(question("Voted from many networks?")).await;
    let (fc, sc) = (app.choices(farmed).await, app.choices(spread).await);
    // 24 ballots from one network and 6 from others: 80 %. The other question: 30 networks.
    for i in 0..30 {
        let from = if i < 24 {
            "203.0.113.9".to_string()
        } else {
            format!("198.51.100.{i}")
        };
        vote_from(&app, farmed, fc[0], &from).await;
        vote_from(&app, spread, sc[0], &format!("192.0.2.{i}")).await;
    }
    analytics(&app).flush().await;
    crate::admin::login_admin(&app).await;
    let (s, page) = app.get("/admin/reports?window=day").await;
    assert_eq!(s, Status::Ok);
    let section = page
        .split("id=\"networks-title\"")
        .nth(1)
        .expect("the report has the network section");
    let section = section.split("</section>").next().unwrap();
    assert!(section.contains("Farmed from one network?"), "{section}");
    assert!(
        section.contains(
            "<td class=\"num\">30</td><td class=\"num\">24</td><td class=\"num\">80 %</td>"
        ),
        "{section}"
    );
    assert!(!section.contains("Voted from many networks?"), "{section}");
    assert!(
        section.contains(&format!("href=\"/admin/questions/{farmed}\"")),
        "{section}"
    );
}
