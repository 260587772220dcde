//! Moderation: hide/unhide questions, ban/unban users. Each action, its audit row and the flags
//! it resolves commit in one transaction; the shared caches are invalidated after the commit.

use crate::cache::Cache;
use crate::db::Db;
use crate::db::write_transaction;
use crate::domain::FlagResolution;
use crate::domain::report::ModerationReason;
use crate::error::{AppError, AppResult};
use crate::models::audit::{self, NewAudit};
use crate::models::{self, flag, moderation, user};

fn not_found(what: &'static str) -> impl Fn(diesel::result::Error) -> AppError {
    move |e| match e {
        diesel::result::Error::NotFound => AppError::NotFound(format!("There is no such {what}.")),
        e => e.into(),
    }
}

/// Question `id`'s title, hidden or not, for a moderator's confirmation and messages.
pub async fn question_title(db: &Db, id: i64) -> AppResult<String> {
    db.run(move |c| moderation::question_title(c, id).map_err(not_found("question")))
        .await
}

/// User `id`'s username and whether they are an admin, for a moderator's confirmation and
/// messages.
pub async fn user_label(db: &Db, id: i64) -> AppResult<(String, bool)> {
    db.run(move |c| {
        let u = user::find(c, id).map_err(not_found("user"))?;
        let admin = u.is_admin();
        Ok((u.username, admin))
    })
    .await
}

/// The refusal to ban an admin.
pub fn cannot_ban_admin() -> AppError {
    AppError::Conflict {
        code: "cannot_ban_admin",
        message: "Admins cannot be banned; remove their admin role first.".into(),
    }
}

/// What a hide or unhide did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HideOutcome {
    /// Whether the question's hidden state changed.
    pub changed: bool,
    /// Its open flags resolved with it.
    pub flags_resolved: usize,
}

/// Hides (`hide`) or shows question `id` on behalf of admin `actor`. Either resolves the
/// question's open flags in the same transaction: a hide always (so hiding a question already
/// hidden pending review keeps it hidden and closes its flags), an unhide when it showed the
/// question. Recorded in the audit log when anything changed. An unknown id is a 404.
pub async fn set_question_hidden(
    db: &Db,
    cache: &Cache,
    actor: i64,
    id: i64,
    hide: bool,
    reason: ModerationReason,
) -> AppResult<HideOutcome> {
    let now = models::now();
    let outcome = db
        .write(move |c| {
            write_transaction(c, |c| {
                let changed = moderation::set_hidden(c, id, hide, now)?;
                let flags_resolved = match (hide, changed) {
                    (true, _) => flag::resolve_open(c, id, FlagResolution::Hidden, now)?,
                    (false, true) => flag::resolve_open(c, id, FlagResolution::Unhidden, now)?,
                    (false, false) => 0,
                };
                if changed || flags_resolved > 0 {
                    audit::record(
                        c,
                        &[NewAudit {
                            actor_id: Some(actor),
                            action: if hide {
                                audit::HIDE_QUESTION
                            } else {
                                audit::UNHIDE_QUESTION
                            },
                            target_kind: audit::QUESTION,
                            target_id: id,
                            reason: reason.as_str(),
                            created_at: now,
                        }],
                    )?;
                }
                Ok(HideOutcome {
                    changed,
                    flags_resolved,
                })
            })
            .map_err(not_found("question"))
        })
        .await?;
    if outcome.changed {
        crate::services::reading::question_changed(cache, id).await;
    }
    Ok(outcome)
}

/// What a ban did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanOutcome {
    /// Whether the user's ban state changed.
    pub changed: bool,
    /// The ids of their questions hidden with it.
    pub hidden: Vec<i64>,
    /// The open flags on their questions, resolved by the ban.
    pub flags_resolved: usize,
}

/// Bans (`ban`) or unbans user `id` on behalf of admin `actor`; a ban ends the user's sessions
/// and, with `hide_questions`, hides all their listed questions in the same transaction; it
/// resolves the open flags on all their questions (recorded as a ban even when they were banned
/// already).
/// Admins cannot be banned (remove the role first); an unknown id is a 404.
pub async fn set_user_banned(
    db: &Db,
    cache: &Cache,
    actor: i64,
    id: i64,
    ban: bool,
    hide_questions: bool,
    reason: ModerationReason,
) -> AppResult<BanOutcome> {
    let now = models::now();
    let (changed, hidden, flags_resolved) = db
        .write(move |c| {
            write_transaction(c, |c| {
                let target = user::find(c, id).map_err(not_found("user"))?;
                if ban && target.is_admin() {
                    return Err(cannot_ban_admin());
                }
                let changed = moderation::set_banned(c, id, ban, now)?;
                let hidden = if ban && hide_questions {
                    moderation::visible_questions_of(c, id)?
                } else {
                    Vec::new()
                };
                let flags_resolved = if ban {
                    flag::resolve_open_of_author(c, id, FlagResolution::Banned, now)?
                } else {
                    0
                };
                let mut entries = Vec::with_capacity(hidden.len() + 1);
                if changed || flags_resolved > 0 {
                    entries.push(NewAudit {
                        actor_id: Some(actor),
                        action: if ban {
                            audit::BAN_USER
                        } else {
                            audit::UNBAN_USER
                        },
                        target_kind: audit::USER,
                        target_id: id,
                        reason: reason.as_str(),
                        created_at: now,
                    });
                }
                for qid in &hidden {
                    moderation::set_hidden(c, *qid, true, now)?;
                    entries.push(NewAudit {
                        actor_id: Some(actor),
                        action: audit::HIDE_QUESTION,
                        target_kind: audit::QUESTION,
                        target_id: *qid,
                        reason: reason.as_str(),
                        created_at: now,
                    });
                }
                audit::record(c, &entries)?;
                Ok((changed, hidden, flags_resolved))
            })
        })
        .await?;
    for qid in &hidden {
        crate::services::reading::question_changed(cache, *qid).await;
    }
    Ok(BanOutcome {
        changed,
        hidden,
        flags_resolved,
    })
}
