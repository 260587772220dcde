//! The embeddable question (`/q/<id>/embed`): the only frameable page, voting inside it, its
//! cookie, the "vote on Beebeta" offer when the browser refuses that cookie, and oEmbed.

use beebeta::models;
use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, extract_csrf, form_body, question};

backend_tests!(
    only_the_embed_may_be_framed,
    voting_inside_the_embed,
    a_vote_in_the_embed_keeps_its_results_view,
    results_in_the_embed_follow_the_visibility_rule,
    the_frames_cookie_has_third_party_attributes_only_where_it_must,
    a_vote_without_the_frames_cookie_is_refused_with_the_offer,
    bad_votes_in_the_embed_are_refused_and_store_nothing,
    account_questions_send_the_voter_to_beebeta,
    closed_and_hidden_questions,
    oembed_answers_for_question_urls,
    oembed_refuses_what_it_cannot_answer,
    the_question_page_offers_the_snippet_and_discovery,
);

fn header<'a>(
    r: &'a rocket::local::asynchronous::LocalResponse<'_>,
    name: &str,
) -> Option<&'a str> {
    r.headers().get_one(name)
}

/// Posts the embed's vote form with `token` and `choices`.
async fn embed_vote(
    app: &TestApp,
    qid: i64,
    token: &str,
    choices: &[i64],
) -> (Status, Option<String>, String) {
    embed_vote_to(app, &format!("/q/{qid}/embed"), token, choices).await
}

/// Posts the embed's vote form to `action`.
async fn embed_vote_to(
    app: &TestApp,
    action: &str,
    token: &str,
    choices: &[i64],
) -> (Status, Option<String>, String) {
    let ids: Vec<String> = choices.iter().map(i64::to_string).collect();
    let mut fields = vec![("csrf_token", token)];
    fields.extend(ids.iter().map(|c| ("choice", c.as_str())));
    let r = app
        .client
        .post(action.to_string())
        .header(ContentType::Form)
        .body(form_body(&fields))
        .dispatch()
        .await;
    let status = r.status();
    let location = header(&r, "Location").map(str::to_string);
    (status, location, r.into_string().await.unwrap_or_default())
}

async fn only_the_embed_may_be_framed(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Which framing is best?")).await;
    let path = app.path(qid).await;
    let r = app.client.get(format!("/q/{qid}/embed")).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    let csp = header(&r, "Content-Security-Policy")
        .expect("a CSP")
        .to_string();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(!csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(
        header(&r, "X-Frame-Options"),
        None,
        "the embed may be framed"
    );
    drop(r);
    for uri in [
        path.as_str(),
        "/",
        "/new",
        "/login",
        "/ask",
        &format!("/api/v1/questions/{qid}"),
        &format!("/q/{qid}/embedded"),
        "/q/abc/embed",
        "/embed/probe",
        "/no-such-page",
    ] {
        let r = app.client.get(uri.to_string()).dispatch().await;
        let csp = header(&r, "Content-Security-Policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert_eq!(header(&r, "X-Frame-Options"), Some("DENY"), "{uri}");
    }
}

async fn voting_inside_the_embed(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Tea or coffee in the morning?").choices(&["Tea", "Coffee"]))
        .await;
    let choices = app.choices(qid).await;
    let (status, page) = app.get(&format!("/q/{qid}/embed")).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Tea or coffee in the morning?"), "{page}");
    assert!(
        page.contains(&format!("action=\"/q/{qid}/embed\"")),
        "{page}"
    );
    assert!(
        page.contains("http://beebeta.test/q/"),
        "a link to the page: {page}"
    );
    assert!(!page.contains("site-header"), "no site header in the frame");
    let token = extract_csrf(&page).expect("a csrf token");

    let (status, location, _) = embed_vote(&app, qid, &token, &[choices[0]]).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        location.as_deref(),
        Some(format!("/q/{qid}/embed?done=created").as_str())
    );
    let (status, page) = app.get(&format!("/q/{qid}/embed?done=created")).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Thanks, your vote was counted."), "{page}");
    assert!(page.contains("your vote"), "the ballot shows: {page}");
    assert!(page.contains("Change vote"), "{page}");
    assert_eq!(app.ledger(qid).await, (1, vec![(choices[0], 1)]));

    // Changing it, and the same again.
    let (_, location, _) = embed_vote(&app, qid, &token, &[choices[1]]).await;
    assert_eq!(
        location.as_deref(),
        Some(format!("/q/{qid}/embed?done=changed").as_str())
    );
    let (_, location, _) = embed_vote(&app, qid, &token, &[choices[1]]).await;
    assert_eq!(
        location.as_deref(),
        Some(format!("/q/{qid}/embed?done=unchanged").as_str())
    );
    assert_eq!(app.ledger(qid).await, (1, vec![(choices[1], 1)]));
    // The same voter on the question page: one ballot, the embed's.
    let (_, page) = app.get(&app.path(qid).await).await;
    assert!(page.contains("Change vote"), "{page}");
    // An unknown `done` (the redirect's note) is ignored.
    let (status, page) = app.get(&format!("/q/{qid}/embed?done=maybe")).await;
    assert_eq!(status, Status::Ok);
    assert!(!page.contains("notice-ok"), "{page}");
}

/// The embed showing verified accounts only (`?trust=verified`) posts its vote to an address
/// that keeps the view, and shows it again after the vote, or with a refusal; a bad view is a
/// 404 and stores nothing.
async fn a_vote_in_the_embed_keeps_its_results_view(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Verified voters only, please?").choices(&["Yes", "No"]))
        .await;
    let choices = app.choices(qid).await;
    let (status, page) = app.get(&format!("/q/{qid}/embed?trust=verified")).await;
    assert_eq!(status, Status::Ok);
    let action = format!("/q/{qid}/embed?trust=verified");
    assert!(page.contains(&format!("action=\"{action}\"")), "{page}");
    let token = extract_csrf(&page).expect("a csrf token");
    let current = "embed?trust=verified\" aria-current=\"true\"";

    let (status, location, _) = embed_vote_to(&app, &action, &token, &[choices[0]]).await;
    assert_eq!(status, Status::SeeOther);
    let location = location.expect("a redirect");
    assert_eq!(
        location,
        format!("/q/{qid}/embed?done=created&trust=verified")
    );
    let (status, page) = app.get(&location).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Thanks, your vote was counted."), "{page}");
    assert!(page.contains(current), "still the verified view: {page}");
    // A refusal (a choice of no such id) answers in the same view.
    let (status, _, page) = embed_vote_to(&app, &action, &token, &[424242]).await;
    assert_eq!(status, Status::BadRequest);
    assert!(page.contains(current), "{page}");
    // A view that does not exist: 404, nothing stored.
    let (status, _, _) = embed_vote_to(
        &app,
        &format!("/q/{qid}/embed?trust=maybe"),
        &token,
        &[choices[1]],
    )
    .await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(app.ledger(qid).await, (1, vec![(choices[0], 1)]));
}

async fn results_in_the_embed_follow_the_visibility_rule(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("Shown after voting?")
                .choices(&["Yes", "No"])
                .visibility("after_vote"),
        )
        .await;
    let choices = app.choices(qid).await;
    let (_, page) = app.get(&format!("/q/{qid}/embed")).await;
    assert!(page.contains("Results are shown after you vote."), "{page}");
    assert!(!page.contains("result-list"), "{page}");
    let token = extract_csrf(&page).unwrap();
    embed_vote(&app, qid, &token, &[choices[1]]).await;
    let (_, page) = app.get(&format!("/q/{qid}/embed")).await;
    assert!(page.contains("result-list"), "{page}");
    assert!(page.contains("1 vote in total"), "{page}");

    let closing = app
        .question(
            question("Shown when closed?")
                .choices(&["A", "B"])
                .visibility("after_close"),
        )
        .await;
    let (_, page) = app.get(&format!("/q/{closing}/embed")).await;
    assert!(
        page.contains("Results are shown when the poll closes."),
        "{page}"
    );
}

async fn the_frames_cookie_has_third_party_attributes_only_where_it_must(b: Backend) {
    let cookie_of = |r: &rocket::local::asynchronous::LocalResponse<'_>| {
        r.headers()
            .get("Set-Cookie")
            .find(|c| c.starts_with("bb_voter="))
            .map(str::to_string)
            .expect("a voter cookie")
    };
    let secure = TestApp::with(b, |f| f.merge(("cookie_secure", true))).await;
    let qid = secure.question(question("Cookies in frames?")).await;
    let r = secure
        .client
        .get(format!("/q/{qid}/embed"))
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .dispatch()
        .await;
    let cookie = cookie_of(&r);
    for attr in ["SameSite=None", "Secure", "Partitioned", "HttpOnly"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    drop(r);
    drop(secure);

    // Framed by a page of the same site, or opened directly: the usual first-party cookie.
    let secure = TestApp::with(b, |f| f.merge(("cookie_secure", true))).await;
    let qid = secure.question(question("Cookies at home?")).await;
    let r = secure
        .client
        .get(format!("/q/{qid}/embed"))
        .header(Header::new("Sec-Fetch-Site", "same-site"))
        .dispatch()
        .await;
    let cookie = cookie_of(&r);
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Partitioned"), "{cookie}");
    drop(r);
    drop(secure);

    // Over plain http there is no `SameSite=None` (browsers refuse it without `Secure`).
    let plain = TestApp::new(b).await;
    let qid = plain.question(question("Cookies over http?")).await;
    let r = plain
        .client
        .get(format!("/q/{qid}/embed"))
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .dispatch()
        .await;
    let cookie = cookie_of(&r);
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("SameSite=None"), "{cookie}");
}

async fn a_vote_without_the_frames_cookie_is_refused_with_the_offer(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Do cookies cross frames?").choices(&["Yes", "No"]))
        .await;
    let choices = app.choices(qid).await;
    // The probe: no cookie yet, then the one the embed set.
    let (status, body) = app.get("/embed/probe").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["voter"],
        false
    );
    let (_, page) = app.get(&format!("/q/{qid}/embed")).await;
    assert!(page.contains("data-probe=\"/embed/probe\""), "{page}");
    let token = extract_csrf(&page).unwrap();
    let r = app.client.get("/embed/probe").dispatch().await;
    assert_eq!(header(&r, "Cache-Control"), Some("no-store"));
    let body = r.into_string().await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["voter"],
        true
    );

    // A browser that did not keep the cookie posts the form without it: another client.
    let stranger = app.sibling(|f| f).await;
    let (status, _, page) = embed_vote(&stranger, qid, &token, &[choices[0]]).await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("Vote on Beebeta"), "{page}");
    assert!(page.contains("did not keep this poll"), "{page}");
    assert!(
        !page.contains("class=\"vote-form\""),
        "no form to try again: {page}"
    );
    assert_eq!(app.ledger(qid).await.0, 0, "nothing stored");
    drop(stranger);
}

async fn bad_votes_in_the_embed_are_refused_and_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Which refusal is clearest?").choices(&["One", "Two"]))
        .await;
    let other = app
        .question(question("Another question entirely?").choices(&["X", "Y"]))
        .await;
    let foreign = app.choices(other).await;
    let (_, page) = app.get(&format!("/q/{qid}/embed")).await;
    let token = extract_csrf(&page).unwrap();
    // A forged token.
    let (status, _, page) = embed_vote(&app, qid, "forged", &[foreign[0]]).await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("This form has expired"), "{page}");
    assert!(page.contains("class=\"vote-form\""), "a fresh form: {page}");
    // A choice of another question, none, and not a number.
    let (status, _, page) = embed_vote(&app, qid, &token, &[foreign[0]]).await;
    assert!(status.code >= 400 && status.code < 500, "{status}");
    assert!(page.contains("notice-error"), "{page}");
    let (status, _, _) = embed_vote(&app, qid, &token, &[]).await;
    assert!(status.code >= 400 && status.code < 500, "{status}");
    let r = app
        .client
        .post(format!("/q/{qid}/embed"))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &token), ("choice", "many")]))
        .dispatch()
        .await;
    assert!(
        r.status().code >= 400 && r.status().code < 500,
        "{}",
        r.status()
    );
    drop(r);
    // An unknown question.
    let (status, _, _) = embed_vote(&app, 999_999, &token, &[foreign[0]]).await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(app.ledger(qid).await.0, 0);
    assert_eq!(app.ledger(other).await.0, 0);
}

async fn account_questions_send_the_voter_to_beebeta(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(
            question("Members only in frames?")
                .choices(&["Yes", "No"])
                .protection("account"),
        )
        .await;
    let choices = app.choices(qid).await;
    let (_, page) = app.get(&format!("/q/{qid}/embed")).await;
    assert!(page.contains("Only logged-in members can vote"), "{page}");
    assert!(page.contains("Vote on Beebeta"), "{page}");
    assert!(page.contains("Only Beebeta members can vote"), "{page}");
    let token = extract_csrf(&page).unwrap();
    let (status, _, page) = embed_vote(&app, qid, &token, &[choices[0]]).await;
    assert!(status.code == 401 || status.code == 403, "{status}: {page}");
    assert_eq!(app.ledger(qid).await.0, 0, "nothing stored");
}

async fn closed_and_hidden_questions(b: Backend) {
    let app = TestApp::new(b).await;
    let closed = app
        .question(question("Closed in a frame?").choices(&["A", "B"]).closed())
        .await;
    let (status, page) = app.get(&format!("/q/{closed}/embed")).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Voting is closed"), "{page}");
    assert!(!page.contains("class=\"vote-form\""), "{page}");
    let hidden = app.question(question("Hidden from frames?")).await;
    app.db
        .write(move |c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            diesel::update(questions::table.find(hidden))
                .set(questions::hidden_at.eq(Some(models::now())))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (status, _) = app.get(&format!("/q/{hidden}/embed")).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = app.get("/q/424242/embed").await;
    assert_eq!(status, Status::NotFound);
    let url = format!("http://beebeta.test/q/{hidden}");
    let r = app
        .client
        .get(format!("/oembed?url={}", urlencode(&url)))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NotFound);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn oembed_answers_for_question_urls(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Is \"oEmbed\" <still> used?").choices(&["Yes", "No", "What?"]))
        .await;
    let path = app.path(qid).await;
    for url in [
        format!("http://beebeta.test{path}"),
        format!("http://beebeta.test/q/{qid}"),
        format!("https://beebeta.test/q/{qid}/embed"),
    ] {
        let r = app
            .client
            .get(format!("/oembed?url={}&format=json", urlencode(&url)))
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::Ok, "{url}");
        assert_eq!(r.content_type(), Some(ContentType::JSON));
        let body: serde_json::Value =
            serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
        assert_eq!(body["version"], "1.0");
        assert_eq!(body["type"], "rich");
        assert_eq!(body["provider_name"], "Beebeta");
        assert_eq!(body["title"], "Is \"oEmbed\" <still> used?");
        assert_eq!(body["width"], 560);
        let html = body["html"].as_str().unwrap();
        assert!(
            html.contains(&format!("src=\"http://beebeta.test/q/{qid}/embed\"")),
            "{html}"
        );
        assert!(
            html.contains("title=\"Poll: Is &quot;oEmbed&quot; &lt;still&gt; used?\""),
            "{html}"
        );
        assert!(
            html.contains("<script async src=\"http://beebeta.test/static/js/embed.js\"></script>"),
            "{html}"
        );
        assert!(body["height"].as_u64().unwrap() > 200);
    }
    // maxwidth and maxheight are respected.
    let url = format!("http://beebeta.test/q/{qid}");
    let r = app
        .client
        .get(format!(
            "/oembed?url={}&maxwidth=300&maxheight=250",
            urlencode(&url)
        ))
        .dispatch()
        .await;
    let body: serde_json::Value = serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
    assert_eq!(body["width"], 300);
    assert_eq!(body["height"], 250);
    assert!(body["html"].as_str().unwrap().contains("width=\"300\""));
    // The script it points to is served.
    let (status, js) = app.get("/static/js/embed.js").await;
    assert_eq!(status, Status::Ok);
    assert!(js.contains("beebeta:embed-height"));
}

async fn oembed_refuses_what_it_cannot_answer(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Which formats exist?")).await;
    let url = urlencode(&format!("http://beebeta.test/q/{qid}"));
    let cases = [
        (format!("/oembed?url={url}&format=xml"), 501),
        (format!("/oembed?url={url}&format=yaml"), 501),
        (format!("/oembed?url={url}&maxwidth=wide"), 400),
        (format!("/oembed?url={url}&maxheight=-1"), 400),
        ("/oembed".to_string(), 400),
        ("/oembed?url=".to_string(), 400),
        (
            format!("/oembed?url={}", urlencode("https://evil.example/q/1")),
            404,
        ),
        (
            format!("/oembed?url={}", urlencode("http://beebeta.test/t/food")),
            404,
        ),
        (
            format!("/oembed?url={}", urlencode("http://beebeta.test/q/987654")),
            404,
        ),
        (format!("/oembed?url={}", urlencode("not a url")), 404),
    ];
    for (uri, want) in cases {
        let r = app.client.get(uri.clone()).dispatch().await;
        assert_eq!(r.status().code, want, "{uri}");
    }
}

async fn the_question_page_offers_the_snippet_and_discovery(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Where is the embed code?")).await;
    let path = app.path(qid).await;
    let (_, page) = app.get(&path).await;
    let canonical = format!("http://beebeta.test{path}");
    let discovery = format!(
        "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"http://beebeta.test/oembed?format=json&amp;url={}\"",
        urlencode(&canonical)
    );
    assert!(page.contains(&discovery), "{discovery} in {page}");
    assert!(page.contains("<summary>Embed</summary>"), "{page}");
    let unslashed = page.replace("&#x2F;", "/");
    assert!(
        unslashed.contains(&format!(
            "&lt;iframe src=&quot;http://beebeta.test/q/{qid}/embed&quot;"
        )),
        "the snippet, escaped: {page}"
    );
    // The discovery URL answers.
    let r = app
        .client
        .get(format!("/oembed?format=json&url={}", urlencode(&canonical)))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
}
