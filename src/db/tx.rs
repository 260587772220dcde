//! Transactions a domain rule may refuse, and retries of transient conflicts: the two shapes every
//! write in the models takes.

use diesel::Connection as _;
use diesel::QueryResult;
use diesel::result::{DatabaseErrorKind, Error};

use super::AnyConnection;

/// What ends a transaction early, rolling it back: a database error, or a refusal by a domain
/// rule (a typed outcome the caller answers, not a failure).
#[derive(Debug)]
pub enum Abort<R> {
    /// The database failed.
    Db(Error),
    /// A rule refused the change.
    Refused(R),
}

impl<R> From<Error> for Abort<R> {
    fn from(e: Error) -> Self {
        Abort::Db(e)
    }
}

/// Runs `f` in a transaction, committed when it returns `Ok`. A refusal rolls it back and comes
/// back as `Ok(Err(refusal))`; a database error rolls it back and comes back as `Err`. On SQLite
/// the write lock is taken first ([`lock_for_write`]).
pub fn transaction<T, R>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, Abort<R>>,
) -> QueryResult<Result<T, R>> {
    match write_transaction(conn, f) {
        Ok(t) => Ok(Ok(t)),
        Err(Abort::Refused(r)) => Ok(Err(r)),
        Err(Abort::Db(e)) => Err(e),
    }
}

/// `conn.transaction(f)` for a transaction that writes: on SQLite the write lock is taken first
/// ([`lock_for_write`]), so that another process writing makes it wait the write limit rather
/// than fail at once. Every write transaction goes through it.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    conn.transaction(|c| {
        lock_for_write(c)?;
        f(c)
    })
}

/// Takes SQLite's write lock now, as the first statement of a write transaction (nothing on
/// MySQL). SQLite takes it at a transaction's first write, and a transaction that has read
/// before finding another process holding it fails at once (`SQLITE_BUSY`, without the busy
/// timeout: waiting could deadlock). A write first waits the busy timeout — the write limit —
/// like any other write. (A `DELETE` that matches nothing, on a table that always exists.)
pub fn lock_for_write(conn: &mut AnyConnection) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        AnyConnection::Sqlite(c) => {
            c.batch_execute("DELETE FROM __diesel_schema_migrations WHERE 0")
        }
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => Ok(()),
    }
}

/// Whether a Diesel error is a transient conflict worth retrying (a deadlock, a serialization
/// failure, SQLite's busy). A lock wait that reached its limit is not: the write limit has been
/// waited already, and the caller answers 503.
pub fn is_retryable(err: &Error) -> bool {
    match err {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            m.contains("deadlock") || m.contains("database is locked")
        }
        _ => false,
    }
}

/// Conflicts are retried only within this time of the first try: a conflict that took longer to
/// surface (a busy timeout that ran out) has waited enough, and trying again would hold the
/// caller past the write limit.
pub const RETRY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `f` up to `attempts` times while it fails with an error that `transient` accepts (within
/// [`RETRY_WITHIN`] of the first try), sleeping a random 0..2^n ms (n = the attempt, at most 6)
/// between tries so that colliding transactions spread out. For code on a blocking thread.
pub fn retry<T>(
    attempts: u32,
    transient: impl Fn(&Error) -> bool,
    mut f: impl FnMut() -> QueryResult<T>,
) -> QueryResult<T> {
    let started = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f() {
            Err(e) if attempt < attempts && transient(&e) && started.elapsed() < RETRY_WITHIN => {
                let backoff = 1u64 << attempt.min(6);
                let jitter = rand::random::<u64>() % (backoff + 1);
                std::thread::sleep(std::time::Duration::from_millis(jitter));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> Error {
        Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new("try again".to_string()),
        )
    }

    #[test]
    fn retries_transient_errors_up_to_the_limit() {
        let mut calls = 0;
        let r: QueryResult<()> = retry(3, is_retryable, || {
            calls += 1;
            Err(busy())
        });
        assert!(r.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let r = retry(3, is_retryable, || {
            calls += 1;
            if calls < 2 { Err(busy()) } else { Ok(calls) }
        });
        assert_eq!(r.unwrap(), 2);
        let mut calls = 0;
        let r: QueryResult<()> = retry(5, is_retryable, || {
            calls += 1;
            Err(Error::NotFound)
        });
        assert!(matches!(r, Err(Error::NotFound)));
        assert_eq!(calls, 1, "other errors are not retried");
    }
}
