//! Logging: tracing with a pretty or JSON formatter; Rocket's `log` records are bridged in.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once (later calls are no-ops, e.g. in tests).
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let result = if format == "json" {
        builder.json().with_current_span(false).try_init()
    } else {
        builder.compact().try_init()
    };
    if result.is_ok() {
        let _ = tracing_log::LogTracer::init();
    }
}

/// Logs one structured line per request: method, route, status and latency (never the query
/// string, cookies or bodies).
pub struct RequestLog;

struct Started(std::time::Instant);

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
        let elapsed = req
            .local_cache(|| Started(std::time::Instant::now()))
            .0
            .elapsed();
        let route = req
            .route()
            .map(|r| r.uri.to_string())
            .unwrap_or_else(|| "-".into());
        let status = resp.status().code;
        let micros = elapsed.as_micros() as u64;
        if status >= 500 {
            tracing::error!(method = %req.method(), route, path = %req.uri().path(), status, micros, "request");
        } else {
            tracing::info!(method = %req.method(), route, path = %req.uri().path(), status, micros, "request");
        }
    }
}
