//! Atom 1.0 feeds of new questions: the site's, a tag's, a user's. Each is built once per list
//! generation (`f:<gen>:site`, `f:<gen>:t:<tag>`, `f:<gen>:u:<username>`, fresh
//! [`FEED_FRESH`], kept [`FEED_STALE`]), so a question asked, edited, closed, hidden or deleted
//! shows in the next request's feed: those writes start a new generation
//! (`reading::lists_changed` / `question_changed`). The stored value is the finished document
//! with its validator (ETag) and date (Last-Modified), so a conditional request reads one cache
//! entry and nothing else. An unknown tag or user is stored too (`None`), so guessing names costs
//! one lookup per name and generation.

use std::time::Duration;

use atom_syndication::{Category, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::TagName;
use crate::error::{AppError, AppResult};
use crate::models::feed::{self, FeedItem, FeedSource};
use crate::models::{tag, user};
use crate::services::document::Document;
use crate::services::{reading, stale};

/// Entries in a feed: the newest questions.
pub const FEED_ENTRIES: i64 = 50;
const FEED_FRESH: Duration = Duration::from_secs(60);
const FEED_STALE: Duration = Duration::from_secs(600);

/// Which feed.
#[derive(Debug, Clone)]
pub enum FeedOf {
    /// The whole site (`/feed.atom`).
    Site,
    /// A tag's (`/t/<tag>/feed.atom`).
    Tag(TagName),
    /// A user's (`/u/<name>/feed.atom`), by the name in the URL.
    User(String),
}

impl FeedOf {
    fn key_part(&self) -> String {
        match self {
            FeedOf::Site => "site".into(),
            FeedOf::Tag(t) => format!("t:{}", t.as_str()),
            FeedOf::User(u) => format!("u:{u}"),
        }
    }
}

/// The feed `of`, from the cache (`None`: no such tag or user). `base` is the site's public URL.
pub async fn feed(db: &Db, cache: &Cache, base: &str, of: FeedOf) -> AppResult<Option<Document>> {
    let (db, cache, base) = (
        db.clone(),
        cache.clone(),
        base.trim_end_matches('/').to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let key = format!("f:{}:{}", reading::generation(&cache), of.key_part());
        stale::kept(&cache, &key, FEED_FRESH, FEED_STALE, || {
            db.run_blocking(|c| Ok(build(c, &base, &of)?))
        })
    })
    .await
    .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}

/// Looks up the feed's subject and renders its entries.
fn build(
    conn: &mut crate::db::AnyConnection,
    base: &str,
    of: &FeedOf,
) -> diesel::QueryResult<Option<Document>> {
    let (source, meta) = match of {
        FeedOf::Site => (
            FeedSource::Site,
            Meta {
                title: "Beebeta: new questions".into(),
                page: "/new".into(),
                feed: "/feed.atom".into(),
            },
        ),
        FeedOf::Tag(name) => {
            let Some(row) = tag::find(conn, name)? else {
                return Ok(None);
            };
            let page = TagName::path_of(&row.name);
            (
                FeedSource::Tag(row.id),
                Meta {
                    title: format!("Beebeta: questions tagged {}", row.name),
                    feed: format!("{page}/feed.atom"),
                    page,
                },
            )
        }
        FeedOf::User(name) => {
            let Some(u) = user::find_by_username(conn, name)? else {
                return Ok(None);
            };
            let page = format!("/u/{}", u.username);
            (
                FeedSource::Author(u.id),
                Meta {
                    title: format!("Beebeta: questions by {}", u.username),
                    feed: format!("{page}/feed.atom"),
                    page,
                },
            )
        }
    };
    let items = feed::newest(conn, source, FEED_ENTRIES)?;
    Ok(Some(render(base, &meta, &items)))
}

/// A feed's title and where it and its HTML page are.
struct Meta {
    title: String,
    page: String,
    feed: String,
}

fn fixed(t: NaiveDateTime) -> FixedDateTime {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc).fixed_offset()
}

fn link(href: String, rel: &str, mime: &str) -> Link {
    Link {
        href,
        rel: rel.into(),
        mime_type: Some(mime.into()),
        ..Link::default()
    }
}

/// The Atom document (the crate escapes every text). The feed's `updated` is its newest entry's;
/// an empty feed says 1970, so that its validators stay the same until something is listed.
fn render(base: &str, meta: &Meta, items: &[FeedItem]) -> Document {
    let updated = items.iter().map(|i| i.updated_at.max(i.created_at)).max();
    let entries = items
        .iter()
        .map(|i| {
            let url = format!("{base}{}", crate::models::question::path_of(i.id, &i.slug));
            Entry {
                title: Text::plain(i.title.as_str()),
                // The id stays when the title (so the slug) changes.
                id: format!("{base}/q/{}", i.id),
                updated: fixed(i.updated_at.max(i.created_at)),
                published: Some(fixed(i.created_at)),
                authors: vec![Person {
                    name: i.author.clone().unwrap_or_else(|| "Beebeta".into()),
                    uri: i.author.as_ref().map(|a| format!("{base}/u/{a}")),
                    ..Person::default()
                }],
                links: vec![link(url, "alternate", "text/html")],
                summary: i
                    .description
                    .as_deref()
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(Text::plain),
                categories: i
                    .tags
                    .iter()
                    .map(|t| Category {
                        term: t.clone(),
                        ..Category::default()
                    })
                    .collect(),
                ..Entry::default()
            }
        })
        .collect();
    let feed_url = format!("{base}{}", meta.feed);
    let doc = Feed {
        title: Text::plain(meta.title.as_str()),
        id: feed_url.clone(),
        updated: updated.map(fixed).unwrap_or_default(),
        links: vec![
            link(feed_url, "self", "application/atom+xml"),
            link(format!("{base}{}", meta.page), "alternate", "text/html"),
        ],
        generator: Some(Generator {
            value: "Beebeta".into(),
            ..Generator::default()
        }),
        entries,
        ..Feed::default()
    };
    Document::new(doc.to_string(), updated.map(|u| u.and_utc().timestamp()))
}
