//! Builds the Rocket: managed state, fairings, routes, catchers. `main` and the tests both call
//! [`build`].

use std::time::Duration;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::fs::{FileServer, Options};
use rocket::http::Header;
use rocket::{Build, Request, Response, Rocket};
use rocket_dyn_templates::Template;

use crate::auth::Keys;
use crate::config::{AppConfig, Settings};
use crate::db::{Backend, Db};
use crate::models;
use crate::routes;

/// Opens the database, applies migrations, seeds the demo when configured, and assembles the app.
pub fn build(settings: Settings) -> Result<Rocket<Build>, String> {
    let Settings {
        app: cfg,
        rocket: figment,
        ..
    } = settings;
    let db = Db::connect(&cfg.database_url, &cfg.pool_options())?;
    if cfg.migrate_on_start {
        let n = db.migrate()?;
        if n > 0 {
            tracing::info!(applied = n, "database migrations applied");
        }
    }
    maybe_seed(&db, &cfg)?;
    let keys = Keys::new(&cfg.secret_bytes());
    let limits = crate::limits::Limits::from_config(&cfg)?;
    let mailer = crate::mail::Mailer::from_config(&cfg)?;
    let proxies = crate::auth::client_ip::TrustedProxies::parse(&cfg.trusted_proxies)?;
    let static_dir = cfg.static_dir.clone();
    let rocket = rocket::custom(figment)
        .manage(db)
        .manage(keys)
        .manage(limits)
        .manage(mailer)
        .manage(proxies)
        .manage(cfg.clone())
        .attach(crate::compress::Compression {
            enabled: cfg.compress,
        })
        .attach(crate::telemetry::RequestLog)
        .attach(Template::fairing())
        .attach(SecurityHeaders {
            hsts: cfg.cookie_secure,
        })
        .attach(hot_rank_refresher(cfg.hot_refresh_secs))
        .mount("/", routes::html())
        .mount(routes::api::BASE, routes::api::routes())
        .mount(
            "/static",
            FileServer::new(static_dir, Options::None).rank(20),
        )
        .register("/", routes::catchers::all())
        .register("/api", routes::catchers::all());
    Ok(rocket)
}

fn maybe_seed(db: &Db, cfg: &AppConfig) -> Result<(), String> {
    let wanted = cfg.seed_demo.unwrap_or(db.backend() == Backend::Sqlite);
    if !wanted {
        return Ok(());
    }
    let empty = db
        .run_blocking(|c| Ok(crate::cli::seed::is_empty(c)?))
        .map_err(|e| format!("cannot inspect the database: {e:?}"))?;
    if empty {
        let n = crate::cli::seed::seed_demo(db)
            .map_err(|e| format!("cannot seed demo content: {e:?}"))?;
        tracing::info!(questions = n, "seeded demo content into the empty database");
    }
    Ok(())
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
                        .write(|c| Ok(models::question::refresh_hot_ranks(c, models::now())?))
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

/// Security headers on every response (Rocket's Shield adds nosniff, frame and permission policy);
/// HSTS when the site is served over TLS (`cookie_secure`).
pub struct SecurityHeaders {
    /// Send `Strict-Transport-Security`.
    pub hsts: bool,
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
        resp.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ));
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
        if !req.uri().path().starts_with("/static/")
            && resp.headers().get_one("Cache-Control").is_none()
        {
            // Pages carry per-visitor state (voter cookie, CSRF token): never shared caches.
            resp.set_header(Header::new("Cache-Control", "private, no-cache"));
        }
    }
}
