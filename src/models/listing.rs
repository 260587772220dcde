//! Question lists: hot, new, top, by tag, search results — one query for the page plus one for
//! its tags.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{question_tags, questions, users};
use crate::domain::{Page, SearchTerms, Sort, Window};
use crate::models::question::{QuestionRow, visible};
use crate::models::search::{self, SearchFilter};
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
    pub image: Option<crate::models::media::StoredImage>,
    /// A ranked question whose results everyone may see: its instant-runoff winner.
    #[serde(default)]
    pub winner: Option<crate::models::ranking::Winner>,
}

/// One page of a list.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ListView {
    /// The questions on this page.
    pub items: Vec<QuestionSummary>,
    /// Whether a next page exists.
    pub has_more: bool,
}

/// Loads one page of questions.
pub fn list(conn: &mut AnyConnection, q: &ListQuery, now: NaiveDateTime) -> QueryResult<ListView> {
    #[cfg(feature = "mysql")]
    if let Some(tag_id) = q.tag_id
        && matches!(conn, AnyConnection::Mysql(_))
        && big_tag(conn, tag_id)?
    {
        return list_big_tag(conn, q, tag_id, now);
    }
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
    query = match q.sort {
        Sort::Hot => query.order((questions::hot_rank.desc(), questions::id.desc())),
        Sort::New => query.order((questions::created_at.desc(), questions::id.desc())),
        Sort::Top => query.order((questions::vote_count.desc(), questions::id.desc())),
    };
    let rows: Vec<(QuestionRow, Option<String>)> = query
        .limit(Page::SIZE + 1)
        .offset(q.page.offset())
        .load(conn)?;
    page_of(conn, rows)
}

/// Whether a tag is big enough that walking the list's sort index and keeping the tag's
/// questions beats reading all of them and sorting: with `n` tagged questions out of about `N`,
/// the walk reads about `N × 21 / n` index entries, the sort `n` rows, so the walk wins once
/// `n² > 21 N` (N taken from the largest id: no count over the table). At 1M questions that is
/// 4,600 questions; a 34,000-question tag's hot list went from 1.1 s to a few ms.
#[cfg(feature = "mysql")]
fn big_tag(conn: &mut AnyConnection, tag_id: i64) -> QueryResult<bool> {
    use crate::db::schema::tags;
    let n: Option<i64> = tags::table
        .find(tag_id)
        .select(tags::question_count)
        .first(conn)
        .optional()?;
    let Some(n) = n.filter(|n| *n > 0) else {
        return Ok(false);
    };
    let max_id: Option<i64> = questions::table
        .select(diesel::dsl::max(questions::id))
        .first(conn)?;
    let total = max_id.unwrap_or(0).max(1);
    Ok((n as f64) * (n as f64) > (Page::SIZE + 1) as f64 * total as f64)
}

/// A big tag's page on MySQL/MariaDB: the ids come from walking the sort's index
/// (`FORCE INDEX`: MariaDB's planner otherwise reads every tagged question and sorts them),
/// keeping those with the tag; then the rows, as for any list.
#[cfg(feature = "mysql")]
fn list_big_tag(
    conn: &mut AnyConnection,
    q: &ListQuery,
    tag_id: i64,
    now: NaiveDateTime,
) -> QueryResult<ListView> {
    use diesel::sql_types::{BigInt, Timestamp};

    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let (index, order) = match q.sort {
        Sort::Hot => ("questions_hot", "q.hot_rank DESC, q.id DESC"),
        Sort::New => ("questions_visible_new", "q.created_at DESC, q.id DESC"),
        Sort::Top => ("questions_visible_top", "q.vote_count DESC, q.id DESC"),
    };
    let since = q.window.since(now);
    // Only fixed identifiers are formatted in; values are bound.
    let sql = format!(
        "SELECT q.id AS id FROM questions q FORCE INDEX ({index}) \
         WHERE q.hidden_at IS NULL AND q.deleted_at IS NULL{window} \
           AND EXISTS (SELECT 1 FROM question_tags t WHERE t.question_id = q.id AND t.tag_id = ?) \
         ORDER BY {order} LIMIT ? OFFSET ?",
        window = if since.is_some() {
            " AND q.created_at >= ?"
        } else {
            ""
        },
    );
    let mut query = diesel::sql_query(sql).into_boxed::<<AnyConnection as Connection>::Backend>();
    if let Some(since) = since {
        query = query.bind::<Timestamp, _>(since);
    }
    let ids: Vec<i64> = query
        .bind::<BigInt, _>(tag_id)
        .bind::<BigInt, _>(Page::SIZE + 1)
        .bind::<BigInt, _>(q.page.offset())
        .load::<Id>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let rows = rows_in_order(conn, &ids)?;
    page_of(conn, rows)
}

/// One page of search results (`models::search` finds the ids; the rows are read as for any
/// list).
pub fn search(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    filter: &SearchFilter,
    now: NaiveDateTime,
) -> QueryResult<ListView> {
    let ids = search::find(conn, terms, filter, now)?;
    let rows = rows_in_order(conn, &ids)?;
    page_of(conn, rows)
}

/// The rows of these questions with their authors, in the order of `ids`.
fn rows_in_order(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<Vec<(QuestionRow, Option<String>)>> {
    let mut rows: Vec<(QuestionRow, Option<String>)> = questions::table
        .left_join(users::table)
        .filter(questions::id.eq_any(ids))
        .select((QuestionRow::as_select(), users::username.nullable()))
        .load(conn)?;
    let position: std::collections::HashMap<i64, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.sort_by_key(|(r, _)| position.get(&r.id).copied().unwrap_or(usize::MAX));
    Ok(rows)
}

/// A user's visible questions, newest first.
pub fn by_author(conn: &mut AnyConnection, author_id: i64, page: Page) -> QueryResult<ListView> {
    let rows: Vec<(QuestionRow, Option<String>)> = questions::table
        .left_join(users::table)
        .filter(visible!())
        .filter(questions::author_id.eq(author_id))
        .order((questions::created_at.desc(), questions::id.desc()))
        .select((QuestionRow::as_select(), users::username.nullable()))
        .limit(Page::SIZE + 1)
        .offset(page.offset())
        .load(conn)?;
    page_of(conn, rows)
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
/// One page from up to `Page::SIZE + 1` rows (the extra one only says there is a next page).
fn page_of(
    conn: &mut AnyConnection,
    mut rows: Vec<(QuestionRow, Option<String>)>,
) -> QueryResult<ListView> {
    let has_more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let mut tags = tag::names_for(conn, &ids)?;
    let image_ids: Vec<String> = rows
        .iter()
        .filter_map(|(q, _)| q.image_id.clone())
        .collect();
    let images = crate::models::media::find_many(conn, &image_ids)?;
    // Ranked questions whose results anyone may see (list pages are the same for everyone).
    let now = crate::models::now();
    let ranked: Vec<i64> = rows
        .iter()
        .filter(|(q, _)| {
            q.kind() == crate::domain::Kind::Ranked
                && crate::domain::poll::results_visible(q.visibility(), false, q.status(now))
        })
        .map(|(q, _)| q.id)
        .collect();
    let mut winners = crate::models::ranking::winners(conn, &ranked)?;
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
                winner: winners.remove(&question.id),
                question,
                author,
                tags,
                image,
            }
        })
        .collect();
    Ok(ListView { items, has_more })
}
