//! Flags on questions: one per voter per question (the unique key `(question_id, voter)`),
//! open until an admin's decision (or a ban) resolves them; the admin queue's reads.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::AnyConnection;
use crate::db::schema::{flags, questions, users};
use crate::domain::{FlagResolution, Page};

/// A flag to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = flags)]
pub struct NewFlag<'a> {
    /// The flagged question.
    pub question_id: i64,
    /// Who flagged it: `u:<id>` or `c:<uuid>` (the voter key).
    pub voter: &'a str,
    /// Their account, if logged in.
    pub user_id: Option<i64>,
    /// `spam`, `abuse`, `misleading`, `duplicate` or `other`.
    pub reason: &'a str,
    /// Their words, if any.
    pub details: Option<&'a str>,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Stores a flag; `false` (nothing stored) when this voter already flagged the question.
pub fn insert(conn: &mut AnyConnection, flag: &NewFlag<'_>) -> QueryResult<bool> {
    match diesel::insert_into(flags::table).values(flag).execute(conn) {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether question `id` may be flagged: it exists and is listed (neither hidden nor deleted).
/// With `lock`, its row is locked first, so that concurrent trusted flags are counted one after
/// the other (InnoDB's reads after the lock see every earlier flag).
pub fn flaggable(conn: &mut AnyConnection, id: i64, lock: bool) -> QueryResult<bool> {
    if lock {
        diesel::update(questions::table.find(id))
            .set(questions::hidden_at.eq(questions::hidden_at))
            .execute(conn)?;
    }
    let state: Option<(Option<NaiveDateTime>, Option<NaiveDateTime>)> = questions::table
        .find(id)
        .select((questions::hidden_at, questions::deleted_at))
        .first(conn)
        .optional()?;
    Ok(matches!(state, Some((None, None))))
}

/// The distinct trusted accounts (a verified email, not banned) with an open flag on question
/// `id`.
pub fn trusted_flaggers(conn: &mut AnyConnection, id: i64) -> QueryResult<i64> {
    let mut ids: Vec<i64> = flags::table
        .inner_join(users::table)
        .filter(flags::question_id.eq(id))
        .filter(flags::resolved_at.is_null())
        .filter(users::email_verified_at.is_not_null())
        .filter(users::banned_at.is_null())
        .select(users::id)
        .load(conn)?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids.len() as i64)
}

/// Resolves the open flags of question `id`; returns how many.
pub fn resolve_open(
    conn: &mut AnyConnection,
    id: i64,
    resolution: FlagResolution,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        flags::table
            .filter(flags::question_id.eq(id))
            .filter(flags::resolved_at.is_null()),
    )
    .set((
        flags::resolved_at.eq(now),
        flags::resolution.eq(resolution.as_str()),
    ))
    .execute(conn)
}

/// Resolves the open flags of every question by `author`; returns how many.
pub fn resolve_open_of_author(
    conn: &mut AnyConnection,
    author: i64,
    resolution: FlagResolution,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let theirs = questions::table
        .filter(questions::author_id.eq(author))
        .select(questions::id);
    diesel::update(
        flags::table
            .filter(flags::question_id.eq_any(theirs))
            .filter(flags::resolved_at.is_null()),
    )
    .set((
        flags::resolved_at.eq(now),
        flags::resolution.eq(resolution.as_str()),
    ))
    .execute(conn)
}

/// A question in the admin queue: its open flags in all.
#[derive(Debug, Clone, Queryable)]
pub struct QueuedQuestion {
    /// The question.
    pub question_id: i64,
    /// Its title.
    pub title: String,
    /// Its slug.
    pub slug: String,
    /// Its author's id.
    pub author_id: Option<i64>,
    /// When it was hidden (by the flags, pending review, while flags are open).
    pub hidden_at: Option<NaiveDateTime>,
    /// Open flags.
    pub open: i64,
    /// The newest open flag's time.
    pub latest: Option<NaiveDateTime>,
}

/// One page of questions with open flags: hidden ones (pending review) first, then by open
/// flags, the newest flag breaking ties; plus whether another page exists.
pub fn queue(conn: &mut AnyConnection, page: Page) -> QueryResult<(Vec<QueuedQuestion>, bool)> {
    let mut rows: Vec<QueuedQuestion> = flags::table
        .inner_join(questions::table)
        .filter(flags::resolved_at.is_null())
        .filter(questions::deleted_at.is_null())
        .group_by((
            questions::id,
            questions::title,
            questions::slug,
            questions::author_id,
            questions::hidden_at,
        ))
        .select((
            questions::id,
            questions::title,
            questions::slug,
            questions::author_id,
            questions::hidden_at,
            count_star(),
            max(flags::created_at),
        ))
        .order((
            questions::hidden_at.is_null(),
            count_star().desc(),
            max(flags::created_at).desc(),
            questions::id.desc(),
        ))
        .limit(Page::SIZE + 1)
        .offset(page.offset())
        .load(conn)?;
    let more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    Ok((rows, more))
}

/// The open flags' counts per (question, reason) for `ids`.
pub fn open_reasons(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String, i64)>> {
    flags::table
        .filter(flags::question_id.eq_any(ids))
        .filter(flags::resolved_at.is_null())
        .group_by((flags::question_id, flags::reason))
        .select((flags::question_id, flags::reason, count_star()))
        .load(conn)
}

/// The newest open flags with details on `ids`, newest first, at most `limit` in all: (question,
/// reason, details, when).
pub fn open_details(
    conn: &mut AnyConnection,
    ids: &[i64],
    limit: i64,
) -> QueryResult<Vec<(i64, String, String, NaiveDateTime)>> {
    let rows: Vec<(i64, String, Option<String>, NaiveDateTime)> = flags::table
        .filter(flags::question_id.eq_any(ids))
        .filter(flags::resolved_at.is_null())
        .filter(flags::details.is_not_null())
        .order((flags::created_at.desc(), flags::id.desc()))
        .select((
            flags::question_id,
            flags::reason,
            flags::details,
            flags::created_at,
        ))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(q, r, d, t)| d.map(|d| (q, r, d, t)))
        .collect())
}

/// The usernames of `ids`.
pub fn usernames(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::username))
        .load(conn)
}
