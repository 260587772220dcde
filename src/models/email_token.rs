//! One-time email links (verification, password reset): single use, expiring, stored hashed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::email_tokens;
use crate::db::write_transaction;

/// Purpose of a link.
pub const VERIFY: &str = "verify";
/// Purpose of a link.
pub const RESET: &str = "reset";

/// Stores a link's token hash.
pub fn create(
    conn: &mut AnyConnection,
    id: &str,
    user_id: i64,
    purpose: &str,
    email: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::id.eq(id),
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose),
            email_tokens::email.eq(email),
            email_tokens::created_at.eq(now),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Uses a link once: marks it used and returns (user id, email) if it was live. A used or
/// expired link gives `None`.
pub fn consume(
    conn: &mut AnyConnection,
    id: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, String)>> {
    write_transaction(conn, |c| {
        let n = diesel::update(
            email_tokens::table
                .filter(email_tokens::id.eq(id))
                .filter(email_tokens::purpose.eq(purpose))
                .filter(email_tokens::used_at.is_null())
                .filter(email_tokens::expires_at.gt(now)),
        )
        .set(email_tokens::used_at.eq(Some(now)))
        .execute(c)?;
        if n == 0 {
            return Ok(None);
        }
        email_tokens::table
            .find(id)
            .select((email_tokens::user_id, email_tokens::email))
            .first(c)
            .map(Some)
    })
}

/// Whether a link is live (without using it), for showing the reset form.
pub fn is_live(
    conn: &mut AnyConnection,
    id: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n: i64 = email_tokens::table
        .filter(email_tokens::id.eq(id))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The account a live (unused, unexpired) link of `purpose` belongs to and the address it was
/// sent to, if it is one.
pub fn live_owner(
    conn: &mut AnyConnection,
    id: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, String)>> {
    email_tokens::table
        .filter(email_tokens::id.eq(id))
        .filter(email_tokens::purpose.eq(purpose))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select((email_tokens::user_id, email_tokens::email))
        .first(conn)
        .optional()
}

/// Invalidates a user's other live links of a purpose (after one was used).
pub fn expire_all(
    conn: &mut AnyConnection,
    user_id: i64,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .filter(email_tokens::purpose.eq(purpose))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(Some(now)))
    .execute(conn)
}
