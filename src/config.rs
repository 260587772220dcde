//! Typed configuration: defaults → `Beebeta.toml` (or `$BEEBETA_CONFIG`) → `BEEBETA_*` environment.
//!
//! Rocket's own settings (`address`, `port`, `workers`, `limits`, `secret_key`, ...) are read from
//! the same layers, on top of Rocket's usual `Rocket.toml` and `ROCKET_*` variables.

use std::path::Path;

use base64::Engine as _;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::{Figment, value::Dict};
use serde::Deserialize;

/// Settings read by Beebeta itself (Rocket reads its own from the same layers).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AppConfig {
    /// `sqlite://PATH` (default `sqlite://beebeta.db`) or `mysql://user:pass@host:port/db`.
    pub database_url: String,
    /// Most pooled database connections.
    pub db_pool_size: u32,
    /// Wait for a free connection before answering 503, in milliseconds.
    pub db_acquire_timeout_ms: u64,
    /// Longest statement, in milliseconds.
    pub db_statement_timeout_ms: u64,
    /// Apply pending migrations at start-up.
    pub migrate_on_start: bool,
    /// Seed demo content into an empty database at start-up; unset means "only on SQLite".
    pub seed_demo: Option<bool>,
    /// New ballots allowed per client network per question per day (`network` protection).
    pub network_votes_per_day: u32,
    /// The site's public base URL, for canonical links and share cards.
    pub public_url: String,
    /// Seconds between hot-rank refreshes (0 disables the background job).
    pub hot_refresh_secs: u64,
    /// Where static assets are served from.
    pub static_dir: String,
    /// Base URL of static assets in pages: `/static`, or a CDN such as `https://cdn.example.com/static`
    /// (`BEEBETA_STATIC_URL`; `static_base_url` is the older name).
    #[serde(alias = "static_base_url")]
    pub static_url: String,
    /// Where uploaded images are stored: `file://<dir>` (embedded default `file://./media`),
    /// `s3://<bucket>/<prefix>` (region and credentials from `AWS_*`) or `memory://` (tests).
    pub media: String,
    /// Base URL of media in pages: `/media` (served by the app from a local store), or a CDN
    /// such as `https://d1234.cloudfront.net`.
    pub media_url: String,
    /// Endpoint of an S3-compatible server (`http://127.0.0.1:9000`); empty for AWS itself.
    pub s3_endpoint: String,
    /// Largest uploaded image file, in bytes.
    pub upload_max_bytes: u64,
    /// Largest upload request (a whole ask form with its images), in bytes.
    pub upload_request_max_bytes: u64,
    /// Most pixels of an uploaded image.
    pub image_max_pixels: u64,
    /// Longest side of an uploaded image, in pixels.
    pub image_max_side: u32,
    /// Images decoded and resized at once (each takes a blocking thread and up to ~4 bytes per
    /// pixel of memory); further uploads wait their turn.
    pub image_workers: usize,
    /// Gzip dynamic text responses (off when a proxy in front compresses them).
    pub compress: bool,
    /// `pretty` or `json` logs.
    pub log_format: String,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info,beebeta=debug`.
    pub log_filter: String,
    /// Where the embedded default keeps its generated secret key.
    pub secret_file: String,
    /// Mark cookies `Secure` and use the `__Host-` session cookie (set when served over TLS).
    pub cookie_secure: bool,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u64,
    /// A session ends this many days after login, whatever its activity.
    pub session_max_days: u64,
    /// Addresses or networks of proxies whose `X-Forwarded-For` / `X-Real-IP` are believed.
    pub trusted_proxies: Vec<String>,
    /// `on` or `off`: all rate limits.
    pub limits: String,
    /// Sign-ups per client address, e.g. `5/hour`.
    pub limits_signup: String,
    /// Login attempts per client address.
    pub limits_login: String,
    /// Password-reset requests per client address.
    pub limits_reset: String,
    /// New questions per account.
    pub limits_ask: String,
    /// Votes per client address.
    pub limits_vote: String,
    /// Image uploads per account.
    pub limits_upload: String,
    /// `memory` (in-process, the embedded default) or `memcache://host1:11211,host2:11211`.
    pub cache: String,
    /// Prefix of every cache key (servers sharing a memcached must share it; tests use their own).
    pub cache_prefix: String,
    /// Size of the in-process cache, in MiB.
    pub cache_memory_mb: u64,
    /// With memcached: how long each app server keeps its own copy of an entry it read (the
    /// near cache), in milliseconds; 0 turns it off.
    pub cache_near_ms: u64,
    /// Size of the `/bench/bare` body, in bytes (0: the route is off). For `bench/run.sh` only.
    pub bench_bare_bytes: usize,
    /// Most live-results streams (`/q/<id>/live`) open at once on one server (503 beyond).
    pub live_max_streams: usize,
    /// Counter rows per question that concurrent votes spread over (1: one row).
    pub vote_count_slots: u16,
    /// A busy question's list counters (`vote_count`, `hot_rank`) are refreshed at most this often.
    pub counts_refresh_ms: u64,
    /// Most votes written in one transaction by a vote writer (group commit).
    pub vote_batch_max: usize,
    /// Most votes waiting for a writer; past it a vote is refused with 503 and `Retry-After`.
    pub vote_queue: usize,
    /// Vote writer threads (MariaDB/MySQL; SQLite always has one).
    pub vote_writers: usize,
    /// How long an admin report is reused per range, in seconds (0: built on every request).
    pub report_cache_secs: u64,
    /// Seconds between background rebuilds of the standard report windows (24 h, 7 d, 30 d),
    /// so no admin waits for them; 0: built on request only.
    pub report_refresh_secs: u64,
    /// How long a report request waits for a report being built before it answers with a
    /// "being prepared" page that refreshes itself (the build goes on).
    pub report_wait_ms: u64,
    /// `log` (default: emails go to the log), or `smtp://user:pass@host:port` / `smtps://...`.
    pub smtp_url: Secret,
    /// The From address of emails.
    pub mail_from: String,
    /// Analytics HTTP endpoint (Mixpanel import format); empty: no HTTP sink.
    pub analytics_url: String,
    /// Token put into every event sent to `analytics_url`. Never logged.
    pub analytics_token: Secret,
    /// Undelivered batches the HTTP sink keeps during an outage (the oldest are dropped beyond).
    pub analytics_max_batches: usize,
    /// Storage URL for hourly gzip JSON-lines event files (`file://<dir>`, `s3://bucket/prefix`);
    /// empty: no files.
    pub events_dir: String,
    /// Write events into the database rollups (what the admin reports read).
    pub events_rollups: bool,
    /// Capacity of the in-memory event queue; beyond it events are dropped (and counted).
    pub events_queue: usize,
    /// Events are batched and handed to the sinks at least this often, in milliseconds.
    pub events_flush_ms: u64,
    /// This server's name in event file names (default `<hostname>-<pid>`).
    pub server_id: String,
    /// The secret key (base64 of 32 or 64 bytes): signs cookies and CSRF tokens. Never logged.
    #[serde(skip_serializing)]
    pub secret_key: Option<Secret>,
    /// Sentry DSN (`BEEBETA_SENTRY_DSN`); unset: no error reporting.
    pub sentry_dsn: Option<Secret>,
    /// Share of error events sent to Sentry, 0.0 to 1.0.
    pub sentry_sample_rate: f32,
    /// Mount `/_sentry/fail/<n>` and `/_sentry/panic`, which fail on purpose (for checking a
    /// Sentry setup and for the tests).
    pub sentry_test_route: bool,
    /// The release reported to Sentry; unset: `beebeta@<crate version>`.
    pub release: Option<String>,
    /// The environment reported to Sentry, e.g. `production` or `staging`.
    pub environment: String,
    /// Comma-separated addresses or networks allowed to read `/metrics` (others get 403); the
    /// client address is resolved through `trusted_proxies`.
    pub metrics_allow: String,
}

/// A secret string that never shows in logs or debug output.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            database_url: "sqlite://beebeta.db".into(),
            db_pool_size: 16,
            db_acquire_timeout_ms: 1000,
            db_statement_timeout_ms: 10_000,
            migrate_on_start: true,
            seed_demo: None,
            network_votes_per_day: 5,
            public_url: "http://127.0.0.1:8000".into(),
            hot_refresh_secs: 300,
            static_dir: "static".into(),
            static_url: "/static".into(),
            media: "file://./media".into(),
            media_url: "/media".into(),
            s3_endpoint: String::new(),
            upload_max_bytes: 5 * 1024 * 1024,
            upload_request_max_bytes: 20 * 1024 * 1024,
            image_max_pixels: 40_000_000,
            image_max_side: 8_000,
            image_workers: 2,
            compress: true,
            log_format: "pretty".into(),
            log_filter: "info,rocket=warn".into(),
            secret_file: "beebeta.secret".into(),
            cookie_secure: false,
            session_idle_minutes: 7 * 24 * 60,
            session_max_days: 30,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            limits: "on".into(),
            limits_signup: "5/hour".into(),
            limits_login: "20/minute".into(),
            limits_reset: "5/hour".into(),
            limits_ask: "20/hour".into(),
            limits_vote: "120/minute".into(),
            limits_upload: "60/hour".into(),
            cache: "memory".into(),
            cache_prefix: "bb".into(),
            cache_memory_mb: 64,
            cache_near_ms: 500,
            live_max_streams: 1000,
            bench_bare_bytes: 0,
            vote_count_slots: 16,
            counts_refresh_ms: 1000,
            vote_batch_max: 128,
            vote_queue: 4096,
            vote_writers: 2,
            report_cache_secs: 120,
            report_refresh_secs: 60,
            report_wait_ms: 1500,
            smtp_url: Secret::new("log"),
            mail_from: "Beebeta <no-reply@beebeta.invalid>".into(),
            analytics_url: String::new(),
            analytics_token: Secret::new(""),
            analytics_max_batches: 100,
            events_dir: String::new(),
            events_rollups: true,
            events_queue: 10_000,
            events_flush_ms: 1000,
            server_id: crate::analytics::default_server_id(),
            secret_key: None,
            sentry_dsn: None,
            sentry_sample_rate: 1.0,
            sentry_test_route: false,
            release: None,
            environment: "production".into(),
            metrics_allow: "127.0.0.1/32,::1/128".into(),
        }
    }
}

impl AppConfig {
    /// Whether this runs on the embedded defaults (SQLite, no servers).
    pub fn is_embedded(&self) -> bool {
        !(self.database_url.starts_with("mysql://") || self.database_url.starts_with("mariadb://"))
    }

    /// Pool settings from this configuration.
    pub fn pool_options(&self) -> crate::db::PoolOptions {
        crate::db::PoolOptions {
            max_size: self.db_pool_size.max(1),
            acquire_timeout: std::time::Duration::from_millis(self.db_acquire_timeout_ms),
            statement_timeout: std::time::Duration::from_millis(self.db_statement_timeout_ms),
        }
    }

    /// The raw bytes of the secret key (decoded from base64 or hex when possible).
    pub fn secret_bytes(&self) -> Vec<u8> {
        let s = self
            .secret_key
            .as_ref()
            .map(|s| s.expose())
            .unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .ok()
            .or_else(|| hex_decode(s))
            .unwrap_or_else(|| s.as_bytes().to_vec())
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Everything needed to build the app: Beebeta's settings and Rocket's figment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Beebeta's settings.
    pub app: AppConfig,
    /// Rocket's configuration (address, port, limits, secret key, template dir, ...).
    pub rocket: Figment,
    /// Warnings found while loading, to log once logging is set up.
    pub notices: Vec<String>,
    /// OAuth2 / OpenID Connect providers (`BEEBETA_OAUTH_<NAME>_*`).
    pub oauth: Vec<crate::auth::oauth::Provider>,
}

/// The Beebeta layers: `Beebeta.toml` (or `$BEEBETA_CONFIG`), then `BEEBETA_*` variables.
pub fn layers() -> Figment {
    let file = std::env::var("BEEBETA_CONFIG").unwrap_or_else(|_| "Beebeta.toml".into());
    Figment::new()
        .merge(Toml::file(file))
        .merge(Env::prefixed("BEEBETA_").ignore(&["CONFIG"]))
}

impl Settings {
    /// Reads the configuration from the file and the environment.
    pub fn load() -> Result<Settings, String> {
        Settings::from_figment(layers())
    }

    /// Builds the settings from Beebeta layers (tests pass their own).
    pub fn from_figment(layers: Figment) -> Result<Settings, String> {
        let mut app: AppConfig = layers
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        let mut dict: Dict = layers
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        // `limits` is Beebeta's rate-limit switch; Rocket's body-size `limits` come from
        // `ROCKET_LIMITS` / `Rocket.toml` instead.
        dict.remove("limits");
        let oauth = crate::auth::oauth::providers::from_layers(&dict)?;
        // Client secrets stay out of Rocket's configuration.
        dict.retain(|k, _| !k.starts_with("oauth_") && k != "sentry_dsn");
        let mut rocket = rocket::Config::figment()
            .merge(Serialized::global("limits", limits(&app)))
            // The client address is resolved by `auth::client_ip` (trusted proxies only).
            .merge(Serialized::global("ip_header", false))
            .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
            .merge(Serialized::globals(dict));
        let mut notices = Vec::new();
        if app.secret_key.is_none() {
            let key = if app.is_embedded() {
                let (key, created) = load_or_create_secret(Path::new(&app.secret_file))?;
                notices.push(format!(
                    "no secret key configured: {} the embedded default's key in {} \
                     (set BEEBETA_SECRET_KEY in production)",
                    if created { "generated" } else { "using" },
                    app.secret_file
                ));
                key
            } else if cfg!(debug_assertions) {
                notices.push(
                    "no secret key configured: using a random one for this process \
                     (cookies will not survive a restart or work across servers)"
                        .into(),
                );
                random_secret()
            } else {
                return Err(
                    "BEEBETA_SECRET_KEY must be set when not running on the embedded \
                            defaults (generate one with `openssl rand -base64 64`)"
                        .into(),
                );
            };
            rocket = rocket.merge(Serialized::global("secret_key", key.expose()));
            app.secret_key = Some(key);
        }
        Ok(Settings {
            app,
            rocket,
            notices,
            oauth,
        })
    }
}

fn limits(app: &AppConfig) -> Dict {
    let mut d = Dict::new();
    // Multipart forms (the ask form with its images, `POST /api/v1/uploads`) and each file in them.
    d.insert("data-form".into(), app.upload_request_max_bytes.into());
    d.insert("file".into(), app.upload_max_bytes.into());
    d.insert("form".into(), "64 KiB".into());
    d.insert("json".into(), "64 KiB".into());
    d.insert("string".into(), "64 KiB".into());
    d
}

fn random_secret() -> Secret {
    let bytes: [u8; 64] = std::array::from_fn(|_| rand::random::<u8>());
    Secret(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Reads the key file, or creates it; the flag says whether it was created.
fn load_or_create_secret(path: &Path) -> Result<(Secret, bool), String> {
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim().to_string();
        if !s.is_empty() {
            return Ok((Secret(s), false));
        }
    }
    let key = random_secret();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    opts.open(path)
        .and_then(|mut f| f.write_all(key.expose().as_bytes()))
        .map_err(|e| format!("cannot write the secret key file {}: {e}", path.display()))?;
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn layers_override_defaults() {
        let fig = Figment::new()
            .merge(("database_url", "sqlite:///tmp/x.db"))
            .merge(("secret_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="))
            .merge(("port", 9999));
        let s = Settings::from_figment(fig).unwrap();
        assert_eq!(s.app.database_url, "sqlite:///tmp/x.db");
        assert_eq!(s.app.network_votes_per_day, 5);
        let rc: rocket::Config = s.rocket.extract().unwrap();
        assert_eq!(rc.port, 9999);
        assert_eq!(rc.limits.get("json").unwrap().as_u64(), 64 * 1024);
    }
}
