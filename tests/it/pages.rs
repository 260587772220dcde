//! Pages: lists, tags, search, the question page, redirects, share tags, probes.

use rocket::http::Status;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    lists_show_questions,
    top_windows_and_pagination,
    tag_pages,
    search_finds_title_and_description,
    question_page_and_redirects,
    error_pages_are_styled,
    probes,
);

async fn lists_show_questions(b: Backend) {
    let app = TestApp::new(b).await;
    let old = app
        .question(question("An old question about colours").age_days(20))
        .await;
    let fresh = app
        .question(question("A fresh question about colours"))
        .await;
    for uri in ["/", "/new", "/top", "/top?window=all"] {
        let (s, body) = app.get(uri).await;
        assert_eq!(s, Status::Ok, "{uri}");
        assert!(body.contains("A fresh question about colours"), "{uri}");
    }
    let (_, new) = app.get("/new").await;
    let (i_old, i_new) = (
        new.find("An old question").unwrap(),
        new.find("A fresh question").unwrap(),
    );
    assert!(i_new < i_old, "newest first");
    // A vote makes the old one rank by votes on /top.
    let choices = app.choices(old).await;
    let (s, _) = app
        .api_vote(old, &format!("{{\"choices\":[{}]}}", choices[0]))
        .await;
    assert_eq!(s, Status::Ok);
    // Lists are cached for about two seconds: the new order shows within a few.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(6);
    loop {
        let (_, top) = app.get("/top?window=all").await;
        if top.find("An old question").unwrap() < top.find("A fresh question").unwrap() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the vote reorders /top within seconds"
        );
        rocket::tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = fresh;
}

async fn top_windows_and_pagination(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..25 {
        app.question(question(&format!("Paginated question number {i:02}")))
            .await;
    }
    app.question(question("A question from last month").age_days(40))
        .await;
    let (_, day) = app.get("/top?window=day").await;
    assert!(!day.contains("A question from last month"));
    let (_, all) = app.get("/new?page=2").await;
    assert!(all.contains("A question from last month"));
    let (_, p1) = app.get("/new").await;
    assert!(p1.contains("page=2"), "next link on the first page");
    assert_eq!(p1.matches("class=\"question-item\"").count(), 20);
    let (_, week) = app.get("/top?window=week&page=2").await;
    assert!(week.contains("Paginated question number"));
    assert!(!week.contains("A question from last month"));
    let (s, _) = app.get("/top?window=month").await;
    assert_eq!(s, Status::Ok);
}

async fn tag_pages(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("Which planet would you visit first?").tags(&["Space", "science"]))
        .await;
    app.question(question("Which element is the most useful?").tags(&["science"]))
        .await;
    let (s, body) = app.get("/t/space").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Which planet would you visit first?"));
    assert!(!body.contains("Which element"));
    let (s, tags) = app.get("/tags").await;
    assert_eq!(s, Status::Ok);
    assert!(tags.contains("/t/science") || tags.contains("&#x2F;t&#x2F;science"));
    assert!(tags.find("science").unwrap() < tags.find(">space<").unwrap_or(usize::MAX));
    let (s, _) = app.get("/t/unknown-tag").await;
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.get("/t/Space").await;
    assert_eq!(s, Status::NotFound, "tags are lowercase in URLs");
}

async fn search_finds_title_and_description(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("Do you like strong espresso?")).await;
    app.question(question("Morning drinks and habits").description("Think tea, coffee, or juice"))
        .await;
    app.question(question("Which 100% juice is best?")).await;
    let (s, body) = app.get("/search?q=espresso").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Do you like strong espresso?"));
    assert!(!body.contains("Morning drinks"));
    let (_, body) = app.get("/search?q=COFFEE").await;
    assert!(
        body.contains("Morning drinks and habits"),
        "search is case-insensitive and covers descriptions"
    );
    let (_, body) = app.get("/search?q=100%25").await;
    assert!(body.contains("Which 100% juice"));
    let (s, body) = app.get("/search?q=%25").await;
    assert_eq!(s, Status::BadRequest, "only a symbol: nothing to look for");
    assert!(body.contains("at least one word"));
    let (s, body) = app.get("/search").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Search"));
}

async fn question_page_and_redirects(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(
            question("Is <b>bold</b> a good idea?")
                .description("Line one\nLine <script>two</script>")
                .tags(&["markup"]),
        )
        .await;
    let path = app.path(id).await;
    assert_eq!(path, format!("/q/{id}/is-b-bold-b-a-good-idea"));
    let (s, body) = app.get(&path).await;
    assert_eq!(s, Status::Ok);
    assert!(
        body.contains("Is &lt;b&gt;bold&lt;&#x2F;b&gt; a good idea?"),
        "titles are escaped"
    );
    assert!(!body.contains("<script>two"), "descriptions are escaped");
    assert!(body.contains("property=\"og:title\""));
    assert!(body.contains("name=\"twitter:card\""));
    assert!(
        body.contains(&format!("http://beebeta.test{path}")),
        "canonical URL uses the public URL"
    );
    assert!(body.contains("name=\"csrf_token\""));
    assert!(
        body.contains(&format!("action=\"/q/{id}/vote\""))
            || body.contains(&format!("action=\"&#x2F;q&#x2F;{id}&#x2F;vote\""))
    );
    for uri in [format!("/q/{id}"), format!("/q/{id}/wrong-slug")] {
        let r = app.client.get(uri.clone()).dispatch().await;
        assert_eq!(r.status(), Status::MovedPermanently, "{uri}");
        assert_eq!(r.headers().get_one("Location"), Some(path.as_str()));
    }
    let r = app.client.get(path.clone()).dispatch().await;
    let csp = r
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("script-src 'self'"));
    assert!(
        r.headers()
            .get_one("Cache-Control")
            .unwrap_or_default()
            .contains("private")
    );
    assert!(
        r.headers().get_one("Strict-Transport-Security").is_none(),
        "no HSTS over plain HTTP"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        r.headers().get_one("X-Content-Type-Options"),
        Some("nosniff")
    );
    assert!(r.headers().get_one("Referrer-Policy").is_some());
}

async fn error_pages_are_styled(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, body) = app.get("/no/such/page").await;
    assert_eq!(s, Status::NotFound);
    assert!(body.contains("/static/css/site.") && body.contains("Page not found"));
    let (s, body) = app.get("/api/v1/nothing-here").await;
    assert_eq!(s, Status::NotFound);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "not_found");
}

async fn probes(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, body) = app.get("/healthz").await;
    assert_eq!((s, body.as_str()), (Status::Ok, "ok"));
    let (s, body) = app.get("/readyz").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("ready"));
}

#[rocket::async_test]
async fn hsts_when_served_over_tls() {
    let app = TestApp::with(Backend::Sqlite, |f| f.merge(("cookie_secure", true))).await;
    let r = app.client.get("/").dispatch().await;
    assert_eq!(
        r.headers().get_one("Strict-Transport-Security"),
        Some("max-age=63072000; includeSubDomains")
    );
    // Secure cookies use the __Host- session cookie name.
    assert_eq!(
        beebeta::auth::session::cookie_name(&app.cfg.auth),
        "__Host-bb_session"
    );
}

/// The benchmark's bare route is off unless configured, and then serves exactly that many bytes.
#[rocket::async_test]
async fn bench_bare_route_only_when_enabled() {
    let app = TestApp::new(Backend::Sqlite).await;
    assert_eq!(app.get("/bench/bare").await.0, Status::NotFound);
    let app = TestApp::with(Backend::Sqlite, |f| f.merge(("bench_bare_bytes", 30_000))).await;
    let (s, body) = app.get("/bench/bare").await;
    assert_eq!(s, Status::Ok);
    assert_eq!(body.len(), 30_000);
}
