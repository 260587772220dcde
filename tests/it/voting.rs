//! Voting through the HTML forms: cast, change, withdraw, CSRF, visibility, protection levels.

use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, ip, proxy, question};

backend_tests!(
    vote_change_and_withdraw_by_form,
    votes_need_a_valid_csrf_token,
    results_visibility_rules,
    closed_questions_refuse_votes,
    account_questions_need_login,
    network_protection_limits_ballots_per_network,
    multiple_choice_ballots,
);

async fn vote_change_and_withdraw_by_form(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Which colour do you like best?"))
        .await;
    let c = app.choices(id).await;
    let path = app.path(id).await;
    let token = app.csrf_from_page(id).await;

    let r = app.post_vote(id, &[c[1]], &token).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some(path.as_str()));
    let (_, page) = app.get(&path).await;
    assert!(page.contains("your vote was counted"), "flash after voting");
    assert!(
        page.contains(&format!("value=\"{}\" checked", c[1])),
        "the ballot is shown"
    );
    assert!(page.contains("Change vote"));
    assert_eq!(app.ledger(id).await, (1, vec![(c[1], 1)]));

    let r = app.post_vote(id, &[c[2]], &token).await;
    assert_eq!(r.status(), Status::SeeOther);
    let (_, page) = app.get(&path).await;
    assert!(page.contains("Your vote was changed."));
    assert_eq!(app.ledger(id).await, (1, vec![(c[2], 1)]));

    // The same vote again changes nothing, and says so.
    app.post_vote(id, &[c[2]], &token).await;
    assert_eq!(app.ledger(id).await, (1, vec![(c[2], 1)]));
    let (_, page) = app.get(&path).await;
    assert!(page.contains("That is already your vote: nothing changed."));

    let r = app
        .client
        .post(format!("/q/{id}/withdraw"))
        .header(ContentType::Form)
        .body(format!("csrf_token={token}"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let (_, page) = app.get(&path).await;
    assert!(page.contains("Your vote was withdrawn."));
    assert_eq!(app.ledger(id).await, (0, vec![]));
}

async fn votes_need_a_valid_csrf_token(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Is this form protected well?")).await;
    let c = app.choices(id).await;
    let token = app.csrf_from_page(id).await;

    let r = app
        .client
        .post(format!("/q/{id}/vote"))
        .header(ContentType::Form)
        .body(format!("choice={}", c[0]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden, "missing token");
    let r = app.post_vote(id, &[c[0]], "forged").await;
    assert_eq!(r.status(), Status::Forbidden, "wrong token");
    let body = r.into_string().await.unwrap();
    assert!(body.contains("did not come from this site"));
    let other = app.csrf_for("00000000-0000-4000-8000-000000000000");
    let r = app.post_vote(id, &[c[0]], &other).await;
    assert_eq!(r.status(), Status::Forbidden, "another voter's token");
    let r = app
        .client
        .post(format!("/q/{id}/vote"))
        .header(ContentType::Form)
        .header(Header::new("Origin", "https://evil.example"))
        .body(format!("csrf_token={token}&choice={}", c[0]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden, "cross-origin post");
    // The right token from the same origin works.
    let r = app
        .client
        .post(format!("/q/{id}/vote"))
        .header(ContentType::Form)
        .header(Header::new("Origin", "http://localhost"))
        .header(Header::new("Host", "localhost"))
        .body(format!("csrf_token={token}&choice={}", c[0]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
}

async fn results_visibility_rules(b: Backend) {
    let app = TestApp::new(b).await;
    let after_vote = app
        .question(question("Results after voting, right?").visibility("after_vote"))
        .await;
    let after_close = app
        .question(
            question("Results after closing, right?")
                .visibility("after_close")
                .closes_in_days(3),
        )
        .await;
    let closed = app
        .question(
            question("Results once it has closed?")
                .visibility("after_close")
                .closed(),
        )
        .await;

    // Before voting: hidden on the page and in the API.
    let (_, page) = app.get(&app.path(after_vote).await).await;
    assert!(page.contains("Results are shown after you vote."));
    assert!(!page.contains("votes in total"));
    let r = app
        .client
        .get(format!("/api/v1/questions/{after_vote}"))
        .dispatch()
        .await;
    let v: serde_json::Value = serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
    assert!(v["results"].is_null());
    let r = app
        .client
        .get(format!("/api/v1/questions/{after_vote}/results"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);

    let c = app.choices(after_vote).await;
    let (s, v) = app
        .api_vote(after_vote, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["results"]["total"], 1);
    let (_, page) = app.get(&app.path(after_vote).await).await;
    assert!(page.contains("in total"));

    let c = app.choices(after_close).await;
    let (_, v) = app
        .api_vote(after_close, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert!(
        v["results"].is_null(),
        "voting does not reveal after-close results"
    );
    let (_, page) = app.get(&app.path(after_close).await).await;
    assert!(page.contains("Results are shown when the poll closes."));

    let (_, page) = app.get(&app.path(closed).await).await;
    assert!(
        page.contains("in total"),
        "closed questions show final results"
    );
    let r = app
        .client
        .get(format!("/api/v1/questions/{closed}/results"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
}

async fn closed_questions_refuse_votes(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Was this poll open long enough?").closed())
        .await;
    let c = app.choices(id).await;
    // The page shows the results, not a form that cannot be used.
    let (_, page) = app.get(&app.path(id).await).await;
    assert!(page.contains("Voting is closed"));
    assert!(!page.contains("class=\"vote-form\""));
    // A vote sent anyway (an old page, a script) is refused.
    let open = app.question(question("Is this one still open?")).await;
    let token = app.csrf_from_page(open).await;
    let r = app.post_vote(id, &[c[0]], &token).await;
    assert_eq!(r.status(), Status::Conflict);
    assert!(r.into_string().await.unwrap().contains("closed"));
    let (s, v) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert_eq!(s, Status::Conflict);
    assert_eq!(v["error"]["code"], "question_closed");
    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Conflict);
    assert_eq!(app.ledger(id).await.0, 0);
}

async fn account_questions_need_login(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Members only: what do you think?").protection("account"))
        .await;
    let c = app.choices(id).await;
    let token = app.csrf_from_page(id).await;
    let (_, page) = app.get(&app.path(id).await).await;
    assert!(page.contains("Only logged-in members can vote"));
    let r = app.post_vote(id, &[c[0]], &token).await;
    assert_eq!(r.status(), Status::Unauthorized);
    assert!(r.into_string().await.unwrap().contains("logged-in"));
    let (s, v) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert_eq!(s, Status::Unauthorized);
    assert_eq!(v["error"]["code"], "login_required");
    assert_eq!(app.ledger(id).await.0, 0);
}

async fn network_protection_limits_ballots_per_network(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("network_votes_per_day", 2))).await;
    let id = app
        .question(question("One network, how many votes?").protection("network"))
        .await;
    let c = app.choices(id).await;
    let vote = |voter: &'static str, addr: &'static str| {
        let token = app.csrf_for(voter);
        let client = &app.client;
        let choice = c[0];
        async move {
            client
                .post(format!("/q/{id}/vote"))
                .header(ContentType::Form)
                .header(ip(addr))
                .remote(proxy())
                .private_cookie(("bb_voter", voter))
                .body(format!("csrf_token={token}&choice={choice}"))
                .dispatch()
                .await
                .status()
        }
    };
    assert_eq!(
        vote("11111111-1111-4111-8111-111111111111", "203.0.113.7").await,
        Status::SeeOther
    );
    assert_eq!(
        vote("22222222-2222-4222-8222-222222222222", "203.0.113.7").await,
        Status::SeeOther
    );
    let third = vote("33333333-3333-4333-8333-333333333333", "203.0.113.7").await;
    assert_eq!(
        third,
        Status::TooManyRequests,
        "third ballot from one network"
    );
    assert_eq!(
        vote("33333333-3333-4333-8333-333333333333", "198.51.100.1").await,
        Status::SeeOther
    );
    // Changing an existing ballot is not a new ballot.
    assert_eq!(
        vote("11111111-1111-4111-8111-111111111111", "203.0.113.7").await,
        Status::SeeOther
    );
    assert_eq!(app.ledger(id).await.0, 3);
    let (s, v) = {
        let r = app
            .client
            .put(format!("/api/v1/questions/{id}/vote"))
            .header(ContentType::JSON)
            .header(ip("203.0.113.7"))
            .remote(proxy())
            .private_cookie(("bb_voter", "44444444-4444-4444-8444-444444444444"))
            .body(format!("{{\"choices\":[{}]}}", c[1]))
            .dispatch()
            .await;
        let s = r.status();
        let retry = r.headers().get_one("Retry-After").map(str::to_string);
        (s, retry)
    };
    assert_eq!(s, Status::TooManyRequests);
    assert!(v.is_some(), "429 carries Retry-After");
}

async fn multiple_choice_ballots(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(
            question("Which fruits do you eat weekly?")
                .multiple(1, 2)
                .choices(&["Apples", "Pears", "Plums", "Kiwis"]),
        )
        .await;
    let c = app.choices(id).await;
    let token = app.csrf_from_page(id).await;
    let r = app.post_vote(id, &[c[0], c[2]], &token).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(app.ledger(id).await, (1, vec![(c[0], 1), (c[2], 1)]));
    let r = app.post_vote(id, &[c[0], c[1], c[2]], &token).await;
    assert_eq!(r.status(), Status::BadRequest);
    assert!(r.into_string().await.unwrap().contains("at most 2"));
    let r = app.post_vote(id, &[c[3]], &token).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(app.ledger(id).await, (1, vec![(c[3], 1)]));
    let (s, v) = app
        .api_vote(
            id,
            &format!("{{\"choices\":[{}, {}, {}]}}", c[1], c[1], c[2]),
        )
        .await;
    assert_eq!(s, Status::Ok, "duplicates in a ballot are ignored");
    assert_eq!(v["ballot"]["choices"], serde_json::json!([c[1], c[2]]));
    assert_eq!(v["results"]["total"], 1);
    assert_eq!(v["results"]["choices"][1]["percent"], 100.0);
}

mod limits {
    use super::*;

    backend_tests!(rate_limits_answer_429_and_trust_only_proxies);

    async fn rate_limits_answer_429_and_trust_only_proxies(b: Backend) {
        let app = TestApp::with(b, |f| {
            f.merge(("limits", "on")).merge(("limits_vote", "3/minute"))
        })
        .await;
        let id = app
            .question(question("How fast may one address vote?"))
            .await;
        let c = app.choices(id).await;
        let vote = |peer: &'static str, header: Option<&'static str>| {
            let client = &app.client;
            let choice = c[0];
            async move {
                let mut req = client
                    .put(format!("/api/v1/questions/{id}/vote"))
                    .header(ContentType::JSON)
                    .remote(peer.parse().unwrap())
                    .body(format!("{{\"choices\":[{choice}]}}"));
                if let Some(h) = header {
                    req = req.header(ip(h));
                }
                let r = req.dispatch().await;
                (
                    r.status(),
                    r.headers().get_one("Retry-After").map(str::to_string),
                    r.into_string().await.unwrap_or_default(),
                )
            }
        };
        for _ in 0..3 {
            assert_eq!(vote("203.0.113.50:1234", None).await.0, Status::Ok);
        }
        let (s, retry, body) = vote("203.0.113.50:1234", None).await;
        assert_eq!(s, Status::TooManyRequests);
        assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
        assert!(body.contains("rate_limited") && body.contains("Too many votes"));
        // An untrusted peer cannot escape its limit with a forged header...
        let (s, _, _) = vote("203.0.113.50:1234", Some("198.51.100.77")).await;
        assert_eq!(s, Status::TooManyRequests);
        // ...while a trusted proxy's header names the real client.
        assert_eq!(
            vote("127.0.0.1:40000", Some("198.51.100.77")).await.0,
            Status::Ok
        );
        // The HTML form gets a page with the same status.
        let token = app.csrf_from_page(id).await;
        for _ in 0..4 {
            app.client
                .post(format!("/q/{id}/vote"))
                .header(ContentType::Form)
                .remote("203.0.113.60:1".parse().unwrap())
                .body(format!("csrf_token={token}&choice={}", c[1]))
                .dispatch()
                .await;
        }
        let r = app
            .client
            .post(format!("/q/{id}/vote"))
            .header(ContentType::Form)
            .remote("203.0.113.60:1".parse().unwrap())
            .body(format!("csrf_token={token}&choice={}", c[1]))
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::TooManyRequests);
        assert!(r.headers().get_one("Retry-After").is_some());
        assert!(r.into_string().await.unwrap().contains("Too many votes"));
    }
}
