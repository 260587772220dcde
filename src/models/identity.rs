//! Identities at OAuth2 / OpenID Connect providers, linked to accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::identities;

/// A linked identity.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = identities)]
pub struct IdentityRow {
    /// Primary key.
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// Provider name as configured (`github`, `google`, ...).
    pub provider: String,
    /// The provider's stable user id.
    pub subject: String,
    /// The email the provider reported at linking time.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: NaiveDateTime,
    /// Whether the account's email was verified then (else a password reset or change unlinks it).
    pub verified_when_linked: bool,
}

/// The account linked to `(provider, subject)`, if any.
pub fn find(
    conn: &mut AnyConnection,
    provider: &str,
    subject: &str,
) -> QueryResult<Option<IdentityRow>> {
    identities::table
        .filter(identities::provider.eq(provider))
        .filter(identities::subject.eq(subject))
        .select(IdentityRow::as_select())
        .first(conn)
        .optional()
}

/// An identity to link.
#[derive(Debug, Clone, Copy)]
pub struct NewIdentity<'a> {
    /// The account.
    pub user_id: i64,
    /// Provider name.
    pub provider: &'a str,
    /// The provider's stable user id.
    pub subject: &'a str,
    /// The email the provider reported.
    pub email: Option<&'a str>,
    /// Whether the account's email is verified now.
    pub verified: bool,
    /// Now.
    pub now: NaiveDateTime,
}

/// Links an identity to an account.
pub fn link(conn: &mut AnyConnection, new: &NewIdentity<'_>) -> QueryResult<()> {
    diesel::insert_into(identities::table)
        .values((
            identities::user_id.eq(new.user_id),
            identities::provider.eq(new.provider),
            identities::subject.eq(new.subject),
            identities::email.eq(new.email),
            identities::created_at.eq(new.now),
            identities::verified_when_linked.eq(new.verified),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A user's linked identities.
pub fn for_user(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Vec<IdentityRow>> {
    identities::table
        .filter(identities::user_id.eq(user_id))
        .order(identities::id.asc())
        .select(IdentityRow::as_select())
        .load(conn)
}

/// Unlinks one of a user's identities; returns whether it existed.
pub fn unlink(conn: &mut AnyConnection, user_id: i64, id: i64) -> QueryResult<bool> {
    diesel::delete(
        identities::table
            .filter(identities::id.eq(id))
            .filter(identities::user_id.eq(user_id)),
    )
    .execute(conn)
    .map(|n| n > 0)
}

/// Unlinks the identities a user linked while their email was not verified (a password reset or
/// change: whoever linked them may have only typed the address); returns how many.
pub fn unlink_unverified(conn: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(
        identities::table
            .filter(identities::user_id.eq(user_id))
            .filter(identities::verified_when_linked.eq(false)),
    )
    .execute(conn)
}
