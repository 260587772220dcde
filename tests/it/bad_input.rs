//! Bad input never gets a 500 or a panic: each case gets a clear 4xx page or JSON error, and
//! nothing stored is lost.

use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, json_of, question};

backend_tests!(
    bad_ids,
    bad_votes_by_form,
    bad_votes_by_api,
    bad_bodies,
    bad_list_parameters
);

async fn bad_ids(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Is this question reachable?")).await;
    for uri in [
        "/q/abc",
        "/q/abc/slug",
        "/q/0",
        "/q/-1",
        "/q/999999",
        "/q/99999999999999999999999",
        "/q/1e3/x",
    ] {
        let (s, body) = app.get(uri).await;
        assert_eq!(s, Status::NotFound, "{uri}");
        assert!(
            body.contains("There is no such question") || body.contains("Page not found"),
            "{uri}"
        );
    }
    for uri in [
        "/api/v1/questions/abc",
        "/api/v1/questions/999999",
        "/api/v1/questions/0/results",
    ] {
        let (s, v) = json_of(app.client.get(uri).dispatch().await).await;
        assert_eq!(s, Status::NotFound, "{uri}");
        assert_eq!(v["error"]["code"], "not_found", "{uri}");
    }
    let (s, v) = app.api_vote(999_999, "{\"choices\":[1]}").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (Status::NotFound, Some("not_found"))
    );
    let r = app
        .client
        .post("/q/abc/vote")
        .header(ContentType::Form)
        .body("csrf_token=x&choice=1")
        .dispatch()
        .await;
    assert!(
        r.status().code == 403 || r.status().code == 404,
        "{}",
        r.status()
    );
    let _ = id;
}

async fn bad_votes_by_form(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Which way do we vote here?")).await;
    let other = app
        .question(question("A different question entirely"))
        .await;
    let c = app.choices(id).await;
    let foreign = app.choices(other).await[0];
    let token = app.csrf_from_page(id).await;
    app.post_vote(id, &[c[0]], &token).await;

    let cases: Vec<(String, &str)> = vec![
        (format!("csrf_token={token}"), "Choose an answer"),
        (
            format!("csrf_token={token}&choice={foreign}"),
            "not one of this question",
        ),
        (
            format!("csrf_token={token}&choice={}&choice={}", c[0], c[1]),
            "single answer",
        ),
        (format!("csrf_token={token}&choice=abc"), "choice id"),
        (format!("csrf_token={token}&choice="), "choice id"),
    ];
    for (body, expect) in cases {
        let r = app
            .client
            .post(format!("/q/{id}/vote"))
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::BadRequest, "{body}");
        let page = r.into_string().await.unwrap();
        assert!(page.contains(expect), "{body}: {expect}");
        assert!(page.contains("vote-form"), "the question is shown again");
    }
    // Nothing stored was lost: the earlier ballot stands.
    assert_eq!(app.ledger(id).await, (1, vec![(c[0], 1)]));
    let too_many: String = (0..60).map(|i| format!("&choice={i}")).collect();
    let r = app
        .client
        .post(format!("/q/{id}/vote"))
        .header(ContentType::Form)
        .body(format!("csrf_token={token}{too_many}"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::BadRequest);
    let r = app
        .client
        .post(format!("/q/{id}/vote"))
        .header(ContentType::Form)
        .body("%%%garbage")
        .dispatch()
        .await;
    assert!(
        r.status().code >= 400 && r.status().code < 500,
        "{}",
        r.status()
    );
    let big = "x".repeat(100 * 1024);
    let r = app
        .client
        .post(format!("/q/{id}/vote"))
        .header(ContentType::Form)
        .body(format!("csrf_token={token}&choice={big}"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::PayloadTooLarge);
    assert!(r.into_string().await.unwrap().contains("too large"));
    assert_eq!(app.ledger(id).await, (1, vec![(c[0], 1)]));
}

async fn bad_votes_by_api(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Which API input is wrong?")).await;
    let other = app.question(question("Another API question here")).await;
    let c = app.choices(id).await;
    let foreign = app.choices(other).await[0];
    let (s, _) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[1]))
        .await;
    assert_eq!(s, Status::Ok);
    let cases = [
        (
            "{\"choices\":[]}".to_string(),
            Status::BadRequest,
            "empty_ballot",
        ),
        (
            format!("{{\"choices\":[{foreign}]}}"),
            Status::BadRequest,
            "invalid_choice",
        ),
        (
            format!("{{\"choices\":[{}, {}]}}", c[0], c[1]),
            Status::BadRequest,
            "too_many_choices",
        ),
        (
            "{\"choices\":[\"x\"]}".to_string(),
            Status::UnprocessableEntity,
            "invalid_body",
        ),
        (
            "{\"choice\":[1]}".to_string(),
            Status::UnprocessableEntity,
            "invalid_body",
        ),
        (
            "{\"choices\":[1]".to_string(),
            Status::BadRequest,
            "invalid_json",
        ),
        ("not json".to_string(), Status::BadRequest, "invalid_json"),
        ("".to_string(), Status::BadRequest, "invalid_json"),
        (
            format!(
                "{{\"choices\":[{}]}}",
                (0..100)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Status::BadRequest,
            "too_many_choices",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = app.api_vote(id, &body).await;
        assert_eq!(s, status, "{body}");
        assert_eq!(v["error"]["code"], code, "{body}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let r = app
        .client
        .put(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::Form)
        .body(format!("choices={}", c[0]))
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert_eq!(
        s,
        Status::UnsupportedMediaType,
        "a cross-site form cannot vote through the API"
    );
    assert_eq!(v["error"]["code"], "unsupported_media_type");
    let r = app
        .client
        .put(format!("/api/v1/questions/{id}/vote"))
        .body(format!("{{\"choices\":[{}]}}", c[0]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::UnsupportedMediaType, "no content type");
    let huge = format!("{{\"choices\":[1],\"pad\":\"{}\"}}", "x".repeat(200 * 1024));
    let (s, v) = app.api_vote(id, &huge).await;
    assert_eq!(s, Status::PayloadTooLarge);
    assert_eq!(v["error"]["code"], "payload_too_large");
    assert_eq!(
        app.ledger(id).await,
        (1, vec![(c[1], 1)]),
        "the stored ballot is intact"
    );
}

async fn bad_bodies(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.post("/api/v1/questions/1/vote").dispatch().await;
    assert!(r.status().code == 404 || r.status().code == 405);
    let (_, v) = json_of(r).await;
    assert!(v["error"]["code"].is_string());
    let r = app.client.patch("/q/1/vote").dispatch().await;
    assert_eq!(r.status().code / 100, 4);
}

async fn bad_list_parameters(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("A question to list somewhere")).await;
    let long_q = "q".repeat(10 * 1024);
    // A page or a window that does not exist is a 404 page that links what does.
    let html = [
        ("/?page=0", "/"),
        ("/?page=-3", "/"),
        ("/?page=abc", "/"),
        ("/new?page=99999999999999", "/new"),
        ("/new?page=501", "/new"),
        ("/top?window=year", "/top?window=week"),
        ("/tags?page=0", "/tags"),
        ("/t/space?page=x", "/t/space"),
    ];
    for (uri, link) in html {
        let (s, body) = app.get(uri).await;
        assert_eq!(s, Status::NotFound, "{uri}");
        assert!(body.contains("/static/css/site."), "an HTML error page");
        assert!(
            body.contains(&format!("href=\"{link}\"")),
            "{uri} links {link}"
        );
        assert!(
            !body.contains("expected one of"),
            "{uri}: no developer wording"
        );
    }
    let (s, body) = app.get(&format!("/search?q={long_q}")).await;
    assert_eq!(s, Status::BadRequest, "an over-long search");
    assert!(body.contains("at most 200 characters"));
    let (s, _) = app.get("/top?window=").await;
    assert_eq!(s, Status::Ok, "an empty window is the default one");
    let api = [
        ("/api/v1/questions?sort=best".to_string(), "invalid_sort"),
        (
            "/api/v1/questions?window=year".to_string(),
            "invalid_window",
        ),
        ("/api/v1/questions?page=0".to_string(), "invalid_page"),
        (
            "/api/v1/questions?page=99999999999999999999".to_string(),
            "invalid_page",
        ),
        (format!("/api/v1/questions?q={long_q}"), "invalid_query"),
        ("/api/v1/questions?tag=%21%21%21".to_string(), "invalid_tag"),
        ("/api/v1/tags?page=-1".to_string(), "invalid_page"),
    ];
    for (uri, code) in api {
        let (s, v) = json_of(app.client.get(uri.clone()).dispatch().await).await;
        assert_eq!(s, Status::BadRequest, "{}", &uri[..uri.len().min(60)]);
        assert_eq!(v["error"]["code"], code);
    }
    let (s, _) = app.get("/new?page=2").await;
    assert_eq!(s, Status::Ok, "an empty later page is fine");
}
