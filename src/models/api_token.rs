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
    /// When it stops working (`None`: it does not, for rows older than expiry — never written).
    pub expires_at: Option<NaiveDateTime>,
    /// What it may do: `read vote ask` or a part of it.
    pub scopes: String,
}

/// What a token may do and until when, as created.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    /// Owner.
    pub user_id: i64,
    /// The owner's label.
    pub name: &'a str,
    /// SHA-256 (hex) of the token.
    pub token_hash: &'a str,
    /// Its first characters.
    pub hint: &'a str,
    /// Its scopes, as stored.
    pub scopes: &'a str,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// End of its life.
    pub expires_at: NaiveDateTime,
}

/// Stores a token; returns its id.
pub fn create(conn: &mut AnyConnection, new: &NewApiToken<'_>) -> QueryResult<i64> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(new.user_id),
            api_tokens::name.eq(new.name),
            api_tokens::token_hash.eq(new.token_hash),
            api_tokens::hint.eq(new.hint),
            api_tokens::scopes.eq(new.scopes),
            api_tokens::created_at.eq(new.created_at),
            api_tokens::expires_at.eq(Some(new.expires_at)),
        ))
        .execute(conn)?;
    last_insert_id(conn)
}

/// The token with this hash (live, revoked or expired) and its user.
pub fn find(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<(ApiTokenRow, UserRow)>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((ApiTokenRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()
}

/// Revokes every live token of a user (after a password reset or change); returns how many.
pub fn revoke_all(
    conn: &mut AnyConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Records a use.
pub fn touch(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(Some(now)))
        .execute(conn)
        .map(|_| ())
}

/// A user's tokens that are neither revoked nor expired, newest first.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
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
