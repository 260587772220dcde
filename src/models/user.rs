//! Users: authors of questions and, later, voters with accounts and admins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{AnyConnection, last_insert_id};

/// A stored user.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// Unique, case-insensitive.
    pub username: String,
    /// Unique, case-insensitive.
    pub email: String,
    /// Argon2 hash, `None` for accounts that only log in through OAuth.
    pub password_hash: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// Sign-up time.
    pub created_at: NaiveDateTime,
    /// When the user was banned, if they are.
    pub banned_at: Option<NaiveDateTime>,
}

/// A user to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Unique username.
    pub username: &'a str,
    /// Unique email.
    pub email: &'a str,
    /// Password hash, if any.
    pub password_hash: Option<&'a str>,
    /// `user` or `admin`.
    pub role: &'a str,
    /// Sign-up time.
    pub created_at: NaiveDateTime,
}

/// Inserts a user and returns its id.
pub fn create(conn: &mut AnyConnection, user: &NewUser<'_>) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    last_insert_id(conn)
}

/// Finds a user by username (case-insensitive on both backends).
pub fn find_by_username(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(name))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}
