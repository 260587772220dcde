//! [`LiveStreams`]: the live-results streams open on this server, at most `live_max_streams`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
