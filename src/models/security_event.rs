//! An account's security log: logins, resets, credential and two-factor changes, tokens. Shown to
//! the account's owner on the settings page; the client network is a keyed hash, never an address.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::security_events;

/// Where a request came from, as the security log keeps it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// A keyed hash of the client's network (`ClientIp::network_hash`).
    pub network: Option<String>,
    /// The browser's User-Agent (at most 255 characters).
    pub user_agent: Option<String>,
}

/// What happened to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A login (password, provider, or the second factor after them).
    Login,
    /// A wrong password (or second-factor code) for this account.
    LoginFailed,
    /// The password was set from a reset link.
    PasswordReset,
    /// The password was changed on the settings page.
    PasswordChanged,
    /// The email address was changed.
    EmailChanged,
    /// An API token was created.
    TokenCreated,
    /// A revoked or expired API token was presented.
    RevokedTokenUsed,
    /// A login provider was linked.
    IdentityLinked,
    /// A login provider was unlinked.
    IdentityUnlinked,
    /// Two-factor authentication was turned on.
    TwoFactorEnabled,
    /// Two-factor authentication was turned off.
    TwoFactorDisabled,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRenewed,
    /// A recovery code was used to log in.
    RecoveryCodeUsed,
    /// Every session was ended.
    LoggedOutEverywhere,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::LoginFailed => "login_failed",
            Kind::PasswordReset => "password_reset",
            Kind::PasswordChanged => "password_changed",
            Kind::EmailChanged => "email_changed",
            Kind::TokenCreated => "token_created",
            Kind::RevokedTokenUsed => "revoked_token_used",
            Kind::IdentityLinked => "identity_linked",
            Kind::IdentityUnlinked => "identity_unlinked",
            Kind::TwoFactorEnabled => "two_factor_enabled",
            Kind::TwoFactorDisabled => "two_factor_disabled",
            Kind::RecoveryCodesRenewed => "recovery_codes_renewed",
            Kind::RecoveryCodeUsed => "recovery_code_used",
            Kind::LoggedOutEverywhere => "logged_out_everywhere",
        }
    }

    /// What the owner reads in their security activity.
    pub fn describe(name: &str) -> &'static str {
        match name {
            "login" => "Logged in",
            "login_failed" => "Failed login",
            "password_reset" => "Password reset by email link",
            "password_changed" => "Password changed",
            "email_changed" => "Email address changed",
            "token_created" => "API token created",
            "revoked_token_used" => "A revoked or expired API token was used",
            "identity_linked" => "Login provider linked",
            "identity_unlinked" => "Login provider unlinked",
            "two_factor_enabled" => "Two-factor authentication turned on",
            "two_factor_disabled" => "Two-factor authentication turned off",
            "recovery_codes_renewed" => "New recovery codes",
            "recovery_code_used" => "Logged in with a recovery code",
            "logged_out_everywhere" => "Logged out everywhere",
            _ => "Account activity",
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = security_events)]
pub struct SecurityEventRow {
    /// Primary key.
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// What happened (`login`, `login_failed`, `password_changed`, ...).
    pub kind: String,
    /// A detail (a token's name, a provider, ...).
    pub detail: Option<String>,
    /// The client network's keyed hash.
    pub network: Option<String>,
    /// The browser.
    pub user_agent: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Stores an event.
pub fn create(
    conn: &mut AnyConnection,
    user_id: i64,
    kind: &str,
    detail: Option<&str>,
    origin: &Origin,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let agent = origin
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(255).collect::<String>());
    let detail = detail.map(|d| d.chars().take(255).collect::<String>());
    diesel::insert_into(security_events::table)
        .values((
            security_events::user_id.eq(user_id),
            security_events::kind.eq(kind),
            security_events::detail.eq(detail),
            security_events::network.eq(origin.network.as_deref()),
            security_events::user_agent.eq(agent),
            security_events::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A user's latest events, newest first.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: i64,
    limit: i64,
) -> QueryResult<Vec<SecurityEventRow>> {
    security_events::table
        .filter(security_events::user_id.eq(user_id))
        .order((
            security_events::created_at.desc(),
            security_events::id.desc(),
        ))
        .limit(limit)
        .select(SecurityEventRow::as_select())
        .load(conn)
}
