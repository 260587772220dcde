//! [`LiveStreams`]: the live-results streams open on this server, at most `live_max_streams` in
//! all (503 beyond) and `live_streams_per_client` per client address (429 beyond), so that one
//! client cannot hold every slot. Both count streams on this server only: a slot is this server's
//! resource, and a stream's end (a closed tab, a dropped connection) frees it at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::AppError;

/// Open live streams on this server, and the most allowed.
#[derive(Debug)]
pub struct LiveStreams {
    open: AtomicUsize,
    max: usize,
    per_client: usize,
    clients: Mutex<HashMap<String, usize>>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefusal {
    /// Every slot of this server is taken (503).
    ServerFull,
    /// This client holds as many as it may (429).
    ClientFull,
}

impl From<StreamRefusal> for AppError {
    fn from(refusal: StreamRefusal) -> AppError {
        match refusal {
            StreamRefusal::ServerFull => {
                AppError::Unavailable("live stream limit reached on this server".into())
            }
            StreamRefusal::ClientFull => AppError::TooManyRequests {
                message: "Too many live result streams open from your address. Close a page \
                          showing live results and try again."
                    .into(),
                retry_after_secs: 30,
            },
        }
    }
}

impl LiveStreams {
    /// At most `max` streams at once, and `per_client` for one client (0: no per-client cap).
    pub fn new(max: usize, per_client: usize) -> Arc<LiveStreams> {
        Arc::new(LiveStreams {
            open: AtomicUsize::new(0),
            max,
            per_client,
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A place for one more stream of `client` (its rate-limit key; `None`: unknown, only the
    /// server-wide cap applies).
    pub fn acquire(self: &Arc<Self>, client: Option<String>) -> Result<StreamSlot, StreamRefusal> {
        let client = client.filter(|_| self.per_client > 0);
        if let Some(key) = &client {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            let held = clients.entry(key.clone()).or_insert(0);
            if *held >= self.per_client {
                return Err(StreamRefusal::ClientFull);
            }
            *held += 1;
        }
        // From here the slot exists: dropping it gives back what it took.
        let mut slot = StreamSlot {
            streams: Arc::clone(self),
            client,
            counted: false,
        };
        let took = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        if !took {
            return Err(StreamRefusal::ServerFull);
        }
        slot.counted = true;
        Ok(slot)
    }
}

/// One open stream; gives its places back when the stream ends.
pub struct StreamSlot {
    streams: Arc<LiveStreams>,
    client: Option<String>,
    counted: bool,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if self.counted {
            self.streams.open.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some(key) = self.client.take() {
            let mut clients = self
                .streams
                .clients
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(held) = clients.get_mut(&key) {
                *held -= 1;
                if *held == 0 {
                    clients.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_share_and_the_server_its_cap() {
        let streams = LiveStreams::new(3, 2);
        let a1 = streams.acquire(Some("a".into())).unwrap();
        let _a2 = streams.acquire(Some("a".into())).unwrap();
        assert_eq!(
            streams.acquire(Some("a".into())).err(),
            Some(StreamRefusal::ClientFull)
        );
        let _b1 = streams.acquire(Some("b".into())).unwrap();
        assert_eq!(
            streams.acquire(Some("b".into())).err(),
            Some(StreamRefusal::ServerFull)
        );
        assert_eq!(streams.open(), 3);
        assert_eq!(
            streams.clients.lock().unwrap().get("b"),
            Some(&1),
            "a refused stream gives back its client place"
        );
        drop(a1);
        assert_eq!(streams.open(), 2);
        let _a3 = streams.acquire(Some("a".into())).unwrap();
        assert!(streams.acquire(None).is_err(), "the server is full again");
    }

    #[test]
    fn unknown_clients_and_no_cap_only_meet_the_server_cap() {
        let streams = LiveStreams::new(10, 0);
        let slots: Vec<_> = (0..10)
            .map(|_| streams.acquire(Some("a".into())).unwrap())
            .collect();
        assert!(streams.clients.lock().unwrap().is_empty());
        drop(slots);
        let capped = LiveStreams::new(10, 1);
        let _one = capped.acquire(None).unwrap();
        let _two = capped.acquire(None).unwrap();
        assert_eq!(capped.open(), 2);
    }
}
