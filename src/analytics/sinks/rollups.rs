//! The database sink: each batch becomes one transaction of additive upserts into the rollups
//! (see `models::rollup`), applied at most once thanks to its `analytics_batches` row.

use std::sync::Arc;
use std::time::Duration;

use crate::analytics::event::{EventName, PageKind};
use crate::analytics::pipeline::{Batch, Drops, Sink};
use crate::db::Db;
use crate::error::AppResult;
use crate::models::rollup::{self, Delta};

/// Attempts per batch before it is given up (a retry after an unknown outcome is harmless).
const ATTEMPTS: u32 = 5;

/// Applied-batch records are kept this long, then pruned.
const KEEP_BATCHES_DAYS: i64 = 7;

/// Sums a batch's events by rollup key.
pub fn delta_of(batch: &Batch) -> Delta {
    let mut d = Delta::default();
    for e in &batch.events {
        let at = e.time.naive_utc();
        let hour = rollup::hour_of(at);
        let site = d.site.entry(hour).or_default();
        let mut question = |views: i64, votes: i64| {
            if let Some(q) = e.question_id {
                let a = d.questions.entry((hour, q)).or_default();
                a.views += views;
                a.votes += votes;
            }
        };
        match e.name {
            EventName::PageView => {
                site.page_views += 1;
                match e.page {
                    Some(PageKind::Question) => question(1, 0),
                    Some(PageKind::Tag) => {
                        if let Some(t) = &e.tag {
                            *d.tag_views
                                .entry((rollup::day_of(at), t.clone()))
                                .or_default() += 1;
                        }
                    }
                    _ => {}
                }
            }
            EventName::VoteCast => {
                site.votes += 1;
                question(0, 1);
            }
            EventName::VoteChanged => site.vote_changes += 1,
            EventName::VoteWithdrawn => site.vote_withdrawals += 1,
            EventName::Signup => site.signups += 1,
            EventName::Login => site.logins += 1,
            EventName::QuestionAsked => site.questions_asked += 1,
            EventName::QuestionClosed | EventName::QuestionHidden | EventName::QuestionFlagged => {}
        }
    }
    d
}

/// Applies one batch; `Ok(false)` if it had been applied already.
pub async fn apply(db: &Db, batch: &Batch) -> AppResult<bool> {
    let delta = delta_of(batch);
    let id = batch.id.to_string();
    let n = i32::try_from(batch.events.len()).unwrap_or(i32::MAX);
    db.write(move |c| Ok(rollup::apply(c, &id, n, &delta, crate::models::now())?))
        .await
}

/// Writes batches into the rollup tables.
pub struct RollupSink {
    db: Db,
    drops: Arc<Drops>,
    applied: u64,
}

impl RollupSink {
    /// A sink writing to `db`, counting given-up batches in `drops`.
    pub fn new(db: Db, drops: Arc<Drops>) -> RollupSink {
        RollupSink {
            db,
            drops,
            applied: 0,
        }
    }
}

#[rocket::async_trait]
impl Sink for RollupSink {
    fn name(&self) -> &'static str {
        "rollups"
    }

    async fn accept(&mut self, batch: Arc<Batch>) {
        let mut wait = Duration::from_millis(100);
        for attempt in 1..=ATTEMPTS {
            match apply(&self.db, &batch).await {
                Ok(_) => {
                    self.applied += 1;
                    if self.applied % 1000 == 1 {
                        let before =
                            crate::models::now() - chrono::Duration::days(KEEP_BATCHES_DAYS);
                        if let Err(e) = self
                            .db
                            .write(move |c| Ok(rollup::prune_batches(c, before)?))
                            .await
                        {
                            tracing::warn!(error = %e, "analytics: pruning applied batches failed");
                        }
                    }
                    return;
                }
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "analytics: rollup batch failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                // An unavailable database is reported once by `db::health`, not once per batch.
                Err(e @ crate::error::AppError::DbUnavailable(_)) => {
                    tracing::warn!(error = %e, "analytics: rollup batch given up (database unavailable)");
                    self.drops
                        .add(batch.events.len() as u64, "rollup writes failed");
                }
                Err(e) => {
                    tracing::error!(error = %e, "analytics: rollup batch given up");
                    self.drops
                        .add(batch.events.len() as u64, "rollup writes failed");
                }
            }
        }
    }
}
