//! Atom feeds (site, tag, user), robots.txt and sitemaps: valid documents parsed back (Atom with
//! `atom_syndication`, sitemaps with `roxmltree`), order and limits, hidden and deleted questions
//! left out, validators and 304s, the cache following changes, paging over several sitemap
//! pages, and 404s for unknown tags, users and pages.

use std::str::FromStr;

use atom_syndication::Feed;
use rocket::http::{Header, Status};

use beebeta::models;
use beebeta::services::reading;

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, question};

backend_tests!(
    the_site_feed_is_valid_atom_newest_first,
    hidden_and_deleted_questions_are_not_in_feeds,
    feeds_answer_304_and_follow_changes,
    tag_and_user_feeds_and_their_links,
    a_feed_holds_the_newest_fifty,
    robots_txt_names_the_sitemap,
    sitemaps_page_over_id_ranges,
    sitemaps_follow_hides_and_refuse_other_pages,
);

const BASE: &str = "http://beebeta.test";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// GETs `uri` and parses it as Atom (asserting 200 and the content type).
async fn atom(app: &TestApp, uri: &str) -> Feed {
    let r = app.client.get(uri.to_string()).dispatch().await;
    assert_eq!(r.status(), Status::Ok, "{uri}");
    assert_eq!(
        r.headers().get_one("Content-Type"),
        Some("application/atom+xml; charset=utf-8")
    );
    let body = r.into_string().await.unwrap();
    Feed::from_str(&body).unwrap_or_else(|e| panic!("{uri} is not valid Atom: {e}\n{body}"))
}

fn titles(feed: &Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.title.value.clone()).collect()
}

async fn hide(app: &TestApp, id: i64) {
    app.db
        .write(move |c| Ok(models::moderation::set_hidden(c, id, true, models::now())?))
        .await
        .unwrap();
}

async fn delete(app: &TestApp, id: i64) {
    app.db
        .write(move |c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            diesel::update(questions::table.find(id))
                .set(questions::deleted_at.eq(Some(models::now())))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn the_site_feed_is_valid_atom_newest_first(b: Backend) {
    let app = TestApp::new(b).await;
    let first = app.question(question("First question")).await;
    let second = app
        .question(question("Second & <best> question").description("Is <b>this</b> & that \"ok\"?"))
        .await;
    let feed = atom(&app, "/feed.atom").await;
    assert_eq!(
        titles(&feed),
        ["Second & <best> question", "First question"]
    );
    assert_eq!(feed.id, format!("{BASE}/feed.atom"));
    assert!(
        feed.links
            .iter()
            .any(|l| l.rel == "self" && l.href == format!("{BASE}/feed.atom"))
    );
    let e = &feed.entries[0];
    assert_eq!(e.id, format!("{BASE}/q/{second}"));
    assert_eq!(
        e.links[0].href,
        format!("{BASE}{}", app.path(second).await),
        "the canonical, absolute URL"
    );
    assert_eq!(e.links[0].rel, "alternate");
    // The description comes back as it was written: escaped in the XML, not interpreted.
    assert_eq!(
        e.summary.as_ref().map(|s| s.value.as_str()),
        Some("Is <b>this</b> & that \"ok\"?")
    );
    assert_eq!(e.authors[0].name, "Beebeta");
    assert!(e.published.is_some());
    assert_eq!(e.categories[0].term, "colours");
    assert!(feed.entries[1].summary.is_none());
    assert_eq!(feed.entries[1].id, format!("{BASE}/q/{first}"));
    assert_eq!(
        feed.updated, e.updated,
        "the feed's date is its newest entry's"
    );
}

async fn hidden_and_deleted_questions_are_not_in_feeds(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("Shown question").tags(&["rust"]))
        .await;
    let hidden = app
        .question(question("Hidden question").tags(&["rust"]))
        .await;
    let deleted = app
        .question(question("Deleted question").tags(&["rust"]))
        .await;
    app.create_admin("alice", "alice@example.com", PASSWORD)
        .await
        .unwrap();
    let alice = app.user_id("alice").await;
    for id in [hidden, deleted] {
        app.set_author(id, alice).await;
    }
    hide(&app, hidden).await;
    delete(&app, deleted).await;
    for uri in ["/feed.atom", "/t/rust/feed.atom"] {
        assert_eq!(titles(&atom(&app, uri).await), ["Shown question"], "{uri}");
    }
    assert!(titles(&atom(&app, "/u/alice/feed.atom").await).is_empty());
}

async fn feeds_answer_304_and_follow_changes(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Old question")).await;
    let r = app.client.get("/feed.atom").dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    let etag = r.headers().get_one("ETag").unwrap().to_string();
    let modified = r.headers().get_one("Last-Modified").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(modified.ends_with(" GMT"), "{modified}");
    assert!(
        r.headers()
            .get_one("Cache-Control")
            .unwrap()
            .starts_with("public")
    );

    let again = |h: Header<'static>| {
        let client = &app.client;
        async move {
            let r = client.get("/feed.atom").header(h).dispatch().await;
            let status = r.status();
            (status, r.into_string().await.unwrap_or_default())
        }
    };
    let (s, body) = again(Header::new("If-None-Match", etag.clone())).await;
    assert_eq!(s, Status::NotModified);
    assert!(body.is_empty());
    let (s, _) = again(Header::new("If-None-Match", format!("\"x\", W/{etag}"))).await;
    assert_eq!(s, Status::NotModified, "a weak or listed tag matches too");
    let (s, _) = again(Header::new("If-Modified-Since", modified.clone())).await;
    assert_eq!(s, Status::NotModified);
    let (s, _) = again(Header::new("If-None-Match", "\"other\"")).await;
    assert_eq!(s, Status::Ok);
    let (s, _) = again(Header::new(
        "If-Modified-Since",
        "Thu, 01 Jan 1970 00:00:00 GMT",
    ))
    .await;
    assert_eq!(s, Status::Ok);
    let (s, _) = again(Header::new("If-Modified-Since", "not a date")).await;
    assert_eq!(s, Status::Ok);

    // A new question and an edit start a new list generation (as asking and editing do).
    app.question(question("New question")).await;
    reading::lists_changed(&app.state().cache).await;
    let (s, _) = again(Header::new("If-None-Match", etag.clone())).await;
    assert_eq!(s, Status::Ok, "the feed changed");
    assert_eq!(
        titles(&atom(&app, "/feed.atom").await),
        ["New question", "Old question"]
    );
    delete(&app, id).await;
    reading::question_changed(&app.state().cache, id).await;
    assert_eq!(titles(&atom(&app, "/feed.atom").await), ["New question"]);
}

async fn tag_and_user_feeds_and_their_links(b: Backend) {
    let app = TestApp::new(b).await;
    let a = app
        .question(question("Rust or Go?").tags(&["rust", "go"]))
        .await;
    app.question(question("Only Go, then?").tags(&["go"])).await;
    let c = app.question(question("Sharp question").tags(&["c#"])).await;
    app.create_admin("bob", "bob@example.com", PASSWORD)
        .await
        .unwrap();
    let bob = app.user_id("bob").await;
    app.set_author(a, bob).await;
    app.set_author(c, bob).await;

    assert_eq!(
        titles(&atom(&app, "/t/go/feed.atom").await),
        ["Only Go, then?", "Rust or Go?"]
    );
    let rust = atom(&app, "/t/rust/feed.atom").await;
    assert_eq!(titles(&rust), ["Rust or Go?"]);
    assert_eq!(rust.id, format!("{BASE}/t/rust/feed.atom"));
    assert_eq!(
        titles(&atom(&app, "/t/c%23/feed.atom").await),
        ["Sharp question"]
    );
    let mine = atom(&app, "/u/bob/feed.atom").await;
    assert_eq!(titles(&mine), ["Sharp question", "Rust or Go?"]);
    assert_eq!(mine.entries[0].authors[0].name, "bob");

    for uri in [
        "/t/nosuchtag/feed.atom",
        "/t/Not%20Normal/feed.atom",
        "/u/nobody/feed.atom",
        "/u/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/feed.atom",
    ] {
        let (s, _) = app.get(uri).await;
        assert_eq!(s, Status::NotFound, "{uri}");
    }

    // The pages name their feeds in the head.
    for (page, href) in [
        ("/", "/feed.atom"),
        ("/new", "/feed.atom"),
        ("/t/rust", "/t/rust/feed.atom"),
        ("/u/bob", "/u/bob/feed.atom"),
    ] {
        let (s, body) = app.get(page).await;
        assert_eq!(s, Status::Ok, "{page}");
        // Tera escapes `/` in attributes (`&#x2F;`); a browser reads it back.
        let head = body[..body.find("</head>").unwrap()].replace("&#x2F;", "/");
        let links: Vec<&str> = head
            .split("<link ")
            .skip(1)
            .map(|l| &l[..l.find('>').unwrap()])
            .filter(|l| l.contains("rel=\"alternate\" type=\"application/atom+xml\""))
            .collect();
        assert_eq!(links.len(), 1, "{page}: {links:?}");
        assert!(
            links[0].contains(&format!("href=\"{href}\"")),
            "{page}: {links:?}"
        );
    }
}

async fn a_feed_holds_the_newest_fifty(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 1..=55 {
        app.question(question(&format!("Question number {i}")))
            .await;
    }
    let feed = atom(&app, "/feed.atom").await;
    assert_eq!(feed.entries.len(), 50);
    assert_eq!(feed.entries[0].title.value, "Question number 55");
    assert_eq!(feed.entries[49].title.value, "Question number 6");
}

async fn robots_txt_names_the_sitemap(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/robots.txt").dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(
        r.headers().get_one("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    let body = r.into_string().await.unwrap();
    assert!(body.starts_with("User-agent: *\n"), "{body}");
    for line in [
        "Disallow: /admin",
        "Disallow: /settings",
        "Disallow: /login",
        "Disallow: /signup",
        "Disallow: /auth/",
        "Disallow: /api/",
        "Disallow: /q/*/vote",
        "Sitemap: http://beebeta.test/sitemap.xml",
    ] {
        assert!(body.lines().any(|l| l == line), "{line} in\n{body}");
    }
    assert!(
        !body
            .lines()
            .any(|l| l == "Disallow: /" || l == "Disallow: /q/"),
        "questions stay crawlable"
    );
}

/// The `<loc>`s of a sitemap or sitemap index (asserting its root, namespace and 200).
async fn locs(app: &TestApp, uri: &str, root: &str) -> Vec<String> {
    let r = app.client.get(uri.to_string()).dispatch().await;
    assert_eq!(r.status(), Status::Ok, "{uri}");
    assert_eq!(
        r.headers().get_one("Content-Type"),
        Some("application/xml; charset=utf-8")
    );
    let body = r.into_string().await.unwrap();
    let doc = roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{uri}: {e}\n{body}"));
    let top = doc.root_element();
    assert_eq!(top.tag_name().name(), root);
    assert_eq!(top.tag_name().namespace(), Some(SITEMAP_NS));
    let item = if root == "urlset" { "url" } else { "sitemap" };
    top.children()
        .filter(|n| n.is_element())
        .map(|n| {
            assert_eq!(n.tag_name().name(), item);
            assert_eq!(n.tag_name().namespace(), Some(SITEMAP_NS));
            if let Some(m) = n
                .children()
                .find(|c| c.has_tag_name((SITEMAP_NS, "lastmod")))
            {
                let t = m.text().unwrap();
                assert!(
                    chrono::DateTime::parse_from_rfc3339(t).is_ok(),
                    "a W3C date: {t}"
                );
            }
            n.children()
                .find(|c| c.has_tag_name((SITEMAP_NS, "loc")))
                .and_then(|c| c.text())
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn small_pages(b: Backend) -> TestApp {
    TestApp::with(b, |f| f.merge(("sitemap_page_size", 3))).await
}

async fn sitemaps_page_over_id_ranges(b: Backend) {
    let app = small_pages(b).await;
    let mut ids = Vec::new();
    for i in 1..=8 {
        let tags: &[&str] = if i == 8 { &["c#", "c++"] } else { &["colours"] };
        ids.push(
            app.question(question(&format!("Question {i}")).tags(tags))
                .await,
        );
    }
    hide(&app, ids[1]).await;
    delete(&app, ids[4]).await;

    let index = locs(&app, "/sitemap.xml", "sitemapindex").await;
    assert_eq!(
        index,
        [
            format!("{BASE}/sitemaps/questions-1.xml"),
            format!("{BASE}/sitemaps/questions-2.xml"),
            format!("{BASE}/sitemaps/questions-3.xml"),
            format!("{BASE}/sitemaps/tags-1.xml"),
        ]
    );
    let mut listed = Vec::new();
    for page in 1..=3 {
        let found = locs(&app, &format!("/sitemaps/questions-{page}.xml"), "urlset").await;
        assert!(!found.is_empty() && found.len() <= 3);
        listed.extend(found);
    }
    let mut expected = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if i != 1 && i != 4 {
            expected.push(format!("{BASE}{}", app.path(*id).await));
        }
    }
    assert_eq!(listed, expected, "every listed question once, in id order");
    // Tags with listed questions; `#` escaped in the URL.
    let tags = locs(&app, "/sitemaps/tags-1.xml", "urlset").await;
    assert_eq!(
        tags,
        [
            format!("{BASE}/t/colours"),
            format!("{BASE}/t/c%23"),
            format!("{BASE}/t/c++"),
        ]
    );

    // Validators and 304 on the pages too.
    let r = app.client.get("/sitemaps/questions-1.xml").dispatch().await;
    let etag = r.headers().get_one("ETag").unwrap().to_string();
    assert!(r.headers().get_one("Last-Modified").is_some());
    let r = app
        .client
        .get("/sitemaps/questions-1.xml")
        .header(Header::new("If-None-Match", etag))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::NotModified);
}

async fn sitemaps_follow_hides_and_refuse_other_pages(b: Backend) {
    let app = small_pages(b).await;
    let mut ids = Vec::new();
    for i in 1..=4 {
        ids.push(app.question(question(&format!("Question {i}"))).await);
    }
    let first = format!("{BASE}{}", app.path(ids[0]).await);
    assert!(
        locs(&app, "/sitemaps/questions-1.xml", "urlset")
            .await
            .contains(&first)
    );
    // Hiding drops the question's cached chunk (as the moderation service does).
    hide(&app, ids[0]).await;
    reading::question_changed(&app.state().cache, ids[0]).await;
    let now = locs(&app, "/sitemaps/questions-1.xml", "urlset").await;
    assert_eq!(now.len(), 2);
    assert!(!now.contains(&first));

    // Page 2 holds only question 4; once it is deleted, page 2 lists nothing: 404.
    delete(&app, ids[3]).await;
    reading::question_changed(&app.state().cache, ids[3]).await;
    for uri in [
        "/sitemaps/questions-2.xml",
        "/sitemaps/questions-3.xml",
        "/sitemaps/questions-0.xml",
        "/sitemaps/questions-01.xml",
        "/sitemaps/questions-99999999999999999.xml",
        "/sitemaps/questions-x.xml",
        "/sitemaps/users-1.xml",
        "/sitemaps/tags-2.xml",
        "/sitemaps/",
    ] {
        let (s, _) = app.get(uri).await;
        assert_eq!(s, Status::NotFound, "{uri}");
    }
}
