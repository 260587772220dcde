//! Tags and the question↔tag links.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::schema::{question_tags, tags};
use crate::db::{AnyConnection, last_insert_id};
use crate::domain::{Page, TagName};

/// A stored tag with the number of questions carrying it.
#[derive(
    Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = tags)]
pub struct TagRow {
    /// Primary key.
    pub id: i64,
    /// Normalised name.
    pub name: String,
    /// Questions carrying the tag (kept in the same transaction as the links).
    pub question_count: i64,
}

/// Finds a tag by its normalised name.
pub fn find(conn: &mut AnyConnection, name: &TagName) -> QueryResult<Option<TagRow>> {
    tags::table
        .filter(tags::name.eq(name.as_str()))
        .select(TagRow::as_select())
        .first(conn)
        .optional()
}

/// Returns the id of the tag, creating it if needed (safe against a concurrent creator).
pub fn find_or_create(conn: &mut AnyConnection, name: &TagName) -> QueryResult<i64> {
    if let Some(t) = find(conn, name)? {
        return Ok(t.id);
    }
    match diesel::insert_into(tags::table)
        .values((tags::name.eq(name.as_str()), tags::question_count.eq(0i64)))
        .execute(conn)
    {
        Ok(_) => last_insert_id(conn),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            committed_id(conn, name)?.ok_or(Error::NotFound)
        }
        Err(e) => Err(e),
    }
}

/// The id of a tag another transaction just created. On MySQL/MariaDB a plain read would use this
/// transaction's snapshot (REPEATABLE READ), taken before that commit, and find nothing; a locking
/// read sees the committed row (and the count update that follows locks it anyway). SQLite's
/// writer holds the database lock, so its plain read is current.
fn committed_id(conn: &mut AnyConnection, name: &TagName) -> QueryResult<Option<i64>> {
    let query = tags::table
        .filter(tags::name.eq(name.as_str()))
        .select(tags::id);
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => query.for_update().first(c).optional(),
        AnyConnection::Sqlite(c) => query.first(c).optional(),
    }
}

/// Links a question to its tags and counts it on each.
pub fn attach(conn: &mut AnyConnection, question_id: i64, names: &[TagName]) -> QueryResult<()> {
    // In name order, so that questions asked at once lock shared tags in the same order.
    let mut names: Vec<&TagName> = names.iter().collect();
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    for name in names {
        let tag_id = match find(conn, name)? {
            Some(tag) => {
                diesel::update(tags::table.find(tag.id))
                    .set(tags::question_count.eq(tags::question_count + 1))
                    .execute(conn)?;
                tag.id
            }
            // New (as far as this transaction's snapshot shows): created or counted at once.
            None => count_in(conn, name)?,
        };
        diesel::insert_into(question_tags::table)
            .values((
                question_tags::question_id.eq(question_id),
                question_tags::tag_id.eq(tag_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Counts one more question on tag `name`, creating the tag if needed, in one statement; returns
/// its id. For a tag this transaction did not see: on MySQL/MariaDB a plain insert that hits a
/// tag created meanwhile takes a shared lock on it, and two transactions that then both want the
/// row for the count deadlock; an upsert takes the exclusive lock at once. (It spends an
/// auto-increment id when the tag exists, so existing tags are counted by a plain update.)
fn count_in(conn: &mut AnyConnection, name: &TagName) -> QueryResult<i64> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    if matches!(conn, AnyConnection::Sqlite(_)) {
        return diesel::sql_query(
            "INSERT INTO tags (name, question_count) VALUES (?, 1) \
             ON CONFLICT (name) DO UPDATE SET question_count = question_count + 1 RETURNING id",
        )
        .bind::<Text, _>(name.as_str())
        .get_result::<Id>(conn)
        .map(|r| r.id);
    }
    // `id = LAST_INSERT_ID(id)`: the existing row's id is what `LAST_INSERT_ID()` returns next.
    diesel::sql_query(
        "INSERT INTO tags (name, question_count) VALUES (?, 1) \
         ON DUPLICATE KEY UPDATE question_count = question_count + 1, id = LAST_INSERT_ID(id)",
    )
    .bind::<Text, _>(name.as_str())
    .execute(conn)?;
    last_insert_id(conn)
}

/// Tags by popularity, one page (plus one row to tell whether another page exists).
pub fn popular(conn: &mut AnyConnection, page: Page) -> QueryResult<(Vec<TagRow>, bool)> {
    let mut rows = tags::table
        .filter(tags::question_count.gt(0))
        .order((tags::question_count.desc(), tags::name.asc()))
        .select(TagRow::as_select())
        .limit(Page::SIZE * 5 + 1)
        .offset(page.offset() * 5)
        .load(conn)?;
    let more = rows.len() as i64 > Page::SIZE * 5;
    rows.truncate((Page::SIZE * 5) as usize);
    Ok((rows, more))
}

/// The tag names of each of the given questions, alphabetically (one query).
pub fn names_for(
    conn: &mut AnyConnection,
    question_ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<String>>> {
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    if question_ids.is_empty() {
        return Ok(map);
    }
    let rows: Vec<(i64, String)> = question_tags::table
        .inner_join(tags::table)
        .filter(question_tags::question_id.eq_any(question_ids))
        .order(tags::name.asc())
        .select((question_tags::question_id, tags::name))
        .load(conn)?;
    for (qid, name) in rows {
        map.entry(qid).or_default().push(name);
    }
    Ok(map)
}

/// Removes a question's tags (and their counts).
pub fn detach_all(conn: &mut AnyConnection, question_id: i64) -> QueryResult<()> {
    uncount(conn, question_id)?;
    diesel::delete(question_tags::table.filter(question_tags::question_id.eq(question_id)))
        .execute(conn)
        .map(|_| ())
}

/// Stops counting a question on its tags (when it is deleted; its links stay).
pub fn uncount(conn: &mut AnyConnection, question_id: i64) -> QueryResult<()> {
    let ids: Vec<i64> = question_tags::table
        .filter(question_tags::question_id.eq(question_id))
        .select(question_tags::tag_id)
        .load(conn)?;
    diesel::update(tags::table.filter(tags::id.eq_any(&ids)))
        .set(tags::question_count.eq(tags::question_count - 1))
        .execute(conn)
        .map(|_| ())
}

/// Tags whose name starts with `prefix`, most used first.
pub fn with_prefix(conn: &mut AnyConnection, prefix: &str, limit: i64) -> QueryResult<Vec<TagRow>> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    tags::table
        .filter(tags::name.like(pattern).escape('\\'))
        .filter(tags::question_count.gt(0))
        .order((tags::question_count.desc(), tags::name.asc()))
        .select(TagRow::as_select())
        .limit(limit)
        .load(conn)
}
