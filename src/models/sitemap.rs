//! What the sitemaps list: listed questions and tags with questions, read by id range
//! (`WHERE id BETWEEN a AND b AND ...`: a range scan of the primary key, never the whole table;
//! SQLite's plan: `SEARCH questions USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{questions, tags};
use crate::domain::TagName;
use crate::models::question::{path_of, visible_by_id};

/// What a sitemap lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SitemapKind {
    /// Question pages (not hidden, not deleted).
    Questions,
    /// Tag pages (tags with at least one listed question).
    Tags,
}

impl SitemapKind {
    /// Both, in the order the sitemap index lists them.
    pub const ALL: [SitemapKind; 2] = [SitemapKind::Questions, SitemapKind::Tags];

    /// The name in sitemap file names (`questions-1.xml`) and cache keys.
    pub fn as_str(self) -> &'static str {
        match self {
            SitemapKind::Questions => "questions",
            SitemapKind::Tags => "tags",
        }
    }
}

/// One URL of a sitemap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SitemapEntry {
    /// The row's id (pages are id ranges).
    pub id: i64,
    /// The page's path on the site (`/q/12/slug`, `/t/rust`).
    pub path: String,
    /// When the page last changed, where known.
    pub lastmod: Option<NaiveDateTime>,
}

/// The largest id of `kind`'s table (0 when empty): how many id ranges there are.
pub fn max_id(conn: &mut AnyConnection, kind: SitemapKind) -> QueryResult<i64> {
    let max: Option<i64> = match kind {
        SitemapKind::Questions => questions::table
            .select(diesel::dsl::max(questions::id))
            .first(conn)?,
        SitemapKind::Tags => tags::table.select(diesel::dsl::max(tags::id)).first(conn)?,
    };
    Ok(max.unwrap_or(0))
}

/// Whether ids `lo..=hi` hold anything to list (reads at most one row of the range).
pub fn any_in(conn: &mut AnyConnection, kind: SitemapKind, lo: i64, hi: i64) -> QueryResult<bool> {
    let found: Option<i64> = match kind {
        SitemapKind::Questions => questions::table
            .filter(questions::id.between(lo, hi))
            .filter(visible_by_id())
            .select(questions::id)
            .order(questions::id.asc())
            .first(conn)
            .optional()?,
        SitemapKind::Tags => tags::table
            .filter(tags::id.between(lo, hi))
            .filter(tags::question_count.gt(0))
            .select(tags::id)
            .order(tags::id.asc())
            .first(conn)
            .optional()?,
    };
    Ok(found.is_some())
}

/// What to list of ids `lo..=hi`, by id.
pub fn entries(
    conn: &mut AnyConnection,
    kind: SitemapKind,
    lo: i64,
    hi: i64,
) -> QueryResult<Vec<SitemapEntry>> {
    match kind {
        SitemapKind::Questions => {
            let rows: Vec<(i64, String, NaiveDateTime)> = questions::table
                .filter(questions::id.between(lo, hi))
                .filter(visible_by_id())
                .select((questions::id, questions::slug, questions::updated_at))
                .order(questions::id.asc())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(id, slug, updated)| SitemapEntry {
                    id,
                    path: path_of(id, &slug),
                    lastmod: Some(updated),
                })
                .collect())
        }
        SitemapKind::Tags => {
            let rows: Vec<(i64, String)> = tags::table
                .filter(tags::id.between(lo, hi))
                .filter(tags::question_count.gt(0))
                .select((tags::id, tags::name))
                .order(tags::id.asc())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(|(id, name)| SitemapEntry {
                    id,
                    path: TagName::path_of(&name),
                    lastmod: None,
                })
                .collect())
        }
    }
}
