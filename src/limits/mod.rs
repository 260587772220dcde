//! Rate limits shared by every app server: sign-up, login, password reset, asking, voting,
//! uploads, search, the search box's suggestions and flags, keyed by client address (`ClientIp::key`: an IPv4 address or an IPv6 /64)
//! or account, plus a growing back-off per login after failed attempts ([`backoff`]). Over a
//! limit: 429 with `Retry-After`. `limits = "off"` turns them all off (load tests).
//!
//! # Shared counts
//! The counts live in the app's [`Cache`] under its key prefix (`<prefix>:v2:rl:<action>:...`,
//! `...:lb:...`): in memcached, N app servers together allow what one allows; on the embedded
//! default (in-process cache) there is one server anyway. Each limit is a sliding window over
//! two fixed windows ([`window`]); the windows follow the wall clock, so servers agree within
//! their clock skew. A check costs two memcached round trips (three when it refuses), run off
//! the async workers.
//!
//! # When memcached fails
//! A check that finds the shared cache unavailable (an error, or an open breaker, which answers
//! at once) is made on this server's own counts instead (the same windows, on an in-process
//! cache): with N servers each allows up to the limit until memcached is back. Never open and
//! never an error page: logged at most once a minute and counted in
//! `beebeta_limits_local_total`. The login back-off reads both places, so failures counted
//! locally during an outage still count after it.
//!
//! [`LiveStreams`] bounds the live-results streams open on one server, in all and per client.

pub mod backoff;
pub mod streams;
pub mod window;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use backoff::LoginKeys;
pub use streams::{LiveStreams, StreamRefusal, StreamSlot};
pub use window::Rate;

use crate::cache::{Cache, MemoryBackend};
use crate::config::LimitsConfig;
use crate::error::AppError;

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// New accounts, per client address.
    Signup,
    /// Login attempts, per client address.
    Login,
    /// Password-reset requests, per client address.
    Reset,
    /// New questions, per account.
    Ask,
    /// Votes, per client address.
    Vote,
    /// Image uploads, per account.
    Upload,
    /// Searches, per client address.
    Search,
    /// The search box's suggestions, per client address.
    Suggest,
    /// Flags on questions, per client address.
    Flag,
}

impl Action {
    const ALL: [Action; 9] = [
        Action::Signup,
        Action::Login,
        Action::Reset,
        Action::Ask,
        Action::Vote,
        Action::Upload,
        Action::Search,
        Action::Suggest,
        Action::Flag,
    ];

    /// The name in cache keys and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Action::Signup => "signup",
            Action::Login => "login",
            Action::Reset => "reset",
            Action::Ask => "ask",
            Action::Vote => "vote",
            Action::Upload => "upload",
            Action::Search => "search",
            Action::Suggest => "suggest",
            Action::Flag => "flag",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Action::Signup => "sign-ups",
            Action::Login => "login attempts",
            Action::Reset => "password reset requests",
            Action::Ask => "new questions",
            Action::Vote => "votes",
            Action::Upload => "image uploads",
            Action::Search => "searches",
            Action::Suggest => "search suggestions",
            Action::Flag => "flags",
        }
    }

    fn rate(self, cfg: &LimitsConfig) -> &str {
        match self {
            Action::Signup => &cfg.signup,
            Action::Login => &cfg.login,
            Action::Reset => &cfg.reset,
            Action::Ask => &cfg.ask,
            Action::Vote => &cfg.vote,
            Action::Upload => &cfg.upload,
            Action::Search => &cfg.search,
            Action::Suggest => &cfg.suggest,
            Action::Flag => &cfg.flag,
        }
    }
}

/// Whether `limits` turns the limits on.
pub fn enabled(cfg: &LimitsConfig) -> bool {
    !matches!(
        cfg.switch.trim().to_ascii_lowercase().as_str(),
        "off" | "false" | "0" | "no"
    )
}

/// Bytes of this server's own counts, used while memcached is unavailable.
const LOCAL_CAPACITY: u64 = 16 << 20;

/// The rate limits and the login back-off (cheap to clone).
#[derive(Clone)]
pub struct Limits(Arc<Inner>);

struct Inner {
    enabled: bool,
    rates: HashMap<Action, Rate>,
    shared: Cache,
    /// This server's own counts: the shared cache itself when it is in-process.
    local: Cache,
    /// When (Unix seconds) the fall-back to local counts was last logged.
    logged_fallback: AtomicU64,
}

impl Limits {
    /// The limits of `cfg`, counted in `shared` (the app's cache).
    pub fn new(cfg: &LimitsConfig, shared: Cache) -> Result<Limits, String> {
        let rates = Action::ALL
            .into_iter()
            .map(|a| {
                Rate::parse(a.rate(cfg))
                    .map(|r| (a, r))
                    .map_err(|e| format!("limits_{}: {e}", a.name()))
            })
            .collect::<Result<_, _>>()?;
        let local = if shared.is_in_process() {
            shared.clone()
        } else {
            Cache::new(MemoryBackend::new(LOCAL_CAPACITY), "local")?
        };
        Ok(Limits(Arc::new(Inner {
            enabled: enabled(cfg),
            rates,
            shared,
            local,
            logged_fallback: AtomicU64::new(0),
        })))
    }

    /// Counts one `action` by `key`; a 429 error when over the limit. Unknown keys pass (clients
    /// whose address is unknown are not lumped together).
    pub async fn check(&self, action: Action, key: Option<String>) -> Result<(), AppError> {
        let (true, Some(key)) = (self.0.enabled, key) else {
            return Ok(());
        };
        let rate = self.0.rates[&action];
        let verdict = self
            .run(move |l| {
                let now = unix_ms();
                window::take(&l.shared, action.name(), &key, rate, now).unwrap_or_else(|| {
                    l.fell_back();
                    window::take(&l.local, action.name(), &key, rate, now)
                        .expect("the in-process cache does not fail")
                })
            })
            .await?;
        verdict.map_err(|wait| {
            metrics::counter!("beebeta_rate_limited_total", "action" => action.name()).increment(1);
            too_many(action.what(), wait)
        })
    }

    /// Refuses a login while its keys back off after repeated failures.
    pub async fn check_login_backoff(&self, keys: &LoginKeys) -> Result<(), AppError> {
        if !self.0.enabled {
            return Ok(());
        }
        let keys = keys.clone();
        let (until, now) = self
            .run(move |l| {
                let shared = backoff::waits_until(&l.shared, &keys).unwrap_or_else(|| {
                    l.fell_back();
                    0
                });
                let local = if l.has_own_local() {
                    backoff::waits_until(&l.local, &keys).unwrap_or(0)
                } else {
                    0
                };
                (shared.max(local), unix_ms())
            })
            .await?;
        if until > now {
            metrics::counter!("beebeta_rate_limited_total", "action" => "login_backoff")
                .increment(1);
            return Err(too_many(
                "failed logins on this account",
                Duration::from_millis(until - now),
            ));
        }
        Ok(())
    }

    /// Records a failed login: after a few, each further failure doubles the wait.
    pub async fn login_failed(&self, keys: &LoginKeys) -> Result<(), AppError> {
        if !self.0.enabled {
            return Ok(());
        }
        let keys = keys.clone();
        self.run(move |l| {
            let now = unix_ms();
            if backoff::failed(&l.shared, &keys, now).is_none() {
                l.fell_back();
                backoff::failed(&l.local, &keys, now);
            }
        })
        .await
    }

    /// Clears the failures of a successful login's keys.
    pub async fn login_succeeded(&self, keys: &LoginKeys) -> Result<(), AppError> {
        if !self.0.enabled {
            return Ok(());
        }
        let keys = keys.clone();
        self.run(move |l| {
            backoff::cleared(&l.shared, &keys);
            if l.has_own_local() {
                backoff::cleared(&l.local, &keys);
            }
        })
        .await
    }

    /// Runs `f` on the counts: at once for the in-process cache, else off the async workers
    /// (memcached calls block, up to their 100 ms timeouts).
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        if self.0.shared.is_in_process() {
            return Ok(f(&self.0));
        }
        let inner = Arc::clone(&self.0);
        rocket::tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| AppError::Internal(format!("rate limit check failed: {e}")))
    }
}

impl Inner {
    fn has_own_local(&self) -> bool {
        !self.shared.is_in_process()
    }

    /// Notes a check made on this server's own counts.
    fn fell_back(&self) {
        metrics::counter!("beebeta_limits_local_total").increment(1);
        let now = unix_ms() / 1000;
        let last = self.logged_fallback.load(Ordering::Relaxed);
        if now >= last + 60
            && self
                .logged_fallback
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                cache = self.shared.backend_name(),
                "shared cache unavailable: rate limits use this server's own counts"
            );
        }
    }
}

/// Now, in Unix milliseconds (the windows of every server follow the same clock).
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn too_many(what: &str, wait: Duration) -> AppError {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    AppError::TooManyRequests {
        message: format!("Too many {what}. Please try again in {secs} seconds."),
        retry_after_secs: secs,
    }
}

#[cfg(test)]
mod tests;
