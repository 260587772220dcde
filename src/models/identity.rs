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

/// Links an identity to an account.
pub fn link(
    conn: &mut AnyConnection,
    user_id: i64,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(identities::table)
        .values((
            identities::user_id.eq(user_id),
            identities::provider.eq(provider),
            identities::subject.eq(subject),
            identities::email.eq(email),
            identities::created_at.eq(now),
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
