//! `beebeta create-admin`: the first admin is made from the command line.

use crate::auth::password;
use crate::db::Db;
use crate::domain::{Email, NewPassword, Username};
use crate::models::{self, user};

/// Creates an admin account, or promotes the existing user with that username. Returns a
/// sentence saying what was done.
pub fn create_admin(db: &Db, username: &str, email: &str, pass: &str) -> Result<String, String> {
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
        return Ok(format!("{} is now an admin", u.username));
    }
    let pass = NewPassword::parse(pass, name.as_str(), mail.as_str()).map_err(|e| e.message)?;
    let hash = password::hash(pass.expose())?;
    let now = models::now();
    db.write_blocking(|c| {
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
    Ok(format!("created admin {}", name.as_str()))
}
