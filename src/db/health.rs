//! The database's breaker and outage record, as the cache has for memcached.
//!
//! A call that fails because the database is unreachable or did not answer in time
//! ([`AppError::DbUnavailable`]) counts as a failure; any answer (rows, not found, a constraint)
//! counts as a success. Reads and writes have a breaker each (a held write lock stops writes
//! only). [`FAILURES`] consecutive failures open a breaker for [`COOLDOWN`]:
//! calls are then refused at once (503, or a saved copy where the caller keeps one), so a dead
//! database does not hold every worker for the full timeout. After the cooldown one call at a
//! time goes through as a probe; its success closes the breaker.
//!
//! An outage is logged once: the first failure after a quiet minute is an error (and so one
//! Sentry event), later ones are counted (`beebeta_db_unavailable_total`); the first success
//! after it logs how long it lasted and how many calls failed or were refused.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use super::Work;
use crate::cache::{Breaker, BreakerConfig, Permit, Transition};
use crate::error::{AppError, AppResult, POOL_BUSY};

/// Consecutive failures that open the breaker.
pub const FAILURES: u32 = 3;
/// How long an open breaker refuses calls before one probe goes through.
pub const COOLDOWN: Duration = Duration::from_secs(2);
/// An outage starting within this time of the last one reported is logged as a warning only.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// The breakers (one for reads, one for writes: a lock may stop writes while reads go on, as a
/// held write lock on SQLite does) and the current outage.
pub struct Health {
    reads: Breaker,
    writes: Breaker,
    /// Which kinds of work failed last ([`bit`]): an outage lasts until both answer again, and a
    /// success of a kind that is not failing (the common case) takes no lock.
    failing: AtomicU8,
    outage: Mutex<Outage>,
}

/// The bit of a kind of work in `Health::failing`.
fn bit(work: Work) -> u8 {
    match work {
        Work::Read => 1,
        Work::Write | Work::Background => 2,
    }
}

#[derive(Default)]
struct Outage {
    since: Option<Instant>,
    failed: u64,
    refused: u64,
    last_reported: Option<Instant>,
    /// Outages logged as errors (Sentry events) since start.
    reported: u64,
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

impl Health {
    /// A closed breaker, no outage.
    pub fn new() -> Health {
        let breaker = || {
            Breaker::new(BreakerConfig {
                threshold: FAILURES,
                cooldown: COOLDOWN,
            })
        };
        Health {
            reads: breaker(),
            writes: breaker(),
            failing: AtomicU8::new(0),
            outage: Mutex::new(Outage::default()),
        }
    }

    fn breaker(&self, work: Work) -> &Breaker {
        match work {
            Work::Read => &self.reads,
            Work::Write | Work::Background => &self.writes,
        }
    }

    /// Whether a call of this kind may go to the database now.
    pub fn permit(&self, work: Work) -> AppResult<()> {
        match self.breaker(work).permit(Instant::now()) {
            Permit::Allowed | Permit::Trial => Ok(()),
            Permit::Refused => {
                self.outage().refused += 1;
                metrics::counter!("beebeta_db_unavailable_total", "why" => "breaker_open")
                    .increment(1);
                Err(AppError::DbUnavailable(
                    "the database breaker is open (recent calls failed)".into(),
                ))
            }
        }
    }

    /// Reports how a permitted call went.
    pub fn record<T>(&self, work: Work, result: &AppResult<T>) {
        match result {
            // Waiting for a free connection is the site being busy, not the database failing.
            Err(AppError::DbUnavailable(cause)) if cause.starts_with(POOL_BUSY) => {}
            Err(AppError::DbUnavailable(cause)) => self.failed(work, cause),
            _ => self.answered(work),
        }
    }

    /// How many outages were reported as errors (one Sentry event each) since start.
    pub fn outages_reported(&self) -> u64 {
        self.outage().reported
    }

    /// Whether the breaker of this kind of work is open (or probing).
    pub fn is_open(&self, work: Work) -> bool {
        self.breaker(work).is_open()
    }

    fn outage(&self) -> std::sync::MutexGuard<'_, Outage> {
        self.outage.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn failed(&self, work: Work, cause: &str) {
        let now = Instant::now();
        metrics::counter!("beebeta_db_unavailable_total", "why" => "failed").increment(1);
        let opened = self.breaker(work).failure(now) == Transition::Opened;
        self.failing.fetch_or(bit(work), Ordering::SeqCst);
        let mut outage = self.outage();
        outage.failed += 1;
        if outage.since.is_none() {
            outage.since = Some(now);
            let quiet = outage
                .last_reported
                .is_none_or(|t| now.duration_since(t) >= REPORT_EVERY);
            if quiet {
                outage.last_reported = Some(now);
                outage.reported += 1;
                drop(outage);
                metrics::counter!("beebeta_db_outages_total").increment(1);
                tracing::error!(
                    cause,
                    "database unavailable: requests answer 503 or a saved copy until it is back"
                );
            } else {
                drop(outage);
                tracing::warn!(cause, "database unavailable again");
            }
        } else if opened {
            drop(outage);
            tracing::warn!(cause, "database breaker open");
        }
    }

    fn answered(&self, work: Work) {
        self.breaker(work).success();
        if self.failing.load(Ordering::SeqCst) & bit(work) == 0 {
            return;
        }
        // The outage ends when neither kind is failing (a read answering while writes still
        // fail, as under a held SQLite write lock, does not end it).
        if self.failing.fetch_and(!bit(work), Ordering::SeqCst) & !bit(work) != 0 {
            return;
        }
        let mut outage = self.outage();
        if let Some(since) = outage.since.take() {
            let (failed, refused) = (outage.failed, outage.refused);
            outage.failed = 0;
            outage.refused = 0;
            drop(outage);
            tracing::warn!(
                lasted_ms = since.elapsed().as_millis() as u64,
                failed,
                refused,
                "database answering again"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> AppResult<()> {
        Err(AppError::DbUnavailable("database: lost connection".into()))
    }

    #[test]
    fn failures_open_the_breaker_then_one_probe_at_a_time_closes_it() {
        let h = Health::new();
        for _ in 0..FAILURES - 1 {
            h.permit(Work::Read).expect("closed");
            h.record(Work::Read, &down());
        }
        assert!(!h.is_open(Work::Read), "not before {FAILURES} failures");
        h.permit(Work::Read).expect("still closed");
        h.record(Work::Read, &down());
        assert!(h.is_open(Work::Read));
        // Refused at once, without waiting for any timeout.
        let started = Instant::now();
        for _ in 0..100 {
            assert!(matches!(
                h.permit(Work::Read),
                Err(AppError::DbUnavailable(_))
            ));
        }
        assert!(started.elapsed() < Duration::from_millis(50));
        std::thread::sleep(COOLDOWN + Duration::from_millis(50));
        h.permit(Work::Read).expect("the probe goes through");
        assert!(h.permit(Work::Read).is_err(), "only one probe at a time");
        h.record::<()>(Work::Read, &Ok(()));
        assert!(!h.is_open(Work::Read), "the probe's success closes it");
        h.permit(Work::Read).expect("closed again");
        assert_eq!(h.outages_reported(), 1, "one report for the outage");
        // Another outage within a minute is a warning, not another report.
        for _ in 0..FAILURES {
            h.record(Work::Read, &down());
        }
        assert_eq!(h.outages_reported(), 1);
    }

    #[test]
    fn failing_writes_do_not_stop_reads() {
        let h = Health::new();
        for _ in 0..FAILURES {
            h.record(Work::Write, &down());
        }
        assert!(h.is_open(Work::Write) && h.is_open(Work::Background));
        assert!(h.permit(Work::Write).is_err());
        h.permit(Work::Read).expect("reads go on");
        assert!(!h.is_open(Work::Read));
        // Reads answering do not end the outage of writes: no second report when writes fail on.
        h.record::<()>(Work::Read, &Ok(()));
        h.record(Work::Write, &down());
        assert_eq!(h.outages_reported(), 1);
        assert!(h.outage().since.is_some(), "still one outage");
        h.record::<()>(Work::Write, &Ok(()));
        assert!(h.outage().since.is_none(), "over once writes answer");
    }

    #[test]
    fn answers_and_a_busy_pool_are_not_failures() {
        let h = Health::new();
        for _ in 0..FAILURES * 2 {
            h.record::<()>(Work::Read, &Err(AppError::NotFound("no row".into())));
            h.record::<()>(
                Work::Read,
                &Err(AppError::DbUnavailable(format!(
                    "{POOL_BUSY}: timed out waiting for connection"
                ))),
            );
        }
        assert!(!h.is_open(Work::Read));
        // A success between failures starts the count again.
        for _ in 0..FAILURES * 2 {
            h.record(Work::Read, &down());
            h.record::<()>(Work::Read, &Ok(()));
        }
        assert!(!h.is_open(Work::Read));
    }
}
