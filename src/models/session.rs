//! Server-side sessions: one row per login, so logout and "log out everywhere" really revoke.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{sessions, users};
use crate::models::user::UserRow;

/// A stored session (its id is the SHA-256 of the cookie's token).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    /// SHA-256 (hex) of the token in the cookie.
    pub id: String,
    /// The user.
    pub user_id: i64,
    /// Login time.
    pub created_at: NaiveDateTime,
    /// Last request seen (updated at most every few minutes).
    pub last_seen_at: NaiveDateTime,
    /// Absolute expiry.
    pub expires_at: NaiveDateTime,
    /// The browser's User-Agent at login, for the settings page.
    pub user_agent: Option<String>,
    /// When its user last proved who they are (login, or confirming it again); `None`: at login.
    pub authenticated_at: Option<NaiveDateTime>,
}

impl SessionRow {
    /// When its user last proved who they are.
    pub fn authenticated(&self) -> NaiveDateTime {
        self.authenticated_at.unwrap_or(self.created_at)
    }
}

/// Stores a new session.
pub fn create(conn: &mut AnyConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&row.id),
            sessions::user_id.eq(row.user_id),
            sessions::created_at.eq(row.created_at),
            sessions::last_seen_at.eq(row.last_seen_at),
            sessions::expires_at.eq(row.expires_at),
            sessions::user_agent.eq(row.user_agent.as_deref()),
            sessions::authenticated_at.eq(row.authenticated_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The session and its user, if the session exists, has not expired (absolutely, or idle since
/// `idle_since`), and the user is not banned.
pub fn find_active(
    conn: &mut AnyConnection,
    id: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> QueryResult<Option<(SessionRow, UserRow)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(idle_since))
        .filter(users::banned_at.is_null())
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()
}

/// Marks a session as seen now.
pub fn touch(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

/// Deletes one session of a user; returns whether it existed.
pub fn delete(conn: &mut AnyConnection, user_id: i64, id: &str) -> QueryResult<bool> {
    diesel::delete(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id)),
    )
    .execute(conn)
    .map(|n| n > 0)
}

/// Records that the session's user just proved who they are again.
pub fn reauthenticate(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::authenticated_at.eq(Some(now)))
        .execute(conn)
        .map(|_| ())
}

/// Deletes every session of a user but `keep`; returns how many.
pub fn delete_all_except(conn: &mut AnyConnection, user_id: i64, keep: &str) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep)),
    )
    .execute(conn)
}

/// Deletes every session of a user (log out everywhere); returns how many.
pub fn delete_all(conn: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Sessions of a user, most recently active first.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}

/// Removes expired sessions; returns how many.
pub fn purge_expired(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(now)
                .or(sessions::last_seen_at.le(idle_since)),
        ),
    )
    .execute(conn)
}
