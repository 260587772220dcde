//! What search engines read: `/robots.txt`, the sitemap index `/sitemap.xml` and its pages
//! `/sitemaps/questions-<n>.xml` and `/sitemaps/tags-<n>.xml` (built and cached by
//! `services::sitemaps`). A page that lists nothing, or a name that is no page, is a 404.

use rocket::http::ContentType;
use rocket::{get, routes};

use crate::error::{AppError, AppResult};
use crate::models::sitemap::SitemapKind;
use crate::routes::documents::Cached;
use crate::services::document::Document;
use crate::services::sitemaps::{self, Site};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![robots, index, page]
}

/// How long clients and shared caches may keep a sitemap (seconds).
const MAX_AGE: u32 = 300;

/// Paths no crawler should fetch: the admin area, settings, logging in and signing up, account
/// links, the forms and actions behind a question, and the API (its reads are the pages' data;
/// its writes are `PUT`/`POST`/`DELETE`).
const DISALLOWED: &[&str] = &[
    "/admin",
    "/settings",
    "/login",
    "/logout",
    "/signup",
    "/auth/",
    "/confirm",
    "/reset",
    "/verify",
    "/welcome",
    "/ask",
    "/uploads",
    "/metrics",
    "/bench/",
    "/api/",
    "/q/*/edit",
    "/q/*/vote",
    "/q/*/withdraw",
    "/q/*/close",
    "/q/*/delete",
    "/q/*/live",
];

/// The text of `/robots.txt` for the site at `base`.
pub fn robots_txt(base: &str) -> String {
    let mut out = String::from("User-agent: *\n");
    for path in DISALLOWED {
        out.push_str(&format!("Disallow: {path}\n"));
    }
    out.push_str(&format!(
        "\nSitemap: {}/sitemap.xml\n",
        base.trim_end_matches('/')
    ));
    out
}

#[get("/robots.txt")]
fn robots(app: &AppState) -> Cached {
    Cached {
        doc: Document::new(robots_txt(&app.config.site.public_url), None),
        content_type: ContentType::Plain,
        max_age: 3600,
    }
}

fn site(app: &AppState) -> Site {
    Site::new(
        &app.config.site.public_url,
        app.config.site.sitemap_page_size,
    )
}

fn xml(doc: Document) -> Cached {
    Cached {
        doc,
        content_type: ContentType::new("application", "xml").with_params(("charset", "utf-8")),
        max_age: MAX_AGE,
    }
}

#[get("/sitemap.xml")]
async fn index(app: &AppState) -> AppResult<Cached> {
    Ok(xml(sitemaps::index(&app.db, &app.cache, site(app)).await?))
}

/// `questions-<n>.xml` or `tags-<n>.xml`, `n` a page number as the index writes it.
fn parse_page(file: &str) -> Option<(SitemapKind, i64)> {
    let stem = file.strip_suffix(".xml")?;
    let (kind, n) = stem.rsplit_once('-')?;
    let kind = SitemapKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
    let canonical = !n.is_empty()
        && n.len() <= 18
        && n.bytes().all(|b| b.is_ascii_digit())
        && !n.starts_with('0');
    canonical
        .then(|| n.parse().ok())
        .flatten()
        .map(|n| (kind, n))
}

#[get("/sitemaps/<file>")]
async fn page(app: &AppState, file: &str) -> AppResult<Cached> {
    let no_such =
        || AppError::NotFound("There is no such sitemap; /sitemap.xml lists them.".into());
    let (kind, n) = parse_page(file).ok_or_else(no_such)?;
    sitemaps::page(&app.db, &app.cache, site(app), kind, n)
        .await?
        .map(xml)
        .ok_or_else(no_such)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names() {
        assert_eq!(
            parse_page("questions-1.xml"),
            Some((SitemapKind::Questions, 1))
        );
        assert_eq!(parse_page("tags-20.xml"), Some((SitemapKind::Tags, 20)));
        for bad in [
            "questions-0.xml",
            "questions-01.xml",
            "questions-.xml",
            "questions-1",
            "questions-x.xml",
            "users-1.xml",
            "questions-99999999999999999999.xml",
            "questions--1.xml",
        ] {
            assert_eq!(parse_page(bad), None, "{bad}");
        }
    }
}
