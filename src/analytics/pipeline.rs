//! The non-blocking queue and the batching task: `emit` never waits; a background task groups
//! events into batches and hands each batch to every sink, each sink running in its own task.
//!
//! `emit` only appends to a buffer under a short lock: the batching task is woken when a batch
//! is full or a flush is asked for, and otherwise takes the buffer on its tick (`flush_every`),
//! so a request that emits an event wakes no other task or thread.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use super::event::{Event, EventName};

/// Events handed to the sinks together; `id` makes applying it idempotent.
#[derive(Debug, Clone)]
pub struct Batch {
    /// A unique id (UUIDv7).
    pub id: uuid::Uuid,
    /// The events, in the order they were emitted.
    pub events: Vec<Event>,
}

impl Batch {
    /// A new batch of `events` with a fresh id.
    pub fn new(events: Vec<Event>) -> Batch {
        Batch {
            id: uuid::Uuid::now_v7(),
            events,
        }
    }
}

/// A destination of batches. Each sink runs in its own task, so a slow one never holds up the
/// queue or the other sinks.
#[rocket::async_trait]
pub trait Sink: Send + 'static {
    /// For logs.
    fn name(&self) -> &'static str;
    /// Takes one batch (may keep it to deliver later).
    async fn accept(&mut self, batch: Arc<Batch>);
    /// Called every [`Sink::tick_every`]: retries, hourly files.
    async fn tick(&mut self) {}
    /// How often [`Sink::tick`] runs.
    fn tick_every(&self) -> Duration {
        Duration::from_secs(1)
    }
    /// Delivers whatever it holds now (one attempt each; shutdown bounds the wait).
    async fn flush(&mut self) {}
}

/// Batches waiting for one sink; beyond this its batches are dropped (and counted).
const SINK_QUEUE: usize = 64;

/// Most events in one batch.
pub const BATCH_MAX: usize = 500;

enum SinkMsg {
    Batch(Arc<Batch>),
    Flush(oneshot::Sender<()>),
}

/// The shared analytics handle (managed state; cheap to clone).
#[derive(Clone)]
pub struct Analytics {
    inner: Arc<Inner>,
}

struct Inner {
    /// Events emitted and not yet taken by the batching task (at most `capacity`).
    buffer: Mutex<Vec<Event>>,
    /// Wakes the batching task: a full batch is waiting.
    full: Notify,
    capacity: usize,
    control: mpsc::UnboundedSender<oneshot::Sender<()>>,
    idle: Mutex<Option<Idle>>,
    flush_every: Duration,
    dropped: Arc<Drops>,
}

/// What `start` needs, kept until then.
struct Idle {
    control: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    sinks: Vec<Box<dyn Sink>>,
}

/// Counts dropped events (a metric, a counter for tests, a rate-limited warning).
#[derive(Default)]
pub struct Drops {
    total: AtomicU64,
    last_warn_secs: AtomicI64,
}

impl Drops {
    /// Counts `n` dropped events, warning at most every 10 s.
    pub fn add(&self, n: u64, why: &str) {
        if n == 0 {
            return;
        }
        self.total.fetch_add(n, Ordering::Relaxed);
        metrics::counter!("beebeta_events_dropped_total").increment(n);
        let now = chrono::Utc::now().timestamp();
        let last = self.last_warn_secs.load(Ordering::Relaxed);
        if now - last >= 10
            && self
                .last_warn_secs
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                dropped = n,
                total = self.total.load(Ordering::Relaxed),
                why,
                "analytics events dropped"
            );
        }
    }

    /// Events dropped so far.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

impl Analytics {
    /// A pipeline with a queue of `capacity` events, flushed every `flush_every`, feeding `sinks`.
    /// Nothing runs until [`Analytics::start`] (called at liftoff).
    pub fn new(capacity: usize, flush_every: Duration, sinks: Vec<Box<dyn Sink>>) -> Analytics {
        Analytics::with_drops(capacity, flush_every, sinks, Arc::new(Drops::default()))
    }

    /// [`Analytics::new`] counting drops in `dropped` (shared with its sinks).
    pub fn with_drops(
        capacity: usize,
        flush_every: Duration,
        sinks: Vec<Box<dyn Sink>>,
        dropped: Arc<Drops>,
    ) -> Analytics {
        let capacity = capacity.max(1);
        let (ctx, crx) = mpsc::unbounded_channel();
        Analytics {
            inner: Arc::new(Inner {
                buffer: Mutex::new(Vec::new()),
                full: Notify::new(),
                capacity,
                control: ctx,
                idle: Mutex::new(Some(Idle {
                    control: crx,
                    sinks,
                })),
                flush_every: flush_every.max(Duration::from_millis(10)),
                dropped,
            }),
        }
    }

    /// The drop counter, shared with the sinks.
    pub fn drops(&self) -> Arc<Drops> {
        Arc::clone(&self.inner.dropped)
    }

    /// Events dropped so far (queue full, a sink's queue full, a sink giving up).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.total()
    }

    /// Queues an event; never waits or fails (a full queue drops it, counted).
    pub fn emit(&self, mut event: Event) {
        event.ensure_distinct_id();
        match event.name {
            EventName::VoteCast => {
                metrics::counter!("beebeta_votes_total", "kind" => "cast").increment(1)
            }
            EventName::VoteChanged => {
                metrics::counter!("beebeta_votes_total", "kind" => "changed").increment(1)
            }
            EventName::VoteWithdrawn => {
                metrics::counter!("beebeta_votes_total", "kind" => "withdrawn").increment(1)
            }
            _ => {}
        }
        let queued = {
            let mut buffer = self.inner.buffer.lock().unwrap_or_else(|p| p.into_inner());
            if buffer.len() >= self.inner.capacity {
                None
            } else {
                buffer.push(event);
                Some(buffer.len())
            }
        };
        match queued {
            None => self.inner.dropped.add(1, "queue full"),
            Some(n) if n % BATCH_MAX == 0 => self.inner.full.notify_one(),
            Some(_) => {}
        }
    }

    /// Takes every buffered event.
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.inner.buffer.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn report_depth(&self) {
        let depth = self
            .inner
            .buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        metrics::gauge!("beebeta_event_queue_depth").set(depth as f64);
    }

    /// Starts the batching task and one task per sink (once; later calls do nothing).
    pub fn start(&self) {
        let Some(idle) = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return;
        };
        let workers: Vec<mpsc::Sender<SinkMsg>> = idle.sinks.into_iter().map(spawn_sink).collect();
        let me = self.clone();
        tokio::spawn(me.collect(idle.control, workers));
    }

    /// Sends everything queued so far to the sinks and waits until each has delivered it (one
    /// attempt each). For tests and shutdown.
    pub async fn flush(&self) {
        self.start();
        let (tx, rx) = oneshot::channel();
        if self.inner.control.send(tx).is_ok() {
            let _ = rx.await;
        }
    }

    /// [`Analytics::flush`], waiting at most `limit` (graceful shutdown).
    pub async fn shutdown(&self, limit: Duration) {
        if tokio::time::timeout(limit, self.flush()).await.is_err() {
            tracing::warn!("analytics: shutdown flush timed out; undelivered events are lost");
        }
    }

    async fn collect(
        self,
        mut control: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
        workers: Vec<mpsc::Sender<SinkMsg>>,
    ) {
        let mut tick = tokio::time::interval(self.inner.flush_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                Some(ack) = control.recv() => {
                    self.dispatch(self.take(), &workers);
                    self.report_depth();
                    // Waiting for the sinks happens aside, so the buffer keeps being read.
                    let workers = workers.clone();
                    tokio::spawn(async move {
                        let mut acks = Vec::new();
                        for w in &workers {
                            let (tx, rx) = oneshot::channel();
                            if w.send(SinkMsg::Flush(tx)).await.is_ok() {
                                acks.push(rx);
                            }
                        }
                        for a in acks {
                            let _ = a.await;
                        }
                        let _ = ack.send(());
                    });
                }
                () = self.inner.full.notified() => self.dispatch(self.take(), &workers),
                _ = tick.tick() => {
                    self.dispatch(self.take(), &workers);
                    self.report_depth();
                }
            }
        }
    }

    /// Hands `events` to every sink, in batches of at most [`BATCH_MAX`], in order.
    fn dispatch(&self, mut events: Vec<Event>, workers: &[mpsc::Sender<SinkMsg>]) {
        while !events.is_empty() {
            let rest = events.split_off(events.len().min(BATCH_MAX));
            let batch = Arc::new(Batch::new(std::mem::replace(&mut events, rest)));
            for w in workers {
                if w.try_send(SinkMsg::Batch(Arc::clone(&batch))).is_err() {
                    self.inner
                        .dropped
                        .add(batch.events.len() as u64, "a sink is behind");
                }
            }
        }
    }
}

fn spawn_sink(mut sink: Box<dyn Sink>) -> mpsc::Sender<SinkMsg> {
    let (tx, mut rx) = mpsc::channel::<SinkMsg>(SINK_QUEUE);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sink.tick_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(SinkMsg::Batch(b)) => sink.accept(b).await,
                    Some(SinkMsg::Flush(ack)) => {
                        sink.flush().await;
                        let _ = ack.send(());
                    }
                    None => {
                        sink.flush().await;
                        break;
                    }
                },
                _ = tick.tick() => sink.tick().await,
            }
        }
        tracing::debug!(sink = sink.name(), "analytics sink stopped");
    });
    tx
}
