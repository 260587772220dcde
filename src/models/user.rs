//! Users: authors of questions and, later, voters with accounts and admins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{AnyConnection, last_insert_id, write_transaction};
use crate::models::ballot;

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
    /// When the email address was confirmed.
    pub email_verified_at: Option<NaiveDateTime>,
    /// When two-factor authentication was turned on, if it is.
    pub totp_enabled_at: Option<NaiveDateTime>,
}

impl UserRow {
    /// Whether logging in needs a second factor.
    pub fn two_factor(&self) -> bool {
        self.totp_enabled_at.is_some()
    }

    /// Whether the user has the admin role.
    pub fn is_admin(&self) -> bool {
        self.role == ROLE_ADMIN
    }
}

/// The role of ordinary users.
pub const ROLE_USER: &str = "user";
/// The role of admins.
pub const ROLE_ADMIN: &str = "admin";

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

/// Finds a user by username or, when the text contains `@`, by email (case-insensitive).
pub fn find_by_login(conn: &mut AnyConnection, login: &str) -> QueryResult<Option<UserRow>> {
    let login = login.trim();
    let query = users::table.select(UserRow::as_select()).into_boxed();
    let query = if login.contains('@') {
        query.filter(users::email.eq(login.to_lowercase()))
    } else {
        query.filter(users::username.eq(login))
    };
    query.first(conn).optional()
}

/// Finds a user by id.
pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
}

/// Whether a username or an email is already taken: (username taken, email taken).
pub fn taken(conn: &mut AnyConnection, username: &str, email: &str) -> QueryResult<(bool, bool)> {
    let by_name: i64 = users::table
        .filter(users::username.eq(username))
        .count()
        .get_result(conn)?;
    let by_email: i64 = users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(conn)?;
    Ok((by_name > 0, by_email > 0))
}

/// Sets a user's password hash.
pub fn set_password(conn: &mut AnyConnection, id: i64, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}

/// Sets a user's email (unverified until confirmed): their ballots count as an account's, no
/// longer a verified one's, until then.
pub fn set_email(conn: &mut AnyConnection, id: i64, email: &str) -> QueryResult<()> {
    write_transaction(conn, |c| {
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(email),
                users::email_verified_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        ballot::set_account_trust(c, id, false).map(|_| ())
    })
}

/// Sets a user's role.
pub fn set_role(conn: &mut AnyConnection, id: i64, role: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::role.eq(role))
        .execute(conn)
        .map(|_| ())
}

/// Site totals for the admin page: (users, questions, ballots, live sessions).
pub fn site_totals(conn: &mut AnyConnection) -> QueryResult<(i64, i64, i64, i64)> {
    use crate::db::schema::{ballots, questions, sessions};
    let u: i64 = users::table.count().get_result(conn)?;
    let q: i64 = questions::table.count().get_result(conn)?;
    let b: i64 = ballots::table.count().get_result(conn)?;
    let s: i64 = sessions::table.count().get_result(conn)?;
    Ok((u, q, b, s))
}

/// Marks the email address as verified: the account's ballots now count as a verified
/// account's (results "verified accounts only").
pub fn mark_verified(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    write_transaction(conn, |c| {
        diesel::update(users::table.find(id))
            .set(users::email_verified_at.eq(Some(now)))
            .execute(c)?;
        ballot::set_account_trust(c, id, true).map(|_| ())
    })
}
