//! Telemetry: logging (tracing, pretty or JSON, with Rocket's `log` records bridged in), the
//! request log, request ids ([`request_id`]), error reporting to Sentry ([`sentry`]) and
//! Prometheus metrics ([`metrics`]).

pub mod metrics;
pub mod request_id;
pub mod sentry;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::TelemetryConfig;
pub use request_id::{RequestId, RequestIds};

/// What [`init`] set up that needs an orderly end: the Sentry client, flushed at most 2 s.
pub struct Telemetry {
    sentry: Option<::sentry::ClientInitGuard>,
}

impl Telemetry {
    /// Sends what Sentry still holds, waiting at most [`sentry::SHUTDOWN_TIMEOUT`].
    pub fn shutdown(mut self) {
        if let Some(guard) = self.sentry.take() {
            sentry::close_within(guard, sentry::SHUTDOWN_TIMEOUT);
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(guard) = self.sentry.take() {
            sentry::close_within(guard, sentry::SHUTDOWN_TIMEOUT);
        }
    }
}

/// Starts Sentry (when `sentry_dsn` is set) and installs the global subscriber once (later
/// calls only log through the first one, e.g. in tests).
pub fn init(cfg: &TelemetryConfig) -> Result<Telemetry, String> {
    let guard = sentry::init(cfg)?;
    let filter = EnvFilter::try_new(&cfg.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let fmt = if cfg.log_format == "json" {
        fmt.json()
            .with_current_span(false)
            .with_filter(filter)
            .boxed()
    } else {
        fmt.compact().with_filter(filter).boxed()
    };
    let mut layers = vec![fmt];
    if guard.is_some() {
        layers.push(sentry::error_layer());
    }
    // `try_init` also bridges `log` records (Rocket's) into tracing.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(Telemetry { sentry: guard })
}

/// When the request started (set by [`RequestLog`] as the first thing it sees).
struct Started(std::time::Instant);

/// The time since the request started.
pub(crate) fn elapsed(req: &rocket::Request<'_>) -> std::time::Duration {
    req.local_cache(|| Started(std::time::Instant::now()))
        .0
        .elapsed()
}

/// The route template that answered (`/q/<id>/<slug>`), never the raw path with its ids;
/// `None` when no route matched.
pub(crate) fn route_template<'r>(req: &'r rocket::Request<'_>) -> Option<&'r str> {
    req.route().map(|r| r.uri.as_str())
}

/// Logs one structured line per request: request id, method, route, status and latency (never
/// the query string, cookies or bodies).
pub struct RequestLog;

#[rocket::async_trait]
impl rocket::fairing::Fairing for RequestLog {
    fn info(&self) -> rocket::fairing::Info {
        rocket::fairing::Info {
            name: "request log",
            kind: rocket::fairing::Kind::Request | rocket::fairing::Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut rocket::Request<'_>, _: &mut rocket::Data<'_>) {
        req.local_cache(|| Started(std::time::Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r rocket::Request<'_>, resp: &mut rocket::Response<'r>) {
        let micros = elapsed(req).as_micros() as u64;
        let route = route_template(req).unwrap_or("-");
        let status = resp.status().code;
        let request_id = RequestId::of(req).as_str();
        // A 503 of a database outage is a warning: the outage is logged once as an error.
        if status >= 500 && !req.local_cache(crate::error::DbOutage::default).0 {
            tracing::error!(request_id, method = %req.method(), route, path = %req.uri().path(), status, micros, "request");
        } else if status >= 500 {
            tracing::warn!(request_id, method = %req.method(), route, path = %req.uri().path(), status, micros, "request");
        } else {
            tracing::info!(request_id, method = %req.method(), route, path = %req.uri().path(), status, micros, "request");
        }
    }
}
