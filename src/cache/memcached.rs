//! The memcached backend: several servers, rendezvous hashing, bounded waits, a breaker each.
//!
//! Built on `memcache` 0.21 (binary protocol). What its source showed, and what we do about it:
//! - `ClientBuilder::build` waits for the pool's first connections and fails when a server is
//!   down, then `set_read_timeout` needs a live connection too. We never call it: each pool is
//!   built with r2d2's `build_unchecked` (no I/O) and read/write timeouts come from the URL's
//!   `timeout=` parameter, which the crate applies to every socket it opens.
//! - `TcpStream::connect` in the crate has no timeout (and resolves names with blocking DNS).
//!   It runs on r2d2's connector threads; the caller waits at most `connect_timeout` (r2d2's
//!   `connection_timeout`) and gets an error. A black-holed address can keep a connector thread
//!   busy until the kernel gives up (about 2 minutes), never a caller.
//! - r2d2 checks a connection out with a `version` round trip unless `test_on_check_out` is
//!   off, and that check is not covered by the wait limit: we turn it off.
//! - After a timeout the crate returns the connection to its pool with the late reply still on
//!   the wire (`has_broken` is always false and replies are not matched to requests), so the
//!   next command would read the previous command's answer. We therefore give each connection
//!   its own single-connection pool, keep those in our own idle list, and drop one for good
//!   after any transport error.
//! - r2d2 logs every failed connect at error level: its error handler is silenced here and we
//!   report failures ourselves, rate-limited, through [`super::Cache`].

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memcache::{Client, ConnectionManager, MemcacheError, Url};
use scheduled_thread_pool::ScheduledThreadPool;

use super::breaker::{Breaker, BreakerConfig, Permit, Transition};
use super::{CacheBackend, CacheError, hashing, keys};

/// Timeouts, breaker and pooling of the memcached backend.
#[derive(Debug, Clone, Copy)]
pub struct MemcachedOptions {
    /// Longest wait for a new connection (r2d2's `connection_timeout`).
    pub connect_timeout: Duration,
    /// Socket read and write timeout, per system call.
    pub io_timeout: Duration,
    /// When a server's breaker opens and for how long.
    pub breaker: BreakerConfig,
    /// Idle connections kept per server.
    pub max_idle_per_server: usize,
}

impl Default for MemcachedOptions {
    fn default() -> Self {
        MemcachedOptions {
            connect_timeout: Duration::from_millis(100),
            io_timeout: Duration::from_millis(100),
            breaker: BreakerConfig::default(),
            max_idle_per_server: 16,
        }
    }
}

/// Keys fetched per multi-get request, so requests and replies never fill both socket buffers.
const MULTI_GET_CHUNK: usize = 100;
/// memcached reads expirations above 30 days as absolute Unix times.
const MAX_EXPIRATION_SECS: u64 = 30 * 24 * 3600;
/// Connector threads per server (each runs r2d2 connects, which may block).
const CONNECTOR_THREADS: usize = 2;

struct Server {
    id: String,
    url: Url,
    idle: Mutex<Vec<Client>>,
    connector: Arc<ScheduledThreadPool>,
    breaker: Breaker,
}

/// A client of one or more memcached servers.
pub struct MemcachedBackend {
    servers: Vec<Server>,
    ids: Vec<String>,
    options: MemcachedOptions,
    name: String,
    breaker_opens: AtomicU64,
}

/// How a failed command left the connection.
enum Failure {
    /// The server answered with an error status; the connection is still in step.
    Answered,
    /// A pooled connection turned out to be closed (server restarted): worth one fresh try.
    StaleConnection,
    /// Timeout, refused connect, garbage: the server counts as failing.
    Transport,
}

fn classify(error: &MemcacheError) -> Failure {
    match error {
        MemcacheError::CommandError(_) | MemcacheError::ClientError(_) => Failure::Answered,
        MemcacheError::IOError(e)
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            Failure::StaleConnection
        }
        _ => Failure::Transport,
    }
}

/// A TTL as a memcached expiration: whole seconds rounded up, at least 1 (0 would mean never),
/// at most 30 days.
fn expiration(ttl: Duration) -> u32 {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    secs.clamp(1, MAX_EXPIRATION_SECS) as u32
}

/// Parses `memcache://host1:11211,host2:11211` (each item may repeat the scheme; the port
/// defaults to 11211) into `host:port` ids. Does no I/O.
pub fn parse_servers(list: &str) -> Result<Vec<String>, String> {
    let rest = list
        .strip_prefix("memcache://")
        .ok_or_else(|| format!("memcached URL must start with memcache://, got {list:?}"))?;
    let mut ids = Vec::new();
    for item in rest.split(',') {
        let item = item.trim();
        let item = item.strip_prefix("memcache://").unwrap_or(item);
        if item.is_empty() {
            return Err(format!("empty server in memcached URL {list:?}"));
        }
        if item.contains(['/', '?', '@', '#']) {
            return Err(format!(
                "memcached server {item:?}: only host:port is supported (no path, options or credentials)"
            ));
        }
        let url = Url::parse(&format!("memcache://{item}"))
            .map_err(|e| format!("memcached server {item:?}: {e}"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("memcached server {item:?} has no host"))?;
        let id = format!(
            "{}:{}",
            host.to_ascii_lowercase(),
            url.port().unwrap_or(11211)
        );
        if ids.contains(&id) {
            return Err(format!("memcached server {id} is listed twice"));
        }
        ids.push(id);
    }
    Ok(ids)
}

impl MemcachedBackend {
    /// A backend for the servers in `list` (see [`parse_servers`]). Opens no connection, so it
    /// succeeds whether or not the servers are up.
    pub fn new(list: &str, options: MemcachedOptions) -> Result<MemcachedBackend, String> {
        let ids = parse_servers(list)?;
        let io_timeout = options.io_timeout.max(Duration::from_millis(1));
        let options = MemcachedOptions {
            io_timeout,
            connect_timeout: options.connect_timeout.max(Duration::from_millis(1)),
            ..options
        };
        let servers = ids
            .iter()
            .map(|id| {
                let url = Url::parse(&format!(
                    "memcache://{id}?timeout={}&tcp_nodelay=true",
                    io_timeout.as_secs_f64()
                ))
                .map_err(|e| format!("memcached server {id}: {e}"))?;
                let connector = ScheduledThreadPool::builder()
                    .num_threads(CONNECTOR_THREADS)
                    .thread_name_pattern("memcache-connect-{}")
                    .build();
                Ok(Server {
                    id: id.clone(),
                    url,
                    idle: Mutex::new(Vec::new()),
                    connector: Arc::new(connector),
                    breaker: Breaker::new(options.breaker),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(MemcachedBackend {
            name: format!("memcached ({})", ids.join(", ")),
            servers,
            ids,
            options,
            breaker_opens: AtomicU64::new(0),
        })
    }

    /// A connection of its own: a single-connection pool that connects on first use.
    fn new_client(&self, server: &Server) -> Result<Client, CacheError> {
        let pool = r2d2::Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .max_lifetime(None)
            .idle_timeout(None)
            .connection_timeout(self.options.connect_timeout)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .thread_pool(server.connector.clone())
            .build_unchecked(ConnectionManager::new(server.url.clone()));
        Client::with_pool(pool).map_err(|e| CacheError::Unavailable {
            server: server.id.clone(),
            message: e.to_string(),
        })
    }

    fn checkout(&self, server: &Server) -> Result<(Client, bool), CacheError> {
        let pooled = server.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(client) => Ok((client, true)),
            None => Ok((self.new_client(server)?, false)),
        }
    }

    fn checkin(&self, server: &Server, client: Client) {
        let mut idle = server.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.options.max_idle_per_server {
            idle.push(client);
        }
    }

    /// Runs `op` on a connection to server `index`, under its breaker.
    fn call<T>(
        &self,
        index: usize,
        op: impl Fn(&Client) -> Result<T, MemcacheError>,
    ) -> Result<T, CacheError> {
        let server = &self.servers[index];
        if server.breaker.permit(Instant::now()) == Permit::Refused {
            return Err(CacheError::CircuitOpen {
                server: server.id.clone(),
            });
        }
        let (mut client, mut pooled) = self.checkout(server)?;
        loop {
            let error = match op(&client) {
                Ok(value) => {
                    self.checkin(server, client);
                    self.record_success(server);
                    return Ok(value);
                }
                Err(error) => error,
            };
            match classify(&error) {
                Failure::Answered => {
                    self.checkin(server, client);
                    self.record_success(server);
                    return Err(CacheError::Rejected {
                        server: server.id.clone(),
                        message: error.to_string(),
                    });
                }
                Failure::StaleConnection if pooled => {
                    // The other idle connections most likely died with it.
                    drop(client);
                    server
                        .idle
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clear();
                    client = self.new_client(server)?;
                    pooled = false;
                }
                Failure::StaleConnection | Failure::Transport => {
                    drop(client);
                    server
                        .idle
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clear();
                    self.record_failure(server);
                    return Err(CacheError::Unavailable {
                        server: server.id.clone(),
                        message: error.to_string(),
                    });
                }
            }
        }
    }

    fn record_success(&self, server: &Server) {
        if server.breaker.success() == Transition::Closed {
            tracing::info!(server = %server.id, "memcached server answers again; breaker closed");
        }
    }

    fn record_failure(&self, server: &Server) {
        if server.breaker.failure(Instant::now()) == Transition::Opened {
            self.breaker_opens.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                server = %server.id,
                cooldown_ms = self.options.breaker.cooldown.as_millis() as u64,
                "memcached server failing; breaker opened, its keys are misses until it recovers"
            );
        }
    }
}

impl CacheBackend for MemcachedBackend {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        self.call(index, |c| c.get::<Vec<u8>>(&mkey))
    }

    fn get_multi(&self, keys: &[String]) -> Result<HashMap<String, Vec<u8>>, CacheError> {
        // memcached key -> the caller's key, grouped by server.
        let mut by_server: Vec<Vec<(String, &String)>> = vec![Vec::new(); self.servers.len()];
        for key in keys {
            let mkey = keys::memcached_key(key);
            by_server[hashing::pick(&self.ids, &mkey)].push((mkey, key));
        }
        let mut found = HashMap::new();
        let mut errors = Vec::new();
        for (index, wanted) in by_server.iter().enumerate() {
            for chunk in wanted.chunks(MULTI_GET_CHUNK) {
                let mkeys: Vec<&str> = chunk.iter().map(|(m, _)| m.as_str()).collect();
                match self.call(index, |c| c.gets::<Vec<u8>>(&mkeys)) {
                    Ok(mut got) => {
                        for (mkey, key) in chunk {
                            if let Some(value) = got.remove(mkey) {
                                found.insert((*key).clone(), value);
                            }
                        }
                    }
                    Err(error) => {
                        errors.push(error);
                        break; // this server's other chunks would fail the same way
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(found)
        } else {
            Err(CacheError::Partial { found, errors })
        }
    }

    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        self.call(index, |c| c.set(&mkey, value, expiration(ttl)))
    }

    fn add(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        self.call(index, |c| match c.add(&mkey, value, expiration(ttl)) {
            Ok(()) => Ok(true),
            Err(MemcacheError::CommandError(memcache::CommandError::KeyExists)) => Ok(false),
            Err(e) => Err(e),
        })
    }

    fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        self.call(index, |c| c.delete(&mkey)).map(|_| ())
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn breaker_open_events(&self) -> u64 {
        self.breaker_opens.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn parses_server_lists() {
        assert_eq!(
            parse_servers("memcache://a:11211,B:11212").unwrap(),
            vec!["a:11211", "b:11212"]
        );
        assert_eq!(
            parse_servers("memcache://10.0.0.1, memcache://10.0.0.2:1").unwrap(),
            vec!["10.0.0.1:11211", "10.0.0.2:1"]
        );
        assert_eq!(
            parse_servers("memcache://[::1]:5").unwrap(),
            vec!["[::1]:5"]
        );
        for bad in [
            "a:11211",
            "memcache://",
            "memcache://a,,b",
            "memcache://a:notaport",
            "memcache://a:1?timeout=3",
            "memcache://user:pw@a:1",
            "memcache://a:1,a:1",
        ] {
            assert!(parse_servers(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn expirations_round_up_and_stay_relative() {
        assert_eq!(expiration(Duration::ZERO), 1);
        assert_eq!(expiration(Duration::from_millis(1)), 1);
        assert_eq!(expiration(Duration::from_millis(1500)), 2);
        assert_eq!(expiration(Duration::from_secs(60)), 60);
        assert_eq!(expiration(Duration::from_secs(365 * 24 * 3600)), 2_592_000);
    }

    /// A port on which nothing listens (bound, then released).
    fn closed_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn a_dead_server_gives_quick_errors_then_none_at_all() {
        let options = MemcachedOptions {
            breaker: BreakerConfig {
                threshold: 3,
                cooldown: Duration::from_secs(60),
            },
            ..MemcachedOptions::default()
        };
        let started = Instant::now();
        let backend =
            MemcachedBackend::new(&format!("memcache://127.0.0.1:{}", closed_port()), options)
                .unwrap();
        assert!(started.elapsed() < Duration::from_millis(150));
        for _ in 0..3 {
            let t = Instant::now();
            let error = backend.get("k").unwrap_err();
            assert!(matches!(error, CacheError::Unavailable { .. }), "{error}");
            assert!(
                t.elapsed() < Duration::from_millis(150),
                "{:?}",
                t.elapsed()
            );
        }
        assert_eq!(backend.breaker_open_events(), 1);
        for _ in 0..10 {
            let t = Instant::now();
            let error = backend.set("k", b"v", Duration::from_secs(1)).unwrap_err();
            assert!(matches!(error, CacheError::CircuitOpen { .. }), "{error}");
            assert!(t.elapsed() < Duration::from_millis(5), "{:?}", t.elapsed());
        }
    }
}
