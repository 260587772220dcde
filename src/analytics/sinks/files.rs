//! The files sink: gzip JSON-lines objects in the storage named by `events_dir` (a local folder
//! or S3, through the media store's `object_store`), one per hour and server:
//! `events/YYYY/MM/DD/HH-<server_id>-<uuid>.jsonl.gz`. An hour's lines are buffered and written
//! when the hour changes, when the buffer passes 8 MiB, and at every flush (shutdown), so an
//! hour may have several parts.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::analytics::pipeline::{Batch, Drops, Sink};
use crate::media::{MediaStore, StoreOptions};

/// A part is written early once its buffer passes this size.
const PART_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Writes hourly JSON-lines objects.
pub struct FileSink {
    store: MediaStore,
    server_id: String,
    hour: Option<DateTime<Utc>>,
    lines: Vec<u8>,
    count: usize,
    drops: Arc<Drops>,
}

fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

/// The object key of a part of `hour`.
pub fn object_key(hour: DateTime<Utc>, server_id: &str) -> String {
    format!(
        "events/{}-{server_id}-{}.jsonl.gz",
        hour.format("%Y/%m/%d/%H"),
        uuid::Uuid::now_v7()
    )
}

impl FileSink {
    /// A sink writing to the storage URL `dir` (`file://<dir>`, `s3://bucket/prefix`, `memory://`).
    pub fn open(
        dir: &str,
        s3_endpoint: &str,
        server_id: &str,
        drops: Arc<Drops>,
    ) -> Result<FileSink, String> {
        let store = MediaStore::open(
            dir,
            &StoreOptions {
                s3_endpoint: Some(s3_endpoint.to_string()),
            },
        )
        .map_err(|e| format!("events_dir: {e}"))?;
        // Keys are built from the server id: keep it to safe characters.
        let server_id: String = server_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok(FileSink {
            store,
            server_id,
            hour: None,
            lines: Vec::new(),
            count: 0,
            drops,
        })
    }

    async fn write_part(&mut self) {
        let Some(hour) = self.hour.take() else {
            return;
        };
        let lines = std::mem::take(&mut self.lines);
        let count = std::mem::take(&mut self.count);
        if count == 0 {
            return;
        }
        let mut gz = GzEncoder::new(Vec::with_capacity(lines.len() / 4), Compression::default());
        let body = gz.write_all(&lines).and_then(|_| gz.finish());
        let body = match body {
            Ok(b) => bytes::Bytes::from(b),
            Err(e) => {
                tracing::error!(error = %e, "analytics: gzip failed");
                self.drops.add(count as u64, "events file not written");
                return;
            }
        };
        let key = object_key(hour, &self.server_id);
        for attempt in 1..=3u32 {
            match self.store.put(&key, body.clone(), "application/gzip").await {
                Ok(()) => return,
                Err(e) if attempt < 3 => {
                    tracing::warn!(error = %e, attempt, "analytics: writing an events file failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, key, "analytics: events file not written");
                    self.drops.add(count as u64, "events file not written");
                }
            }
        }
    }
}

#[rocket::async_trait]
impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "files"
    }

    async fn accept(&mut self, batch: Arc<Batch>) {
        for e in &batch.events {
            let hour = hour_of(e.time);
            if self.hour.is_some_and(|h| h != hour) || self.lines.len() > PART_MAX_BYTES {
                self.write_part().await;
            }
            self.hour = Some(hour);
            let line = serde_json::to_vec(&e.to_json(None)).unwrap_or_default();
            self.lines.extend_from_slice(&line);
            self.lines.push(b'\n');
            self.count += 1;
        }
    }

    async fn tick(&mut self) {
        if self.hour.is_some_and(|h| h < hour_of(Utc::now())) {
            self.write_part().await;
        }
    }

    fn tick_every(&self) -> Duration {
        Duration::from_secs(30)
    }

    async fn flush(&mut self) {
        self.write_part().await;
    }
}
