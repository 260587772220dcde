//! Database access: the connection that is MySQL or SQLite, the r2d2 pool, migrations.
//!
//! Every call goes through [`Db::run`] (reads) or [`Db::write`] (transactions that write), both of
//! which take a pooled connection on a blocking thread, so Diesel never runs on Rocket's async workers.

pub mod schema;
mod tx;

pub use tx::{Abort, is_retryable, retry, transaction};

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
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

/// Applies per-connection settings when r2d2 opens a connection.
#[derive(Debug)]
struct ConnectionSetup {
    statement_timeout: Duration,
}

impl CustomizeConnection<Tracked, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut Tracked) -> Result<(), diesel::r2d2::Error> {
        let result = match &mut conn.conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => {
                c.batch_execute("SET time_zone = '+00:00'").map(|_| {
                    // MariaDB's statement timeout; MySQL proper has no such variable, so a failure
                    // here is not fatal.
                    let secs = self.statement_timeout.as_secs_f64();
                    let _ = c.batch_execute(&format!("SET SESSION max_statement_time = {secs}"));
                })
            }
            // The busy timeout first: switching to WAL takes a lock, and the pool opens several
            // connections at once (else "database is locked" while they start).
            AnyConnection::Sqlite(c) => c.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                self.statement_timeout.as_millis()
            )),
        };
        result.map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pooled connection and when it was last handed back in good order.
pub struct Tracked {
    conn: AnyConnection,
    returned: Option<Instant>,
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
}

impl Manager {
    /// A manager for connections to `target` (what Diesel's `establish` takes; see [`DbUrl`]).
    pub fn new(target: &str) -> Manager {
        Manager {
            inner: ConnectionManager::new(target),
        }
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Tracked;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Tracked, Self::Error> {
        Ok(Tracked {
            conn: self.inner.connect()?,
            returned: None,
        })
    }

    fn is_valid(&self, conn: &mut Tracked) -> Result<(), Self::Error> {
        if conn.returned.is_some_and(|t| t.elapsed() < ALIVE_BYPASS) {
            return Ok(());
        }
        self.inner.is_valid(&mut conn.conn)
    }

    fn has_broken(&self, conn: &mut Tracked) -> bool {
        let broken = self.inner.has_broken(&mut conn.conn);
        conn.returned = (!broken).then(Instant::now);
        broken
    }
}

/// The shared handle to the database: a pool plus, for SQLite, the process-wide writer lock.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    // SQLite allows one writer at a time; queueing writers here avoids SQLITE_BUSY on lock upgrade.
    write_lock: Arc<std::sync::Mutex<()>>,
}

impl Db {
    /// Opens a pool on `cfg.url` (see [`DbUrl::parse`]); fails fast if the database is
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
        let manager = Manager::new(&parsed.target);
        let acquire_timeout = Duration::from_millis(cfg.acquire_timeout_ms);
        let pool = Pool::builder()
            .max_size(cfg.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(acquire_timeout.max(Duration::from_millis(100)))
            .connection_customizer(Box::new(ConnectionSetup {
                statement_timeout: Duration::from_millis(cfg.statement_timeout_ms),
            }))
            .build(manager)
            .map_err(|e| format!("cannot open the database: {e}"))?;
        Ok(Db {
            pool,
            backend: parsed.backend,
            write_lock: Arc::new(std::sync::Mutex::new(())),
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| format!("cannot connect: {e}"))?;
        let applied = match &mut **conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c.run_pending_migrations(MYSQL_MIGRATIONS).map(|v| v.len()),
            AnyConnection::Sqlite(c) => {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
            }
        };
        applied.map_err(|e| format!("migration failed: {e}"))
    }

    /// Runs `f` with a pooled connection on a blocking thread.
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
    /// the backend needs one.
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

    /// [`Db::run`] for code that is already on a blocking thread (CLI, background jobs).
    pub fn run_blocking<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> AppResult<T>,
    ) -> AppResult<T> {
        let mut conn = self.pool.get().map_err(AppError::from)?;
        f(&mut conn)
    }

    /// [`Db::write`] for code that is already on a blocking thread.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> AppResult<T>,
    ) -> AppResult<T> {
        let mut conn = self.pool.get().map_err(AppError::from)?;
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Mysql => None,
        };
        f(&mut conn)
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> AppResult<()> {
        self.run(|c| {
            c.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }

    /// Connections in use and idle, for readiness and metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections - s.idle_connections, s.idle_connections)
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
