//! Two-factor authentication (TOTP with recovery codes): enrolment (a pending secret confirmed
//! by a first code), turning it off, new recovery codes, and the second step of a login. Every
//! change is a security event and a notice to the owner.

use crate::auth::Keys;
use crate::auth::totp::{self, TotpSecret};
use crate::db::write_transaction;
use crate::db::{AnyConnection, Db};
use crate::error::{AppError, AppResult};
use crate::mail::Mailer;
use crate::models::security_event::{Kind, Origin};
use crate::models::user::UserRow;
use crate::models::{self, two_factor};
use crate::services::security;

/// What an authenticator app needs to enrol.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, for typing by hand.
    pub secret: String,
    /// The `otpauth://totp/...` URI.
    pub uri: String,
    /// The URI's QR code (SVG).
    pub qr_svg: String,
}

impl Enrolment {
    fn of(secret: &TotpSecret, account: &str) -> Enrolment {
        let uri = secret.uri(account);
        Enrolment {
            secret: secret.base32(),
            qr_svg: totp::qr_svg(&uri),
            uri,
        }
    }
}

/// How the second step of a login was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// A code from the authenticator app.
    Code,
    /// A recovery code; this many are left.
    RecoveryCode {
        /// Unused codes left.
        left: i64,
    },
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

fn wrong_code() -> AppError {
    AppError::field(
        "code",
        "That code is not right: use the current 6-digit code of your authenticator app (or an unused recovery code).",
    )
}

fn already_on() -> AppError {
    AppError::Conflict {
        code: "two_factor_on",
        message: "Two-factor authentication is already on.".into(),
    }
}

/// Starts an enrolment: a new pending secret (any earlier pending one is replaced).
pub async fn begin(db: &Db, keys: &Keys, user: &UserRow) -> AppResult<Enrolment> {
    let secret = TotpSecret::generate();
    let sealed = secret.seal(keys, user.id);
    let uid = user.id;
    let started = db
        .write(move |c| Ok(two_factor::set_pending(c, uid, &sealed)?))
        .await?;
    if !started {
        return Err(already_on());
    }
    Ok(Enrolment::of(&secret, &user.username))
}

/// The pending secret of an enrolment in progress, if there is one.
async fn pending_secret(db: &Db, keys: &Keys, user_id: i64) -> AppResult<Option<TotpSecret>> {
    let row = db.run(move |c| Ok(two_factor::find(c, user_id)?)).await?;
    if row.enabled_at.is_some() {
        return Err(already_on());
    }
    Ok(row
        .secret
        .and_then(|sealed| TotpSecret::open(keys, user_id, &sealed)))
}

/// The enrolment in progress again (the page after a wrong code), if there is one.
pub async fn pending(db: &Db, keys: &Keys, user: &UserRow) -> AppResult<Option<Enrolment>> {
    Ok(pending_secret(db, keys, user.id)
        .await?
        .map(|s| Enrolment::of(&s, &user.username)))
}

/// New recovery codes for `user_id` in the caller's transaction; returns them (shown once).
fn new_codes(c: &mut AnyConnection, user_id: i64) -> diesel::QueryResult<Vec<String>> {
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|code| totp::normalise_recovery_code(code))
        .map(|n| totp::recovery_code_hash(&n))
        .collect();
    two_factor::replace_codes(c, user_id, &hashes, models::now())?;
    Ok(codes)
}

/// Confirms an enrolment with a first code: two-factor authentication is on. Returns the recovery
/// codes (shown once).
pub async fn confirm(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    user: &UserRow,
    code: &str,
    origin: Origin,
) -> AppResult<Vec<String>> {
    let secret = pending_secret(db, keys, user.id).await?.ok_or_else(|| {
        AppError::bad_request(
            "no_enrolment",
            "No two-factor enrolment is in progress: start again.",
        )
    })?;
    let step = secret.check(code, unix_now()).ok_or_else(wrong_code)?;
    let step = i64::try_from(step).map_err(|_| wrong_code())?;
    let uid = user.id;
    let now = models::now();
    let codes = db
        .write(move |c| {
            write_transaction(c, |c| {
                if !two_factor::enable(c, uid, step, now)? {
                    return Ok(None);
                }
                let codes = new_codes(c, uid)?;
                security::record_in(c, uid, Kind::TwoFactorEnabled, None, &origin)?;
                Ok::<_, diesel::result::Error>(Some(codes))
            })
            .map_err(AppError::from)
        })
        .await?
        .ok_or_else(already_on)?;
    security::notify(mailer, user, &user.email, Kind::TwoFactorEnabled, None);
    Ok(codes)
}

/// Enrols `user_id` at once (the command line's `create-admin`), in the caller's connection:
/// returns the `otpauth://` URI and the recovery codes. `None` when two-factor is already on.
pub fn enrol_now(
    c: &mut AnyConnection,
    keys: &Keys,
    user_id: i64,
    account: &str,
) -> AppResult<Option<(String, Vec<String>)>> {
    let secret = TotpSecret::generate();
    let sealed = secret.seal(keys, user_id);
    let now = models::now();
    let step = i64::try_from(unix_now() / 30).unwrap_or(0);
    write_transaction(c, |c| {
        if !two_factor::set_pending(c, user_id, &sealed)? {
            return Ok(None);
        }
        // The step before now: the first code the admin types is still accepted.
        two_factor::enable(c, user_id, step - 2, now)?;
        let codes = new_codes(c, user_id)?;
        security::record_in(
            c,
            user_id,
            Kind::TwoFactorEnabled,
            Some("command line"),
            &Origin::default(),
        )?;
        Ok(Some((secret.uri(account), codes)))
    })
    .map_err(|e: diesel::result::Error| AppError::from(e))
}

/// Checks a second factor for `user_id`: a code of the authenticator app (each accepted once) or
/// an unused recovery code (used up). `None` when it is neither.
pub async fn verify(
    db: &Db,
    keys: &Keys,
    user_id: i64,
    code: &str,
) -> AppResult<Option<SecondFactor>> {
    let row = db.run(move |c| Ok(two_factor::find(c, user_id)?)).await?;
    let secret = row
        .enabled_at
        .and(row.secret)
        .and_then(|sealed| TotpSecret::open(keys, user_id, &sealed));
    if let Some(secret) = secret
        && let Some(step) = secret.check(code, unix_now())
    {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let fresh = db
            .write(move |c| Ok(two_factor::accept_step(c, user_id, step)?))
            .await?;
        // A code already used (a replay within its window) is no code.
        return Ok(fresh.then_some(SecondFactor::Code));
    }
    let Some(normal) = totp::normalise_recovery_code(code) else {
        return Ok(None);
    };
    let hash = totp::recovery_code_hash(&normal);
    let now = models::now();
    db.write(move |c| {
        if !two_factor::use_code(c, user_id, &hash, now)? {
            return Ok(None);
        }
        let left = two_factor::codes_left(c, user_id)?;
        Ok(Some(SecondFactor::RecoveryCode { left }))
    })
    .await
}

/// Turns two-factor authentication off after a valid second factor.
pub async fn disable(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    user: &UserRow,
    code: &str,
    origin: Origin,
) -> AppResult<()> {
    if user.is_admin() {
        return Err(AppError::Forbidden {
            code: "two_factor_required",
            message: "Admins must keep two-factor authentication on.".into(),
        });
    }
    if verify(db, keys, user.id, code).await?.is_none() {
        return Err(wrong_code());
    }
    let uid = user.id;
    db.write(move |c| {
        write_transaction(c, |c| {
            two_factor::disable(c, uid)?;
            security::record_in(c, uid, Kind::TwoFactorDisabled, None, &origin)
        })
        .map_err(AppError::from)
    })
    .await?;
    security::notify(mailer, user, &user.email, Kind::TwoFactorDisabled, None);
    Ok(())
}

/// New recovery codes (the old ones stop working) after a valid second factor.
pub async fn renew_codes(
    db: &Db,
    keys: &Keys,
    mailer: &Mailer,
    user: &UserRow,
    code: &str,
    origin: Origin,
) -> AppResult<Vec<String>> {
    if verify(db, keys, user.id, code).await?.is_none() {
        return Err(wrong_code());
    }
    let uid = user.id;
    let codes = db
        .write(move |c| {
            write_transaction(c, |c| {
                let codes = new_codes(c, uid)?;
                security::record_in(c, uid, Kind::RecoveryCodesRenewed, None, &origin)?;
                Ok::<_, diesel::result::Error>(codes)
            })
            .map_err(AppError::from)
        })
        .await?;
    security::notify(mailer, user, &user.email, Kind::RecoveryCodesRenewed, None);
    Ok(codes)
}
