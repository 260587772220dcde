//! Email verification and password reset by one-time links (single use, expiring).

use chrono::Duration;

use crate::auth::password;
use crate::auth::session::{new_token, token_id};
use crate::config::SiteConfig;
use crate::db::Db;
use crate::db::write_transaction;
use crate::domain::{Email, NewPassword};
use crate::error::{AppError, AppResult};
use crate::mail::Mailer;

use crate::models::security_event::{Kind, Origin};
use crate::models::{self, email_token, user};
use crate::services::{accounts, security};

/// How long a verification link works.
pub const VERIFY_HOURS: i64 = 48;
/// How long a reset link works.
pub const RESET_MINUTES: i64 = 60;

fn link(cfg: &SiteConfig, path: &str, token: &str) -> String {
    format!(
        "{}{path}?token={token}",
        cfg.public_url.trim_end_matches('/')
    )
}

/// Sends a link that confirms `user`'s current email address.
pub async fn send_verification(
    db: &Db,
    mailer: &Mailer,
    cfg: &SiteConfig,
    user: &user::UserRow,
) -> AppResult<()> {
    let token = new_token();
    let (id, uid, email) = (token_id(&token), user.id, user.email.clone());
    let now = models::now();
    db.write(move |c| {
        Ok(email_token::create(
            c,
            &id,
            uid,
            email_token::VERIFY,
            &email,
            now,
            now + Duration::hours(VERIFY_HOURS),
        )?)
    })
    .await?;
    let body = format!(
        "Hello {},\n\nPlease confirm your email address for Beebeta by opening this link:\n\n{}\n\n\
         The link works once, for {VERIFY_HOURS} hours. If you did not sign up, ignore this message.\n",
        user.username,
        link(cfg, "/verify", &token)
    );
    mailer.send(&user.email, "Confirm your email address", body);
    Ok(())
}

/// Confirms an address from a link; the username on success.
pub async fn verify(db: &Db, token: &str) -> AppResult<Option<String>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let id = token_id(token);
    let now = models::now();
    db.write(move |c| {
        let Some((uid, email)) = email_token::consume(c, &id, email_token::VERIFY, now)? else {
            return Ok(None);
        };
        let u = user::find(c, uid)?;
        // A link for an address the account no longer uses verifies nothing.
        if !u.email.eq_ignore_ascii_case(&email) {
            return Ok(None);
        }
        user::mark_verified(c, uid, now)?;
        Ok(Some(u.username))
    })
    .await
}

/// Sends a reset link if an account uses this address; says nothing either way.
pub async fn request_reset(
    db: &Db,
    mailer: &Mailer,
    cfg: &SiteConfig,
    email: &str,
) -> AppResult<()> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let address = email.as_str().to_string();
    let found = db
        .run(move |c| Ok(user::find_by_login(c, &address)?))
        .await?;
    let Some(u) = found.filter(|u| u.banned_at.is_none()) else {
        return Ok(());
    };
    let token = new_token();
    let (id, uid, to) = (token_id(&token), u.id, u.email.clone());
    let now = models::now();
    db.write(move |c| {
        Ok(email_token::create(
            c,
            &id,
            uid,
            email_token::RESET,
            &to,
            now,
            now + Duration::minutes(RESET_MINUTES),
        )?)
    })
    .await?;
    let body = format!(
        "Hello {},\n\nSomeone (hopefully you) asked to reset your Beebeta password. Choose a new one here:\n\n{}\n\n\
         The link works once, for {RESET_MINUTES} minutes. If you did not ask, ignore this message: your password is unchanged.\n",
        u.username,
        link(cfg, "/reset/confirm", &token)
    );
    mailer.send(&u.email, "Reset your password", body);
    Ok(())
}

/// The account of a live reset link, if the link was sent to the address the account has now
/// (a link dies when the address changes).
fn reset_owner(
    c: &mut crate::db::AnyConnection,
    id: &str,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<Option<user::UserRow>> {
    let Some((uid, sent_to)) = email_token::live_owner(c, id, email_token::RESET, now)? else {
        return Ok(None);
    };
    let u = user::find(c, uid)?;
    Ok(u.email.eq_ignore_ascii_case(&sent_to).then_some(u))
}

/// Whether a reset link is still usable.
pub async fn reset_link_live(db: &Db, token: &str) -> AppResult<bool> {
    if token.is_empty() || token.len() > 100 {
        return Ok(false);
    }
    let id = token_id(token);
    let now = models::now();
    db.run(move |c| Ok(reset_owner(c, &id, now)?.is_some()))
        .await
}

/// A reset link that is unknown, used or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadLink;

/// Sets a new password from a reset link: ends every session, revokes every API token, unlinks the
/// identities linked while the email was unverified, and marks the address verified (the link
/// reached it). A dead link is `Ok(Err(BadLink))`; an unacceptable password is
/// `AppError::Validation` on `password` (the link stays usable, so the password can be corrected).
/// The owner is mailed a notice.
pub async fn reset(
    db: &Db,
    mailer: &Mailer,
    token: &str,
    new_password: &str,
    origin: Origin,
) -> AppResult<Result<(), BadLink>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(Err(BadLink));
    }
    let id = token_id(token);
    let now = models::now();
    let check_id = id.clone();
    let owner = db.run(move |c| Ok(reset_owner(c, &check_id, now)?)).await?;
    let Some(u) = owner else {
        return Ok(Err(BadLink));
    };
    // Validate before using the link up, so a weak password can be corrected with the same link.
    let pass = NewPassword::parse(new_password, &u.username, &u.email)
        .map_err(|e| AppError::field("password", e.message))?;
    let hash = tokio::task::spawn_blocking(move || password::hash(pass.expose()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)?;
    let (uid, address) = (u.id, u.email.clone());
    let revoked = db
        .write(move |c| {
            write_transaction(c, |c| {
                let Some((owner, sent_to)) = email_token::consume(c, &id, email_token::RESET, now)?
                else {
                    return Ok(None);
                };
                if owner != uid || !sent_to.eq_ignore_ascii_case(&address) {
                    return Ok(None);
                }
                user::set_password(c, uid, &hash)?;
                let revoked = accounts::revoke_access(c, uid, None, now)?;
                // After the unlinking: identities linked before stay untrusted.
                if user::find(c, uid)?.email_verified_at.is_none() {
                    user::mark_verified(c, uid, now)?;
                }
                security::record_in(c, uid, Kind::PasswordReset, None, &origin)?;
                Ok::<_, diesel::result::Error>(Some(revoked))
            })
            .map_err(AppError::from)
        })
        .await?;
    let Some(revoked) = revoked else {
        return Ok(Err(BadLink));
    };
    tracing::info!(
        user = uid,
        sessions = revoked.sessions,
        tokens = revoked.tokens,
        identities = revoked.identities,
        "password reset"
    );
    security::notify(mailer, &u, &u.email, Kind::PasswordReset, None);
    Ok(Ok(()))
}
