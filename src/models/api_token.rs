//! Personal API tokens (`Authorization: Bearer ...`), stored as SHA-256 hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{api_tokens, users};
use crate::db::{AnyConnection, last_insert_id};
use crate::models::user::UserRow;

/// A stored token (without the token itself).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    /// Primary key.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// The owner's label for it.
    pub name: String,
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    /// The token's first characters.
    pub hint: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Last use (updated at most every few minutes).
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a token; returns its id.
pub fn create(
    conn: &mut AnyConnection,
    user_id: i64,
    name: &str,
    token_hash: &str,
    hint: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::hint.eq(hint),
            api_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    last_insert_id(conn)
}

/// The live token with this hash and its (unbanned) user.
pub fn find_active(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<(ApiTokenRow, UserRow)>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(users::banned_at.is_null())
        .select((ApiTokenRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()
}

/// Records a use.
pub fn touch(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(Some(now)))
        .execute(conn)
        .map(|_| ())
}

/// A user's live tokens, newest first.
pub fn for_user(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Vec<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.desc())
        .select(ApiTokenRow::as_select())
        .load(conn)
}

/// Revokes one of a user's tokens; returns whether it was live.
pub fn revoke(
    conn: &mut AnyConnection,
    user_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n > 0)
}
