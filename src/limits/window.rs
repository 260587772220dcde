//! The sliding-window counter behind every rate limit, on any [`Cache`].
//!
//! A limit of `N/period` counts events in fixed windows of one period (window `k` covers Unix time
//! `[k × period, (k + 1) × period)`), one cache counter per window and client. An event is allowed
//! while `previous × (1 − elapsed) + current ≤ N`, with `current` counting the event itself and
//! `elapsed` the fraction of the current window gone: the previous window is weighted by the part
//! of it that the period ending now still covers. A burst is at most N; any one period holds at
//! most about 2N in the worst case (N at the end of a window, then the refill), as with governor's
//! token bucket of N. A refused event is taken back, so retrying does not lengthen the wait.

use std::time::Duration;

use crate::cache::Cache;

/// `n` events per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per period (at least 1).
    pub n: u32,
    /// The period (at least 1 ms).
    pub period: Duration,
}

impl Rate {
    /// Parses `N/second|minute|hour|day`.
    pub fn parse(s: &str) -> Result<Rate, String> {
        let (n, per) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("invalid rate `{s}`: use N/minute"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("invalid rate `{s}`"))?;
        if n == 0 {
            return Err(format!("invalid rate `{s}`: N must be at least 1"));
        }
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
        Ok(Rate { n, period })
    }

    fn period_ms(self) -> u64 {
        (self.period.as_millis() as u64).max(1)
    }

    /// The window holding `now_ms` (Unix milliseconds) and the fraction of it gone.
    pub fn window(self, now_ms: u64) -> (u64, f64) {
        let p = self.period_ms();
        (now_ms / p, (now_ms % p) as f64 / p as f64)
    }

    /// Whether the event that brought the current window to `current` is allowed.
    pub fn allows(self, previous: u64, current: u64, elapsed: f64) -> bool {
        previous as f64 * (1.0 - elapsed) + current as f64 <= f64::from(self.n)
    }

    /// How long until one more event is allowed, from the counts without it.
    pub fn wait(self, previous: u64, current: u64, elapsed: f64) -> Duration {
        let (n, prev, cur) = (f64::from(self.n), previous as f64, current as f64);
        // Later in this window, at e: prev × (1 − e) + cur + 1 ≤ n.
        let room = n - cur - 1.0;
        let this_window = if room < 0.0 {
            None
        } else if prev <= 0.0 {
            Some(elapsed)
        } else {
            Some((1.0 - room / prev).max(elapsed)).filter(|e| *e < 1.0)
        };
        let until = match this_window {
            Some(e) => e - elapsed,
            // In the next window, at g: cur × (1 − g) + 1 ≤ n.
            None => {
                let g = if cur > 0.0 {
                    (1.0 - (n - 1.0) / cur).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                1.0 - elapsed + g
            }
        };
        self.period.mul_f64(until.max(0.0))
    }
}

/// Counts one event of `what` by `client` at `now_ms` in `store`: `Ok` when allowed, the wait when
/// not; `None` when the store failed (nothing can be said).
pub fn take(
    store: &Cache,
    what: &str,
    client: &str,
    rate: Rate,
    now_ms: u64,
) -> Option<Result<(), Duration>> {
    let (window, elapsed) = rate.window(now_ms);
    let key = |w: u64| format!("rl:{what}:{w}:{client}");
    let current_key = key(window);
    // Kept while it can still be the previous window.
    let ttl = rate.period * 2 + Duration::from_secs(1);
    let current = store.incr(&current_key, 1, ttl)?;
    let previous = store.counters(&[key(window.saturating_sub(1))])?[0];
    if rate.allows(previous, current, elapsed) {
        return Some(Ok(()));
    }
    store.decr(&current_key, 1);
    Some(Err(rate.wait(previous, current - 1, elapsed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Cache, MemoryBackend};

    const HOUR: Duration = Duration::from_secs(3600);

    fn rate(n: u32, period: Duration) -> Rate {
        Rate { n, period }
    }

    #[test]
    fn rates_parse() {
        assert_eq!(Rate::parse("5/hour"), Ok(rate(5, HOUR)));
        assert_eq!(
            Rate::parse(" 30 / min "),
            Ok(rate(30, Duration::from_secs(60)))
        );
        for bad in ["", "5", "0/minute", "x/minute", "5/fortnight", "-1/hour"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_follow_the_clock() {
        let r = rate(5, Duration::from_secs(60));
        assert_eq!(r.window(0), (0, 0.0));
        assert_eq!(r.window(90_000), (1, 0.5));
        assert_eq!(r.window(120_000), (2, 0.0));
    }

    #[test]
    fn the_previous_window_fades_out() {
        let r = rate(10, HOUR);
        assert!(r.allows(0, 10, 0.0));
        assert!(!r.allows(0, 11, 0.99));
        // 10 in the last window: nothing at its end, half of them still count halfway through.
        assert!(!r.allows(10, 1, 0.0));
        assert!(r.allows(10, 5, 0.5));
        assert!(!r.allows(10, 6, 0.5));
        assert!(r.allows(10, 9, 0.9));
        assert!(!r.allows(10, 10, 0.9));
    }

    #[test]
    fn waits_end_when_an_event_fits() {
        let r = rate(10, HOUR);
        let secs = |d: Duration| d.as_secs_f64().round() as u64;
        // Room left now: no wait.
        assert_eq!(r.wait(0, 3, 0.2), Duration::ZERO);
        // 10 in the previous window, 5 in this one at 0.4: one more fits at 1 − 4/10 = 0.6.
        assert_eq!(secs(r.wait(10, 5, 0.4)), 720);
        // This window full at 0.25: in the next one at 1 − 9/10, i.e. 0.75 + 0.1 periods.
        assert_eq!(secs(r.wait(0, 10, 0.25)), 3060);
        // One per hour, used: the window after next.
        let one = rate(1, HOUR);
        assert_eq!(secs(one.wait(0, 1, 0.5)), 5400);
        assert_eq!(secs(one.wait(1, 0, 0.5)), 1800);
        // The wait is exact: just before it the event is refused, at it allowed.
        for (prev, cur, e) in [(10, 5, 0.4), (7, 9, 0.1), (3, 10, 0.9), (0, 10, 0.0)] {
            let at = e + r.wait(prev, cur, e).as_secs_f64() / 3600.0;
            let (p, c, x) = if at < 1.0 - 1e-6 {
                (prev, cur + 1, at)
            } else {
                (cur, 1, (at - 1.0).max(0.0))
            };
            assert!(r.allows(p, c, x + 1e-9), "{prev} {cur} {e}");
            assert!(!r.allows(p, c, x - 1e-3), "{prev} {cur} {e}");
        }
    }

    #[test]
    fn a_burst_is_at_most_n_and_refusals_are_taken_back() {
        let store = Cache::new(MemoryBackend::new(1 << 20), "t").unwrap();
        let r = rate(3, Duration::from_secs(60));
        // Late in a window and early in the next: still 3 in all.
        let t0 = 1_000 * 60_000 + 59_000;
        let mut allowed = 0;
        for i in 0..10 {
            if take(&store, "vote", "1.2.3.4", r, t0 + i * 200)
                .unwrap()
                .is_ok()
            {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 3);
        assert!(
            take(&store, "vote", "5.6.7.8", r, t0).unwrap().is_ok(),
            "per client"
        );
        assert!(
            take(&store, "ask", "1.2.3.4", r, t0).unwrap().is_ok(),
            "per action"
        );
        // The refused attempts were taken back: the counts are those allowed.
        let now_window = r.window(t0 + 9 * 200).0;
        let counts = store
            .counters(&[
                format!("rl:vote:{}:1.2.3.4", now_window - 1),
                format!("rl:vote:{now_window}:1.2.3.4"),
            ])
            .unwrap();
        assert_eq!(counts.iter().sum::<u64>(), 3, "{counts:?}");
        // Two periods later everything fits again.
        assert!(
            take(&store, "vote", "1.2.3.4", r, t0 + 120_000)
                .unwrap()
                .is_ok()
        );
    }
}
