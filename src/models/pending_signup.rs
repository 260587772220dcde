//! Sign-ups waiting for the link mailed to their address (`pending_signups`): the account is made
//! only when the link is followed, so an address is never claimed by someone who merely typed it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::pending_signups;

/// A stored sign-up.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_signups)]
pub struct PendingSignupRow {
    /// SHA-256 (hex) of the link's token.
    pub id: String,
    /// The chosen username.
    pub username: String,
    /// The address the link went to (the account's, once made).
    pub email: String,
    /// The password's hash; `None` for a provider login's sign-up.
    pub password_hash: Option<String>,
    /// The provider of the identity to link, for a provider login's sign-up.
    pub provider: Option<String>,
    /// The provider's user id.
    pub subject: Option<String>,
    /// The email the provider reported.
    pub provider_email: Option<String>,
    /// Where to go once the account is made.
    pub next: String,
    /// When it was asked for.
    pub created_at: NaiveDateTime,
    /// When the link stops working.
    pub expires_at: NaiveDateTime,
    /// When the link was followed.
    pub used_at: Option<NaiveDateTime>,
}

/// Stores a sign-up.
pub fn create(conn: &mut AnyConnection, row: &PendingSignupRow) -> QueryResult<()> {
    diesel::insert_into(pending_signups::table)
        .values(row.clone())
        .execute(conn)
        .map(|_| ())
}

/// A live (unused, unexpired) sign-up, without using it.
pub fn find_live(
    conn: &mut AnyConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<PendingSignupRow>> {
    pending_signups::table
        .find(id)
        .filter(pending_signups::used_at.is_null())
        .filter(pending_signups::expires_at.gt(now))
        .select(PendingSignupRow::as_select())
        .first(conn)
        .optional()
}

/// Uses a live sign-up once: true when it was live (and now is used).
pub fn consume(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        pending_signups::table
            .find(id)
            .filter(pending_signups::used_at.is_null())
            .filter(pending_signups::expires_at.gt(now)),
    )
    .set(pending_signups::used_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Forgets sign-ups whose links expired before `before`; returns how many.
pub fn purge(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(pending_signups::table.filter(pending_signups::expires_at.lt(before)))
        .execute(conn)
}
