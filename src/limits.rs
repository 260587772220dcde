//! Rate limits (governor, in memory per app server): sign-up, login, password reset, asking and
//! voting, keyed by client address or account, plus a growing back-off per account after failed
//! logins. Over a limit: 429 with `Retry-After`. With several app servers each enforces its own
//! share; `limits = "off"` turns them all off (load tests). [`LiveStreams`] bounds the live-results
//! streams open at once on one server.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

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
}

impl Action {
    fn what(self) -> &'static str {
        match self {
            Action::Signup => "sign-ups",
            Action::Login => "login attempts",
            Action::Reset => "password reset requests",
            Action::Ask => "new questions",
            Action::Vote => "votes",
            Action::Upload => "image uploads",
        }
    }
}

/// Parses `N/second|minute|hour|day` into a quota that allows bursts of N.
pub fn parse_quota(s: &str) -> Result<Quota, String> {
    let (n, per) = s
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("invalid rate `{s}`: use N/minute"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("invalid rate `{s}`"))?;
    let n =
        NonZeroU32::new(n).ok_or_else(|| format!("invalid rate `{s}`: N must be at least 1"))?;
    let period = match per.trim() {
        "second" | "s" => Duration::from_secs(1),
        "minute" | "min" | "m" => Duration::from_secs(60),
        "hour" | "h" => Duration::from_secs(3600),
        "day" | "d" => Duration::from_secs(86_400),
        other => {
            return Err(format!(
                "invalid rate period `{other}`: second, minute, hour or day"
            ));
        }
    };
    Quota::with_period(period / n.get())
        .map(|q| q.allow_burst(n))
        .ok_or_else(|| format!("invalid rate `{s}`"))
}

/// The rate limiters of this app server.
pub struct Limits {
    enabled: bool,
    limiters: HashMap<Action, DefaultKeyedRateLimiter<String>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Failed logins allowed on one account before the back-off starts.
const FREE_FAILURES: u32 = 5;
/// Longest back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

impl Limits {
    /// Builds the limiters from the configuration.
    pub fn from_config(cfg: &LimitsConfig) -> Result<Limits, String> {
        let enabled = !matches!(cfg.switch.trim(), "off" | "false" | "0" | "no");
        let mut limiters = HashMap::new();
        for (action, rate) in [
            (Action::Signup, &cfg.signup),
            (Action::Login, &cfg.login),
            (Action::Reset, &cfg.reset),
            (Action::Ask, &cfg.ask),
            (Action::Vote, &cfg.vote),
            (Action::Upload, &cfg.upload),
        ] {
            limiters.insert(action, RateLimiter::keyed(parse_quota(rate)?));
        }
        Ok(Limits {
            enabled,
            limiters,
            failures: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one `action` by `key`; a 429 error when over the limit. Unknown keys pass.
    pub fn check(&self, action: Action, key: Option<String>) -> Result<(), AppError> {
        let (true, Some(key)) = (self.enabled, key) else {
            return Ok(());
        };
        let limiter = &self.limiters[&action];
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        match limiter.check_key(&key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(too_many(action.what(), wait))
            }
        }
    }

    /// Refuses a login for an account in back-off after repeated failures.
    pub fn check_login_backoff(&self, account: &str) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, until)) = map.get(&account.to_lowercase()) {
            let now = Instant::now();
            if *until > now {
                return Err(too_many("failed logins on this account", *until - now));
            }
        }
        Ok(())
    }

    /// Records a failed login: after a few, each further failure doubles the wait.
    pub fn login_failed(&self, account: &str) {
        if !self.enabled {
            return;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let now = Instant::now();
            map.retain(|_, (_, until)| *until > now);
        }
        let entry = map
            .entry(account.to_lowercase())
            .or_insert((0, Instant::now()));
        entry.0 += 1;
        if entry.0 >= FREE_FAILURES {
            let exp = (entry.0 - FREE_FAILURES).min(16);
            entry.1 = Instant::now() + Duration::from_secs(1 << exp).min(MAX_BACKOFF);
        }
    }

    /// Clears an account's failures after a successful login.
    pub fn login_succeeded(&self, account: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&account.to_lowercase());
    }
}

fn too_many(what: &str, wait: Duration) -> AppError {
    let secs = wait.as_secs().max(1);
    AppError::TooManyRequests {
        message: format!("Too many {what}. Please try again in {secs} seconds."),
        retry_after_secs: secs,
    }
}

/// Open live streams on this server, and the most allowed.
#[derive(Debug)]
pub struct LiveStreams {
    open: AtomicUsize,
    max: usize,
}

impl LiveStreams {
    /// At most `max` streams at once.
    pub fn new(max: usize) -> Arc<LiveStreams> {
        Arc::new(LiveStreams {
            open: AtomicUsize::new(0),
            max,
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A place for one more stream, or `None` when all are taken.
    pub fn acquire(self: &Arc<Self>) -> Option<StreamSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(Arc::clone(self)))
    }
}

/// One open stream; gives its place back when the stream ends.
pub struct StreamSlot(Arc<LiveStreams>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate: &str) -> Limits {
        let cfg = LimitsConfig {
            signup: rate.into(),
            ..LimitsConfig::default()
        };
        Limits::from_config(&cfg).unwrap()
    }

    #[test]
    fn quotas() {
        assert!(parse_quota("5/hour").is_ok());
        for bad in ["", "5", "0/minute", "x/minute", "5/fortnight"] {
            assert!(parse_quota(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keyed_limits() {
        let l = limits("2/hour");
        assert!(l.check(Action::Signup, Some("a".into())).is_ok());
        assert!(l.check(Action::Signup, Some("a".into())).is_ok());
        match l.check(Action::Signup, Some("a".into())) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert!(retry_after_secs > 60),
            other => panic!("{other:?}"),
        }
        assert!(l.check(Action::Signup, Some("b".into())).is_ok(), "per key");
        assert!(
            l.check(Action::Signup, None).is_ok(),
            "unknown clients are not lumped together"
        );
        let off = Limits::from_config(&LimitsConfig {
            switch: "off".into(),
            ..LimitsConfig::default()
        })
        .unwrap();
        for _ in 0..100 {
            assert!(off.check(Action::Vote, Some("a".into())).is_ok());
        }
    }

    #[test]
    fn login_backoff_grows() {
        let l = limits("5/hour");
        for _ in 0..FREE_FAILURES - 1 {
            l.login_failed("Alice");
            assert!(l.check_login_backoff("alice").is_ok());
        }
        l.login_failed("alice");
        assert!(l.check_login_backoff("ALICE").is_err());
        l.login_succeeded("alice");
        assert!(l.check_login_backoff("alice").is_ok());
    }
}
