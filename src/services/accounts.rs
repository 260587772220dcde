//! Logins and account changes: password checks and hashing off the async workers, credential
//! changes that revoke older access, API tokens, and moving an anonymous visitor's ballots to
//! their account at login. (Sign-ups: `services::signup`.)

use chrono::NaiveDateTime;
use diesel::OptionalExtension;

use crate::auth::password;
use crate::db::write_transaction;
use crate::db::{AnyConnection, Db};
use crate::domain::{Email, Invalid, NewPassword, Scopes, TokenLifetime, login_nfkc};
use crate::error::{AppError, AppResult};
use crate::mail::Mailer;
use crate::models::security_event::{Kind, Origin};
use crate::models::user::{self, UserRow};
use crate::models::{self, api_token, ballot, email_token, identity, session};
use crate::services::security;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))
}

/// The account a typed login names (a username, or an email when it contains `@`), if any:
/// looked up as typed, then in NFKC, so a full-width `ａｌｉｃｅ` finds `alice` on SQLite as it
/// does through MySQL's collation.
pub async fn find_login(db: &Db, login: &str) -> AppResult<Option<UserRow>> {
    let typed = login.trim();
    if typed.is_empty() || typed.len() > 254 {
        return Ok(None);
    }
    let (typed, nfkc) = (typed.to_string(), login_nfkc(typed));
    db.run(move |c| {
        let found = user::find_by_login(c, &typed)?;
        if found.is_none() && nfkc != typed {
            return Ok(user::find_by_login(c, &nfkc)?);
        }
        Ok(found)
    })
    .await
}

/// Checks `password` against the account a login found (`None`: no such account); the same
/// answer, in about the same time, for an unknown user and a wrong password. Banned users cannot
/// log in.
pub async fn check_login_password(found: Option<UserRow>, password: &str) -> AppResult<UserRow> {
    let wrong = || AppError::field("form", "Wrong username or password.");
    if password.is_empty() || password.len() > 1024 {
        return Err(wrong());
    }
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let pw = password.to_string();
    let ok = blocking(move || password::verify(stored.as_deref(), &pw)).await?;
    match found {
        Some(u) if ok && u.banned_at.is_none() => Ok(u),
        Some(u) if ok => Err(AppError::field(
            "form",
            format!("The account {} is suspended.", u.username),
        )),
        _ => Err(wrong()),
    }
}

/// After login: moves the anonymous voter's ballots (if any) to the account.
pub async fn adopt_ballots(db: &Db, cookie_voter: Option<String>, user: &UserRow) -> AppResult<()> {
    let Some(id) = cookie_voter else {
        return Ok(());
    };
    let (uid, verified) = (user.id, user.email_verified_at.is_some());
    let (moved, dropped) = db
        .write(move |c| {
            Ok(ballot::adopt(
                c,
                &format!("c:{id}"),
                uid,
                verified,
                models::now(),
            )?)
        })
        .await?;
    if moved + dropped > 0 {
        tracing::info!(
            user = uid,
            moved,
            dropped,
            "anonymous ballots linked to the account"
        );
    }
    Ok(())
}

/// How the user proved who they are for a password or email change: the current password typed
/// in the form, or (for an account without a password) a recent login (`auth::reauth`).
#[derive(Debug, Clone, Copy)]
pub struct Proof<'a> {
    /// What was typed as the current password.
    pub password: &'a str,
    /// Whether the session's login (or confirmation) is recent.
    pub recent_login: bool,
}

/// Checks the proof, and that the email is verified (else whoever typed the address at sign-up
/// could take the account over); the problem as a field error on `field`.
async fn check_proof(user: &UserRow, proof: Proof<'_>, field: &'static str) -> AppResult<()> {
    if user.email_verified_at.is_none() {
        return Err(AppError::field(
            field,
            "Confirm your email address first: open the link we sent you (use \"Send the link \
             again\" above if you need a new one).",
        ));
    }
    match user.password_hash.clone() {
        Some(stored) => {
            let typed = proof.password.to_string();
            if !blocking(move || password::verify(Some(&stored), &typed)).await? {
                return Err(AppError::field(field, "The current password is wrong."));
            }
        }
        None if proof.recent_login => {}
        None => {
            return Err(AppError::field(
                field,
                "Confirm it is you first (log in again with your login provider).",
            ));
        }
    }
    Ok(())
}

/// What a password reset or change took away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Sessions ended.
    pub sessions: usize,
    /// API tokens revoked.
    pub tokens: usize,
    /// Identities unlinked (linked while the email was not verified).
    pub identities: usize,
}

/// Takes away every way into the account but a new password, in the caller's transaction: every
/// API token, every session but `keep`, the identities linked while the email was unverified
/// (whoever linked them may only have typed the address), and live reset links.
pub fn revoke_access(
    c: &mut AnyConnection,
    user_id: i64,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> diesel::QueryResult<Revoked> {
    let sessions = match keep {
        Some(id) => session::delete_all_except(c, user_id, id)?,
        None => session::delete_all(c, user_id)?,
    };
    email_token::expire_all(c, user_id, email_token::RESET, now)?;
    Ok(Revoked {
        sessions,
        tokens: api_token::revoke_all(c, user_id, now)?,
        identities: identity::unlink_unverified(c, user_id)?,
    })
}

/// A password change on the settings page.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    /// Who proved it is them.
    pub proof: Proof<'a>,
    /// The new password.
    pub new: &'a str,
    /// The session to keep logged in (this browser's), if the user chose to stay.
    pub keep_session: Option<&'a str>,
}

/// Changes the password after checking the proof; ends the other sessions (and this one unless
/// kept), revokes every API token and unlinks identities linked while the email was unverified.
/// The owner is mailed a notice.
pub async fn change_password(
    db: &Db,
    mailer: &Mailer,
    user: &UserRow,
    change: PasswordChange<'_>,
    origin: Origin,
) -> AppResult<Revoked> {
    check_proof(user, change.proof, "password").await?;
    let pass = NewPassword::parse(change.new, &user.username, &user.email)
        .map_err(|e: Invalid| AppError::field("password", e.message))?;
    let hash = blocking(move || password::hash(pass.expose()))
        .await?
        .map_err(AppError::Internal)?;
    let uid = user.id;
    let keep = change.keep_session.map(str::to_string);
    let now = models::now();
    let revoked = db
        .write(move |c| {
            write_transaction(c, |c| {
                user::set_password(c, uid, &hash)?;
                let revoked = revoke_access(c, uid, keep.as_deref(), now)?;
                security::record_in(c, uid, Kind::PasswordChanged, None, &origin)?;
                Ok::<_, diesel::result::Error>(revoked)
            })
            .map_err(AppError::from)
        })
        .await?;
    security::notify(mailer, user, &user.email, Kind::PasswordChanged, None);
    Ok(revoked)
}

/// Changes the email after checking the proof; the new address is unverified (a link is mailed
/// to it by the caller), the old one is told, and live reset links die.
pub async fn change_email(
    db: &Db,
    mailer: &Mailer,
    user: &UserRow,
    email: &str,
    proof: Proof<'_>,
    origin: Origin,
) -> AppResult<()> {
    let mail = Email::parse(email).map_err(|e| AppError::field("email", e.message))?;
    check_proof(user, proof, "email").await?;
    let (uid, m) = (user.id, mail.as_str().to_string());
    let now = models::now();
    let detail = format!("New address: {m}");
    let stored = detail.clone();
    let result = db
        .write(move |c| {
            let changed = write_transaction(c, |c| {
                user::set_email(c, uid, &m)?;
                email_token::expire_all(c, uid, email_token::RESET, now)?;
                email_token::expire_all(c, uid, email_token::VERIFY, now)?;
                security::record_in(c, uid, Kind::EmailChanged, Some(&stored), &origin)
            });
            match changed {
                Ok(()) => Ok(Ok(())),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(Err(())),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    result.map_err(|_| AppError::field("email", "Another account uses that email."))?;
    // The old address hears of it: whoever changed it may not be its owner.
    security::notify(mailer, user, &user.email, Kind::EmailChanged, Some(&detail));
    Ok(())
}

/// Creates a personal API token (the caller checked the user may: `auth::reauth`); records it and
/// tells the owner. Returns the token (shown once, never stored).
pub async fn create_token(
    db: &Db,
    mailer: &Mailer,
    user: &UserRow,
    name: &str,
    scopes: Scopes,
    lifetime: TokenLifetime,
    origin: Origin,
) -> AppResult<String> {
    let token = crate::auth::session::create_api_token(db, user.id, name, scopes, lifetime).await?;
    let detail = format!(
        "Name: {name}\nMay: {}\nExpires in {} days",
        scopes.as_string(),
        lifetime.days()
    );
    security::record(
        db,
        user.id,
        Kind::TokenCreated,
        Some(detail.clone()),
        origin,
    )
    .await;
    security::notify(mailer, user, &user.email, Kind::TokenCreated, Some(&detail));
    Ok(token)
}

/// Ends every session of the user and revokes every API token ("log out everywhere").
pub async fn log_out_everywhere(db: &Db, user_id: i64, origin: Origin) -> AppResult<Revoked> {
    let now = models::now();
    db.write(move |c| {
        write_transaction(c, |c| {
            let revoked = Revoked {
                sessions: session::delete_all(c, user_id)?,
                tokens: api_token::revoke_all(c, user_id, now)?,
                identities: 0,
            };
            security::record_in(c, user_id, Kind::LoggedOutEverywhere, None, &origin)?;
            Ok::<_, diesel::result::Error>(revoked)
        })
        .map_err(AppError::from)
    })
    .await
}

/// The user `id` if they exist and are not banned (the last step of a login).
pub async fn find_active(db: &Db, id: i64) -> AppResult<Option<UserRow>> {
    db.run(move |c| Ok(user::find(c, id).optional()?))
        .await
        .map(|u| u.filter(|u| u.banned_at.is_none()))
}
