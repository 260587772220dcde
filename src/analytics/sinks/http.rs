//! The HTTP sink: POSTs batches as JSON arrays in Mixpanel's import format
//! (`[{"event": NAME, "properties": {"time", "distinct_id", "$insert_id", "token", ...}}]`),
//! retrying with exponential back-off, keeping at most `max_batches` undelivered batches.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::analytics::pipeline::{Batch, Drops, Sink};
use crate::config::Secret;

/// First wait after a failure; doubled after each further failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between attempts (pending events are sent at least this often).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Delivers batches to an HTTP endpoint.
pub struct HttpSink {
    client: reqwest::Client,
    url: String,
    token: Secret,
    max_batches: usize,
    pending: VecDeque<(usize, Vec<u8>)>,
    backoff: Duration,
    next_attempt: Instant,
    drops: Arc<Drops>,
}

/// The outcome of one POST.
enum Sent {
    Delivered,
    /// The receiver refused the batch itself (4xx other than 408/429): retrying cannot help.
    Rejected(u16),
    Failed(String),
}

impl HttpSink {
    /// A sink posting to `url` with `token` in every event, keeping at most `max_batches`.
    pub fn new(
        url: &str,
        token: Secret,
        max_batches: usize,
        drops: Arc<Drops>,
    ) -> Result<HttpSink, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("analytics_url: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("analytics_url must be an http(s) URL".into());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("analytics HTTP client: {e}"))?;
        Ok(HttpSink {
            client,
            url: url.to_string(),
            token,
            max_batches: max_batches.max(1),
            pending: VecDeque::new(),
            backoff: FIRST_BACKOFF,
            next_attempt: Instant::now(),
            drops,
        })
    }

    fn encode(&self, batch: &Batch) -> Vec<u8> {
        let token = Some(self.token.expose()).filter(|t| !t.is_empty());
        let events: Vec<serde_json::Value> =
            batch.events.iter().map(|e| e.to_json(token)).collect();
        serde_json::to_vec(&events).unwrap_or_default()
    }

    async fn post(&self, body: Vec<u8>) -> Sent {
        let sent = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Sent::Delivered,
            Ok(r) => {
                let code = r.status().as_u16();
                if (400..500).contains(&code) && code != 408 && code != 429 {
                    Sent::Rejected(code)
                } else {
                    Sent::Failed(format!("status {code}"))
                }
            }
            // reqwest's error names the URL but never the body (where the token is).
            Err(e) => Sent::Failed(e.without_url().to_string()),
        }
    }

    /// Sends pending batches in order until one fails; `force` ignores the back-off.
    async fn send_pending(&mut self, force: bool) {
        if !force && Instant::now() < self.next_attempt {
            return;
        }
        while let Some((n, body)) = self.pending.front().cloned() {
            match self.post(body).await {
                Sent::Delivered => {
                    self.pending.pop_front();
                    self.backoff = FIRST_BACKOFF;
                }
                Sent::Rejected(code) => {
                    tracing::error!(code, events = n, "analytics endpoint rejected a batch");
                    self.pending.pop_front();
                    self.drops
                        .add(n as u64, "analytics endpoint rejected a batch");
                }
                Sent::Failed(why) => {
                    tracing::warn!(error = %why, pending = self.pending.len(), retry_in_ms = self.backoff.as_millis() as u64, "analytics endpoint failed; will retry");
                    self.next_attempt = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    return;
                }
            }
        }
    }

    /// Batches waiting for delivery.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[rocket::async_trait]
impl Sink for HttpSink {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn accept(&mut self, batch: Arc<Batch>) {
        let body = self.encode(&batch);
        self.pending.push_back((batch.events.len(), body));
        while self.pending.len() > self.max_batches {
            if let Some((n, _)) = self.pending.pop_front() {
                self.drops.add(n as u64, "analytics endpoint backlog full");
            }
        }
        self.send_pending(false).await;
    }

    async fn tick(&mut self) {
        self.send_pending(false).await;
    }

    fn tick_every(&self) -> Duration {
        Duration::from_millis(200)
    }

    async fn flush(&mut self) {
        self.send_pending(true).await;
    }
}
