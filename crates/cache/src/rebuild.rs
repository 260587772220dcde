//! `get_or_rebuild`: one rebuild per key at a time, stale values served meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Cache;
use super::stats::Counters;

/// How long a rebuild lease lives if its holder never releases it.
pub const LEASE_TTL: Duration = Duration::from_secs(3);
/// How long threads of this process wait for the thread rebuilding the same key.
const FOLLOWER_WAIT: Duration = LEASE_TTL;
/// A process that lost the lease on a missing key polls this often...
const LOSER_POLL_INTERVAL: Duration = Duration::from_millis(25);
/// ...this many times (100 ms in all), then rebuilds itself.
const LOSER_POLLS: u32 = 4;

/// What `get_or_rebuild` stores: the value and until when it is fresh.
#[derive(Serialize)]
struct EnvelopeRef<'a, T> {
    fresh_until_ms: u64,
    value: &'a T,
}

#[derive(Deserialize)]
struct Envelope<T> {
    fresh_until_ms: u64,
    value: T,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

struct Found<T> {
    value: T,
    fresh_until_ms: u64,
    /// When it was read.
    now_ms: u64,
    bytes: Arc<Vec<u8>>,
}

impl<T> Found<T> {
    fn fresh(&self) -> bool {
        self.fresh_until_ms > self.now_ms
    }

    /// How long it has been stale (zero while fresh).
    fn stale_for(&self) -> Duration {
        Duration::from_millis(self.now_ms.saturating_sub(self.fresh_until_ms))
    }

    /// When it was built (unix ms), given how long it was fresh for.
    fn built_ms(&self, fresh_for: Duration) -> u64 {
        self.fresh_until_ms
            .saturating_sub(fresh_for.as_millis() as u64)
    }
}

/// How long [`Cache::get_or_rebuild_saved`] uses a value: fresh, stale (served while one caller
/// rebuilds), saved (served only when the rebuild fails).
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    /// Served as is.
    pub fresh_for: Duration,
    /// Past that, served while one caller rebuilds it.
    pub stale_for: Duration,
    /// Past freshness, served when the rebuild fails (stale-if-error).
    pub saved_for: Duration,
}

/// A value from [`Cache::get_or_rebuild_saved`].
#[derive(Debug, Clone)]
pub struct Served<T> {
    /// The value.
    pub value: T,
    /// `Some(unix ms it was built)` when the rebuild failed and this is a saved value.
    pub saved: Option<u64>,
    /// `Some(unix ms it was built)` when this is a stale value served while another caller
    /// rebuilds it. The caller may know more (its database is down, so that rebuild will fail
    /// too) and then treat it as saved.
    pub stale: Option<u64>,
}

impl<T> Served<T> {
    fn fresh(value: T) -> Served<T> {
        Served {
            value,
            saved: None,
            stale: None,
        }
    }

    fn stale(value: T, built_ms: u64) -> Served<T> {
        Served {
            value,
            saved: None,
            stale: Some(built_ms),
        }
    }
}

enum FlightState {
    Running,
    /// The envelope the leader stored (or found), for its followers to decode.
    Done(Arc<Vec<u8>>),
    /// The leader's rebuild failed or panicked; followers rebuild themselves.
    Failed,
}

struct Flight {
    state: Mutex<FlightState>,
    done: Condvar,
}

/// The keys being rebuilt by a thread of this process.
#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<String, Arc<Flight>>>,
}

enum Joined<'a> {
    Leader(LeaderGuard<'a>),
    Follower(Arc<Flight>),
}

/// Held by the thread rebuilding a key; on drop, wakes the followers (with `Failed` if the
/// result was never published) and forgets the flight.
struct LeaderGuard<'a> {
    flights: &'a Flights,
    key: String,
    flight: Arc<Flight>,
}

impl Flights {
    fn join(&self, key: &str) -> Joined<'_> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = map.get(key) {
            return Joined::Follower(flight.clone());
        }
        let flight = Arc::new(Flight {
            state: Mutex::new(FlightState::Running),
            done: Condvar::new(),
        });
        map.insert(key.to_owned(), flight.clone());
        Joined::Leader(LeaderGuard {
            flights: self,
            key: key.to_owned(),
            flight,
        })
    }
}

impl LeaderGuard<'_> {
    fn publish(&self, bytes: Arc<Vec<u8>>) {
        *self.flight.state.lock().unwrap_or_else(|e| e.into_inner()) = FlightState::Done(bytes);
        self.flight.done.notify_all();
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        {
            let mut state = self.flight.state.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(*state, FlightState::Running) {
                *state = FlightState::Failed;
            }
        }
        self.flight.done.notify_all();
        let mut map = self.flights.map.lock().unwrap_or_else(|e| e.into_inner());
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
    }
}

impl Flight {
    /// The leader's envelope, or `None` if it failed or took longer than `timeout`.
    fn wait(&self, timeout: Duration) -> Option<Arc<Vec<u8>>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (state, _) = self
            .done
            .wait_timeout_while(state, timeout, |s| matches!(s, FlightState::Running))
            .unwrap_or_else(|e| e.into_inner());
        match &*state {
            FlightState::Done(bytes) => Some(bytes.clone()),
            FlightState::Running | FlightState::Failed => None,
        }
    }
}

impl Cache {
    /// The value under `key`, rebuilt by `rebuild` when missing or older than `fresh_for`.
    ///
    /// - Fresh value: returned.
    /// - Stale value (older than `fresh_for`, younger than `fresh_for + keep_stale_for`): one
    ///   caller, the one that wins the `lease:<key>` entry (memcached `add`, 3 s), rebuilds and
    ///   stores; every other caller gets the stale value at once.
    /// - No value: the lease winner rebuilds; the other processes poll for its result for up to
    ///   100 ms and then rebuild themselves rather than wait longer.
    /// - Within one process, concurrent callers for the same key share one rebuild whatever
    ///   the backend, and get its result.
    /// - A failing cache never fails the call: `rebuild` runs and its result is returned.
    ///
    /// `rebuild`'s error is returned as is and nothing is stored; the other threads of the
    /// process that waited for it then run their own `rebuild`. Invalidate with
    /// [`Cache::delete`] after the commit. Do not mix with `get_json`/`set_json` on the same
    /// key: the stored form is `{"fresh_until_ms": <unix ms>, "value": <T as JSON>}`.
    pub fn get_or_rebuild<T, E>(
        &self,
        key: &str,
        fresh_for: Duration,
        keep_stale_for: Duration,
        rebuild: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
    {
        let keep = Keep {
            fresh_for,
            stale_for: keep_stale_for,
            saved_for: Duration::ZERO,
        };
        self.get_or_rebuild_saved(key, keep, rebuild, |_| false)
            .map(|served| served.value)
    }

    /// [`Cache::get_or_rebuild`], and when `rebuild` fails with an error `use_saved` accepts (the
    /// database is down), the last value stored under `key` if it is at most `keep.saved_for`
    /// past its freshness (whatever `keep.stale_for`): stale-if-error. Values are kept that long
    /// for it; they are never served for any other reason once older than `keep.stale_for`.
    /// [`Served::saved`] says when a saved value was built.
    pub fn get_or_rebuild_saved<T, E>(
        &self,
        key: &str,
        keep: Keep,
        rebuild: impl FnOnce() -> Result<T, E>,
        use_saved: impl FnOnce(&E) -> bool,
    ) -> Result<Served<T>, E>
    where
        T: Serialize + DeserializeOwned,
    {
        let Keep {
            fresh_for,
            stale_for,
            saved_for,
        } = keep;
        let full = self.full_key(key);
        // What was found: fresh (returned), stale within `stale_for` (served while one caller
        // rebuilds), or older (kept only for a failing rebuild).
        let (stale, saved) = match self.lookup::<T>(&full) {
            Some(found) if found.fresh() => {
                self.count_lookups(1, 0);
                return Ok(Served::fresh(found.value));
            }
            Some(found) if found.stale_for() <= stale_for => {
                self.count_lookups(1, 0);
                (Some(found), None)
            }
            Some(found) => {
                self.count_lookups(0, 1);
                (None, (found.stale_for() <= saved_for).then_some(found))
            }
            None => {
                self.count_lookups(0, 1);
                (None, None)
            }
        };
        let ttl = fresh_for + stale_for.max(saved_for);
        // Called with the rebuild's error: the saved (or stale) value if the error allows it.
        let fallback =
            |error: E, stale: Option<Found<T>>, saved: Option<Found<T>>| match stale.or(saved) {
                Some(found) if found.stale_for() <= saved_for && use_saved(&error) => {
                    Counters::add(&self.inner.counters.stale_served, 1);
                    Ok(Served {
                        saved: Some(found.built_ms(fresh_for)),
                        value: found.value,
                        stale: None,
                    })
                }
                _ => Err(error),
            };
        let leader = match self.inner.flights.join(&full) {
            Joined::Leader(guard) => guard,
            Joined::Follower(flight) => {
                if let Some(stale) = stale {
                    return Ok(self.serve_stale(stale, fresh_for));
                }
                if let Some(value) = flight
                    .wait(FOLLOWER_WAIT)
                    .and_then(|bytes| self.decode_envelope::<T>(&bytes))
                    .filter(|found| found.stale_for() <= stale_for)
                {
                    return Ok(match value.fresh() {
                        true => Served::fresh(value.value),
                        false => self.serve_stale(value, fresh_for),
                    });
                }
                return match self.rebuild_and_store(&full, fresh_for, ttl, rebuild, None) {
                    Ok(value) => Ok(Served::fresh(value)),
                    Err(error) => fallback(error, None, saved),
                };
            }
        };

        // Another thread may have finished a rebuild between our lookup and join.
        if let Some(found) = self.lookup::<T>(&full).filter(|f| f.fresh()) {
            leader.publish(found.bytes);
            return Ok(Served::fresh(found.value));
        }
        let lease = self.full_key(&format!("lease:{key}"));
        let won = match self.inner.backend.add(&lease, b"1", LEASE_TTL) {
            Ok(won) => won,
            Err(error) => {
                self.report(&error);
                true // the cache is failing: rebuild, as if there were no cache
            }
        };
        if won {
            let result = self.rebuild_and_store(&full, fresh_for, ttl, rebuild, Some(&leader));
            if let Err(error) = self.inner.backend.delete(&lease) {
                self.report(&error);
            }
            return match result {
                Ok(value) => Ok(Served::fresh(value)),
                Err(error) => fallback(error, stale, saved),
            };
        }
        if let Some(stale) = stale {
            leader.publish(stale.bytes.clone());
            return Ok(self.serve_stale(stale, fresh_for));
        }
        for _ in 0..LOSER_POLLS {
            thread::sleep(LOSER_POLL_INTERVAL);
            if let Some(found) = self
                .lookup::<T>(&full)
                .filter(|found| found.stale_for() <= stale_for)
            {
                leader.publish(found.bytes.clone());
                return Ok(match found.fresh() {
                    true => Served::fresh(found.value),
                    false => self.serve_stale(found, fresh_for),
                });
            }
        }
        match self.rebuild_and_store(&full, fresh_for, ttl, rebuild, Some(&leader)) {
            Ok(value) => Ok(Served::fresh(value)),
            Err(error) => fallback(error, None, saved),
        }
    }

    fn serve_stale<T>(&self, found: Found<T>, fresh_for: Duration) -> Served<T> {
        Counters::add(&self.inner.counters.stale_served, 1);
        let built_ms = found.built_ms(fresh_for);
        Served::stale(found.value, built_ms)
    }

    fn rebuild_and_store<T: Serialize, E>(
        &self,
        full: &str,
        fresh_for: Duration,
        ttl: Duration,
        rebuild: impl FnOnce() -> Result<T, E>,
        leader: Option<&LeaderGuard<'_>>,
    ) -> Result<T, E> {
        Counters::add(&self.inner.counters.rebuilds, 1);
        let value = rebuild()?;
        let envelope = EnvelopeRef {
            fresh_until_ms: now_ms().saturating_add(fresh_for.as_millis() as u64),
            value: &value,
        };
        match serde_json::to_vec(&envelope) {
            Ok(bytes) => {
                self.set_raw(full, &bytes, ttl);
                if let Some(leader) = leader {
                    leader.publish(Arc::new(bytes));
                }
            }
            Err(error) => self.report_other("encode", full, &error),
        }
        Ok(value)
    }

    /// Reads and decodes an envelope; counts errors only.
    /// The fresh value under `key` (as stored by [`Cache::get_or_rebuild`]) if it can be read
    /// without I/O — from the near cache, or an in-process backend — so an async handler can
    /// skip the hop to a blocking thread; `None` otherwise (then use `get_or_rebuild` there).
    pub fn peek_fresh<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let full = self.full_key(key);
        let bytes = self.get_local_raw(&full)?;
        let found = self.decode_envelope::<T>(&Arc::new(bytes))?;
        if !found.fresh() {
            return None;
        }
        self.count_lookups(1, 0);
        Some(found.value)
    }

    fn lookup<T: DeserializeOwned>(&self, full: &str) -> Option<Found<T>> {
        let bytes = self.get_raw(full)?;
        self.decode_envelope(&Arc::new(bytes))
    }

    fn decode_envelope<T: DeserializeOwned>(&self, bytes: &Arc<Vec<u8>>) -> Option<Found<T>> {
        match serde_json::from_slice::<Envelope<T>>(bytes) {
            Ok(envelope) => Some(Found {
                fresh_until_ms: envelope.fresh_until_ms,
                now_ms: now_ms(),
                value: envelope.value,
                bytes: bytes.clone(),
            }),
            Err(error) => {
                self.report_other("decode", "envelope", &error);
                None
            }
        }
    }
}
