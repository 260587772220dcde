//! "Your data" (issue 19, GDPR articles 15, 17 and 20): the member's rows for the export, and
//! deleting the account — the proof that it is them, the deletion and its audit entry in one
//! transaction, then the caches of the questions it touched.

use crate::auth::{Keys, password};
use crate::cache::Cache;
use crate::db::{Db, transaction};
use crate::domain::QuestionsAfter;
use crate::error::{AppError, AppResult};
use crate::models::account_deletion::{self, Removed};
use crate::models::audit::{self, NewAudit};
use crate::models::user::UserRow;
use crate::models::your_data::{self, MemberRows};
use crate::models::{self};
use crate::services::{reading, two_factor};

/// Everything stored about member `user_id`, for the export.
pub async fn export(db: &Db, user_id: i64) -> AppResult<MemberRows> {
    db.run(move |c| Ok(your_data::member_rows(c, user_id)?))
        .await
}

/// What the member typed (or did) to prove it is them before the deletion.
#[derive(Debug, Clone, Copy)]
pub struct Proof<'a> {
    /// The password field (checked when the account has a password).
    pub password: &'a str,
    /// The code field (checked when the account has no password but two-factor on).
    pub code: &'a str,
    /// Whether the session's login (or confirmation) is recent (for accounts with neither).
    pub recent_login: bool,
}

/// How an account proves it is its owner before a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofNeeded {
    /// Its password.
    Password,
    /// A code of its authenticator app (or a recovery code): no password, two-factor on.
    Code,
    /// A login (or confirmation) in the last minutes: a provider-only account without
    /// two-factor, which has nothing to type.
    RecentLogin,
}

/// The proof `user` must give.
pub fn proof_needed(user: &UserRow) -> ProofNeeded {
    match (&user.password_hash, user.two_factor()) {
        (Some(_), _) => ProofNeeded::Password,
        (None, true) => ProofNeeded::Code,
        (None, false) => ProofNeeded::RecentLogin,
    }
}

fn refused(message: &str) -> AppError {
    AppError::field("delete", format!("{message} Nothing was deleted."))
}

/// Checks the proof (the password hash off the async workers); a wrong one is a field error on
/// `delete`.
async fn check_proof(db: &Db, keys: &Keys, user: &UserRow, proof: Proof<'_>) -> AppResult<()> {
    match proof_needed(user) {
        ProofNeeded::Password => {
            let (stored, typed) = (user.password_hash.clone(), proof.password.to_string());
            if typed.is_empty() || typed.len() > 1024 {
                return Err(refused("Type your password to delete your account."));
            }
            let ok =
                tokio::task::spawn_blocking(move || password::verify(stored.as_deref(), &typed))
                    .await
                    .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?;
            if !ok {
                return Err(refused("The password is wrong."));
            }
        }
        ProofNeeded::Code => {
            let code = proof.code.trim();
            if code.is_empty() || code.len() > 64 {
                return Err(refused("Type a code of your authenticator app."));
            }
            if two_factor::verify(db, keys, user.id, code).await?.is_none() {
                return Err(refused("That code is not right."));
            }
        }
        ProofNeeded::RecentLogin if proof.recent_login => {}
        ProofNeeded::RecentLogin => {
            return Err(refused("Confirm it is you first (log in again)."));
        }
    }
    Ok(())
}

/// A finished deletion: its opaque reference (in the audit log, shown to the member) and what it
/// did.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// A random number naming the deletion in the audit log; it is not the account's id and
    /// nothing links it to the account.
    pub reference: i64,
    /// What was removed, anonymised and kept.
    pub removed: Removed,
}

/// The audit entry's text: counts only.
fn summary(r: &Removed, after: QuestionsAfter) -> String {
    format!(
        "account deleted; questions: {} kept, {} deleted ({}); ballots anonymised: {}; \
         flags anonymised: {}; sessions: {}; API tokens: {}; identities: {}; email links: {}; recovery codes: {}; \
         security events: {}; uploads released: {}; moderation entries unattributed: {}",
        r.kept.len(),
        r.deleted.len(),
        after.as_str(),
        r.ballots,
        r.flags,
        r.sessions,
        r.tokens,
        r.identities,
        r.email_links,
        r.recovery_codes,
        r.security_events,
        r.uploads,
        r.audit_entries,
    )
}

/// Deletes `user`'s account after checking the proof: everything in one transaction with its
/// audit entry (a failure deletes nothing), then the caches of the questions it touched and the
/// lists. The last admin is refused (409).
pub async fn delete_account(
    db: &Db,
    cache: &Cache,
    keys: &Keys,
    user: &UserRow,
    proof: Proof<'_>,
    after: QuestionsAfter,
) -> AppResult<Deleted> {
    check_proof(db, keys, user, proof).await?;
    let uid = user.id;
    // Below 2^53, so that it survives JSON and spreadsheets unchanged.
    let reference = i64::try_from(rand::random::<u64>() >> 11)
        .unwrap_or(1)
        .max(1);
    let now = models::now();
    let removed = db
        .write(move |c| {
            Ok(transaction(c, |c| {
                let removed = account_deletion::remove(c, uid, after, now)?;
                let reason = summary(&removed, after);
                audit::record(
                    c,
                    &[NewAudit {
                        actor_id: None,
                        action: audit::DELETE_ACCOUNT,
                        target_kind: audit::ACCOUNT,
                        target_id: reference,
                        reason: &reason,
                        created_at: now,
                    }],
                )?;
                Ok(removed)
            })??)
        })
        .await?;
    let touched: Vec<i64> = removed
        .kept
        .iter()
        .chain(&removed.deleted)
        .copied()
        .collect();
    reading::questions_changed(cache, &touched).await;
    tracing::info!(
        reference,
        questions_kept = removed.kept.len(),
        questions_deleted = removed.deleted.len(),
        ballots_anonymised = removed.ballots,
        "account deleted"
    );
    Ok(Deleted { reference, removed })
}
