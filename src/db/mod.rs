//! Database access: the connection that is MySQL or SQLite, the r2d2 pool, migrations.
//!
//! Every call goes through [`Db::run`] (reads), [`Db::write`] (transactions that write) or
//! [`Db::background`] (reports and other long work off the request path), each of which takes a
//! pooled connection on a blocking thread, so Diesel never runs on Rocket's async workers.
//!
//! Bounded waits: each kind of work has its own limit, set on the connection (MariaDB
//! `max_statement_time` and lock waits, SQLite `busy_timeout`): reads give up after
//! `db_read_timeout_ms` (2 s), writes after `db_write_timeout_ms` (5 s; the transaction is rolled
//! back), background work after `db_statement_timeout_ms`. Reads and writes have a pool each, so a
//! connection keeps its settings; background work borrows a write connection and sets its own.
//! A timeout or an outage is [`AppError::DbUnavailable`] (503), and [`health`] keeps a breaker
//! so that a dead database is not waited for by every request.

pub mod health;
pub mod prepared;
pub mod schema;
mod tx;

pub use health::Health;
pub use prepared::in_padded;
pub use tx::{Abort, is_retryable, lock_for_write, retry, transaction, write_transaction};

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sql_types::BigInt;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseConfig;
use crate::error::{AppError, AppResult};

/// A connection to either backend; which one is decided by the database URL.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    // MySQL first: `establish` tries variants in order and SQLite accepts any string.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
    Sqlite(diesel::SqliteConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// Which backend a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A MySQL or MariaDB server.
    Mysql,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    /// The backend the URL names.
    pub backend: Backend,
    /// What Diesel's `establish` receives (a file path for SQLite).
    pub target: String,
}

impl DbUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, a bare path, or `mysql://user:pass@host/db`.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let url = url.trim();
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            if !cfg!(feature = "mysql") {
                return Err(
                    "this binary was built without MySQL support: rebuild with `--features mysql`"
                        .into(),
                );
            }
            let target = url.replacen("mariadb://", "mysql://", 1);
            return Ok(DbUrl {
                backend: Backend::Mysql,
                target,
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("the SQLite database path is empty".into());
        }
        if path.contains("://") {
            return Err(format!("unsupported database URL scheme in `{url}`"));
        }
        Ok(DbUrl {
            backend: Backend::Sqlite,
            target: path.to_string(),
        })
    }
}

/// What a connection is used for: each kind has its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Reads on the request path.
    Read,
    /// Writes on the request path (and the vote batcher).
    Write,
    /// Long work off the request path: reports, rank refreshes, migrations.
    Background,
}

/// How long each kind of work may wait for one statement; zero means no limit.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Reads (`db_read_timeout_ms`).
    pub read: Duration,
    /// Writes (`db_write_timeout_ms`).
    pub write: Duration,
    /// Background work (`db_statement_timeout_ms`).
    pub background: Duration,
}

impl Limits {
    /// The limits of `cfg`.
    pub fn of(cfg: &DatabaseConfig) -> Limits {
        Limits {
            read: Duration::from_millis(cfg.read_timeout_ms),
            write: Duration::from_millis(cfg.write_timeout_ms),
            background: Duration::from_millis(cfg.statement_timeout_ms),
        }
    }

    fn of_work(&self, work: Work) -> Duration {
        match work {
            Work::Read => self.read,
            Work::Write => self.write,
            Work::Background => self.background,
        }
    }
}

/// SQLite's busy timeout for a limit (no limit: a day).
fn busy_ms(limit: Duration) -> u128 {
    if limit.is_zero() {
        86_400_000
    } else {
        limit.as_millis()
    }
}

/// Sets the limit of `work` on a connection: MariaDB's statement time limit and both lock waits
/// (whole seconds, at least 1; no limit: the server's defaults), or SQLite's busy timeout.
fn apply_limit(conn: &mut AnyConnection, limit: Duration) -> QueryResult<()> {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => mysql_limit(c, limit),
        AnyConnection::Sqlite(c) => {
            c.batch_execute(&format!("PRAGMA busy_timeout = {};", busy_ms(limit)))
        }
    }
}

/// MariaDB's statement timeout (MySQL proper has no such variable, so a failure is not fatal)
/// and the lock waits in whole seconds.
#[cfg(feature = "mysql")]
fn mysql_limit(c: &mut diesel::MysqlConnection, limit: Duration) -> QueryResult<()> {
    let secs = limit.as_secs_f64();
    let _ = c.batch_execute(&format!("SET SESSION max_statement_time = {secs}"));
    let lock_wait = match limit.as_millis().div_ceil(1000) {
        0 => "DEFAULT".to_string(),
        secs => secs.to_string(),
    };
    c.batch_execute(&format!(
        "SET SESSION lock_wait_timeout = {lock_wait}, innodb_lock_wait_timeout = {lock_wait}"
    ))
}

/// Applies per-connection settings when r2d2 opens a connection.
#[derive(Debug)]
struct ConnectionSetup {
    work: Work,
    limit: Duration,
}

impl CustomizeConnection<Tracked, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut Tracked) -> Result<(), diesel::r2d2::Error> {
        conn.work = self.work;
        let result = match &mut conn.conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c
                .batch_execute("SET time_zone = '+00:00'")
                .and_then(|()| mysql_limit(c, self.limit)),
            // The busy timeout first: switching to WAL takes a lock, and the pool opens several
            // connections at once (else "database is locked" while they start).
            AnyConnection::Sqlite(c) => c.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                busy_ms(self.limit)
            )),
        };
        result.map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pooled connection and when it was last handed back in good order.
pub struct Tracked {
    conn: AnyConnection,
    returned: Option<Instant>,
    /// The kind of work whose limits the connection has now.
    work: Work,
    /// The server closed it (killed, restarted): dropped on return, not reused.
    lost: bool,
}

impl std::ops::Deref for Tracked {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Tracked {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

/// A connection used this recently is taken from the pool without a `SELECT 1` round trip
/// (HikariCP's `aliveBypassWindowMs` idea): a busy server would otherwise spend one statement per
/// checkout on it (two per vote). An older idle connection is still checked, so connections
/// the database dropped while idle are replaced before use.
pub const ALIVE_BYPASS: Duration = Duration::from_millis(500);

/// r2d2's manager for [`Tracked`] connections: Diesel's, plus the bypass window.
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<AnyConnection>,
    url: DbUrl,
    lost: Arc<LostConnections>,
}

/// When a connection was last found closed by the server, shared by both pools: a server that
/// killed one connection (a restart, a failover, `KILL`) has usually closed the others too, so
/// every connection handed back before then is checked again before its next use, bypass window
/// or not. Each connection keeps its own prepared statements, so a replaced one prepares afresh.
#[derive(Debug)]
struct LostConnections {
    epoch: Instant,
    /// Microseconds after `epoch` of the last loss (0: none yet).
    at_micros: std::sync::atomic::AtomicU64,
}

impl LostConnections {
    fn new() -> LostConnections {
        LostConnections {
            epoch: Instant::now(),
            at_micros: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn note(&self) {
        let micros = self.epoch.elapsed().as_micros().max(1) as u64;
        self.at_micros
            .fetch_max(micros, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a connection handed back at `returned` may have been closed since.
    fn suspects(&self, returned: Instant) -> bool {
        let at = self.at_micros.load(std::sync::atomic::Ordering::Relaxed);
        at != 0 && returned <= self.epoch + Duration::from_micros(at)
    }
}

impl Manager {
    /// A manager for connections to `url`.
    pub fn new(url: &DbUrl) -> Manager {
        Manager::sharing(url, Arc::new(LostConnections::new()))
    }

    fn sharing(url: &DbUrl, lost: Arc<LostConnections>) -> Manager {
        Manager {
            inner: ConnectionManager::new(&url.target),
            url: url.clone(),
            lost,
        }
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Tracked;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Tracked, Self::Error> {
        // The backend the URL names, directly: `MultiConnection::establish` would try SQLite
        // after a failed MySQL connect and report "invalid connection url" instead of the cause.
        let conn = match &self.url.backend {
            #[cfg(feature = "mysql")]
            Backend::Mysql => diesel::MysqlConnection::establish(&self.url.target)
                .map(AnyConnection::Mysql)
                .map_err(diesel::r2d2::Error::ConnectionError)?,
            _ => self.inner.connect()?,
        };
        Ok(Tracked {
            conn,
            returned: None,
            work: Work::Read,
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut Tracked) -> Result<(), Self::Error> {
        if conn
            .returned
            .is_some_and(|t| t.elapsed() < ALIVE_BYPASS && !self.lost.suspects(t))
        {
            return Ok(());
        }
        self.inner.is_valid(&mut conn.conn)
    }

    fn has_broken(&self, conn: &mut Tracked) -> bool {
        if conn.lost {
            self.lost.note();
            conn.returned = None;
            return true;
        }
        let broken = self.inner.has_broken(&mut conn.conn);
        conn.returned = (!broken).then(Instant::now);
        broken
    }
}

/// Marks `conn` lost when `result` failed because the server closed it: r2d2 then drops it
/// instead of handing it out again, and the other connections are checked before their next use.
fn note_lost<T>(conn: &mut Tracked, result: &AppResult<T>) {
    if let Err(AppError::DbUnavailable(cause)) = result
        && crate::error::connection_lost(cause)
    {
        conn.lost = true;
    }
}

/// The shared handle to the database: a pool for reads and one for writes, the breaker and, for
/// SQLite, the process-wide writer's turn.
#[derive(Clone)]
pub struct Db {
    reads: Pool<Manager>,
    writes: Pool<Manager>,
    backend: Backend,
    limits: Limits,
    health: Arc<Health>,
    // SQLite allows one writer at a time; queueing writers here avoids SQLITE_BUSY on lock upgrade.
    write_turn: Arc<WriteTurn>,
}

impl Db {
    /// Opens the pools on `cfg.url` (see [`DbUrl::parse`]); fails fast if the database is
    /// unreachable.
    pub fn connect(cfg: &DatabaseConfig) -> Result<Db, String> {
        let parsed = DbUrl::parse(&cfg.url)?;
        if parsed.backend == Backend::Sqlite
            && let Some(dir) = std::path::Path::new(&parsed.target).parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let limits = Limits::of(cfg);
        let acquire_timeout = Duration::from_millis(cfg.acquire_timeout_ms);
        let lost = Arc::new(LostConnections::new());
        let pool = |work: Work| {
            Pool::builder()
                .max_size(cfg.pool_size.max(1))
                .min_idle(Some(1))
                .connection_timeout(acquire_timeout.max(Duration::from_millis(100)))
                .connection_customizer(Box::new(ConnectionSetup {
                    work,
                    limit: limits.of_work(work),
                }))
                .build(Manager::sharing(&parsed, Arc::clone(&lost)))
                .map_err(|e| format!("cannot open the database: {e}"))
        };
        Ok(Db {
            reads: pool(Work::Read)?,
            writes: pool(Work::Write)?,
            backend: parsed.backend,
            limits,
            health: Arc::new(Health::new()),
            write_turn: Arc::new(WriteTurn::default()),
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How long each kind of work may wait.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The database's breaker and outage record.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Applies pending migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, String> {
        self.migrate_versions().map(|v| v.len())
    }

    /// Applies pending migrations of this backend; returns the versions that ran (for the data
    /// steps some of them need: `services::schema::migrate`).
    pub fn migrate_versions(&self) -> Result<Vec<String>, String> {
        let mut conn = self
            .checkout(Work::Background)
            .map_err(|e| format!("cannot connect: {e}"))?;
        let applied = match &mut **conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c.run_pending_migrations(MYSQL_MIGRATIONS),
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        };
        applied
            .map(|v| v.iter().map(|m| m.to_string()).collect())
            .map_err(|e| format!("migration failed: {e}"))
    }

    /// Runs `f` (reads) with a pooled connection on a blocking thread; it gives up after the
    /// read limit.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.run_blocking(f))
            .await
            .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }

    /// Runs `f` (which should open its own transaction) as this database's single writer where
    /// the backend needs one; a statement gives up after the write limit and the transaction is
    /// rolled back.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }

    /// Runs long work off the request path (report builds, rank refreshes) with the background
    /// limit on a write-pool connection. It does not take SQLite's writer turn (a report build
    /// would hold up every vote): a write here should be one statement, which waits on SQLite's
    /// busy timeout.
    pub async fn background<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.background_blocking(f))
            .await
            .map_err(|e| AppError::Internal(format!("database task failed: {e}")))?
    }

    /// [`Db::run`] for code that is already on a blocking thread (CLI, background jobs).
    pub fn run_blocking<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> AppResult<T>,
    ) -> AppResult<T> {
        self.guarded(Work::Read, || {
            let mut conn = self.checkout(Work::Read)?;
            let r = f(&mut conn);
            note_lost(&mut conn, &r);
            r
        })
    }

    /// [`Db::write`] for code that is already on a blocking thread.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> AppResult<T>,
    ) -> AppResult<T> {
        self.guarded(Work::Write, || {
            let mut conn = self.checkout(Work::Write)?;
            let _turn = self.writer_turn()?;
            let r = f(&mut conn);
            note_lost(&mut conn, &r);
            r
        })
    }

    /// [`Db::background`] for code that is already on a blocking thread.
    pub fn background_blocking<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> AppResult<T>,
    ) -> AppResult<T> {
        self.guarded(Work::Background, || {
            let mut conn = self.checkout(Work::Background)?;
            let r = f(&mut conn);
            note_lost(&mut conn, &r);
            r
        })
    }

    /// Asks the breaker of `work` first (an open one refuses at once), then reports how the
    /// call went.
    fn guarded<T>(&self, work: Work, call: impl FnOnce() -> AppResult<T>) -> AppResult<T> {
        self.health.permit(work)?;
        let result = call();
        self.health.record(work, &result);
        result
    }

    /// A connection from the pool of `work`, with the limits of `work`.
    fn checkout(&self, work: Work) -> AppResult<PooledConnection<Manager>> {
        let pool = match work {
            Work::Read => &self.reads,
            Work::Write | Work::Background => &self.writes,
        };
        let mut conn = pool.get().map_err(AppError::from)?;
        if conn.work != work {
            apply_limit(&mut conn.conn, self.limits.of_work(work))?;
            conn.work = work;
        }
        Ok(conn)
    }

    /// The writer's turn on SQLite (nothing on MySQL), waited for at most the write limit.
    fn writer_turn(&self) -> AppResult<Option<Turn<'_>>> {
        match self.backend {
            Backend::Sqlite => self.write_turn.take(self.limits.write).map(Some),
            Backend::Mysql => Ok(None),
        }
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> AppResult<()> {
        self.run(|c| {
            c.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }

    /// Connections in use and idle (both pools), for readiness and metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let (r, w) = (self.reads.state(), self.writes.state());
        (
            r.connections - r.idle_connections + w.connections - w.idle_connections,
            r.idle_connections + w.idle_connections,
        )
    }
}

/// One writer at a time on SQLite, waited for with a limit (a mutex cannot time out).
#[derive(Default)]
struct WriteTurn {
    busy: std::sync::Mutex<bool>,
    freed: std::sync::Condvar,
}

/// The writer's turn, given back when dropped.
struct Turn<'a>(&'a WriteTurn);

impl WriteTurn {
    fn take(&self, limit: Duration) -> AppResult<Turn<'_>> {
        let busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let wait = if limit.is_zero() {
            Duration::from_secs(86_400)
        } else {
            limit
        };
        let (mut busy, timeout) = self
            .freed
            .wait_timeout_while(busy, wait, |b| *b)
            .unwrap_or_else(|p| p.into_inner());
        if timeout.timed_out() && *busy {
            return Err(AppError::DbUnavailable(format!(
                "waited {} ms for the SQLite writer",
                wait.as_millis()
            )));
        }
        *busy = true;
        Ok(Turn(self))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.0.busy.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.0.freed.notify_one();
    }
}

#[derive(QueryableByName)]
struct LastId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The id generated by the last `INSERT` on this connection (no `RETURNING` on both backends).
pub fn last_insert_id(conn: &mut AnyConnection) -> QueryResult<i64> {
    let sql = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id",
        AnyConnection::Sqlite(_) => "SELECT last_insert_rowid() AS id",
    };
    diesel::sql_query(sql)
        .get_result::<LastId>(conn)
        .map(|r| r.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            DbUrl::parse("sqlite://beebeta.db").unwrap().target,
            "beebeta.db"
        );
        assert_eq!(
            DbUrl::parse("sqlite:/tmp/x.db").unwrap().target,
            "/tmp/x.db"
        );
        assert_eq!(DbUrl::parse("data/b.db").unwrap().backend, Backend::Sqlite);
        assert!(DbUrl::parse("postgres://x").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        #[cfg(feature = "mysql")]
        assert_eq!(
            DbUrl::parse("mysql://root@localhost/x").unwrap().backend,
            Backend::Mysql
        );
        #[cfg(not(feature = "mysql"))]
        assert!(DbUrl::parse("mysql://root@localhost/x").is_err());
    }
}
