//! Load-balancer probes: `/healthz` (the process is alive) and `/readyz` (the database answers).

use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::serde::json::{Json, Value, json};
use rocket::{State, get, routes};

use crate::db::Db;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![healthz, readyz, bench_bare]
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
async fn readyz(db: &State<Db>) -> (Status, Json<Value>) {
    match db.ping().await {
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
