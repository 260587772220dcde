//! Prometheus metrics at `/metrics`: a `metrics` facade recorder installed once per process
//! (tests build many apps), request counts and latency by method, route template and status
//! ([`RequestMetrics`]), and at each scrape ([`render`]) the cache counters, the database pool and
//! the process's resident memory. Other modules emit through the facade (`metrics::counter!`).
//! The route and who may read it are `routes::ops`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Request, Response};

use super::{elapsed, route_template};
use crate::cache::CacheStats;

/// The scrape route (`routes::ops`), which the request metrics skip.
pub const PATH: &str = "/metrics";

const REQUESTS: &str = "beebeta_http_requests_total";
const DURATION: &str = "beebeta_http_request_duration_seconds";
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often histogram samples are folded into their buckets when nobody scrapes `/metrics`.
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The exporter keeps every histogram sample until upkeep folds it into the buckets, and by
/// itself does that only when `/metrics` is rendered: a server nobody scrapes would grow by 8+
/// bytes per request forever (measured: 46 → 119 MB RSS over one `bench/run.sh`). One thread
/// per process runs the upkeep every [`UPKEEP_EVERY`].
fn start_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "metrics upkeep thread not started");
    }
}

/// The process's recorder, installed on first use; `None` if another recorder was installed.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.into()), BUCKETS)
                .and_then(|b| b.install_recorder());
            match installed {
                Ok(handle) => {
                    describe();
                    start_upkeep(handle.clone());
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics is off");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        REQUESTS,
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(DURATION, metrics::Unit::Seconds, "HTTP request latency");
    describe_counter!(
        "beebeta_cache_hits_total",
        "Cache lookups that found a value"
    );
    describe_counter!(
        "beebeta_cache_misses_total",
        "Cache lookups that found nothing"
    );
    describe_counter!(
        "beebeta_cache_errors_total",
        "Cache backend calls that failed"
    );
    describe_gauge!("beebeta_db_pool_connections", "Open database connections");
    describe_gauge!("beebeta_db_pool_in_use", "Database connections in use");
    describe_gauge!("beebeta_db_pool_idle", "Idle database connections");
    describe_gauge!(
        "beebeta_process_resident_memory_bytes",
        metrics::Unit::Bytes,
        "Resident memory of the process"
    );
}

/// The scrape's text: the registered metrics plus the values read at scrape time (the cache's
/// counters, the database pool's `(in use, idle)` connections, resident memory); `None` when the
/// recorder is not installed.
pub fn render(cache: CacheStats, pool: (u32, u32)) -> Option<String> {
    let handle = handle()?;
    metrics::counter!("beebeta_cache_hits_total").absolute(cache.hits);
    metrics::counter!("beebeta_cache_misses_total").absolute(cache.misses);
    metrics::counter!("beebeta_cache_errors_total").absolute(cache.errors);
    let (in_use, idle) = pool;
    metrics::gauge!("beebeta_db_pool_connections").set(f64::from(in_use + idle));
    metrics::gauge!("beebeta_db_pool_in_use").set(f64::from(in_use));
    metrics::gauge!("beebeta_db_pool_idle").set(f64::from(idle));
    if let Some(rss) = resident_bytes() {
        metrics::gauge!("beebeta_process_resident_memory_bytes").set(rss as f64);
    }
    handle.run_upkeep();
    Some(handle.render())
}

/// Resident memory from `/proc/self/status` (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Counts and times every request except the scrapes.
pub struct RequestMetrics;

#[rocket::async_trait]
impl Fairing for RequestMetrics {
    fn info(&self) -> Info {
        Info {
            name: "request metrics",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, resp: &mut Response<'r>) {
        let route = route_template(req).unwrap_or("unmatched");
        if route == PATH {
            return;
        }
        let (count, time) = series(req.method().as_str(), route, resp.status().code);
        count.increment(1);
        time.record(elapsed(req).as_secs_f64());
    }
}

/// The counter and histogram of one (method, route, status).
type Series = (metrics::Counter, metrics::Histogram);

/// Handles registered once per (method, route, status) and looked up by reference afterwards:
/// registering builds the label set (three strings) and hashes it in the recorder, which every
/// request paid before.
fn series(method: &str, route: &str, status: u16) -> Series {
    use std::collections::HashMap;
    use std::sync::RwLock;
    /// By route template (looked up by `&str`), then the few (method, status) seen on it.
    type ByRoute = HashMap<String, Vec<(String, u16, Series)>>;
    static SERIES: OnceLock<RwLock<ByRoute>> = OnceLock::new();
    let map = SERIES.get_or_init(Default::default);
    let lookup = |m: &ByRoute| {
        m.get(route)?
            .iter()
            .find(|(km, ks, _)| *ks == status && km == method)
            .map(|(_, _, v)| v.clone())
    };
    if let Some(found) = lookup(&map.read().unwrap_or_else(|p| p.into_inner())) {
        return found;
    }
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    let made: Series = (
        metrics::counter!(REQUESTS, &labels),
        metrics::histogram!(DURATION, &labels),
    );
    let mut map = map.write().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = lookup(&map) {
        return found;
    }
    map.entry(route.to_owned())
        .or_default()
        .push((method.to_owned(), status, made.clone()));
    made
}
