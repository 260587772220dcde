//! `beebeta create-admin`: the first admin is made from the command line, with two-factor
//! authentication turned on (admins must use it): the `otpauth://` URI and recovery codes are
//! printed once.

use crate::auth::{Keys, password};
use crate::db::Db;
use crate::domain::{Email, NewPassword, Username};
use crate::models::{self, user};
use crate::services::two_factor;

/// What `create-admin` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminCreated {
    /// A sentence saying what was done.
    pub message: String,
    /// The admin's new `otpauth://totp/...` URI (`None` when two-factor was already on).
    pub otpauth_uri: Option<String>,
    /// Their recovery codes (with a new enrolment).
    pub recovery_codes: Vec<String>,
}

impl std::fmt::Display for AdminCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.message)?;
        match &self.otpauth_uri {
            Some(uri) => {
                writeln!(
                    f,
                    "Two-factor authentication is on. Add this to an authenticator app (or show it \
                     as a QR code, e.g. qrencode -t ansiutf8):"
                )?;
                writeln!(f, "{uri}")?;
                writeln!(f, "Recovery codes (each logs in once; keep them safe):")?;
                for code in &self.recovery_codes {
                    writeln!(f, "  {code}")?;
                }
                Ok(())
            }
            None => writeln!(f, "Two-factor authentication was already on."),
        }
    }
}

/// Turns two-factor authentication on for the admin `id` (unless it is on).
fn enrol(
    db: &Db,
    keys: &Keys,
    id: i64,
    account: &str,
) -> Result<(Option<String>, Vec<String>), String> {
    let account = account.to_string();
    let keys = keys.clone();
    let enrolled = db
        .write_blocking(move |c| two_factor::enrol_now(c, &keys, id, &account))
        .map_err(|e| e.to_string())?;
    Ok(match enrolled {
        Some((uri, codes)) => (Some(uri), codes),
        None => (None, Vec::new()),
    })
}

/// Creates an admin account, or promotes the existing user with that username, and turns their
/// two-factor authentication on (`keys` seal its secret).
pub fn create_admin(
    db: &Db,
    keys: &Keys,
    username: &str,
    email: &str,
    pass: &str,
) -> Result<AdminCreated, String> {
    let name = Username::parse(username).map_err(|e| e.message)?;
    let mail = Email::parse(email).map_err(|e| e.message)?;
    let existing = db
        .run_blocking(|c| Ok(user::find_by_username(c, name.as_str())?))
        .map_err(|e| e.to_string())?;
    if let Some(u) = existing {
        if !u.email.eq_ignore_ascii_case(mail.as_str()) {
            return Err(format!(
                "user {} exists with another email address",
                u.username
            ));
        }
        db.write_blocking(|c| Ok(user::set_role(c, u.id, user::ROLE_ADMIN)?))
            .map_err(|e| e.to_string())?;
        let (otpauth_uri, recovery_codes) = enrol(db, keys, u.id, &u.username)?;
        return Ok(AdminCreated {
            message: format!("{} is now an admin", u.username),
            otpauth_uri,
            recovery_codes,
        });
    }
    let pass = NewPassword::parse(pass, name.as_str(), mail.as_str()).map_err(|e| e.message)?;
    let hash = password::hash(pass.expose())?;
    let now = models::now();
    let id = db
        .write_blocking(|c| {
            let new = user::NewUser {
                username: name.as_str(),
                email: mail.as_str(),
                password_hash: Some(&hash),
                role: user::ROLE_ADMIN,
                created_at: now,
            };
            let id = user::create(c, &new)?;
            user::mark_verified(c, id, now)?;
            Ok(id)
        })
        .map_err(|e| match e {
            crate::AppError::Internal(m) if m.contains("UNIQUE") || m.contains("Duplicate") => {
                "that email address is already used by another account".to_string()
            }
            e => e.to_string(),
        })?;
    let (otpauth_uri, recovery_codes) = enrol(db, keys, id, name.as_str())?;
    Ok(AdminCreated {
        message: format!("created admin {}", name.as_str()),
        otpauth_uri,
        recovery_codes,
    })
}
