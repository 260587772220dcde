//! Builds the Rocket: managed state, fairings, routes, catchers. `main` and the tests both call
//! [`build`].

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Build, Request, Response, Rocket};
use rocket_dyn_templates::Template;

use crate::analytics::Analytics;
use crate::assets::Assets;
use crate::auth::Keys;
use crate::auth::client_ip::{ClientAddressing, TrustedProxies};
use crate::auth::oauth::OAuth;
use crate::cache::Cache;
use crate::config::{DatabaseConfig, Settings};
use crate::db::{Backend, Db};
use crate::embedded::{self, StaticSource};
use crate::limits::{self, Limits, LiveStreams};
use crate::mail::Mailer;
use crate::media::Media;
use crate::models;
use crate::page_cache::PageCache;
use crate::routes;
use crate::routes::ops::{BenchBody, MetricsAllow};
use crate::services::count_refresher::CountRefresher;
use crate::services::demo;
use crate::services::reports::Reports;
use crate::services::voting::Voting;
use crate::state::AppState;

/// Opens the database, applies migrations, seeds the demo when configured, and assembles the app:
/// the [`AppState`] handlers take, the pieces request guards read on their own (`Config`, `Db`,
/// `Keys`, `ClientAddressing`, `Analytics`), fairings, routes and catchers.
pub fn build(settings: Settings) -> Result<Rocket<Build>, String> {
    build_with_cache(settings, None)
}

/// [`build`] on `cache` instead of the configured one when given: tests run two app servers on
/// one in-process cache this way, as production runs them on one memcached.
pub fn build_with_cache(settings: Settings, cache: Option<Cache>) -> Result<Rocket<Build>, String> {
    let settings = settings.for_serving()?;
    let Settings {
        app: cfg,
        rocket: figment,
        ..
    } = settings;
    // Templates from the binary unless a folder is configured (`template_dir`).
    let configured = figment.extract_inner::<String>("template_dir").ok();
    let templates = embedded::template_dir(configured.as_deref())?;
    let figment = figment.merge(("template_dir", templates.display().to_string()));
    let db = Db::connect(&cfg.database)?;
    if cfg.database.migrate_on_start {
        let n = crate::services::schema::migrate(&db)?;
        if n > 0 {
            tracing::info!(applied = n, "database migrations applied");
        }
    }
    maybe_seed(&db, &cfg.database)?;
    let keys = Keys::new(&cfg.site.secret_bytes());
    let addressing = ClientAddressing::new(
        TrustedProxies::parse(&cfg.auth.trusted_proxies)?,
        &cfg.auth.client_ip_header,
    )?;
    let cache = match cache {
        Some(cache) => cache,
        None => Cache::from_url_layered(
            Some(&cfg.cache.url),
            &cfg.cache.prefix,
            cfg.cache.memory_mb.saturating_mul(1024 * 1024),
            Duration::from_millis(cfg.cache.near_ms),
        )?,
    };
    // Stale-if-error: cached reads are kept this long past freshness, for a failing database.
    cache.set_saved_for(Duration::from_secs(cfg.cache.stale_if_error_secs));
    tracing::info!(cache = cache.backend_name(), "cache ready");
    let statics = StaticSource::from_setting(&cfg.site.static_dir);
    let assets = Arc::new(Assets::load(&statics, &cfg.site.static_url)?);
    tracing::info!(static_files = %statics.describe(), templates = %templates.display(), "site files ready");
    let media = Media::from_config(&cfg.media)?;
    tracing::info!(
        media = media.store().describe(),
        served_here = media.served_here(),
        "media storage ready"
    );
    let analytics = Analytics::from_config(&cfg.analytics, &cfg.media.s3_endpoint, &db)?;
    tracing::info!(sinks = %Analytics::describe(&cfg.analytics), "analytics ready");
    let security = SecurityHeaders::new(
        cfg.site.is_https() || cfg.auth.cookie_secure,
        assets.external_origin().as_deref(),
        media.external_origin().as_deref(),
    );
    let tera_assets = Arc::clone(&assets);
    let metrics_allow = MetricsAllow::parse(&cfg.telemetry.metrics_allow)?;
    crate::telemetry::metrics::handle();
    let refresher =
        CountRefresher::new(Duration::from_millis(cfg.voting.counts_refresh_ms.max(10)));
    let state = AppState {
        db: db.clone(),
        cache: cache.clone(),
        keys: keys.clone(),
        limits: Limits::new(&cfg.limits, cache.clone())?,
        live: LiveStreams::new(
            cfg.site.live_max_streams,
            if limits::enabled(&cfg.limits) {
                cfg.limits.live_streams_per_client
            } else {
                0
            },
        ),
        mailer: Mailer::from_config(&cfg.mail)?,
        oauth: OAuth::from_config(&cfg.auth, &cfg.site.public_url)?,
        voting: Voting::start(db.clone(), &cfg.voting, refresher.clone()),
        refresher,
        reports: Reports::new(db.clone(), cache.clone(), &cfg.reports),
        analytics: analytics.clone(),
        pages: PageCache::new(),
        media,
        config: cfg.clone(),
    };
    let [analytics_start, analytics_flush] = crate::analytics::fairings();
    let mut rocket = rocket::custom(figment)
        .manage(state)
        .manage(analytics)
        .manage(db)
        .manage(keys)
        .manage(crate::error::ErrorPages(routes::catchers::error_page))
        .manage(addressing)
        .manage(metrics_allow)
        .manage(BenchBody::new(cfg.site.bench_bare_bytes))
        .manage(cfg.clone())
        .attach(analytics_start)
        .attach(analytics_flush)
        .attach(crate::compress::Compression {
            enabled: cfg.site.compress,
        });
    if !cfg.site.bench_without_telemetry {
        rocket = rocket
            .attach(crate::telemetry::RequestIds)
            .attach(crate::telemetry::RequestLog)
            .attach(crate::telemetry::metrics::RequestMetrics)
            .attach(crate::telemetry::sentry::ServerErrors);
    }
    rocket = rocket
        .attach(Template::custom(move |engines| {
            engines
                .tera
                .register_function("asset", tera_assets.tera_function());
        }))
        // Shield's frame policy is ours (`SecurityHeaders`): one route may be framed.
        .attach(rocket::shield::Shield::default().disable::<rocket::shield::Frame>())
        .attach(security)
        .attach(hot_rank_refresher(cfg.site.hot_refresh_secs))
        .attach(count_refresher())
        .attach(report_refresher())
        .attach(vote_writers_shutdown())
        .attach(launch_line(cfg.site.public_url.clone()))
        .attach(crate::error::RetryAfterOn503)
        .mount("/", routes::html())
        .mount(routes::api::BASE, routes::api::routes())
        .mount("/static", assets.routes())
        .register("/", routes::catchers::all())
        .register("/api", routes::catchers::all());
    if cfg.telemetry.sentry_test_route {
        rocket = rocket.mount("/_sentry", crate::telemetry::sentry::test_routes());
    }
    Ok(rocket)
}

fn maybe_seed(db: &Db, cfg: &DatabaseConfig) -> Result<(), String> {
    let wanted = cfg.seed_demo.unwrap_or(db.backend() == Backend::Sqlite);
    if !wanted {
        return Ok(());
    }
    let empty = demo::is_empty(db).map_err(|e| format!("cannot inspect the database: {e:?}"))?;
    if empty {
        let n = demo::seed_demo(db).map_err(|e| format!("cannot seed demo content: {e:?}"))?;
        tracing::info!(questions = n, "seeded demo content into the empty database");
    }
    Ok(())
}

/// One info line once the server listens: where, and the public address links use (Rocket's
/// own launch line is a warning; the default `log_filter` leaves it out).
fn launch_line(public_url: String) -> AdHoc {
    AdHoc::on_liftoff("launch line", move |rocket| {
        Box::pin(async move {
            let c = rocket.config();
            tracing::info!(
                listening = %format!("http://{}:{}", c.address, c.port),
                public_url = %public_url,
                "serving"
            );
        })
    })
}

/// At shutdown: refuse new votes, commit the queued ones, stop the vote writers.
fn vote_writers_shutdown() -> AdHoc {
    AdHoc::on_shutdown("vote writers", |rocket| {
        Box::pin(async move {
            if let Some(state) = rocket.state::<AppState>() {
                let voting = state.voting.clone();
                let _ = rocket::tokio::task::spawn_blocking(move || voting.shutdown()).await;
            }
        })
    })
}

/// Recomputes hot ranks in the background while the server runs; stops at shutdown.
fn hot_rank_refresher(every_secs: u64) -> AdHoc {
    AdHoc::on_liftoff("hot rank refresher", move |rocket| {
        Box::pin(async move {
            if every_secs == 0 {
                return;
            }
            let db = rocket.state::<Db>().expect("Db is managed").clone();
            let mut shutdown = rocket.shutdown();
            rocket::tokio::spawn(async move {
                let mut tick = rocket::tokio::time::interval(Duration::from_secs(every_secs));
                loop {
                    rocket::tokio::select! {
                        _ = tick.tick() => {}
                        _ = &mut shutdown => break,
                    }
                    let result = db
                        .background(|c| Ok(models::question::refresh_hot_ranks(c, models::now())?))
                        .await;
                    match result {
                        Ok(n) => tracing::debug!(updated = n, "hot ranks refreshed"),
                        Err(e) => tracing::warn!(error = %e, "hot rank refresh failed"),
                    }
                }
            });
        })
    })
}

/// Rebuilds the standard report windows in the background (see [`Reports`]); stops at shutdown.
fn report_refresher() -> AdHoc {
    AdHoc::on_liftoff("report refresher", |rocket| {
        Box::pin(async move {
            let reports = rocket
                .state::<AppState>()
                .expect("AppState is managed")
                .reports
                .clone();
            let every = reports.refresh_every();
            if every.is_zero() {
                return;
            }
            let mut shutdown = rocket.shutdown();
            rocket::tokio::spawn(async move {
                let mut tick = rocket::tokio::time::interval(every);
                tick.set_missed_tick_behavior(rocket::tokio::time::MissedTickBehavior::Delay);
                loop {
                    rocket::tokio::select! {
                        _ = tick.tick() => {}
                        _ = &mut shutdown => break,
                    }
                    rocket::tokio::select! {
                        _ = reports.refresh_windows(models::now()) => {}
                        _ = &mut shutdown => break,
                    }
                }
            });
        })
    })
}

/// Refreshes busy questions' list counters in the background; stops at shutdown.
fn count_refresher() -> AdHoc {
    AdHoc::on_liftoff("list counter refresher", |rocket| {
        Box::pin(async move {
            let db = rocket.state::<Db>().expect("Db is managed").clone();
            let mut shutdown = rocket.shutdown();
            let refresher = rocket
                .state::<AppState>()
                .expect("AppState is managed")
                .refresher
                .clone();
            rocket::tokio::spawn(async move {
                let mut tick = rocket::tokio::time::interval(refresher.interval());
                loop {
                    rocket::tokio::select! {
                        _ = tick.tick() => {}
                        _ = &mut shutdown => break,
                    }
                    if let Err(e) = refresher.run_pending(&db).await {
                        tracing::warn!(error = %e, "list counter refresh failed");
                    }
                }
            });
        })
    })
}

/// Security headers on every response (Rocket's Shield adds nosniff and the permission policy);
/// HSTS when the site is served over TLS (an `https://` public URL, or secure cookies). No page
/// may be framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) except the embeddable
/// question, which any site may frame ([`frameable`]).
pub struct SecurityHeaders {
    /// Send `Strict-Transport-Security`.
    pub hsts: bool,
    /// The `Content-Security-Policy` value.
    pub csp: String,
    /// The `Content-Security-Policy` of [`frameable`] pages.
    pub csp_framed: String,
}

/// Whether another site may frame this path: only the embeddable question `/q/<id>/embed`.
pub fn frameable(path: &str) -> bool {
    path.strip_prefix("/q/")
        .and_then(|rest| rest.strip_suffix("/embed"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

impl SecurityHeaders {
    /// The headers for a site whose static assets and media may come from other origins (CDNs).
    pub fn new(hsts: bool, static_origin: Option<&str>, media_origin: Option<&str>) -> Self {
        let cdn = static_origin.map(|o| format!(" {o}")).unwrap_or_default();
        let media = media_origin
            .filter(|m| Some(*m) != static_origin)
            .map(|o| format!(" {o}"))
            .unwrap_or_default();
        let csp = |ancestors: &str| {
            format!(
                "default-src 'self'; img-src 'self' data:{cdn}{media}; style-src 'self'{cdn}; \
                 script-src 'self'{cdn}; font-src 'self'{cdn}; connect-src 'self'; \
                 object-src 'none'; frame-ancestors {ancestors}; base-uri 'self'; \
                 form-action 'self'"
            )
        };
        SecurityHeaders {
            hsts,
            csp: csp("'none'"),
            csp_framed: csp("*"),
        }
    }
}

/// The pages that may show a secret (a new token, a reset or login form, TOTP setup, recovery
/// codes, the admin area): answered with `Cache-Control: no-store`.
fn shows_secrets(path: &str) -> bool {
    const PREFIXES: [&str; 7] = [
        "/settings",
        "/login",
        "/signup",
        "/reset",
        "/verify",
        "/auth/",
        "/admin",
    ];
    PREFIXES.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || p.ends_with('/'))
    })
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, resp: &mut Response<'r>) {
        let path = req.uri().path();
        if frameable(path.as_str()) {
            resp.set_header(Header::new(
                "Content-Security-Policy",
                self.csp_framed.clone(),
            ));
        } else {
            resp.set_header(Header::new("Content-Security-Policy", self.csp.clone()));
            resp.set_header(Header::new("X-Frame-Options", "DENY"));
        }
        resp.set_header(Header::new(
            "Referrer-Policy",
            "strict-origin-when-cross-origin",
        ));
        if self.hsts {
            resp.set_header(Header::new(
                "Strict-Transport-Security",
                "max-age=63072000; includeSubDomains",
            ));
        }
        // Static files set their own cache; their errors (a stale hash during a deploy) must not
        // stick in a CDN.
        let static_file =
            req.uri().path().starts_with("/static/") && resp.status().class().is_success();
        if shows_secrets(req.uri().path().as_str()) {
            // A new API token, a reset form, TOTP setup, recovery codes: kept by no cache at all.
            resp.set_header(Header::new("Cache-Control", "no-store"));
        } else if !static_file && resp.headers().get_one("Cache-Control").is_none() {
            // Pages carry per-visitor state (voter cookie, CSRF token): never shared caches.
            // `private` already keeps them out of shared caches, and a browser's own cache holds
            // one visitor's cookies, so `Vary: Cookie` would add nothing.
            resp.set_header(Header::new("Cache-Control", "private, no-cache"));
        }
        if resp
            .content_type()
            .is_some_and(|ct| ct.top() == "text" && ct.sub() == "event-stream")
        {
            // Live results: nginx must pass events through as they come.
            resp.set_header(Header::new("X-Accel-Buffering", "no"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::frameable;

    #[test]
    fn only_the_embed_is_frameable() {
        for path in ["/q/1/embed", "/q/123456/embed"] {
            assert!(frameable(path), "{path}");
        }
        for path in [
            "/",
            "/q/1",
            "/q/1/some-slug",
            "/q//embed",
            "/q/abc/embed",
            "/q/1/embed/",
            "/q/1/embedded",
            "/q/1/2/embed",
            "/api/v1/q/1/embed",
            "/embed/probe",
            "/q/1/embed/../../admin",
        ] {
            assert!(!frameable(path), "{path}");
        }
    }
}
