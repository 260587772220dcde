//! Moderation reads and writes: the admin lists of questions and users, hiding questions
//! (keeping tag counts to visible questions) and banning users (ending their sessions).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{question_tags, questions, sessions, tags, users};
use crate::domain::{Page, SearchQuery};

/// A question as the moderation list shows it.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct ModQuestion {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// Author's username.
    pub author: Option<String>,
    /// Ballots.
    pub vote_count: i64,
    /// Asked at.
    pub created_at: NaiveDateTime,
    /// Hidden at.
    pub hidden_at: Option<NaiveDateTime>,
    /// Deleted by its author at.
    pub deleted_at: Option<NaiveDateTime>,
}

/// A user as the moderation list shows them.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct ModUser {
    /// Id.
    pub id: i64,
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// `user` or `admin`.
    pub role: String,
    /// Signed up at.
    pub created_at: NaiveDateTime,
    /// Banned at.
    pub banned_at: Option<NaiveDateTime>,
}

/// A question as the moderation list shows it, whatever its state.
pub fn question(conn: &mut AnyConnection, id: i64) -> QueryResult<ModQuestion> {
    questions::table
        .left_join(users::table)
        .filter(questions::id.eq(id))
        .select((
            questions::id,
            questions::title,
            questions::slug,
            users::username.nullable(),
            questions::vote_count,
            questions::created_at,
            questions::hidden_at,
            questions::deleted_at,
        ))
        .first(conn)
}

/// A question's title, whatever its state (hidden and deleted ones too).
pub fn question_title(conn: &mut AnyConnection, id: i64) -> QueryResult<String> {
    questions::table
        .find(id)
        .select(questions::title)
        .first(conn)
}

/// Questions newest first, optionally only those whose title contains `search`.
pub fn questions(
    conn: &mut AnyConnection,
    search: Option<&SearchQuery>,
    page: Page,
) -> QueryResult<(Vec<ModQuestion>, bool)> {
    let mut query = questions::table
        .left_join(users::table)
        .select((
            questions::id,
            questions::title,
            questions::slug,
            users::username.nullable(),
            questions::vote_count,
            questions::created_at,
            questions::hidden_at,
            questions::deleted_at,
        ))
        .order((questions::created_at.desc(), questions::id.desc()))
        .into_boxed();
    if let Some(s) = search {
        query = query.filter(questions::title.like(s.like_pattern()).escape('\\'));
    }
    let mut rows: Vec<ModQuestion> = query
        .limit(Page::SIZE + 1)
        .offset(page.offset())
        .load(conn)?;
    let more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    Ok((rows, more))
}

/// Users newest first, optionally only those whose username or email contains `search`.
pub fn users(
    conn: &mut AnyConnection,
    search: Option<&SearchQuery>,
    page: Page,
) -> QueryResult<(Vec<ModUser>, bool)> {
    let mut query = users::table
        .select((
            users::id,
            users::username,
            users::email,
            users::role,
            users::created_at,
            users::banned_at,
        ))
        .order((users::created_at.desc(), users::id.desc()))
        .into_boxed();
    if let Some(s) = search {
        let p = s.like_pattern();
        query = query.filter(
            users::username
                .like(p.clone())
                .escape('\\')
                .or(users::email.like(p).escape('\\')),
        );
    }
    let mut rows: Vec<ModUser> = query
        .limit(Page::SIZE + 1)
        .offset(page.offset())
        .load(conn)?;
    let more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    Ok((rows, more))
}

/// Hides (`hide`) or shows a question; `NotFound` for an unknown id. Returns whether its state
/// changed. Tag counts follow: they count questions that are neither hidden nor deleted.
pub fn set_hidden(
    conn: &mut AnyConnection,
    id: i64,
    hide: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let (hidden_at, deleted_at): (Option<NaiveDateTime>, Option<NaiveDateTime>) = questions::table
        .find(id)
        .select((questions::hidden_at, questions::deleted_at))
        .first(conn)?;
    if hidden_at.is_some() == hide {
        return Ok(false);
    }
    diesel::update(questions::table.find(id))
        .set(questions::hidden_at.eq(hide.then_some(now)))
        .execute(conn)?;
    if deleted_at.is_none() {
        let tag_ids: Vec<i64> = question_tags::table
            .filter(question_tags::question_id.eq(id))
            .select(question_tags::tag_id)
            .load(conn)?;
        let delta: i64 = if hide { -1 } else { 1 };
        diesel::update(tags::table.filter(tags::id.eq_any(&tag_ids)))
            .set(tags::question_count.eq(tags::question_count + delta))
            .execute(conn)?;
    }
    Ok(true)
}

/// The ids of a user's questions that are currently listed (neither hidden nor deleted).
pub fn visible_questions_of(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    questions::table
        .filter(questions::author_id.eq(user_id))
        .filter(questions::hidden_at.is_null())
        .filter(questions::deleted_at.is_null())
        .select(questions::id)
        .load(conn)
}

/// Bans (`ban`) or unbans a user; `NotFound` for an unknown id. A ban also ends every session
/// of the user. Returns whether the state changed.
pub fn set_banned(
    conn: &mut AnyConnection,
    id: i64,
    ban: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let banned_at: Option<NaiveDateTime> =
        users::table.find(id).select(users::banned_at).first(conn)?;
    if ban {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
    }
    if banned_at.is_some() == ban {
        return Ok(false);
    }
    diesel::update(users::table.find(id))
        .set(users::banned_at.eq(ban.then_some(now)))
        .execute(conn)?;
    Ok(true)
}
