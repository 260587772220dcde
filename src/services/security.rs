//! The account's security log and notices. Every event (logins, failed logins, resets, password,
//! email and two-factor changes, tokens, a revoked token's use) goes to the structured log and to
//! `security_events` (the settings page's "Security activity"); the changes an owner must hear of
//! are mailed to the account's address (an email change to the old address too).

use crate::db::AnyConnection;
use crate::db::Db;
use crate::error::AppResult;
use crate::mail::Mailer;
use crate::models;
use crate::models::security_event::{self, Kind, Origin, SecurityEventRow};
use crate::models::user::UserRow;

/// The subject and opening of the notice mailed to the owner, for the kinds that send one.
fn notice(kind: Kind) -> Option<(&'static str, &'static str)> {
    match kind {
        Kind::PasswordReset => Some((
            "Your password was reset",
            "The password of your Beebeta account was reset with a link sent to this address. \
                 Every device was logged out and every API token revoked.",
        )),
        Kind::PasswordChanged => Some((
            "Your password was changed",
            "The password of your Beebeta account was changed. Your other devices were logged \
                 out and every API token revoked.",
        )),
        Kind::EmailChanged => Some((
            "Your email address was changed",
            "The email address of your Beebeta account was changed.",
        )),
        Kind::TokenCreated => Some((
            "A new API token",
            "A new API token was created for your Beebeta account.",
        )),
        Kind::IdentityLinked => Some((
            "A login provider was linked",
            "A login provider was linked to your Beebeta account: it can now log in to it.",
        )),
        Kind::TwoFactorEnabled => Some((
            "Two-factor authentication is on",
            "Two-factor authentication was turned on for your Beebeta account.",
        )),
        Kind::TwoFactorDisabled => Some((
            "Two-factor authentication is off",
            "Two-factor authentication was turned off for your Beebeta account.",
        )),
        Kind::RecoveryCodesRenewed => Some((
            "New recovery codes",
            "New two-factor recovery codes were made for your Beebeta account; the old ones \
                 no longer work.",
        )),
        Kind::RecoveryCodeUsed => Some((
            "A recovery code was used",
            "Someone logged in to your Beebeta account with one of its recovery codes.",
        )),
        _ => None,
    }
}

/// How many events the settings page lists.
pub const SHOWN: i64 = 20;

/// Records an event inside the caller's transaction (and in the structured log).
pub fn record_in(
    conn: &mut AnyConnection,
    user_id: i64,
    kind: Kind,
    detail: Option<&str>,
    origin: &Origin,
) -> diesel::QueryResult<()> {
    log(user_id, kind, detail, origin);
    security_event::create(conn, user_id, kind.as_str(), detail, origin, models::now())
}

fn log(user_id: i64, kind: Kind, detail: Option<&str>, origin: &Origin) {
    let network = origin.network.as_deref().unwrap_or("");
    match kind {
        Kind::LoginFailed | Kind::RevokedTokenUsed => {
            tracing::warn!(target: "security", user = user_id, event = kind.as_str(), detail, network, "security event");
        }
        _ => {
            tracing::info!(target: "security", user = user_id, event = kind.as_str(), detail, network, "security event");
        }
    }
}

/// Records an event. A failure to store it is logged, never the caller's failure.
pub async fn record(db: &Db, user_id: i64, kind: Kind, detail: Option<String>, origin: Origin) {
    let stored = db
        .write(move |c| Ok(record_in(c, user_id, kind, detail.as_deref(), &origin)?))
        .await;
    match stored {
        Ok(()) => {}
        // The outage is reported once by `db::health`.
        Err(e @ crate::error::AppError::DbUnavailable(_)) => {
            tracing::warn!(user = user_id, event = kind.as_str(), error = %e, "security event not stored");
        }
        Err(e) => {
            tracing::error!(user = user_id, event = kind.as_str(), error = %e, "security event not stored");
        }
    }
}

/// Mails the owner the notice of `kind` (when it has one) at `to` (their address, or for an email
/// change the old one).
pub fn notify(mailer: &Mailer, user: &UserRow, to: &str, kind: Kind, detail: Option<&str>) {
    let Some((subject, opening)) = notice(kind) else {
        return;
    };
    let detail = detail.map(|d| format!("\n\n{d}")).unwrap_or_default();
    let body = format!(
        "Hello {},\n\n{opening}{detail}\n\nIf this was you, there is nothing to do. If it was not, \
         reset your password at once (\"Forgot your password?\" on the login page) and look at the \
         security activity on your settings page.\n",
        user.username
    );
    mailer.send(to, subject, body);
}

/// A user's latest events, newest first.
pub async fn recent(db: &Db, user_id: i64) -> AppResult<Vec<SecurityEventRow>> {
    db.run(move |c| Ok(security_event::for_user(c, user_id, SHOWN)?))
        .await
}
