//! A per-server circuit breaker.
//!
//! Closed: calls go through; `threshold` consecutive failures open it. Open: calls are refused
//! without any I/O until `cooldown` has passed. Then half-open: exactly one trial call goes
//! through (the others are still refused); its success closes the breaker, its failure opens it
//! for another cooldown. A trial whose outcome is never reported (its thread panicked) is
//! replaced by a new one after another cooldown.
//!
//! Every method takes the current time, so tests drive the state machine with made-up instants.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub threshold: u32,
    /// How long an open breaker refuses calls before it lets a trial through.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 3,
            cooldown: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_started: Instant },
}

/// What the breaker says about a call about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Go ahead (closed).
    Allowed,
    /// Go ahead: this call is the half-open trial.
    Trial,
    /// Do not call the server.
    Refused,
}

/// What a reported outcome changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Opened,
    Closed,
}

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config: BreakerConfig {
                threshold: config.threshold.max(1),
                ..config
            },
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Asks whether a call may go to the server now.
    pub fn permit(&self, now: Instant) -> Permit {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            State::Closed { .. } => Permit::Allowed,
            State::Open { until } if now < until => Permit::Refused,
            State::HalfOpen { trial_started }
                if now.saturating_duration_since(trial_started) < self.config.cooldown =>
            {
                Permit::Refused
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { trial_started: now };
                Permit::Trial
            }
        }
    }

    /// Reports a call that got an answer from the server.
    pub fn success(&self) -> Transition {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let was_closed = matches!(*state, State::Closed { .. });
        *state = State::Closed { failures: 0 };
        if was_closed {
            Transition::None
        } else {
            Transition::Closed
        }
    }

    /// Reports a call that failed or timed out.
    pub fn failure(&self, now: Instant) -> Transition {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let open = State::Open {
            until: now + self.config.cooldown,
        };
        match *state {
            State::Closed { failures } if failures + 1 < self.config.threshold => {
                *state = State::Closed {
                    failures: failures + 1,
                };
                Transition::None
            }
            State::Closed { .. } | State::HalfOpen { .. } => {
                *state = open;
                Transition::Opened
            }
            // A call let through before the breaker opened failed late: already open.
            State::Open { .. } => Transition::None,
        }
    }

    /// Whether calls are being refused (open, or half-open with its trial running).
    pub fn is_open(&self) -> bool {
        !matches!(
            *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            State::Closed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(2);

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            threshold: 3,
            cooldown: COOLDOWN,
        })
    }

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let b = breaker();
        let t0 = Instant::now();
        assert_eq!(b.permit(t0), Permit::Allowed);
        assert_eq!(b.failure(t0), Transition::None);
        assert_eq!(b.failure(t0), Transition::None);
        assert!(!b.is_open());
        assert_eq!(b.failure(t0), Transition::Opened);
        assert!(b.is_open());
        assert_eq!(b.permit(t0), Permit::Refused);
        assert_eq!(
            b.permit(t0 + COOLDOWN - Duration::from_millis(1)),
            Permit::Refused
        );
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let b = breaker();
        let t0 = Instant::now();
        b.failure(t0);
        b.failure(t0);
        assert_eq!(b.success(), Transition::None);
        assert_eq!(b.failure(t0), Transition::None);
        assert_eq!(b.failure(t0), Transition::None);
        assert_eq!(b.permit(t0), Permit::Allowed);
    }

    #[test]
    fn half_open_lets_exactly_one_trial_through_and_success_closes() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.failure(t0);
        }
        let later = t0 + COOLDOWN;
        assert_eq!(b.permit(later), Permit::Trial);
        assert_eq!(b.permit(later), Permit::Refused, "only one trial at a time");
        assert_eq!(b.success(), Transition::Closed);
        assert!(!b.is_open());
        assert_eq!(b.permit(later), Permit::Allowed);
    }

    #[test]
    fn a_failed_trial_reopens_for_a_full_cooldown() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.failure(t0);
        }
        let t1 = t0 + COOLDOWN;
        assert_eq!(b.permit(t1), Permit::Trial);
        assert_eq!(b.failure(t1), Transition::Opened);
        assert_eq!(b.permit(t1 + COOLDOWN / 2), Permit::Refused);
        assert_eq!(b.permit(t1 + COOLDOWN), Permit::Trial);
    }

    #[test]
    fn a_lost_trial_is_replaced_after_a_cooldown() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.failure(t0);
        }
        assert_eq!(b.permit(t0 + COOLDOWN), Permit::Trial);
        // The trial's thread never reports back.
        assert_eq!(b.permit(t0 + COOLDOWN * 3 / 2), Permit::Refused);
        assert_eq!(b.permit(t0 + COOLDOWN * 2), Permit::Trial);
    }

    #[test]
    fn late_failures_while_open_do_not_extend_it() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.failure(t0);
        }
        assert_eq!(b.failure(t0 + COOLDOWN / 2), Transition::None);
        assert_eq!(b.permit(t0 + COOLDOWN), Permit::Trial);
    }
}
