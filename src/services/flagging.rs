//! Flagging: a visitor reports a question (once per voter key), and a question flagged by
//! `flags_hide_threshold` distinct trusted accounts (a verified email, not banned) is hidden
//! pending review by the site itself, audit-logged without an actor; the admin queue
//! (`/admin/flags`) and its dismissal. Hiding, unhiding and banning resolve flags in
//! `services::moderation`, inside those actions' own transactions.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use crate::cache::Cache;
use crate::db::{Db, write_transaction};
use crate::domain::report::ModerationReason;
use crate::domain::{FlagReport, FlagResolution, Page};
use crate::error::{AppError, AppResult};
use crate::models::audit::{self, NewAudit};
use crate::models::flag::{self, NewFlag, QueuedQuestion};
use crate::models::{self, moderation};

/// Who flags: the voter key (`u:<id>` or `c:<uuid>`) and the account, if logged in.
#[derive(Debug, Clone)]
pub struct Flagger {
    /// The voter key: the flag's unique key with the question.
    pub voter: String,
    /// The account.
    pub user_id: Option<i64>,
}

/// What a flag did. The flagger is thanked the same way in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flagged {
    /// Stored; `hidden`: it was the flag that hid the question pending review.
    Stored {
        /// The question is now hidden pending review.
        hidden: bool,
    },
    /// This voter had flagged the question already: nothing was stored (the first flag's
    /// reason stands).
    Already,
}

fn no_such_question() -> AppError {
    AppError::NotFound("There is no such question.".into())
}

/// Stores `flagger`'s flag on question `id` (visible questions only: a hidden or deleted one is
/// a 404), and hides the question when `threshold` (> 0) distinct trusted accounts have open
/// flags on it. The caches are invalidated after the commit as a moderator's hide does; the
/// caller clears its rendered pages.
pub async fn flag(
    db: &Db,
    cache: &Cache,
    threshold: u32,
    id: i64,
    flagger: Flagger,
    report: FlagReport,
) -> AppResult<Flagged> {
    let now = models::now();
    let outcome = db
        .write(move |c| {
            write_transaction(c, |c| {
                // Only a trusted account's flag can reach the threshold.
                let counts = threshold > 0 && flagger.user_id.is_some();
                if !flag::flaggable(c, id, counts)? {
                    return Err(no_such_question());
                }
                let stored = flag::insert(
                    c,
                    &NewFlag {
                        question_id: id,
                        voter: &flagger.voter,
                        user_id: flagger.user_id,
                        reason: report.reason().as_str(),
                        details: report.details(),
                        created_at: now,
                    },
                )?;
                if !stored {
                    return Ok(Flagged::Already);
                }
                if !counts {
                    return Ok(Flagged::Stored { hidden: false });
                }
                let trusted = flag::trusted_flaggers(c, id)?;
                if trusted < i64::from(threshold) {
                    return Ok(Flagged::Stored { hidden: false });
                }
                let hidden = moderation::set_hidden(c, id, true, now)?;
                if hidden {
                    let reason = format!(
                        "Hidden pending review: flagged by {trusted} verified accounts \
                         (flags_hide_threshold = {threshold})."
                    );
                    audit::record(
                        c,
                        &[NewAudit {
                            actor_id: None,
                            action: audit::HIDE_PENDING_REVIEW,
                            target_kind: audit::QUESTION,
                            target_id: id,
                            reason: &reason,
                            created_at: now,
                        }],
                    )?;
                }
                Ok(Flagged::Stored { hidden })
            })
        })
        .await?;
    if outcome == (Flagged::Stored { hidden: true }) {
        crate::services::reading::question_changed(cache, id).await;
    }
    Ok(outcome)
}

/// Closes question `id`'s open flags on behalf of admin `actor` without acting on the question;
/// returns how many were closed (none: nothing is recorded). An unknown id is a 404.
pub async fn dismiss(db: &Db, actor: i64, id: i64, reason: ModerationReason) -> AppResult<usize> {
    let now = models::now();
    db.write(move |c| {
        write_transaction(c, |c| {
            moderation::question_title(c, id).map_err(|e| match e {
                diesel::result::Error::NotFound => no_such_question(),
                e => e.into(),
            })?;
            let closed = flag::resolve_open(c, id, FlagResolution::Dismissed, now)?;
            if closed > 0 {
                audit::record(
                    c,
                    &[NewAudit {
                        actor_id: Some(actor),
                        action: audit::DISMISS_FLAGS,
                        target_kind: audit::QUESTION,
                        target_id: id,
                        reason: reason.as_str(),
                        created_at: now,
                    }],
                )?;
            }
            Ok(closed)
        })
    })
    .await
}

/// The newest details texts shown per question in the queue.
pub const DETAILS_PER_QUESTION: usize = 3;

/// A question in the admin queue, with its open flags by reason and their newest details.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// The question, its open flags in all and the newest one's time.
    pub question: QueuedQuestion,
    /// Its author's username.
    pub author: Option<String>,
    /// Open flags per reason (`spam` → 3), in the reasons' order.
    pub reasons: BTreeMap<String, i64>,
    /// The newest details texts (reason, text, when), newest first.
    pub details: Vec<(String, String, NaiveDateTime)>,
}

impl QueueItem {
    /// Hidden by the flags, waiting for an admin's review (a moderator's hide resolves the
    /// flags, and hidden questions cannot be flagged).
    pub fn pending_review(&self) -> bool {
        self.question.hidden_at.is_some()
    }
}

/// One page of the admin queue (four statements, whatever the page holds), plus whether another
/// page exists.
pub async fn queue(db: &Db, page: Page) -> AppResult<(Vec<QueueItem>, bool)> {
    db.run(move |c| {
        let (rows, more) = flag::queue(c, page)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.question_id).collect();
        let mut authors: Vec<i64> = rows.iter().filter_map(|r| r.author_id).collect();
        authors.sort_unstable();
        authors.dedup();
        let names: HashMap<i64, String> = flag::usernames(c, &authors)?.into_iter().collect();
        let mut reasons: HashMap<i64, BTreeMap<String, i64>> = HashMap::new();
        for (q, reason, n) in flag::open_reasons(c, &ids)? {
            reasons.entry(q).or_default().insert(reason, n);
        }
        let limit = (ids.len() * DETAILS_PER_QUESTION * 10) as i64;
        let mut details: HashMap<i64, Vec<(String, String, NaiveDateTime)>> = HashMap::new();
        for (q, reason, text, at) in flag::open_details(c, &ids, limit)? {
            let list = details.entry(q).or_default();
            if list.len() < DETAILS_PER_QUESTION {
                list.push((reason, text, at));
            }
        }
        let items = rows
            .into_iter()
            .map(|question| QueueItem {
                author: question.author_id.and_then(|a| names.get(&a).cloned()),
                reasons: reasons.remove(&question.question_id).unwrap_or_default(),
                details: details.remove(&question.question_id).unwrap_or_default(),
                question,
            })
            .collect();
        Ok((items, more))
    })
    .await
}
