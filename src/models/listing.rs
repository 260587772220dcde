//! Question lists: hot, new, top, by tag, search — one query for the page plus one for its tags.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{question_tags, questions, users};
use crate::domain::{Page, SearchQuery, Sort, Window};
use crate::models::question::{QuestionRow, visible};
use crate::models::tag;

/// What to list.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Order.
    pub sort: Sort,
    /// Creation window (for top; also narrows the others when given).
    pub window: Window,
    /// Only questions with this tag id.
    pub tag_id: Option<i64>,
    /// Only questions whose title or description contains this.
    pub search: Option<SearchQuery>,
    /// Which page.
    pub page: Page,
}

/// A question in a list, with its author and tags.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QuestionSummary {
    /// The question.
    pub question: QuestionRow,
    /// The author's username.
    pub author: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its image, if any.
    #[serde(default)]
    pub image: Option<crate::media::StoredImage>,
}

/// One page of a list.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ListPage {
    /// The questions on this page.
    pub items: Vec<QuestionSummary>,
    /// Whether a next page exists.
    pub has_more: bool,
}

/// Loads one page of questions.
pub fn list(conn: &mut AnyConnection, q: &ListQuery, now: NaiveDateTime) -> QueryResult<ListPage> {
    let mut query = questions::table
        .left_join(users::table)
        .filter(visible!())
        .select((QuestionRow::as_select(), users::username.nullable()))
        .into_boxed();
    if let Some(since) = q.window.since(now) {
        query = query.filter(questions::created_at.ge(since));
    }
    if let Some(tag_id) = q.tag_id {
        query = query.filter(
            questions::id.eq_any(
                question_tags::table
                    .filter(question_tags::tag_id.eq(tag_id))
                    .select(question_tags::question_id),
            ),
        );
    }
    if let Some(search) = &q.search {
        let pattern = search.like_pattern();
        query = query.filter(
            questions::title
                .like(pattern.clone())
                .escape('\\')
                .or(questions::description.like(pattern).escape('\\')),
        );
    }
    query = match q.sort {
        Sort::Hot => query.order((questions::hot_rank.desc(), questions::id.desc())),
        Sort::New => query.order((questions::created_at.desc(), questions::id.desc())),
        Sort::Top => query.order((questions::vote_count.desc(), questions::id.desc())),
    };
    let mut rows: Vec<(QuestionRow, Option<String>)> = query
        .limit(Page::SIZE + 1)
        .offset(q.page.offset())
        .load(conn)?;
    let has_more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    summaries(conn, rows, &ids, has_more)
}

/// A user's visible questions, newest first.
pub fn by_author(conn: &mut AnyConnection, author_id: i64, page: Page) -> QueryResult<ListPage> {
    let mut rows: Vec<(QuestionRow, Option<String>)> = questions::table
        .left_join(users::table)
        .filter(visible!())
        .filter(questions::author_id.eq(author_id))
        .order((questions::created_at.desc(), questions::id.desc()))
        .select((QuestionRow::as_select(), users::username.nullable()))
        .limit(Page::SIZE + 1)
        .offset(page.offset())
        .load(conn)?;
    let has_more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    summaries(conn, rows, &ids, has_more)
}

/// A user's number of visible questions and the ballots they received.
pub fn author_stats(conn: &mut AnyConnection, author_id: i64) -> QueryResult<(i64, i64)> {
    let rows: Vec<i64> = questions::table
        .filter(visible!())
        .filter(questions::author_id.eq(author_id))
        .select(questions::vote_count)
        .load(conn)?;
    Ok((rows.len() as i64, rows.iter().sum()))
}

/// List items from question rows: their tags and images in one query each.
fn summaries(
    conn: &mut AnyConnection,
    rows: Vec<(QuestionRow, Option<String>)>,
    ids: &[i64],
    has_more: bool,
) -> QueryResult<ListPage> {
    let mut tags = tag::names_for(conn, ids)?;
    let image_ids: Vec<String> = rows
        .iter()
        .filter_map(|(q, _)| q.image_id.clone())
        .collect();
    let images = crate::models::media::find_many(conn, &image_ids)?;
    let items = rows
        .into_iter()
        .map(|(question, author)| {
            let tags = tags.remove(&question.id).unwrap_or_default();
            let image = question
                .image_id
                .as_ref()
                .and_then(|id| images.get(id))
                .cloned();
            QuestionSummary {
                question,
                author,
                tags,
                image,
            }
        })
        .collect();
    Ok(ListPage { items, has_more })
}
