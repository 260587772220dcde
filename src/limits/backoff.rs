//! The login back-off, on any [`Cache`]: after [`FREE_FAILURES`] failed logins under one key,
//! each further failure makes that key wait twice as long (1 s, 2 s, 4 s, ... at most
//! [`MAX_BACKOFF`]) before the next attempt is even checked. A success clears the keys it used;
//! failures are forgotten [`FAILURE_MEMORY`] after the last one.
//!
//! The keys ([`LoginKeys`]): the account (`u:<id>`) when the typed login found one, so every
//! spelling that reaches it (`alice`, `ALICE`, `alice@example.com`, `ａｌｉｃｅ`, `àlice` through
//! MySQL's collation) shares one count; and always the folded text (`n:<login_fold>`), so that an
//! unknown login backs off under as many spellings as a known one and the back-off tells nobody
//! whether an account exists.

use std::time::Duration;

use crate::cache::Cache;
use crate::domain::login_fold;

/// Failed logins allowed under one key before the back-off starts.
pub const FREE_FAILURES: u64 = 5;
/// Longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// How long failures are remembered after the last one.
pub const FAILURE_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// What a login attempt's failures are counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginKeys(Vec<String>);

impl LoginKeys {
    /// The keys of a login typed as `typed` that found the account `account` (`None`: unknown).
    pub fn new(account: Option<i64>, typed: &str) -> LoginKeys {
        let folded: String = login_fold(typed).chars().take(256).collect();
        let mut keys: Vec<String> = account.map(|id| format!("u:{id}")).into_iter().collect();
        keys.push(format!("n:{folded}"));
        LoginKeys(keys)
    }

    /// The key of the second step of account `account`'s logins (wrong two-factor codes).
    pub fn second_factor(account: i64) -> LoginKeys {
        LoginKeys(vec![format!("2fa:{account}")])
    }

    fn cache_keys(&self, what: &str) -> Vec<String> {
        self.0.iter().map(|k| format!("lb:{what}:{k}")).collect()
    }
}

/// The wait after the `failures`-th failure.
pub fn backoff(failures: u64) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(16) as u32;
    Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF)
}

/// Until when (Unix ms) `keys` wait; 0 when they do not. `None` when the store failed.
pub fn waits_until(store: &Cache, keys: &LoginKeys) -> Option<u64> {
    let until = store.counters(&keys.cache_keys("until"))?;
    Some(until.into_iter().max().unwrap_or(0))
}

/// Records a failed login at `now_ms`; `None` when the store failed.
pub fn failed(store: &Cache, keys: &LoginKeys, now_ms: u64) -> Option<()> {
    for (count, until) in keys.cache_keys("fail").iter().zip(keys.cache_keys("until")) {
        let failures = store.incr(count, 1, FAILURE_MEMORY)?;
        let wait = backoff(failures);
        if !wait.is_zero() {
            let until_ms = now_ms + wait.as_millis() as u64;
            store.set_counter(&until, until_ms, wait + Duration::from_secs(1))?;
        }
    }
    Some(())
}

/// Forgets the failures of `keys` (a successful login).
pub fn cleared(store: &Cache, keys: &LoginKeys) {
    store.delete_many(&keys.cache_keys("fail"));
    store.delete_many(&keys.cache_keys("until"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Cache, MemoryBackend};

    #[test]
    fn keys_name_the_account_and_the_folded_text() {
        assert_eq!(
            LoginKeys::new(Some(7), " ＡＬＩＣＥ "),
            LoginKeys(vec!["u:7".into(), "n:alice".into()])
        );
        assert_eq!(
            LoginKeys::new(None, "Àlice"),
            LoginKeys(vec!["n:alice".into()])
        );
        let long = LoginKeys::new(None, &"x".repeat(1000));
        assert_eq!(long.0[0].len(), 2 + 256);
    }

    #[test]
    fn the_wait_doubles_after_the_free_failures() {
        let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [0, 0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(backoff(100), MAX_BACKOFF);
    }

    #[test]
    fn failures_under_any_key_make_all_of_them_wait() {
        let store = Cache::new(MemoryBackend::new(1 << 20), "t").unwrap();
        let now = 1_000_000;
        let by_name = LoginKeys::new(Some(7), "alice");
        let by_mail = LoginKeys::new(Some(7), "alice@example.com");
        for _ in 0..FREE_FAILURES - 1 {
            failed(&store, &by_name, now).unwrap();
        }
        assert_eq!(waits_until(&store, &by_mail), Some(0));
        failed(&store, &by_mail, now).unwrap();
        assert_eq!(
            waits_until(&store, &by_name),
            Some(now + 1000),
            "one account"
        );
        assert_eq!(
            waits_until(&store, &LoginKeys::new(None, "ALICE")),
            Some(0),
            "the text key counted only the failures typed that way"
        );
        failed(&store, &by_name, now).unwrap();
        assert_eq!(waits_until(&store, &by_mail), Some(now + 2000));
        cleared(&store, &by_mail);
        assert_eq!(
            waits_until(&store, &by_name),
            Some(now + 1000),
            "the text `alice` still waits (its own 5 failures)"
        );
        cleared(&store, &by_name);
        assert_eq!(waits_until(&store, &by_mail), Some(0));
    }
}
