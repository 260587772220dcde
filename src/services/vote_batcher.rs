//! Group commit of concurrent votes: handlers hand their vote or withdrawal to the managed
//! [`VoteBatcher`] and await its reply; a few writer threads (plain OS threads, not Rocket's async
//! workers nor the blocking pool) each take up to `vote_batch_max` waiting requests and apply them
//! in ONE transaction (`models::ballot::batch`), so one commit (one fsync with
//! `innodb_flush_log_at_trx_commit=1`) acknowledges the whole batch. A request is answered only
//! after the commit that stored it.
//!
//! Failure policy: a batch that fails with a transient conflict (deadlock, lock wait, duplicate
//! first vote from another server) is retried from a fresh snapshot; if it still fails, or fails
//! otherwise, its requests are applied one by one, so one bad request cannot fail the others and
//! each caller gets its own result. The queue is bounded (`vote_queue`): past it, and after
//! shutdown began, a request is refused at once with a 503 (which carries `Retry-After`). At
//! shutdown the writers finish every request already queued, then stop.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use tokio::sync::oneshot;

use crate::db::{AnyConnection, Backend, Db, retry};
use crate::error::{AppError, AppResult};
use crate::models::ballot::{self, Applied, BallotOp, InBatch};
use crate::models::counts::{self, Counts};
use crate::services::count_refresher::CountRefresher;

/// A batch that fails with a transient conflict runs this many times before its requests are
/// applied one by one.
const BATCH_ATTEMPTS: u32 = 3;

/// Sizes of the batcher.
#[derive(Debug, Clone, Copy)]
pub struct BatcherOptions {
    /// Most requests in one transaction.
    pub max_batch: usize,
    /// Most requests waiting for a writer (503 beyond).
    pub queue: usize,
    /// Writer threads (always 1 on SQLite, which has one writer at a time).
    pub writers: usize,
    /// Counter slots a batch's votes go to (one chosen at random per batch).
    pub slots: u16,
}

struct Job {
    op: BallotOp,
    reply: oneshot::Sender<AppResult<Committed>>,
    /// When it was queued: a job that waited longer than the write limit is answered 503
    /// instead of being written late.
    queued: std::time::Instant,
}

/// The 503 of a vote whose write gave up: `cause` is logged once per outage by the database's
/// health record (a vote answered with it was not and will not be written).
fn not_written(cause: &str) -> AppError {
    AppError::DbUnavailable(cause.to_string())
}

/// A committed request's answer.
#[derive(Debug, Clone)]
pub struct Committed {
    /// What it did.
    pub applied: Applied,
    /// For a vote applied in a batch: the question's counts read just after the commit (so
    /// they include this vote), one statement per batch; the handler answers with them instead of
    /// reading the ballot and the counts again. `None`: read them.
    pub counts: Option<Counts>,
}

impl Committed {
    fn bare(applied: Applied) -> Committed {
        Committed {
            applied,
            counts: None,
        }
    }
}

/// Counters of what the writers did (for tests and the report).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatcherStats {
    /// Batches committed.
    pub batches: u64,
    /// Requests answered from committed batches.
    pub batched: u64,
    /// Requests applied alone (network-protected questions, or a failed batch's fallback).
    pub solo: u64,
    /// Requests refused because the queue was full or the batcher stopped.
    pub refused: u64,
}

#[derive(Default)]
struct Stats {
    batches: AtomicU64,
    batched: AtomicU64,
    solo: AtomicU64,
    refused: AtomicU64,
}

/// The handle handlers submit votes to (managed state; cheap to clone).
#[derive(Clone)]
pub struct VoteBatcher {
    tx: Arc<RwLock<Option<Sender<Job>>>>,
    writers: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stats: Arc<Stats>,
}

impl VoteBatcher {
    /// Starts the writer threads on `db`.
    pub fn start(db: Db, refresher: CountRefresher, opts: BatcherOptions) -> VoteBatcher {
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Mysql => opts.writers.max(1),
        };
        let (tx, rx) = crossbeam_channel::bounded(opts.queue.max(1));
        let stats = Arc::new(Stats::default());
        let handles = (0..writers)
            .map(|i| {
                let w = Writer {
                    db: db.clone(),
                    rx: rx.clone(),
                    refresher: refresher.clone(),
                    max_batch: opts.max_batch.max(1),
                    slots: opts.slots,
                    stats: Arc::clone(&stats),
                };
                std::thread::Builder::new()
                    .name(format!("vote-writer-{i}"))
                    .spawn(move || w.run())
                    .expect("spawn a vote writer thread")
            })
            .collect();
        VoteBatcher {
            tx: Arc::new(RwLock::new(Some(tx))),
            writers: Arc::new(Mutex::new(handles)),
            stats,
        }
    }

    /// Queues `op`; the receiver gets its result once it is committed (or refused). Fails at once
    /// with a 503 when the queue is full or the batcher has stopped.
    pub fn enqueue(&self, op: BallotOp) -> AppResult<oneshot::Receiver<AppResult<Committed>>> {
        let (reply, rx) = oneshot::channel();
        let guard = self.tx.read().unwrap_or_else(|p| p.into_inner());
        let refused = match guard.as_ref() {
            None => "the server is shutting down",
            Some(tx) => match tx.try_send(Job {
                op,
                reply,
                queued: std::time::Instant::now(),
            }) {
                Ok(()) => return Ok(rx),
                Err(TrySendError::Full(_)) => "too many votes are waiting to be written",
                Err(TrySendError::Disconnected(_)) => "the vote writers stopped",
            },
        };
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        Err(AppError::Unavailable(refused.into()))
    }

    /// Queues `op` and waits for its committed result.
    pub async fn submit(&self, op: BallotOp) -> AppResult<Committed> {
        let rx = self.enqueue(op)?;
        rx.await
            .unwrap_or_else(|_| Err(AppError::Unavailable("the vote writer stopped".into())))
    }

    /// Refuses new requests, lets the writers commit every queued one, and waits for them
    /// (blocking: call it from a blocking thread).
    pub fn shutdown(&self) {
        // Dropping the only sender: the writers drain the queue, then see it closed.
        self.tx.write().unwrap_or_else(|p| p.into_inner()).take();
        let handles = std::mem::take(&mut *self.writers.lock().unwrap_or_else(|p| p.into_inner()));
        for h in handles {
            if h.join().is_err() {
                tracing::error!("a vote writer thread panicked");
            }
        }
    }

    /// What the writers did so far.
    pub fn stats(&self) -> BatcherStats {
        BatcherStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            batched: self.stats.batched.load(Ordering::Relaxed),
            solo: self.stats.solo.load(Ordering::Relaxed),
            refused: self.stats.refused.load(Ordering::Relaxed),
        }
    }
}

struct Writer {
    db: Db,
    rx: Receiver<Job>,
    refresher: CountRefresher,
    max_batch: usize,
    slots: u16,
    stats: Arc<Stats>,
}

impl Writer {
    fn run(self) {
        // `recv` fails only once every sender is gone AND the queue is empty.
        while let Ok(first) = self.rx.recv() {
            let mut jobs = Vec::with_capacity(self.max_batch);
            jobs.push(first);
            while jobs.len() < self.max_batch {
                match self.rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            // A vote is written within the write limit of its arrival or not at all.
            let limit = self.db.limits().write;
            let (late, jobs): (Vec<Job>, Vec<Job>) = jobs
                .into_iter()
                .partition(|j| !limit.is_zero() && j.queued.elapsed() > limit);
            for job in late {
                let _ = job
                    .reply
                    .send(Err(not_written("the vote waited too long to be written")));
            }
            if !jobs.is_empty() {
                self.batch(jobs);
            }
        }
    }

    fn batch(&self, jobs: Vec<Job>) {
        let mut qids: Vec<i64> = jobs.iter().map(|j| j.op.question_id()).collect();
        qids.sort_unstable();
        qids.dedup();
        // Quiet questions get their list counters refreshed in this same commit; busy ones are
        // left to the background task (at most once per interval).
        let refresh = self.refresher.claim_all(&qids);
        let slot = counts::pick_slot(self.slots);
        let now = crate::models::now();
        let ops: Vec<&BallotOp> = jobs.iter().map(|j| &j.op).collect();
        // An unavailable database fails the whole call (the breaker counts it); any other error
        // of the batch is handed on, to apply its requests one by one.
        let attempt = || {
            self.db.write_blocking(|c| {
                match retry(BATCH_ATTEMPTS, ballot::should_retry, || {
                    ballot::batch::apply_batch(c, &ops, slot, &refresh, now)
                }) {
                    Ok(results) => {
                        // On the same connection: no second connection (a MariaDB thread to
                        // wake) per batch.
                        let counted = counts_after_commit(c, &jobs, &results);
                        Ok(Ok((results, counted)))
                    }
                    Err(e) => match AppError::from(e) {
                        unavailable @ AppError::DbUnavailable(_) => Err(unavailable),
                        other => Ok(Err(other)),
                    },
                }
            })
        };
        // A connection the server had closed (a restart, a failover, `KILL`) is dropped by the
        // pool, and the batch runs once more on a checked one. Safe even if the lost answer was
        // the commit's: a ballot is unique per (question, voter), so a repeated vote finds
        // itself stored and changes nothing, and a repeated withdrawal finds nothing to take.
        let outcome = match attempt() {
            Err(AppError::DbUnavailable(cause)) if crate::error::connection_lost(&cause) => {
                tracing::warn!(%cause, "a vote batch lost its connection; running it again");
                attempt()
            }
            other => other,
        };
        match outcome {
            Ok(Ok((results, counted))) => {
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                // The in-batch refresh read this transaction's snapshot: a concurrent batch (another
                // writer or server) may have committed votes it did not see. The background task
                // settles these questions from committed data within an interval.
                self.refresher.defer(&refresh);
                let mut deferred = Vec::new();
                for (job, r) in jobs.into_iter().zip(results) {
                    match r {
                        InBatch::Done(r) => {
                            self.stats.batched.fetch_add(1, Ordering::Relaxed);
                            let counts = match &r {
                                Ok(Applied::Voted(_)) => {
                                    counted.get(&job.op.question_id()).cloned()
                                }
                                _ => None,
                            };
                            let _ = job.reply.send(
                                r.map(|applied| Committed { applied, counts })
                                    .map_err(AppError::from),
                            );
                        }
                        InBatch::Deferred => deferred.push(job),
                    }
                }
                if !deferred.is_empty() {
                    let ids: Vec<i64> = deferred.iter().map(|j| j.op.question_id()).collect();
                    self.one_by_one(deferred, slot);
                    self.refresh(&ids, now);
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, requests = jobs.len(), "vote batch failed; applying its requests one by one");
                self.one_by_one(jobs, slot);
                self.refresh(&refresh, now);
            }
            Err(e) => {
                // The database did not take the batch (rolled back): every request of it gets its
                // own 503, and so does every request queued behind it, at once, rather than each
                // waiting for the write limit again.
                let cause = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(not_written(&cause)));
                }
                while let Ok(job) = self.rx.try_recv() {
                    let _ = job.reply.send(Err(not_written(&cause)));
                }
                self.refresher.defer(&refresh);
            }
        }
    }

    fn one_by_one(&self, jobs: Vec<Job>, slot: i16) {
        for job in jobs {
            self.stats.solo.fetch_add(1, Ordering::Relaxed);
            let r = self
                .db
                .write_blocking(|c| Ok(ballot::batch::apply_one(c, &job.op, slot)?));
            let _ = job
                .reply
                .send(r.and_then(|r| r.map(Committed::bare).map_err(AppError::from)));
        }
    }

    fn refresh(&self, ids: &[i64], now: chrono::NaiveDateTime) {
        if ids.is_empty() {
            return;
        }
        let r = self
            .db
            .write_blocking(|c| Ok(counts::refresh_questions(c, ids, now)?));
        if let Err(e) = r {
            tracing::warn!(error = %e, "list counter refresh failed");
            self.refresher.defer(ids);
        }
    }
}

/// The counts of the questions that got votes in a committed batch, in one statement; empty
/// when the read fails (the handlers then read them themselves).
fn counts_after_commit(
    c: &mut AnyConnection,
    jobs: &[Job],
    results: &[InBatch],
) -> HashMap<i64, Counts> {
    let mut ids: Vec<i64> = jobs
        .iter()
        .zip(results)
        .filter_map(|(j, r)| match r {
            InBatch::Done(Ok(Applied::Voted(_))) => Some(j.op.question_id()),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return HashMap::new();
    }
    match counts::read_many(c, &ids) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "reading counts after a vote batch failed");
            HashMap::new()
        }
    }
}
