//! The newest questions of the site, of a tag or of an author, for the Atom feeds: one query for
//! the questions (newest id first: a backward walk of the primary key or of `question_tags
//! (tag_id, question_id)` that stops after the page, or the author's few) and one for their tags.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{question_tags, questions, users};
use crate::models::question::visible_by_id;
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
    let columns = (
        questions::id,
        questions::slug,
        questions::title,
        questions::description,
        users::username.nullable(),
        questions::created_at,
        questions::updated_at,
    );
    let rows: Vec<ItemRow> = match source {
        // Walks `question_tags (tag_id, question_id)` backwards, each question by its key.
        FeedSource::Tag(tag_id) => question_tags::table
            .inner_join(questions::table.left_join(users::table))
            .filter(question_tags::tag_id.eq(tag_id))
            .filter(visible_by_id())
            .order(question_tags::question_id.desc())
            .select(columns)
            .limit(limit)
            .load(conn)?,
        // Walks the primary key backwards.
        FeedSource::Site => questions::table
            .left_join(users::table)
            .filter(visible_by_id())
            .order(questions::id.desc())
            .select(columns)
            .limit(limit)
            .load(conn)?,
        // One author's questions (`questions_author`), sorted.
        FeedSource::Author(user_id) => questions::table
            .left_join(users::table)
            .filter(questions::author_id.eq(user_id))
            .filter(visible_by_id())
            .order(questions::id.desc())
            .select(columns)
            .limit(limit)
            .load(conn)?,
    };
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
