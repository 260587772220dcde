//! The JSON API contract and its OpenAPI document.

use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, json_of, question};

backend_tests!(
    list_endpoint,
    question_and_vote_endpoints,
    tags_endpoint,
    openapi_covers_every_route,
    non_json_cookie_calls_need_the_csrf_header
);

async fn list_endpoint(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..22 {
        app.question(question(&format!("API listed question {i:02}")).tags(&["api"]))
            .await;
    }
    app.question(question("Something about tea and biscuits").tags(&["food"]))
        .await;
    let (s, v) = json_of(
        app.client
            .get("/api/v1/questions?sort=new")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["page"], 1);
    assert_eq!(v["next_page"], 2);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    let first = &items[0];
    for key in [
        "id",
        "title",
        "slug",
        "url",
        "tags",
        "total_votes",
        "created_at",
        "closes_at",
        "status",
        "kind",
        "runoff",
    ] {
        assert!(first.get(key).is_some(), "item has {key}");
    }
    assert_eq!(first["title"], "Something about tea and biscuits");
    assert_eq!(first["status"], "open");
    assert_eq!(first["kind"], "single");
    assert!(first["runoff"].is_null(), "only ranked questions have one");
    let (_, v) = json_of(
        app.client
            .get("/api/v1/questions?sort=new&page=2")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    assert!(v["next_page"].is_null());
    let (_, v) = json_of(
        app.client
            .get("/api/v1/questions?tag=food")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (_, v) = json_of(
        app.client
            .get("/api/v1/questions?q=biscuits&sort=top&window=week")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(v["items"][0]["tags"], serde_json::json!(["food"]));
    let (s, v) = json_of(
        app.client
            .get("/api/v1/questions?tag=nope")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::NotFound);
    assert_eq!(v["error"]["code"], "not_found");
}

async fn question_and_vote_endpoints(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(
            question("What is your API style?")
                .description("REST or not")
                .tags(&["api", "web"]),
        )
        .await;
    let c = app.choices(id).await;
    let (s, v) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["kind"], "single");
    assert_eq!(v["results_visibility"], "always");
    assert_eq!(v["choices"].as_array().unwrap().len(), 3);
    assert_eq!(v["choices"][0]["label"], "Red");
    assert_eq!(v["results"]["total"], 0);
    assert!(v["ballot"].is_null());
    let before = v["results"]["as_of"]
        .as_i64()
        .expect("results say when they were read");

    let (s, v) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[2]))
        .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(v["ballot"]["choices"], serde_json::json!([c[2]]));
    assert_eq!(v["results"]["total"], 1);
    assert!(
        v["results"]["as_of"].as_i64().unwrap() >= before,
        "the counts after a vote are never older than those before it"
    );
    assert_eq!(
        v["results"]["choices"][2],
        serde_json::json!({"id": c[2], "votes": 1, "percent": 100.0})
    );
    let (_, page) = app.get(&app.path(id).await).await;
    assert!(
        page.contains("data-as-of=\""),
        "the page's results say when they were read"
    );

    let (_, v) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}/results"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(v["total"], 1);
    let (_, v) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(v["ballot"]["choices"], serde_json::json!([c[2]]));
    assert_eq!(v["total_votes"], 1);

    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NoContent);
    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NoContent, "withdrawing twice is fine");
    assert_eq!(app.ledger(id).await, (0, vec![]));
    let (_, v) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}"))
            .dispatch()
            .await,
    )
    .await;
    assert!(v["ballot"].is_null());
}

async fn tags_endpoint(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("First tagged question here").tags(&["alpha", "beta"]))
        .await;
    app.question(question("Second tagged question here").tags(&["beta"]))
        .await;
    let (s, v) = json_of(app.client.get("/api/v1/tags").dispatch().await).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(
        v["items"][0],
        serde_json::json!({"name": "beta", "question_count": 2, "url": "/t/beta"})
    );
    assert_eq!(v["items"][1]["name"], "alpha");
}

async fn openapi_covers_every_route(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .client
        .get("/api/v1/openapi.json")
        .header(ContentType::JSON)
        .dispatch()
        .await;
    let (s, doc) = json_of(r).await;
    assert_eq!(s, Status::Ok);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for route in app.client.rocket().routes() {
        let path = route.uri.path().to_string();
        if !path.starts_with("/api/v1") {
            continue;
        }
        // Rocket's `<id>` is OpenAPI's `{id}`.
        let oa_path = path.replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_ascii_lowercase();
        let item = paths
            .get(&oa_path)
            .unwrap_or_else(|| panic!("{oa_path} is missing from the OpenAPI document"));
        assert!(
            item.get(&method).is_some(),
            "{method} {oa_path} is missing from the OpenAPI document"
        );
        checked += 1;
    }
    assert!(checked >= 7, "all API routes were checked ({checked})");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer_token"]["scheme"], "bearer");
    assert_eq!(
        doc["paths"]["/api/v1/questions"]["post"]["security"][0]["bearer_token"],
        serde_json::json!([])
    );
}

/// A cookie-authenticated API call that is not JSON (here a DELETE without a body) must carry the
/// page's CSRF token in `X-CSRF-Token`; a wrong one changes nothing. Bearer calls need none.
async fn non_json_cookie_calls_need_the_csrf_header(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Header tokens")).await;
    let c = app.choices(id).await;
    let (s, _) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert_eq!(s, Status::Ok);
    let withdraw = |token: Option<&'static str>| {
        let client = &app.client;
        async move {
            let mut r = client.delete(format!("/api/v1/questions/{id}/vote"));
            if let Some(t) = token {
                r = r.header(Header::new("X-CSRF-Token", t));
            }
            r.dispatch().await
        }
    };
    let r = withdraw(None).await;
    assert_eq!(r.status(), Status::Forbidden);
    let (_, v) = json_of(r).await;
    assert_eq!(v["error"]["code"], "csrf_failed");
    let r = withdraw(Some("forged")).await;
    assert_eq!(r.status(), Status::Forbidden);
    drop(r);
    assert_eq!(app.ledger(id).await.0, 1, "nothing was withdrawn");

    let token = app.csrf_from_page(id).await;
    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(Header::new("X-CSRF-Token", token.clone()))
        .header(Header::new("Origin", "https://evil.example"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden, "the origin must be ours");
    drop(r);
    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(Header::new("X-CSRF-Token", token))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NoContent);
    drop(r);
    assert_eq!(app.ledger(id).await.0, 0);

    // A client without cookies (e.g. a script with a bearer token) needs no header.
    let r = app
        .client
        .delete(format!("/api/v1/questions/{id}/vote"))
        .header(Header::new("Authorization", "Bearer bb_forged"))
        .dispatch()
        .await;
    assert_ne!(r.status(), Status::Forbidden);
}
