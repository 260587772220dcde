//! Analytics: typed events leave the request path at once through a bounded queue
//! ([`Analytics::emit`] never waits or fails); a background task batches them and hands each
//! batch to the configured sinks: the database rollups (the admin reports read them), an HTTP
//! endpoint in Mixpanel's import format, and hourly gzip JSON-lines files. See
//! `docs/ARCHITECTURE.md` ("Analytics").

pub mod event;
pub mod pipeline;
pub mod sinks;
pub mod tracker;

use std::time::Duration;

use rocket::fairing::AdHoc;

pub use event::{Event, EventName, PageKind, UaFamily};
pub use pipeline::{Analytics, Batch, Sink};
pub use tracker::Tracker;

use crate::config::AnalyticsConfig;
use crate::db::Db;

/// How long graceful shutdown waits for the sinks.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

impl Analytics {
    /// The pipeline with the sinks the configuration asks for (`s3_endpoint`: the media
    /// setting, which event files on S3 share).
    pub fn from_config(
        cfg: &AnalyticsConfig,
        s3_endpoint: &str,
        db: &Db,
    ) -> Result<Analytics, String> {
        let flush = Duration::from_millis(cfg.events_flush_ms);
        // The sinks count what they give up in the pipeline's drop counter.
        let drops = std::sync::Arc::new(pipeline::Drops::default());
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if cfg.events_rollups {
            sinks.push(Box::new(sinks::rollups::RollupSink::new(
                db.clone(),
                drops.clone(),
            )));
        }
        if !cfg.url.trim().is_empty() {
            sinks.push(Box::new(sinks::http::HttpSink::new(
                cfg.url.trim(),
                cfg.token.clone(),
                cfg.max_batches,
                drops.clone(),
            )?));
        }
        if !cfg.events_dir.trim().is_empty() {
            sinks.push(Box::new(sinks::files::FileSink::open(
                cfg.events_dir.trim(),
                s3_endpoint,
                &cfg.server_id,
                drops.clone(),
            )?));
        }
        Ok(Analytics::with_drops(cfg.events_queue, flush, sinks, drops))
    }

    /// Names of the configured sinks, for the start-up log.
    pub fn describe(cfg: &AnalyticsConfig) -> String {
        let mut s = Vec::new();
        if cfg.events_rollups {
            s.push("rollups");
        }
        if !cfg.url.trim().is_empty() {
            s.push("http");
        }
        if !cfg.events_dir.trim().is_empty() {
            s.push("files");
        }
        if s.is_empty() {
            "none".into()
        } else {
            s.join(",")
        }
    }
}

/// Starts the pipeline at liftoff and flushes it at shutdown (waiting at most [`SHUTDOWN_WAIT`]).
pub fn fairings() -> [AdHoc; 2] {
    [
        AdHoc::on_liftoff("analytics pipeline", |rocket| {
            Box::pin(async move {
                if let Some(a) = rocket.state::<Analytics>() {
                    a.start();
                }
            })
        }),
        AdHoc::on_shutdown("analytics flush", |rocket| {
            Box::pin(async move {
                if let Some(a) = rocket.state::<Analytics>() {
                    a.shutdown(SHUTDOWN_WAIT).await;
                }
            })
        }),
    ]
}
