//! Sign-up, login and account changes: validation, password hashing off the async workers,
//! and moving an anonymous visitor's ballots to their account at login.

use crate::auth::password;
use crate::db::Db;
use crate::domain::{Email, Invalid, NewPassword, Username, login_nfkc};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::user::{self, NewUser, ROLE_USER, UserRow};
use crate::models::{self, ballot};

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))
}

/// Creates an account; returns the new user.
pub async fn signup(db: &Db, username: &str, email: &str, password: &str) -> AppResult<UserRow> {
    let mut errors = FieldErrors::new();
    let name = Username::parse(username)
        .map_err(|e| errors.insert("username", e.message))
        .ok();
    let mail = Email::parse(email)
        .map_err(|e| errors.insert("email", e.message))
        .ok();
    let pass = NewPassword::parse(password, username.trim())
        .map_err(|e| errors.insert("password", e.message))
        .ok();
    let (Some(name), Some(mail), Some(pass)) = (name, mail, pass) else {
        return Err(AppError::fields(errors));
    };
    let (n, m) = (name.as_str().to_string(), mail.as_str().to_string());
    let (name_taken, email_taken) = db.run(move |c| Ok(user::taken(c, &n, &m)?)).await?;
    if name_taken {
        errors.insert("username", "That username is taken.".into());
    }
    if email_taken {
        errors.insert(
            "email",
            "An account with that email already exists. Log in instead?".into(),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors));
    }
    let hash = blocking(move || password::hash(pass.expose()))
        .await?
        .map_err(AppError::Internal)?;
    let now = models::now();
    let (n, m) = (name.as_str().to_string(), mail.as_str().to_string());
    let created = db
        .write(move |c| {
            let new = NewUser {
                username: &n,
                email: &m,
                password_hash: Some(&hash),
                role: ROLE_USER,
                created_at: now,
            };
            match user::create(c, &new) {
                Ok(id) => Ok(Ok(user::find(c, id)?)),
                // A concurrent sign-up took the name or email between the check and the insert.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(Err(())),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    created.map_err(|_| {
        AppError::field(
            "username",
            "That username or email was just taken; choose another.",
        )
    })
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

/// Changes the password after checking the current one.
pub async fn change_password(db: &Db, user: &UserRow, current: &str, new: &str) -> AppResult<()> {
    let stored = user.password_hash.clone();
    let cur = current.to_string();
    if stored.is_some() && !blocking(move || password::verify(stored.as_deref(), &cur)).await? {
        return Err(AppError::field(
            "password",
            "The current password is wrong.",
        ));
    }
    let pass = NewPassword::parse(new, &user.username)
        .map_err(|e: Invalid| AppError::field("password", e.message))?;
    let hash = blocking(move || password::hash(pass.expose()))
        .await?
        .map_err(AppError::Internal)?;
    let uid = user.id;
    db.write(move |c| Ok(user::set_password(c, uid, &hash)?))
        .await?;
    Ok(())
}

/// Changes the email after checking the password; the new address is unverified.
pub async fn change_email(db: &Db, user: &UserRow, email: &str, current: &str) -> AppResult<()> {
    let mail = Email::parse(email).map_err(|e| AppError::field("email", e.message))?;
    let stored = user.password_hash.clone();
    let cur = current.to_string();
    if stored.is_some() && !blocking(move || password::verify(stored.as_deref(), &cur)).await? {
        return Err(AppError::field("email", "The password is wrong."));
    }
    let (uid, m) = (user.id, mail.as_str().to_string());
    let result = db
        .write(move |c| match user::set_email(c, uid, &m) {
            Ok(()) => Ok(Ok(())),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(Err(())),
            Err(e) => Err(e.into()),
        })
        .await?;
    result.map_err(|_| AppError::field("email", "Another account uses that email."))
}
