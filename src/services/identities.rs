//! What a provider login means for Beebeta accounts: log in a linked identity, link a new one to
//! the logged-in user, or (first login) create an account or link to an existing one after its
//! password is confirmed. An identity is never linked to an account just because the emails match.

use crate::auth::oauth::ProviderUser;
use crate::auth::reauth::NotNow;
use crate::db::Db;
use crate::db::write_transaction;
use crate::domain::{Email, Username};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::identity::{self, IdentityRow, NewIdentity};
use crate::models::user::{self, NewUser, ROLE_USER, UserRow};
use crate::models::{self};

/// What a completed provider login leads to.
#[derive(Debug)]
pub enum Resolution {
    /// The identity belongs to this account: log it in.
    LogIn(UserRow),
    /// The identity is now linked to the logged-in user.
    Linked,
    /// The identity was already linked to the logged-in user: a fresh proof of who they are.
    AlreadyLinked,
    /// The logged-in user may not link a new identity now (unverified email, or no recent login).
    LinkRefused(NotNow),
    /// Nobody has this identity: the visitor must create an account or link an existing one.
    NeedsAccount {
        /// An existing account with the provider's email, offered for linking by password.
        same_email_user: Option<String>,
    },
}

fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

fn linked_elsewhere(provider: &str) -> AppError {
    AppError::Conflict {
        code: "identity_linked",
        message: format!(
            "This {provider} account is already linked to another Beebeta account. Log in with it, \
             or unlink it there first."
        ),
    }
}

/// The logged-in user a provider login happens for, and whether they may link a new identity now
/// (a verified email and a recent login: `auth::reauth::check`).
#[derive(Debug, Clone, Copy)]
pub struct LinkingUser {
    /// The user.
    pub id: i64,
    /// `Ok` when they may link now.
    pub may_link: Result<(), NotNow>,
}

/// Decides what a provider login does; `logged_in` is the current session's user.
pub async fn resolve(
    db: &Db,
    who: &ProviderUser,
    logged_in: Option<LinkingUser>,
) -> AppResult<Resolution> {
    let (provider, subject) = (who.provider.clone(), who.subject.clone());
    let email = who.email.clone();
    let vouched = who.email_verified;
    let label = who.provider.clone();
    let now = models::now();
    db.write(move |c| {
        if let Some(found) = identity::find(c, &provider, &subject)? {
            return match logged_in {
                Some(u) if u.id == found.user_id => Ok(Resolution::AlreadyLinked),
                Some(_) => Err(linked_elsewhere(&label)),
                None => {
                    let u = user::find(c, found.user_id)?;
                    if u.banned_at.is_some() {
                        return Err(AppError::Forbidden {
                            code: "banned",
                            message: format!("The account {} is suspended.", u.username),
                        });
                    }
                    Ok(Resolution::LogIn(u))
                }
            };
        }
        if let Some(u) = logged_in {
            if let Err(why) = u.may_link {
                return Ok(Resolution::LinkRefused(why));
            }
            let new = NewIdentity {
                user_id: u.id,
                provider: &provider,
                subject: &subject,
                email: email.as_deref(),
                verified: true,
                now,
            };
            return match identity::link(c, &new) {
                Ok(()) => Ok(Resolution::Linked),
                Err(e) if is_unique_violation(&e) => Err(linked_elsewhere(&label)),
                Err(e) => Err(e.into()),
            };
        }
        // Only an address the provider vouches for may be said to have an account (the visitor
        // controls it); otherwise the page says nothing about it.
        let same_email_user = match email.as_ref().filter(|_| vouched) {
            Some(e) => user::find_by_login(c, e)?
                .filter(|u| u.email.eq_ignore_ascii_case(e))
                .map(|u| u.username),
            None => None,
        };
        Ok(Resolution::NeedsAccount { same_email_user })
    })
    .await
}

/// Creates an account (no password) for a first provider login and links the identity, in one
/// transaction. The email counts as verified only when the provider vouched for that exact email.
pub async fn create_account(
    db: &Db,
    who: &ProviderUser,
    username: &str,
    email: &str,
) -> AppResult<UserRow> {
    let mut errors = FieldErrors::new();
    let name = Username::parse(username)
        .map_err(|e| errors.insert("username", e.message))
        .ok();
    let mail = Email::parse(email)
        .map_err(|e| errors.insert("email", e.message))
        .ok();
    let (Some(name), Some(mail)) = (name, mail) else {
        return Err(AppError::fields(errors));
    };
    let verified = who.email_verified
        && who
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(mail.as_str()));
    let who = who.clone();
    let now = models::now();
    let outcome = db
        .write(move |c| {
            let (name_taken, email_taken) = user::taken(c, name.as_str(), mail.as_str())?;
            let mut errors = FieldErrors::new();
            if name_taken {
                errors.insert("username", "That username is taken.".into());
            }
            if email_taken {
                errors.insert(
                    "email",
                    "An account with that email already exists: link it below with its password."
                        .into(),
                );
            }
            if !errors.is_empty() {
                return Ok(Err(errors));
            }
            let created = write_transaction(c, |c| {
                let id = user::create(
                    c,
                    &NewUser {
                        username: name.as_str(),
                        email: mail.as_str(),
                        password_hash: None,
                        role: ROLE_USER,
                        created_at: now,
                    },
                )?;
                if verified {
                    user::mark_verified(c, id, now)?;
                }
                identity::link(
                    c,
                    &NewIdentity {
                        user_id: id,
                        provider: &who.provider,
                        subject: &who.subject,
                        email: who.email.as_deref(),
                        verified,
                        now,
                    },
                )?;
                user::find(c, id)
            });
            match created {
                Ok(u) => Ok(Ok(u)),
                Err(e) if is_unique_violation(&e) => Ok(Err(FieldErrors::from([(
                    "username",
                    "That username or email was just taken, or this identity was just linked; \
                     try again."
                        .to_string(),
                )]))),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    outcome.map_err(AppError::fields)
}

/// Links the identity to `user` (whose password the caller has just checked), if their email is
/// verified (else anyone who typed the address at sign-up could link themselves in).
pub async fn link_existing(db: &Db, who: &ProviderUser, user: &UserRow) -> AppResult<()> {
    if user.email_verified_at.is_none() {
        let (_, code, message) = NotNow::Unverified.answer();
        return Err(AppError::Forbidden {
            code,
            message: message.into(),
        });
    }
    let who = who.clone();
    let user_id = user.id;
    let now = models::now();
    db.write(move |c| {
        let new = NewIdentity {
            user_id,
            provider: &who.provider,
            subject: &who.subject,
            email: who.email.as_deref(),
            verified: true,
            now,
        };
        match identity::link(c, &new) {
            Ok(()) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(linked_elsewhere(&who.provider)),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// A user's linked identities.
pub async fn list(db: &Db, user_id: i64) -> AppResult<Vec<IdentityRow>> {
    db.run(move |c| Ok(identity::for_user(c, user_id)?)).await
}

/// Unlinks one identity, unless it is the only way into an account without a password.
pub async fn unlink(db: &Db, user_id: i64, identity_id: i64) -> AppResult<()> {
    db.write(move |c| {
        let u = user::find(c, user_id)?;
        let ids = identity::for_user(c, user_id)?;
        if !ids.iter().any(|i| i.id == identity_id) {
            return Err(AppError::NotFound("No such linked account.".into()));
        }
        if u.password_hash.is_none() && ids.len() == 1 {
            return Err(AppError::Conflict {
                code: "last_login_method",
                message: "This is your only way to log in: set a password first (use \
                          \"Forgot your password?\" on the login page), then unlink it."
                    .into(),
            });
        }
        identity::unlink(c, user_id, identity_id)?;
        Ok(())
    })
    .await
}
