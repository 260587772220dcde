//! Error reporting to Sentry, on only when `sentry_dsn` is set.
//!
//! Reported: every 5xx response ([`ServerErrors`], one event with the route template, never the
//! raw URL; a panic in the request is folded into it), panics outside requests (sentry's panic
//! integration), and error-level logs outside the request path
//! ([`error_layer`]). Events go to sentry's background transport (a bounded queue; a full queue
//! drops), so a request never waits for Sentry. [`scrub`] removes cookies, auth headers, bodies,
//! query strings and user data from every event; `send_default_pii` is off.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::form::{Form, FromForm};
use rocket::{Request, Response, get, post, routes};
use sentry::protocol::{Context, Event, Level};

use super::{RequestId, route_template};
use crate::config::TelemetryConfig;
use crate::error::{AppError, AppResult};
use crate::error::{DbOutage, ErrorCause};

/// The longest shutdown waits for Sentry.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Targets whose error-level logs are not sent as events: the 5xx of a request is reported once
/// by [`ServerErrors`] (with the cause `AppError` logs), and Rocket's own errors come with a
/// status that [`ServerErrors`] sees.
const LOGGED_BY_FAIRING: &[&str] = &[
    "beebeta::error",
    "beebeta::telemetry",
    "beebeta::routes::catchers",
    "_",
];

/// Field and header names whose values never leave the process.
const SENSITIVE: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "x-csrf-token",
    "path",
    "uri",
    "url",
    "query",
    "body",
    "form",
];

/// Starts the Sentry client when `sentry_dsn` is set; the guard must live until shutdown.
pub fn init(cfg: &TelemetryConfig) -> Result<Option<sentry::ClientInitGuard>, String> {
    let Some(dsn) = cfg.sentry_dsn.as_ref().filter(|d| !d.expose().is_empty()) else {
        return Ok(None);
    };
    let dsn: sentry::types::Dsn = dsn
        .expose()
        .parse()
        .map_err(|e| format!("invalid sentry_dsn: {e}"))?;
    let mut options = sentry::ClientOptions::default();
    options.dsn = Some(dsn);
    options.release = Some(release(cfg).into());
    options.environment = Some(cfg.environment.clone().into());
    options.event_sampling_strategy =
        sentry::EventSamplingStrategy::FixedRate(cfg.sentry_sample_rate.clamp(0.0, 1.0));
    options.send_default_pii = false;
    options.shutdown_timeout = SHUTDOWN_TIMEOUT;
    options.before_send = Some(Arc::new(|event: Event<'static>| Some(scrub(event))));
    // Breadcrumbs would carry other requests' log lines into an event.
    options.max_breadcrumbs = 0;
    let guard = sentry::init(options);
    install_request_panic_hook();
    Ok(Some(guard))
}

/// Tokio tasks (Rocket runs each request in its own) currently serving a request, and the panic
/// text of those that panicked: a panic inside a request becomes part of the one 5xx event
/// [`ServerErrors`] sends (with the route and request id) instead of a second event without them.
static REQUEST_TASKS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<rocket::tokio::task::Id, Option<String>>>,
> = std::sync::LazyLock::new(Default::default);

fn request_tasks() -> std::sync::MutexGuard<
    'static,
    std::collections::HashMap<rocket::tokio::task::Id, Option<String>>,
> {
    REQUEST_TASKS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Wraps the panic hook sentry installed: a panic in a request's task is kept (message,
/// location, backtrace) for that request's 5xx event; any other panic (a background task or
/// thread) goes to sentry's hook as before.
fn install_request_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(id) = rocket::tokio::task::try_id()
            && let Some(slot) = request_tasks().get_mut(&id)
        {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let backtrace = std::backtrace::Backtrace::force_capture();
            *slot = Some(format!("{message}{location}\n{backtrace}"));
            return;
        }
        previous(info)
    }));
}

/// `release`, or `beebeta@<crate version>`.
pub fn release(cfg: &TelemetryConfig) -> String {
    cfg.release
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| format!("beebeta@{}", env!("CARGO_PKG_VERSION")))
}

/// Closes the client, waiting at most `timeout` even when Sentry accepts and never answers (the
/// transport joins its thread, which may be inside a request; that thread dies with the process).
pub fn close_within(guard: sentry::ClientInitGuard, timeout: Duration) {
    let (done, wait) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("sentry-close".into())
        .spawn(move || {
            // Dropping the guard closes the client with `shutdown_timeout`.
            drop(guard);
            let _ = done.send(());
        });
    if spawned.is_ok() {
        let _ = wait.recv_timeout(timeout + Duration::from_millis(100));
    }
}

/// The tracing layer that turns error-level logs into Sentry events.
pub fn error_layer<S>() -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    sentry::integrations::tracing::ErrorLayer::new()
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            *meta.level() == tracing::Level::ERROR
                && !meta.target().starts_with("rocket")
                && !LOGGED_BY_FAIRING.contains(&meta.target())
        }))
        .boxed()
}

/// Removes what must never be sent: cookies, auth headers, bodies, query strings, user data, and
/// logged fields that may hold a raw path.
pub fn scrub(mut event: Event<'static>) -> Event<'static> {
    let sensitive = |k: &str| SENSITIVE.contains(&k.to_ascii_lowercase().as_str());
    if let Some(req) = event.request.as_mut() {
        req.cookies = None;
        req.data = None;
        req.query_string = None;
        req.env.clear();
        req.headers.retain(|k, _| !sensitive(k));
        if let Some(url) = req.url.as_mut() {
            url.set_query(None);
            url.set_fragment(None);
        }
    }
    event.user = None;
    event.breadcrumbs.values.clear();
    event.extra.retain(|k, _| !sensitive(k));
    event.tags.retain(|k, _| !sensitive(k));
    for ctx in event.contexts.values_mut() {
        if let Context::Other(map) = ctx {
            map.retain(|k, _| !sensitive(k));
        }
    }
    event
}

/// Reports every 5xx response as one event tagged with the route template and request id.
pub struct ServerErrors;

#[rocket::async_trait]
impl Fairing for ServerErrors {
    fn info(&self) -> Info {
        Info {
            name: "sentry 5xx reports",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, _req: &mut Request<'_>, _data: &mut rocket::Data<'_>) {
        if sentry::Hub::current().client().is_some()
            && let Some(id) = rocket::tokio::task::try_id()
        {
            request_tasks().insert(id, None);
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, resp: &mut Response<'r>) {
        if sentry::Hub::current().client().is_none() {
            return;
        }
        let panicked = rocket::tokio::task::try_id()
            .and_then(|id| request_tasks().remove(&id))
            .flatten();
        let status = resp.status();
        // A database outage is one event (its first failure's log, `db::health`), not one per
        // request answered 503 during it.
        if status.code < 500 || req.local_cache(DbOutage::default).0 {
            return;
        }
        let route = route_template(req).unwrap_or("unmatched").to_string();
        let method = req.method().as_str();
        let mut event = Event {
            level: Level::Error,
            message: Some(format!("{status} on {method} {route}")),
            transaction: Some(route.clone()),
            fingerprint: vec![
                "http-5xx".into(),
                route.clone().into(),
                status.code.to_string().into(),
            ]
            .into(),
            ..Default::default()
        };
        event.tags.insert("route".into(), route.clone());
        event.tags.insert("method".into(), method.into());
        event.tags.insert("status".into(), status.code.to_string());
        event
            .tags
            .insert("request_id".into(), RequestId::of(req).to_string());
        if let Some(cause) = &req.local_cache(ErrorCause::default).0 {
            event.extra.insert("cause".into(), cause.clone().into());
        }
        if let Some(panic) = panicked {
            let first = panic.lines().next().unwrap_or("panic").to_string();
            event.message = Some(format!("{status} on {method} {route}: panicked: {first}"));
            event.tags.insert("panic".into(), "yes".into());
            event.extra.insert("panic".into(), panic.into());
        }
        sentry::capture_event(event);
    }
}

/// The routes that fail on purpose (`sentry_test_route`).
pub fn test_routes() -> Vec<rocket::Route> {
    routes![forced_error, forced_panic, forced_log]
}

/// Any form; its fields are there to prove they are not sent.
#[derive(FromForm)]
struct AnyForm {
    #[allow(dead_code)]
    secret: Option<String>,
}

/// A 500 through `AppError`, as a failing handler would give.
#[post("/fail/<n>", data = "<_form>")]
fn forced_error(n: u32, _form: Form<AnyForm>) -> AppResult<()> {
    let _ = n;
    Err(AppError::Internal(
        "forced error (sentry_test_route)".into(),
    ))
}

/// An error-level log from work outside a request (as a background job would log it); the
/// request itself succeeds.
#[post("/log")]
fn forced_log() -> &'static str {
    std::thread::spawn(|| {
        tracing::error!(target: "beebeta::jobs", job = "sentry_test_route", "forced error log (sentry_test_route)");
    })
    .join()
    .ok();
    "logged"
}

/// A panic in a handler (Rocket answers 500).
#[get("/panic")]
fn forced_panic() -> &'static str {
    panic!("forced panic (sentry_test_route)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::protocol::{Map, Request as SentryRequest};

    #[test]
    fn scrub_removes_secrets_and_keeps_the_rest() {
        let mut headers = Map::new();
        for (k, v) in [
            ("Cookie", "s=1"),
            ("Authorization", "Bearer t"),
            ("set-cookie", "s=2"),
            ("Accept", "text/html"),
        ] {
            headers.insert(k.to_string(), v.to_string());
        }
        let mut fields = Map::new();
        fields.insert("path".to_string(), "/q/12/x".into());
        fields.insert("status".to_string(), 500.into());
        let mut event = Event {
            request: Some(SentryRequest {
                url: "https://b.test/q/12?token=t#f".parse().ok(),
                data: Some("secret=1".into()),
                query_string: Some("token=t".into()),
                cookies: Some("s=1".into()),
                headers,
                ..Default::default()
            }),
            user: Some(sentry::User {
                ip_address: Some(sentry::protocol::IpAddress::Auto),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.extra.insert("form".into(), "secret=1".into());
        event.extra.insert("cause".into(), "db down".into());
        event
            .contexts
            .insert("Rust Tracing Fields".into(), Context::Other(fields));

        let event = scrub(event);
        let req = event.request.as_ref().unwrap();
        assert_eq!(
            (&req.data, &req.query_string, &req.cookies),
            (&None, &None, &None)
        );
        assert_eq!(req.headers.keys().collect::<Vec<_>>(), vec!["Accept"]);
        assert_eq!(req.url.as_ref().unwrap().as_str(), "https://b.test/q/12");
        assert!(event.user.is_none());
        assert_eq!(event.extra.keys().collect::<Vec<_>>(), vec!["cause"]);
        let Some(Context::Other(fields)) = event.contexts.get("Rust Tracing Fields") else {
            panic!("fields context kept");
        };
        assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["status"]);
    }
}
