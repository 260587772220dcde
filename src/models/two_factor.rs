//! Two-factor authentication rows: the sealed TOTP secret on `users` (pending until a first code
//! confirms it), the last accepted time step (no replay, across every app server), and the
//! single-use recovery codes (hashed).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{recovery_codes, users};

/// A user's stored two-factor state.
#[derive(Debug, Clone, Queryable)]
pub struct TwoFactorRow {
    /// The sealed secret (pending or enabled).
    pub secret: Option<String>,
    /// When it was confirmed (`None`: pending or off).
    pub enabled_at: Option<NaiveDateTime>,
}

/// A user's two-factor state.
pub fn find(conn: &mut AnyConnection, user_id: i64) -> QueryResult<TwoFactorRow> {
    users::table
        .find(user_id)
        .select((users::totp_secret, users::totp_enabled_at))
        .first(conn)
        .map(|(secret, enabled_at)| TwoFactorRow { secret, enabled_at })
}

/// Stores a new, not yet confirmed, secret (enrolment started); refused (false) while two-factor
/// authentication is on.
pub fn set_pending(conn: &mut AnyConnection, user_id: i64, sealed: &str) -> QueryResult<bool> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_enabled_at.is_null()),
    )
    .set((
        users::totp_secret.eq(Some(sealed)),
        users::totp_last_step.eq(None::<i64>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Turns two-factor authentication on (the pending secret was confirmed with a code of `step`).
pub fn enable(
    conn: &mut AnyConnection,
    user_id: i64,
    step: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_secret.is_not_null())
            .filter(users::totp_enabled_at.is_null()),
    )
    .set((
        users::totp_enabled_at.eq(Some(now)),
        users::totp_last_step.eq(Some(step)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Turns two-factor authentication off: forgets the secret and the recovery codes.
pub fn disable(conn: &mut AnyConnection, user_id: i64) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(None::<String>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)
        .map(|_| ())
}

/// Accepts a code's time step once: true when `step` is later than every step accepted before
/// (one atomic update, so two servers cannot both accept a code).
pub fn accept_step(conn: &mut AnyConnection, user_id: i64, step: i64) -> QueryResult<bool> {
    diesel::update(
        users::table.find(user_id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(Some(step)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Replaces a user's recovery codes with these (hashes).
pub fn replace_codes(
    conn: &mut AnyConnection,
    user_id: i64,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    // One statement per code: MultiConnection has no batch insert (ten rows, once).
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
                recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses a recovery code once: true when it was one of the user's unused codes.
pub fn use_code(
    conn: &mut AnyConnection,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// How many unused recovery codes a user has.
pub fn codes_left(conn: &mut AnyConnection, user_id: i64) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}
