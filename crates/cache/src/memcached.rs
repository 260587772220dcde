//! The memcached backend: several servers, rendezvous hashing, bounded waits, a breaker each.
//!
//! Speaks the memcached meta protocol through the wire layer of `memcache` 0.21
//! (`memcache::exp`: [`MetaConnection`] and the `build_*` commands). We use that layer, not the
//! crate's classic `Client`, because the classic binary-protocol client writes every request
//! header field with its own unbuffered `send` (10 system calls for one `get`, and as many reads
//! for its reply): on loopback that cost more CPU than rendering the page. A meta `mg` is one
//! write and, with the buffered reader, usually one read. What else we do:
//! - Connections are opened on the caller's thread with `TcpStream::connect_timeout`
//!   (`connect_timeout`, ≤ 100 ms) after resolving the `host:port` (instant for addresses; a
//!   host name uses the system resolver). Nothing connects at start-up.
//! - Every exchange (one command or one multi-get batch) has one deadline of `io_timeout`, which
//!   the wire layer spreads over its system calls: a silent or frozen server costs one
//!   `io_timeout`, then the breaker makes later calls fail at once.
//! - Each server keeps its own idle list. A connection that had any transport error is dropped
//!   for good (a late reply would otherwise be read as the answer to the next command); a pooled
//!   connection found closed (server restarted) is retried once on a fresh connection.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use memcache::exp::{
    ArithmeticMode, ArithmeticOptions, DeleteOptions, Error as MetaError, GetOptions, MetaCommand,
    MetaConnection, MetaResponse, ReturnCode, SetMode, SetOptions, build_arithmetic, build_delete,
    build_get, build_set,
};

use super::breaker::{Breaker, BreakerConfig, Permit, Transition};
use super::{CacheBackend, CacheError, hashing, keys, parse_counter};

/// Timeouts, breaker and pooling of the memcached backend.
#[derive(Debug, Clone, Copy)]
pub struct MemcachedOptions {
    /// Longest wait for a new connection.
    pub connect_timeout: Duration,
    /// Longest wait for one exchange (request written and reply read).
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
            max_idle_per_server: 32,
        }
    }
}

/// Keys fetched per multi-get request, so requests and replies never fill both socket buffers.
const MULTI_GET_CHUNK: usize = 100;
/// memcached reads expirations above 30 days as absolute Unix times.
const MAX_EXPIRATION_SECS: u64 = 30 * 24 * 3600;

struct Server {
    id: String,
    idle: Mutex<Vec<MetaConnection>>,
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

/// Why a command did not succeed.
enum Failure {
    /// The server answered with an error; the connection is still in step.
    Answered(String),
    /// A pooled connection turned out to be closed (server restarted): worth one fresh try.
    StaleConnection(String),
    /// Timeout, refused connect, garbage: the server counts as failing.
    Transport(String),
}

fn classify(error: &MetaError) -> Failure {
    match error {
        MetaError::Server(m) | MetaError::Rejected(m) => Failure::Answered(m.clone()),
        MetaError::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            Failure::StaleConnection(error.to_string())
        }
        other => Failure::Transport(other.to_string()),
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
        let url = url::Url::parse(&format!("memcache://{item}"))
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

fn get_command(mkey: &str) -> Result<MetaCommand, MetaError> {
    let mut options = GetOptions::default();
    options.value = true;
    build_get(mkey, &options)
}

fn store_command(
    mkey: &str,
    value: &[u8],
    ttl: Duration,
    mode: SetMode,
) -> Result<MetaCommand, MetaError> {
    let mut options = SetOptions::default();
    options.ttl = Some(expiration(ttl));
    options.mode = mode;
    build_set(mkey, value.to_vec(), &options)
}

fn unexpected(response: &MetaResponse) -> MetaError {
    MetaError::Protocol(format!("unexpected reply {:?}", response.rc()))
}

/// `ma`: add `delta` (creating the item at `delta` with `ttl` when missing, and setting the TTL
/// again when present), or subtract it (`ttl: None`: the expiry is kept, a missing item stays
/// missing). Returns the new value.
fn arithmetic_command(
    mkey: &str,
    delta: u64,
    ttl: Option<Duration>,
    mode: ArithmeticMode,
) -> Result<MetaCommand, MetaError> {
    let mut options = ArithmeticOptions::default();
    options.delta = Some(delta);
    options.mode = mode;
    options.return_value = true;
    if let Some(ttl) = ttl {
        // Vivified at J (the delta is not applied on creation), so J = delta.
        options.initial = Some(delta);
        options.initial_ttl = Some(expiration(ttl));
        options.ttl = Some(expiration(ttl));
    }
    build_arithmetic(mkey, &options)
}

/// A `ma` reply as the new value, or `None` for a missing item.
fn counter_of(response: MetaResponse) -> Result<Option<u64>, MetaError> {
    match response.rc() {
        ReturnCode::Va | ReturnCode::Hd => {
            let bytes = response.into_value().unwrap_or_default();
            parse_counter(&bytes)
                .map(Some)
                .ok_or_else(|| MetaError::Protocol("counter reply is not a number".into()))
        }
        // NS: a concurrent vivify won the race (the caller tries again).
        ReturnCode::Nf | ReturnCode::En | ReturnCode::Ns => Ok(None),
        _ => Err(unexpected(&response)),
    }
}

/// A `mg` reply as a value or a miss.
fn value_of(response: MetaResponse) -> Result<Option<Vec<u8>>, MetaError> {
    match response.rc() {
        ReturnCode::Va | ReturnCode::Hd => Ok(Some(response.into_value().unwrap_or_default())),
        ReturnCode::En | ReturnCode::Nf => Ok(None),
        _ => Err(unexpected(&response)),
    }
}

impl MemcachedBackend {
    /// A backend for the servers in `list` (see [`parse_servers`]). Opens no connection, so it
    /// succeeds whether or not the servers are up.
    pub fn new(list: &str, options: MemcachedOptions) -> Result<MemcachedBackend, String> {
        let ids = parse_servers(list)?;
        let options = MemcachedOptions {
            io_timeout: options.io_timeout.max(Duration::from_millis(1)),
            connect_timeout: options.connect_timeout.max(Duration::from_millis(1)),
            ..options
        };
        let servers = ids
            .iter()
            .map(|id| Server {
                id: id.clone(),
                idle: Mutex::new(Vec::new()),
                breaker: Breaker::new(options.breaker),
            })
            .collect();
        Ok(MemcachedBackend {
            name: format!("memcached ({})", ids.join(", ")),
            servers,
            ids,
            options,
            breaker_opens: AtomicU64::new(0),
        })
    }

    /// A new connection to `server`, bounded by `connect_timeout`.
    fn connect(&self, server: &Server) -> Result<MetaConnection, MetaError> {
        let host = server.id.trim_start_matches('[').replace("]:", ":");
        let addrs: Vec<SocketAddr> = match server.id.parse::<SocketAddr>() {
            Ok(addr) => vec![addr],
            Err(_) => server
                .id
                .to_socket_addrs()
                .or_else(|_| host.to_socket_addrs())?
                .collect(),
        };
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.options.connect_timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    let mut conn = MetaConnection::from_stream(stream);
                    conn.set_io_timeout(Some(self.options.io_timeout));
                    return Ok(conn);
                }
                Err(e) => last = e,
            }
        }
        Err(MetaError::Io(last))
    }

    fn checkin(&self, server: &Server, conn: MetaConnection) {
        let mut idle = server.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.options.max_idle_per_server {
            idle.push(conn);
        }
    }

    fn clear_idle(server: &Server) {
        server
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Runs `op` on a connection to server `index`, under its breaker.
    fn call<T>(
        &self,
        index: usize,
        op: impl Fn(&mut MetaConnection) -> Result<T, MetaError>,
    ) -> Result<T, CacheError> {
        let server = &self.servers[index];
        if server.breaker.permit(Instant::now()) == Permit::Refused {
            return Err(CacheError::CircuitOpen {
                server: server.id.clone(),
            });
        }
        let pooled = server.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (mut conn, mut pooled) = match pooled {
            Some(conn) => (conn, true),
            None => match self.connect(server) {
                Ok(conn) => (conn, false),
                Err(error) => return Err(self.failed(server, error.to_string())),
            },
        };
        loop {
            let error = match op(&mut conn) {
                Ok(value) => {
                    self.checkin(server, conn);
                    self.record_success(server);
                    return Ok(value);
                }
                Err(error) => error,
            };
            match classify(&error) {
                Failure::Answered(message) => {
                    self.checkin(server, conn);
                    self.record_success(server);
                    return Err(CacheError::Rejected {
                        server: server.id.clone(),
                        message,
                    });
                }
                Failure::StaleConnection(_) if pooled => {
                    // The other idle connections most likely died with it.
                    Self::clear_idle(server);
                    conn = match self.connect(server) {
                        Ok(conn) => conn,
                        Err(error) => return Err(self.failed(server, error.to_string())),
                    };
                    pooled = false;
                }
                Failure::StaleConnection(message) | Failure::Transport(message) => {
                    drop(conn);
                    return Err(self.failed(server, message));
                }
            }
        }
    }

    /// Records a transport failure of `server` and describes it.
    fn failed(&self, server: &Server, message: String) -> CacheError {
        Self::clear_idle(server);
        self.record_failure(server);
        CacheError::Unavailable {
            server: server.id.clone(),
            message,
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

    /// Runs one `ma` on the server of `key`.
    fn arithmetic(
        &self,
        key: &str,
        delta: u64,
        ttl: Option<Duration>,
        mode: ArithmeticMode,
    ) -> Result<Option<u64>, CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        let command =
            arithmetic_command(&mkey, delta, ttl, mode).map_err(|e| CacheError::Rejected {
                server: self.ids[index].clone(),
                message: e.to_string(),
            })?;
        self.call(index, |c| counter_of(c.execute(&command)?))
    }

    fn store(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        mode: SetMode,
    ) -> Result<bool, CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        let command = store_command(&mkey, value, ttl, mode).map_err(|e| CacheError::Rejected {
            server: self.ids[index].clone(),
            message: e.to_string(),
        })?;
        self.call(index, |c| {
            let response = c.execute(&command)?;
            match response.rc() {
                ReturnCode::Hd => Ok(true),
                ReturnCode::Ns | ReturnCode::Ex => Ok(false),
                _ => Err(unexpected(&response)),
            }
        })
    }
}

impl CacheBackend for MemcachedBackend {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        let command = get_command(&mkey).map_err(|e| CacheError::Rejected {
            server: self.ids[index].clone(),
            message: e.to_string(),
        })?;
        self.call(index, |c| value_of(c.execute(&command)?))
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
                let commands: Result<Vec<MetaCommand>, MetaError> =
                    chunk.iter().map(|(m, _)| get_command(m)).collect();
                let commands = match commands {
                    Ok(commands) => commands,
                    Err(e) => {
                        errors.push(CacheError::Rejected {
                            server: self.ids[index].clone(),
                            message: e.to_string(),
                        });
                        break;
                    }
                };
                let got = self.call(index, |c| {
                    let responses = c.execute_batch(&commands)?;
                    if responses.len() != commands.len() {
                        return Err(MetaError::Protocol("short multi-get reply".into()));
                    }
                    responses
                        .into_iter()
                        .map(value_of)
                        .collect::<Result<Vec<_>, _>>()
                });
                match got {
                    Ok(values) => {
                        for ((_, key), value) in chunk.iter().zip(values) {
                            if let Some(value) = value {
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
        self.store(key, value, ttl, SetMode::Set).map(|_| ())
    }

    fn add(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        self.store(key, value, ttl, SetMode::Add)
    }

    fn incr(&self, key: &str, delta: u64, ttl: Duration) -> Result<u64, CacheError> {
        // Two servers vivifying the same key at once: one stores it, the other gets NS and
        // increments the stored item on its second try.
        for _ in 0..2 {
            match self.arithmetic(key, delta, Some(ttl), ArithmeticMode::Increment) {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(CacheError::Rejected {
            server: self.ids[hashing::pick(&self.ids, &keys::memcached_key(key))].clone(),
            message: "counter could not be created".into(),
        })
    }

    fn decr(&self, key: &str, delta: u64) -> Result<Option<u64>, CacheError> {
        self.arithmetic(key, delta, None, ArithmeticMode::Decrement)
    }

    fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mkey = keys::memcached_key(key);
        let index = hashing::pick(&self.ids, &mkey);
        let command =
            build_delete(&mkey, &DeleteOptions::default()).map_err(|e| CacheError::Rejected {
                server: self.ids[index].clone(),
                message: e.to_string(),
            })?;
        self.call(index, |c| {
            let response = c.execute(&command)?;
            match response.rc() {
                ReturnCode::Hd | ReturnCode::Nf => Ok(()),
                _ => Err(unexpected(&response)),
            }
        })
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
