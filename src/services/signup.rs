//! Sign-up by a link mailed to the address: the form's answer is the same whether or not the
//! address is taken (its owner is mailed a notice instead of a link), and the account is made
//! only when the link is followed, so nobody can claim an address they merely typed. A provider
//! login whose email the provider does not vouch for signs up the same way.

use chrono::Duration;

use crate::auth::oauth::ProviderUser;
use crate::auth::password;
use crate::auth::session::{new_token, token_id};
use crate::config::SiteConfig;
use crate::db::Db;
use crate::db::write_transaction;
use crate::domain::{Email, NewPassword, Username};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::mail::Mailer;
use crate::models;
use crate::models::identity::{self, NewIdentity};
use crate::models::pending_signup::{self, PendingSignupRow};
use crate::models::user::{self, NewUser, ROLE_USER, UserRow};

/// How long a sign-up link works.
pub const LINK_HOURS: i64 = 48;

/// A sign-up with a password, as the form gives it.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSignup<'a> {
    /// The chosen username.
    pub username: &'a str,
    /// The address.
    pub email: &'a str,
    /// The chosen password.
    pub password: &'a str,
    /// Where to go once the account is made.
    pub next: &'a str,
}

/// Why a sign-up link made no account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Unknown, used or expired.
    Dead,
    /// The username was taken since the link was sent.
    UsernameTaken,
    /// An account with the address was made since (another sign-up link).
    EmailTaken,
    /// The provider identity was linked to an account since.
    IdentityTaken,
}

/// The account a followed link made, and where to go.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The new account.
    pub user: UserRow,
    /// Where the sign-up wanted to go.
    pub next: String,
    /// The provider whose identity was linked, for a provider login's sign-up.
    pub provider: Option<String>,
}

fn link(cfg: &SiteConfig, token: &str) -> String {
    format!(
        "{}/signup/confirm?token={token}",
        cfg.public_url.trim_end_matches('/')
    )
}

/// Validates a sign-up's username and email (the username must be free: usernames are public).
async fn check_names(
    db: &Db,
    username: &str,
    email: &str,
    errors: &mut FieldErrors,
) -> AppResult<Option<(Username, Email, bool)>> {
    let name = Username::parse(username)
        .map_err(|e| errors.insert("username", e.message))
        .ok();
    let mail = Email::parse(email)
        .map_err(|e| errors.insert("email", e.message))
        .ok();
    let (Some(name), Some(mail)) = (name, mail) else {
        return Ok(None);
    };
    let (n, m) = (name.as_str().to_string(), mail.as_str().to_string());
    let (name_taken, email_taken) = db.run(move |c| Ok(user::taken(c, &n, &m)?)).await?;
    if name_taken {
        errors.insert("username", "That username is taken.".into());
        return Ok(None);
    }
    Ok(Some((name, mail, email_taken)))
}

/// Stores the sign-up and mails its link, or, when the address already has an account, mails its
/// owner a notice instead (nothing is stored). The caller answers the same either way.
async fn store_or_warn(
    db: &Db,
    mailer: &Mailer,
    cfg: &SiteConfig,
    mut row: PendingSignupRow,
    email_taken: bool,
) -> AppResult<()> {
    let to = row.email.clone();
    if email_taken {
        tracing::info!(target: "security", "sign-up with a taken address: its owner is told");
        let body = format!(
            "Hello,\n\nSomeone (maybe you) tried to sign up for Beebeta with this address, which \
             already has an account. If it was you, log in at {base}/login (with your username or \
             this address), or choose a new password at {base}/reset if you forgot it. If it was \
             not you, ignore this message: nothing was changed.\n",
            base = cfg.public_url.trim_end_matches('/')
        );
        mailer.send(&to, "Someone tried to sign up with your address", body);
        return Ok(());
    }
    let token = new_token();
    row.id = token_id(&token);
    let stored = row.clone();
    db.write(move |c| Ok(pending_signup::create(c, &stored)?))
        .await?;
    let body = format!(
        "Hello {},\n\nOpen this link to finish signing up for Beebeta:\n\n{}\n\nThe link works once, \
         for {LINK_HOURS} hours. If you did not sign up, ignore this message: no account is made.\n",
        row.username,
        link(cfg, &token)
    );
    mailer.send(&to, "Finish signing up", body);
    Ok(())
}

/// Starts a sign-up with a password: checks the form (the username must be free, the password
/// good), then mails the link, or a notice to the owner of a taken address. `Ok` in both cases,
/// after about the same time (the password is hashed in both).
pub async fn start(
    db: &Db,
    mailer: &Mailer,
    cfg: &SiteConfig,
    form: PasswordSignup<'_>,
) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    let pass = NewPassword::parse(form.password, form.username.trim(), form.email)
        .map_err(|e| errors.insert("password", e.message))
        .ok();
    let names = check_names(db, form.username, form.email, &mut errors).await?;
    let (Some((name, mail, email_taken)), Some(pass)) = (names, pass) else {
        return Err(AppError::fields(errors));
    };
    let hash = tokio::task::spawn_blocking(move || password::hash(pass.expose()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)?;
    let now = models::now();
    let row = PendingSignupRow {
        id: String::new(),
        username: name.as_str().to_string(),
        email: mail.as_str().to_string(),
        password_hash: Some(hash),
        provider: None,
        subject: None,
        provider_email: None,
        next: form.next.to_string(),
        created_at: now,
        expires_at: now + Duration::hours(LINK_HOURS),
        used_at: None,
    };
    store_or_warn(db, mailer, cfg, row, email_taken).await
}

/// Starts the sign-up of a provider login whose email the provider does not vouch for (or that
/// chose another address): like [`start`], the account and the link to the identity are made when
/// the mailed link is followed.
pub async fn start_for_identity(
    db: &Db,
    mailer: &Mailer,
    cfg: &SiteConfig,
    who: &ProviderUser,
    username: &str,
    email: &str,
    next: &str,
) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    let Some((name, mail, email_taken)) = check_names(db, username, email, &mut errors).await?
    else {
        return Err(AppError::fields(errors));
    };
    let now = models::now();
    let row = PendingSignupRow {
        id: String::new(),
        username: name.as_str().to_string(),
        email: mail.as_str().to_string(),
        password_hash: None,
        provider: Some(who.provider.clone()),
        subject: Some(who.subject.clone()),
        provider_email: who.email.clone(),
        next: next.to_string(),
        created_at: now,
        expires_at: now + Duration::hours(LINK_HOURS),
        used_at: None,
    };
    store_or_warn(db, mailer, cfg, row, email_taken).await
}

fn token_ok(token: &str) -> bool {
    !token.is_empty() && token.len() <= 100
}

/// Whether a sign-up link is live (for its page).
pub async fn link_live(db: &Db, token: &str) -> AppResult<bool> {
    if !token_ok(token) {
        return Ok(false);
    }
    let id = token_id(token);
    let now = models::now();
    db.run(move |c| Ok(pending_signup::find_live(c, &id, now)?.is_some()))
        .await
}

/// Follows a sign-up link: makes the account (its address verified: the link reached it) and
/// links the provider identity if there is one, in one transaction.
pub async fn finish(db: &Db, token: &str) -> AppResult<Result<Finished, LinkProblem>> {
    if !token_ok(token) {
        return Ok(Err(LinkProblem::Dead));
    }
    let id = token_id(token);
    let now = models::now();
    db.write(move |c| {
        let done = write_transaction(c, |c| {
            let Some(p) = pending_signup::find_live(c, &id, now)? else {
                return Ok(Err(LinkProblem::Dead));
            };
            if !pending_signup::consume(c, &id, now)? {
                return Ok(Err(LinkProblem::Dead));
            }
            let (name_taken, email_taken) = user::taken(c, &p.username, &p.email)?;
            if name_taken {
                return Ok(Err(LinkProblem::UsernameTaken));
            }
            if email_taken {
                return Ok(Err(LinkProblem::EmailTaken));
            }
            if let (Some(provider), Some(subject)) = (&p.provider, &p.subject)
                && identity::find(c, provider, subject)?.is_some()
            {
                return Ok(Err(LinkProblem::IdentityTaken));
            }
            let uid = user::create(
                c,
                &NewUser {
                    username: &p.username,
                    email: &p.email,
                    password_hash: p.password_hash.as_deref(),
                    role: ROLE_USER,
                    created_at: now,
                },
            )?;
            user::mark_verified(c, uid, now)?;
            if let (Some(provider), Some(subject)) = (&p.provider, &p.subject) {
                identity::link(
                    c,
                    &NewIdentity {
                        user_id: uid,
                        provider,
                        subject,
                        email: p.provider_email.as_deref(),
                        verified: true,
                        now,
                    },
                )?;
            }
            // Sign-ups nobody finished are forgotten a day after their links died.
            pending_signup::purge(c, now - Duration::days(1))?;
            Ok::<_, diesel::result::Error>(Ok(Finished {
                user: user::find(c, uid)?,
                next: p.next,
                provider: p.provider,
            }))
        });
        match done {
            Ok(r) => Ok(r),
            // A concurrent link made the same name or address between the check and the insert.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(Err(LinkProblem::UsernameTaken)),
            Err(e) => Err(e.into()),
        }
    })
    .await
}
