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
            find(conn, name)?.map(|t| t.id).ok_or(Error::NotFound)
        }
        Err(e) => Err(e),
    }
}

/// Links a question to its tags and counts it on each.
pub fn attach(conn: &mut AnyConnection, question_id: i64, names: &[TagName]) -> QueryResult<()> {
    for name in names {
        let tag_id = find_or_create(conn, name)?;
        diesel::insert_into(question_tags::table)
            .values((
                question_tags::question_id.eq(question_id),
                question_tags::tag_id.eq(tag_id),
            ))
            .execute(conn)?;
        diesel::update(tags::table.find(tag_id))
            .set(tags::question_count.eq(tags::question_count + 1))
            .execute(conn)?;
    }
    Ok(())
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
