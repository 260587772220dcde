//! Moderation: hide/unhide questions, ban/unban users. Each action and its audit row commit in
//! one transaction; the shared caches are invalidated after the commit.

use crate::cache::Cache;
use crate::db::Db;
use crate::db::write_transaction;
use crate::domain::report::ModerationReason;
use crate::error::{AppError, AppResult};
use crate::models::audit::{self, NewAudit};
use crate::models::{self, moderation, user};

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

/// Hides (`hide`) or shows question `id` on behalf of admin `actor`; returns whether it
/// changed. An unknown id is a 404.
pub async fn set_question_hidden(
    db: &Db,
    cache: &Cache,
    actor: i64,
    id: i64,
    hide: bool,
    reason: ModerationReason,
) -> AppResult<bool> {
    let now = models::now();
    let changed = db
        .write(move |c| {
            write_transaction(c, |c| {
                let changed = moderation::set_hidden(c, id, hide, now)?;
                if changed {
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
                Ok(changed)
            })
            .map_err(not_found("question"))
        })
        .await?;
    if changed {
        crate::services::reading::question_changed(cache, id).await;
    }
    Ok(changed)
}

/// What a ban did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanOutcome {
    /// Whether the user's ban state changed.
    pub changed: bool,
    /// The ids of their questions hidden with it.
    pub hidden: Vec<i64>,
}

/// Bans (`ban`) or unbans user `id` on behalf of admin `actor`; a ban ends the user's sessions
/// and, with `hide_questions`, hides all their listed questions in the same transaction.
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
    let (changed, hidden) = db
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
                let mut entries = Vec::with_capacity(hidden.len() + 1);
                if changed {
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
                Ok((changed, hidden))
            })
        })
        .await?;
    for qid in &hidden {
        crate::services::reading::question_changed(cache, *qid).await;
    }
    Ok(BanOutcome { changed, hidden })
}
