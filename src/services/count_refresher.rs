//! List counters (`questions.vote_count`, `hot_rank`) following the vote counters without a
//! write to the question row per vote.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::models::counts;

/// Keeps `questions.vote_count` / `hot_rank` (list sorting) following the vote counters without
/// a write to the question row per vote: after a vote, a question not refreshed in the last
/// `every` is refreshed at once (quiet questions stay exact); a busy one is marked and refreshed
/// by the background task (`run_pending`) at most once per `every` per app server.
#[derive(Debug, Clone)]
pub struct CountRefresher {
    every: Duration,
    last: Arc<Mutex<HashMap<i64, Instant>>>,
    pending: Arc<Mutex<HashSet<i64>>>,
}

impl CountRefresher {
    /// Refreshes a busy question at most once per `every`.
    pub fn new(every: Duration) -> Self {
        CountRefresher {
            every,
            last: Arc::new(Mutex::new(HashMap::new())),
            pending: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// How often the background task should run.
    pub fn interval(&self) -> Duration {
        self.every
    }

    /// Whether the caller should refresh `id` now; otherwise it is left for the background task.
    fn claim(&self, id: i64) -> bool {
        let now = Instant::now();
        let mut last = self.last.lock().expect("lock");
        match last.get(&id) {
            Some(at) if now.duration_since(*at) < self.every => {
                self.pending.lock().expect("lock").insert(id);
                false
            }
            _ => {
                // Entries older than `every` mean the same as none: drop them before the map
                // grows with every question ever voted on.
                if last.len() >= 4096 {
                    last.retain(|_, at| now.duration_since(*at) < self.every);
                }
                last.insert(id, now);
                true
            }
        }
    }

    /// Of `ids`, those the caller should refresh now (in its own commit); the others are
    /// left for the background task.
    pub fn claim_all(&self, ids: &[i64]) -> Vec<i64> {
        ids.iter().copied().filter(|id| self.claim(*id)).collect()
    }

    /// Leaves `ids` for the background task (a refresh that could not run now).
    pub fn defer(&self, ids: &[i64]) {
        self.pending
            .lock()
            .expect("lock")
            .extend(ids.iter().copied());
    }

    /// Refreshes the questions marked busy since the last run; returns how many.
    pub async fn run_pending(&self, db: &Db) -> AppResult<usize> {
        let ids: Vec<i64> = self.pending.lock().expect("lock").drain().collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let now = Instant::now();
        {
            let mut last = self.last.lock().expect("lock");
            for id in &ids {
                last.insert(*id, now);
            }
        }
        let n = ids.len();
        // One transaction: one commit for all of them. If it fails (the database down, the
        // breaker open), they stay pending for the next run: dropped, a question's list counter
        // would stay behind its votes until its next vote.
        let kept = ids.clone();
        let written = db
            .write(move |c| {
                Ok(write_transaction(c, |c| {
                    counts::refresh_questions(c, &ids, crate::models::now())
                })?)
            })
            .await;
        if let Err(e) = written {
            self.defer(&kept);
            return Err(e);
        }
        Ok(n)
    }
}
