//! Static assets (hashed names, caching, CDN base URL) and response compression.

use std::io::Read;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    pages_link_hashed_assets,
    unhashed_paths_have_a_short_cache,
    stale_hashes_are_not_found,
    assets_are_precompressed,
    big_pages_are_gzipped,
    small_or_unaccepted_responses_are_not_compressed,
    cdn_base_url_in_pages_and_csp,
    compression_can_be_turned_off,
);

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn gzip() -> Header<'static> {
    Header::new("Accept-Encoding", "gzip, deflate, br")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

fn header(r: &LocalResponse<'_>, name: &str) -> Option<String> {
    let values: Vec<&str> = r.headers().get(name).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The first `<prefix>...<suffix>` URL in `html` whose middle is a 10-hex-digit hash.
fn hashed_url(html: &str, prefix: &str, suffix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in the page"));
    let rest = &html[start + prefix.len()..];
    let end = rest.find('"').expect("a closing quote");
    let (hash, tail) = rest[..end].split_at(10);
    assert!(
        hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "hashed name: {}",
        &rest[..end]
    );
    assert_eq!(tail, suffix);
    format!("{prefix}{hash}{suffix}")
}

async fn pages_link_hashed_assets(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, html) = app.get("/").await;
    assert_eq!(s, Status::Ok);
    let css = hashed_url(&html, "/static/css/site.", ".css");
    hashed_url(&html, "/static/js/vote.", ".js");
    hashed_url(&html, "/static/favicon.", ".svg");

    let r = app.client.get(css).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.content_type(), Some(ContentType::CSS));
    assert_eq!(header(&r, "Cache-Control").as_deref(), Some(IMMUTABLE));
    assert!(header(&r, "Content-Encoding").is_none());
    let body = r.into_bytes().await.unwrap();
    assert_eq!(body, std::fs::read("static/css/site.css").unwrap());

    // Pages themselves stay private.
    let r = app.client.get("/").dispatch().await;
    assert_eq!(
        header(&r, "Cache-Control").as_deref(),
        Some("private, no-cache")
    );
}

async fn unhashed_paths_have_a_short_cache(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/static/js/vote.js").dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.content_type(), Some(ContentType::JavaScript));
    assert_eq!(
        header(&r, "Cache-Control").as_deref(),
        Some("public, max-age=300")
    );
    let body = r.into_bytes().await.unwrap();
    assert_eq!(body, std::fs::read("static/js/vote.js").unwrap());
}

async fn stale_hashes_are_not_found(b: Backend) {
    let app = TestApp::new(b).await;
    for uri in [
        "/static/css/site.0123456789.css",
        "/static/css/missing.0123456789.css",
        "/static/css/missing.css",
        "/static/../Cargo.toml",
    ] {
        let r = app.client.get(uri).dispatch().await;
        assert_eq!(r.status(), Status::NotFound, "{uri}");
        // A 404 during a deploy must not stick in a CDN.
        assert_eq!(
            header(&r, "Cache-Control").as_deref(),
            Some("private, no-cache"),
            "{uri}"
        );
    }
}

async fn assets_are_precompressed(b: Backend) {
    let app = TestApp::new(b).await;
    let (_, html) = app.get("/").await;
    let js = hashed_url(&html, "/static/js/vote.", ".js");
    let original = std::fs::read("static/js/vote.js").unwrap();

    let r = app.client.get(js.clone()).header(gzip()).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(header(&r, "Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(header(&r, "Vary").as_deref(), Some("Accept-Encoding"));
    assert_eq!(header(&r, "Cache-Control").as_deref(), Some(IMMUTABLE));
    assert_eq!(r.content_type(), Some(ContentType::JavaScript));
    let zipped = r.into_bytes().await.unwrap();
    assert!(zipped.len() < original.len() / 2);
    assert_eq!(gunzip(&zipped), original);

    let r = app.client.get(js).dispatch().await;
    assert!(header(&r, "Content-Encoding").is_none());
    assert_eq!(header(&r, "Vary").as_deref(), Some("Accept-Encoding"));
    assert_eq!(r.into_bytes().await.unwrap(), original);
}

async fn big_pages_are_gzipped(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..15 {
        app.question(question(&format!(
            "Which colour do you like best, take {i}?"
        )))
        .await;
    }
    let (_, plain) = app.get("/").await;
    assert!(plain.len() > 8 * 1024, "a big page: {} bytes", plain.len());

    let r = app.client.get("/").header(gzip()).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(header(&r, "Content-Encoding").as_deref(), Some("gzip"));
    assert_eq!(header(&r, "Vary").as_deref(), Some("Accept-Encoding"));
    assert_eq!(r.content_type(), Some(ContentType::HTML));
    assert_eq!(
        header(&r, "Cache-Control").as_deref(),
        Some("private, no-cache")
    );
    let zipped = r.into_bytes().await.unwrap();
    assert!(zipped.len() < plain.len() / 3);
    assert_eq!(String::from_utf8(gunzip(&zipped)).unwrap(), plain);

    // JSON too.
    let r = app
        .client
        .get("/api/v1/questions?sort=new")
        .header(gzip())
        .dispatch()
        .await;
    assert_eq!(header(&r, "Content-Encoding").as_deref(), Some("gzip"));
    let json: serde_json::Value =
        serde_json::from_slice(&gunzip(&r.into_bytes().await.unwrap())).expect("JSON after gunzip");
    assert_eq!(json["items"].as_array().unwrap().len(), 15);
}

async fn small_or_unaccepted_responses_are_not_compressed(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/healthz").header(gzip()).dispatch().await;
    assert!(header(&r, "Content-Encoding").is_none());
    assert!(header(&r, "Vary").is_none());
    assert_eq!(r.into_string().await.unwrap(), "ok");

    let r = app
        .client
        .get("/api/v1/tags?prefix=zz")
        .header(gzip())
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    assert!(header(&r, "Content-Encoding").is_none());

    // A big page without Accept-Encoding (or with only codings we do not make) stays plain, but
    // says that it varies.
    for accept in [None, Some("br"), Some("gzip;q=0, identity")] {
        let mut req = app.client.get("/");
        if let Some(a) = accept {
            req = req.header(Header::new("Accept-Encoding", a));
        }
        let r = req.dispatch().await;
        assert!(header(&r, "Content-Encoding").is_none(), "{accept:?}");
        assert_eq!(
            header(&r, "Vary").as_deref(),
            Some("Accept-Encoding"),
            "{accept:?}"
        );
        assert!(r.into_string().await.unwrap().contains("</html>"));
    }

    // Images are not compressed.
    let r = app
        .client
        .get("/static/favicon.svg")
        .header(gzip())
        .dispatch()
        .await;
    assert_eq!(r.content_type(), Some(ContentType::SVG));
    assert!(
        header(&r, "Content-Encoding").is_none(),
        "the favicon is under 1 KB"
    );
}

async fn cdn_base_url_in_pages_and_csp(b: Backend) {
    let app = TestApp::with(b, |f| {
        f.merge(("static_url", "https://cdn.example.com/static/"))
            .merge(("media_url", "https://media.example.net/beebeta"))
    })
    .await;
    let r = app.client.get("/").dispatch().await;
    let csp = header(&r, "Content-Security-Policy").expect("a CSP");
    let img_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("img-src"))
        .unwrap();
    assert!(img_src.contains(" https://media.example.net"), "{csp}");
    // The older setting name still works.
    let old = TestApp::with(b, |f| {
        f.merge(("static_base_url", "https://old.example.com/static"))
    })
    .await;
    let (_, page) = old.get("/").await;
    assert!(page.contains("https://old.example.com/static/css/site."));
    let html = r.into_string().await.unwrap();
    hashed_url(&html, "https://cdn.example.com/static/css/site.", ".css");
    hashed_url(&html, "https://cdn.example.com/static/js/vote.", ".js");
    assert!(!html.contains("\"/static/"), "no local asset URLs left");
    for directive in ["script-src", "style-src", "img-src"] {
        let d = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with(directive))
            .unwrap_or_else(|| panic!("{directive} in {csp}"));
        assert!(d.contains("'self'"), "{d}");
        assert!(d.contains(" https://cdn.example.com"), "{d}");
    }
    assert!(csp.contains("connect-src 'self';"), "{csp}");

    // The app still serves the files the CDN pulls.
    let path = hashed_url(&html, "https://cdn.example.com/static/css/site.", ".css")
        .replace("https://cdn.example.com", "");
    let r = app.client.get(path).dispatch().await;
    assert_eq!(r.status(), Status::Ok);

    // Without a CDN, only 'self'.
    let app = TestApp::new(b).await;
    let r = app.client.get("/").dispatch().await;
    let csp = header(&r, "Content-Security-Policy").unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
}

async fn compression_can_be_turned_off(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("compress", false))).await;
    let r = app.client.get("/").header(gzip()).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert!(header(&r, "Content-Encoding").is_none());
    assert!(header(&r, "Vary").is_none());
    assert!(r.into_string().await.unwrap().contains("</html>"));

    // Precompressed assets cost nothing to serve, so they stay on.
    let (_, html) = app.get("/").await;
    let css = hashed_url(&html, "/static/css/site.", ".css");
    let r = app.client.get(css).header(gzip()).dispatch().await;
    assert_eq!(header(&r, "Content-Encoding").as_deref(), Some("gzip"));
}

/// Every `asset(path="...")` in the templates names a file in `static/`, and no template links a
/// static file by hand.
#[test]
fn templates_reference_existing_assets() {
    let source = beebeta::embedded::StaticSource::Dir("static".into());
    let assets = beebeta::assets::Assets::load(&source, "/static").unwrap();
    let mut seen = 0;
    let mut dirs = vec![std::path::PathBuf::from("templates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("\"/static/"),
                "{} links /static/ by hand; use asset(path=...)",
                path.display()
            );
            for part in text.split("asset(path=\"").skip(1) {
                let name = &part[..part.find('"').unwrap()];
                assert!(
                    assets.hashed(name).is_some(),
                    "{} uses asset(path=\"{name}\"), not in static/",
                    path.display()
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 5, "found {seen} asset references");
}
