//! Operations: the load balancer's probes `/healthz` (the process is alive) and `/readyz` (the
//! database answers), the Prometheus scrape `/metrics` (only for `metrics_allow`), and the
//! benchmark's baseline `/bench/bare`.

use rocket::http::{ContentType, Status};
use rocket::response::content::RawHtml;
use rocket::serde::json::{Json, Value, json};
use rocket::{State, get, routes};

use crate::auth::client_ip::{ClientIp, TrustedProxies};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::telemetry::metrics;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![healthz, readyz, bench_bare, scrape]
}

/// Addresses allowed to read `/metrics`.
#[derive(Debug, Clone)]
pub struct MetricsAllow(TrustedProxies);

impl MetricsAllow {
    /// Parses a comma-separated list of addresses and CIDR networks.
    pub fn parse(list: &str) -> Result<MetricsAllow, String> {
        let items: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        TrustedProxies::parse(&items)
            .map(MetricsAllow)
            .map_err(|e| format!("metrics_allow: {e}"))
    }

    /// Whether the client may read the metrics.
    pub fn allows(&self, client: ClientIp) -> bool {
        client.0.is_some_and(|ip| self.0.contains(ip))
    }
}

#[get("/metrics")]
fn scrape(
    app: &AppState,
    client: ClientIp,
    allow: &State<MetricsAllow>,
) -> AppResult<(ContentType, String)> {
    if !allow.allows(client) {
        return Err(AppError::Forbidden {
            code: "metrics_forbidden",
            message: "Metrics are only served to configured addresses.".into(),
        });
    }
    let text = metrics::render(app.cache.stats(), app.db.pool_state())
        .ok_or_else(|| AppError::Unavailable("metrics are off".into()))?;
    Ok((ContentType::Plain, text))
}

/// The fixed body of `/bench/bare` (`bench_bare_bytes`; none unless the benchmark asks for it).
#[derive(Debug, Clone)]
pub struct BenchBody(Option<String>);

impl BenchBody {
    /// A body of `bytes` bytes of HTML-ish text, or none when 0.
    pub fn new(bytes: usize) -> Self {
        if bytes == 0 {
            return BenchBody(None);
        }
        let line = "<p>Beebeta benchmark baseline: a fixed body of the question page's size.</p>\n";
        let mut s = String::with_capacity(bytes);
        while s.len() < bytes {
            s.push_str(line);
        }
        s.truncate(bytes);
        BenchBody(Some(s))
    }
}

/// The benchmark's baseline: no database, no template, no cache; 404 unless enabled.
#[get("/bench/bare")]
fn bench_bare(body: &State<BenchBody>) -> Option<RawHtml<&str>> {
    body.0.as_deref().map(RawHtml)
}

#[get("/healthz")]
fn healthz() -> &'static str {
    "ok"
}

#[get("/readyz")]
async fn readyz(app: &AppState) -> (Status, Json<Value>) {
    match app.db.ping().await {
        Ok(()) => (
            Status::Ok,
            Json(json!({"status": "ready", "database": "ok"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                Status::ServiceUnavailable,
                Json(json!({"status": "unavailable", "database": "error"})),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_addresses_and_networks() {
        let allow = MetricsAllow::parse("127.0.0.1/32, ::1/128,10.0.0.0/8").unwrap();
        let ip = |s: &str| ClientIp(Some(s.parse().unwrap()));
        assert!(allow.allows(ip("127.0.0.1")));
        assert!(allow.allows(ip("10.1.2.3")));
        assert!(allow.allows(ip("::1")));
        assert!(!allow.allows(ip("203.0.113.9")));
        assert!(!allow.allows(ClientIp(None)));
        assert!(!MetricsAllow::parse("").unwrap().allows(ip("127.0.0.1")));
        assert!(MetricsAllow::parse("nonsense").is_err());
    }
}
