//! The newest questions of the site, of a tag or of an author, for the Atom feeds: one query for
//! the questions (newest id first, walking the primary key, `question_tags (tag_id,
//! question_id)` or the author's index backwards) and one for their tags.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{question_tags, questions, users};
use crate::models::question::visible;
use crate::models::tag;

/// Whose questions a feed lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedSource {
    /// Every listed question.
    Site,
    /// Questions carrying this tag id.
    Tag(i64),
    /// Questions asked by this user id.
    Author(i64),
}

/// A question as a feed entry shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedItem {
    /// Question id.
    pub id: i64,
    /// Its URL slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Longer text, if any.
    pub description: Option<String>,
    /// The author's username (`None`: no account).
    pub author: Option<String>,
    /// When it was asked.
    pub created_at: NaiveDateTime,
    /// Its last change.
    pub updated_at: NaiveDateTime,
    /// Its tags, alphabetically.
    pub tags: Vec<String>,
}

type ItemRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

/// The `limit` newest listed questions (not hidden, not deleted) of `source`, newest first.
/// "Newest" is the highest id: the order in which questions were asked.
pub fn newest(
    conn: &mut AnyConnection,
    source: FeedSource,
    limit: i64,
) -> QueryResult<Vec<FeedItem>> {
    let mut query = questions::table
        .left_join(users::table)
        .filter(visible!())
        .select((
            questions::id,
            questions::slug,
            questions::title,
            questions::description,
            users::username.nullable(),
            questions::created_at,
            questions::updated_at,
        ))
        .order(questions::id.desc())
        .limit(limit)
        .into_boxed();
    query = match source {
        FeedSource::Site => query,
        FeedSource::Tag(tag_id) => query.filter(
            questions::id.eq_any(
                question_tags::table
                    .filter(question_tags::tag_id.eq(tag_id))
                    .select(question_tags::question_id),
            ),
        ),
        FeedSource::Author(user_id) => query.filter(questions::author_id.eq(user_id)),
    };
    let rows: Vec<ItemRow> = query.load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut tags = tag::names_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, slug, title, description, author, created_at, updated_at)| FeedItem {
                tags: tags.remove(&id).unwrap_or_default(),
                id,
                slug,
                title,
                description,
                author,
                created_at,
                updated_at,
            },
        )
        .collect())
}
