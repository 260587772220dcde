//! Typed configuration: defaults → `Beebeta.toml` (or `$BEEBETA_CONFIG`) → `BEEBETA_*` environment.
//!
//! Rocket's own settings (`address`, `port`, `workers`, `limits`, `secret_key`, ...) are read from
//! the same layers, on top of Rocket's usual `Rocket.toml` and `ROCKET_*` variables.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use rocket::figment::Figment;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::value::{Dict, Value};
use serde::Deserialize;

/// Everything Beebeta reads from its layers, grouped by concern; each module is given only its
/// group. The setting names (and so the `BEEBETA_*` variables) are the flat names in each
/// field's documentation.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The site itself: its address, static files, secret key, background refreshes.
    pub site: SiteConfig,
    /// The database and its pool.
    pub database: DatabaseConfig,
    /// The shared cache.
    pub cache: CacheConfig,
    /// Uploaded images and their storage.
    pub media: MediaConfig,
    /// Outgoing email.
    pub mail: MailConfig,
    /// Sessions, cookies, the trusted proxies, OAuth providers.
    pub auth: AuthConfig,
    /// Rate limits.
    pub limits: LimitsConfig,
    /// The vote path: counters, group commit, the network window.
    pub voting: VotingConfig,
    /// Admin reports.
    pub reports: ReportsConfig,
    /// Flags and moderation.
    pub moderation: ModerationConfig,
    /// Analytics events and their sinks.
    pub analytics: AnalyticsConfig,
    /// Logs, Sentry, metrics.
    pub telemetry: TelemetryConfig,
}

/// The site: `public_url`, `static_dir`, `static_url`, `compress`, `secret_key`, `secret_file`,
/// `hot_refresh_secs`, `live_max_streams`, `bench_bare_bytes`, `bench_without_telemetry`,
/// `sitemap_page_size`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SiteConfig {
    /// `public_url`: the site's public base URL, for canonical links and share cards.
    pub public_url: String,
    /// `static_dir`: a folder of static assets to serve instead of the ones inside the binary
    /// (empty: the binary's; a debug build reads the source tree's `static/`).
    pub static_dir: String,
    /// `static_url` (`BEEBETA_STATIC_URL`; `static_base_url` is the older name): base URL of static
    /// assets in pages: `/static`, or a CDN such as `https://cdn.example.com/static`.
    #[serde(alias = "static_base_url")]
    pub static_url: String,
    /// `compress`: gzip dynamic text responses (off when a proxy in front compresses them).
    pub compress: bool,
    /// `secret_key`: base64 of 32 or 64 bytes; signs cookies and CSRF tokens. Never logged.
    #[serde(skip_serializing)]
    pub secret_key: Option<Secret>,
    /// `secret_file`: where the embedded default keeps its generated secret key.
    pub secret_file: String,
    /// `hot_refresh_secs`: seconds between hot-rank refreshes (0 disables the background job).
    pub hot_refresh_secs: u64,
    /// `live_max_streams`: most live-results streams (`/q/<id>/live`) open at once on one server
    /// (503 beyond).
    pub live_max_streams: usize,
    /// `bench_bare_bytes`: size of the `/bench/bare` body, in bytes (0: the route is off). For
    /// `bench/run.sh` only.
    pub bench_bare_bytes: usize,
    /// `bench_without_telemetry`: no request ids, request log, request metrics or error reports
    /// on any request. For `bench/run.sh` only, which measures what they cost on the bare route.
    pub bench_without_telemetry: bool,
    /// `sitemap_page_size`: URLs per sitemap page (`/sitemaps/questions-<n>.xml`), 1 to 50,000
    /// (the protocol's limit, and the default; tests page with fewer).
    pub sitemap_page_size: i64,
}

/// The database: `database_url`, `db_pool_size`, `db_acquire_timeout_ms`,
/// `db_read_timeout_ms`, `db_write_timeout_ms`, `db_statement_timeout_ms`, `migrate_on_start`,
/// `seed_demo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `database_url`: `sqlite://PATH` (default `sqlite://beebeta.db`) or
    /// `mysql://user:pass@host:port/db`.
    #[serde(rename = "database_url")]
    pub url: String,
    /// `db_pool_size`: most pooled database connections, for reads and again for writes.
    #[serde(rename = "db_pool_size")]
    pub pool_size: u32,
    /// `db_acquire_timeout_ms`: wait for a free connection before answering 503.
    #[serde(rename = "db_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
    /// `db_read_timeout_ms`: a read on the request path gives up after this (503 or a saved
    /// copy); MariaDB `max_statement_time` and lock waits, SQLite busy timeout. 0: no limit.
    #[serde(rename = "db_read_timeout_ms")]
    pub read_timeout_ms: u64,
    /// `db_write_timeout_ms`: a write gives up after this and is rolled back (503). 0: no limit.
    #[serde(rename = "db_write_timeout_ms")]
    pub write_timeout_ms: u64,
    /// `db_statement_timeout_ms`: longest statement of background work (reports, rank
    /// refreshes, migrations). 0: no limit.
    #[serde(rename = "db_statement_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// `migrate_on_start`: apply pending migrations at start-up.
    pub migrate_on_start: bool,
    /// `seed_demo`: seed demo content into an empty database at start-up; unset means "only on
    /// SQLite".
    pub seed_demo: Option<bool>,
}

/// The cache: `cache`, `cache_prefix`, `cache_memory_mb`, `cache_near_ms`, `stale_if_error_secs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// `cache`: `memory` (in-process, the embedded default) or
    /// `memcache://host1:11211,host2:11211`.
    #[serde(rename = "cache")]
    pub url: String,
    /// `cache_prefix`: prefix of every cache key (servers sharing a memcached must share it;
    /// tests use their own).
    #[serde(rename = "cache_prefix")]
    pub prefix: String,
    /// `cache_memory_mb`: size of the in-process cache, in MiB.
    #[serde(rename = "cache_memory_mb")]
    pub memory_mb: u64,
    /// `cache_near_ms`: with memcached, how long each app server keeps its own copy of an entry
    /// it read (the near cache); 0 turns it off.
    #[serde(rename = "cache_near_ms")]
    pub near_ms: u64,
    /// `stale_if_error_secs`: when the database fails, anonymous pages and API reads are served
    /// from cached data at most this old (with a "saved copy" note and `Age`). 0: never.
    pub stale_if_error_secs: u64,
    /// `cache_search_secs`: how long a page of search results and the search box's
    /// suggestions are served from the cache; 0: every search goes to the database (the
    /// benchmark's search target measures it so).
    #[serde(rename = "cache_search_secs")]
    pub search_secs: u64,
}

/// Media: `media`, `media_url`, `s3_endpoint`, `upload_max_bytes`, `upload_request_max_bytes`,
/// `image_max_pixels`, `image_max_side`, `image_workers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MediaConfig {
    /// `media`: where uploaded images are stored: `file://<dir>` (embedded default
    /// `file://./media`), `s3://<bucket>/<prefix>` (region and credentials from `AWS_*`) or
    /// `memory://` (tests).
    #[serde(rename = "media")]
    pub store: String,
    /// `media_url`: base URL of media in pages: `/media` (served by the app from a local store),
    /// or a CDN such as `https://d1234.cloudfront.net`.
    #[serde(rename = "media_url")]
    pub url: String,
    /// `s3_endpoint`: endpoint of an S3-compatible server (`http://127.0.0.1:9000`); empty for
    /// AWS itself.
    pub s3_endpoint: String,
    /// `upload_max_bytes`: largest uploaded image file, in bytes.
    pub upload_max_bytes: u64,
    /// `upload_request_max_bytes`: largest upload request (a whole ask form with its images).
    pub upload_request_max_bytes: u64,
    /// `image_max_pixels`: most pixels of an uploaded image.
    pub image_max_pixels: u64,
    /// `image_max_side`: longest side of an uploaded image, in pixels.
    pub image_max_side: u32,
    /// `image_workers`: images decoded and resized at once (each takes a blocking thread and up
    /// to ~4 bytes per pixel of memory); further uploads wait their turn.
    pub image_workers: usize,
}

/// Mail: `smtp_url`, `mail_from`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// `smtp_url`: `smtp://user:pass@host:port` / `smtps://...`, or `log` (emails, links
    /// included, go to the server log). Unset: `log` on the embedded default only; a server on
    /// MySQL refuses to start without it (sign-up and reset links must not land in logs unasked).
    pub smtp_url: Secret,
    /// `mail_from`: the From address of emails.
    #[serde(rename = "mail_from")]
    pub from: String,
}

/// Accounts and the client address: `cookie_secure`, `session_idle_minutes`, `session_max_days`,
/// `trusted_proxies`, `client_ip_header`, and the OAuth providers (`oauth_<name>_<field>`, see
/// `auth::oauth::providers`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// `cookie_secure`: mark cookies `Secure` and use the `__Host-` session cookie. Unset, it
    /// follows `public_url`: on for `https://`.
    pub cookie_secure: bool,
    /// `session_idle_minutes`: a session ends after this many minutes without a request.
    pub session_idle_minutes: u64,
    /// `session_max_days`: a session ends this many days after login, whatever its activity.
    pub session_max_days: u64,
    /// `trusted_proxies`: addresses or networks of proxies whose `X-Forwarded-For` /
    /// `X-Real-IP` are believed: a list, or one comma-separated value
    /// (`BEEBETA_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8`).
    #[serde(deserialize_with = "list_or_commas")]
    pub trusted_proxies: Vec<String>,
    /// `client_ip_header`: the one header the trusted proxies set to the client's address
    /// (`X-Real-IP`; `X-Forwarded-For` takes its rightmost hop that is not a proxy); any other
    /// header a client sends is ignored.
    pub client_ip_header: String,
    /// The `oauth_<name>_<field>` settings as given, by provider name; `auth::oauth` checks them
    /// and builds the clients.
    #[serde(skip)]
    pub oauth: Vec<OAuthSettings>,
}

/// One OAuth provider's settings as written (`BEEBETA_OAUTH_<NAME>_<FIELD>`), not yet checked.
#[derive(Debug, Clone, Default)]
pub struct OAuthSettings {
    /// The provider's name, lowercase (`github`, `google`, `corp-sso`).
    pub name: String,
    /// `client_id`, `client_secret`, `issuer`, `kind`, `label`, `auth_url`, `token_url`,
    /// `userinfo_url`: those given.
    pub fields: BTreeMap<&'static str, Secret>,
}

/// Rate limits: `limits` (`on`/`off`), `limits_signup`, `limits_login`, `limits_reset`,
/// `limits_ask`, `limits_vote`, `limits_upload`, `limits_search`, `limits_suggest`,
/// `limits_flag` (each like
/// `5/hour`), and
/// `live_streams_per_client`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// `limits`: `on` or `off`: all rate limits.
    #[serde(rename = "limits")]
    pub switch: String,
    /// `limits_signup`: sign-ups per client address, e.g. `5/hour`.
    #[serde(rename = "limits_signup")]
    pub signup: String,
    /// `limits_login`: login attempts per client address.
    #[serde(rename = "limits_login")]
    pub login: String,
    /// `limits_reset`: password-reset requests per client address.
    #[serde(rename = "limits_reset")]
    pub reset: String,
    /// `limits_ask`: new questions per account.
    #[serde(rename = "limits_ask")]
    pub ask: String,
    /// `limits_vote`: votes per client address.
    #[serde(rename = "limits_vote")]
    pub vote: String,
    /// `limits_upload`: image uploads per account.
    #[serde(rename = "limits_upload")]
    pub upload: String,
    /// `limits_search`: searches (the search page and the API's `?q=`) per client address.
    #[serde(rename = "limits_search")]
    pub search: String,
    /// `limits_suggest`: the search box's suggestions (one per pause in typing) per client
    /// address.
    #[serde(rename = "limits_suggest")]
    pub suggest: String,
    /// `limits_flag`: flags on questions per client address.
    #[serde(rename = "limits_flag")]
    pub flag: String,
    /// `live_streams_per_client`: live-results streams one client address may hold open on one
    /// server at once (0: no cap).
    pub live_streams_per_client: usize,
}

/// The vote path: `network_votes_per_day`, `vote_count_slots`, `counts_refresh_ms`,
/// `vote_batch_max`, `vote_queue`, `vote_writers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct VotingConfig {
    /// `network_votes_per_day`: new ballots allowed per client network per question per day
    /// (`network` protection).
    pub network_votes_per_day: u32,
    /// `vote_count_slots`: counter rows per question that concurrent votes spread over (1: one
    /// row).
    #[serde(rename = "vote_count_slots")]
    pub count_slots: u16,
    /// `counts_refresh_ms`: a busy question's list counters (`vote_count`, `hot_rank`) are
    /// refreshed at most this often.
    pub counts_refresh_ms: u64,
    /// `vote_batch_max`: most votes written in one transaction by a vote writer (group commit).
    #[serde(rename = "vote_batch_max")]
    pub batch_max: usize,
    /// `vote_queue`: most votes waiting for a writer; past it a vote is refused with 503 and
    /// `Retry-After`.
    #[serde(rename = "vote_queue")]
    pub queue: usize,
    /// `vote_writers`: vote writer threads (MariaDB/MySQL; SQLite always has one).
    #[serde(rename = "vote_writers")]
    pub writers: usize,
}

/// Flags and moderation: `flags_hide_threshold`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ModerationConfig {
    /// `flags_hide_threshold`: a question with open flags from this many distinct trusted
    /// accounts (a verified email, not banned) is hidden pending review (0: never).
    pub flags_hide_threshold: u32,
}

/// Admin reports: `report_cache_secs`, `report_refresh_secs`, `report_wait_ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReportsConfig {
    /// `report_cache_secs`: how long an admin report is reused per range (0: built on every
    /// request).
    #[serde(rename = "report_cache_secs")]
    pub cache_secs: u64,
    /// `report_refresh_secs`: seconds between background rebuilds of the standard report windows
    /// (24 h, 7 d, 30 d), so no admin waits for them; 0: built on request only.
    #[serde(rename = "report_refresh_secs")]
    pub refresh_secs: u64,
    /// `report_wait_ms`: how long a report request waits for a report being built before it
    /// answers with a "being prepared" page that refreshes itself (the build goes on).
    #[serde(rename = "report_wait_ms")]
    pub wait_ms: u64,
}

/// Analytics: `analytics_url`, `analytics_token`, `analytics_max_batches`, `events_dir`,
/// `events_rollups`, `events_queue`, `events_flush_ms`, `server_id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AnalyticsConfig {
    /// `analytics_url`: analytics HTTP endpoint (Mixpanel import format); empty: no HTTP sink.
    #[serde(rename = "analytics_url")]
    pub url: String,
    /// `analytics_token`: token put into every event sent to `analytics_url`. Never logged.
    #[serde(rename = "analytics_token")]
    pub token: Secret,
    /// `analytics_max_batches`: undelivered batches the HTTP sink keeps during an outage (the
    /// oldest are dropped beyond).
    #[serde(rename = "analytics_max_batches")]
    pub max_batches: usize,
    /// `events_dir`: storage URL for hourly gzip JSON-lines event files (`file://<dir>`,
    /// `s3://bucket/prefix`); empty: no files.
    pub events_dir: String,
    /// `events_rollups`: write events into the database rollups (what the admin reports read).
    pub events_rollups: bool,
    /// `events_queue`: capacity of the in-memory event queue; beyond it events are dropped (and
    /// counted).
    pub events_queue: usize,
    /// `events_flush_ms`: events are batched and handed to the sinks at least this often.
    pub events_flush_ms: u64,
    /// `server_id`: this server's name in event file names (default `<hostname>-<pid>`).
    pub server_id: String,
}

/// Logs, errors and metrics: `log_format`, `log_filter`, `sentry_dsn`, `sentry_sample_rate`,
/// `sentry_test_route`, `release`, `environment`, `metrics_allow`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// `log_format`: `pretty` or `json` logs.
    pub log_format: String,
    /// `log_filter`: log filter (tracing `EnvFilter` syntax), e.g. `info,beebeta=debug`.
    pub log_filter: String,
    /// `sentry_dsn` (`BEEBETA_SENTRY_DSN`); unset: no error reporting.
    pub sentry_dsn: Option<Secret>,
    /// `sentry_sample_rate`: share of error events sent to Sentry, 0.0 to 1.0.
    pub sentry_sample_rate: f32,
    /// `sentry_test_route`: mount `/_sentry/fail/<n>` and `/_sentry/panic`, which fail on
    /// purpose (for checking a Sentry setup and for the tests).
    pub sentry_test_route: bool,
    /// `release`: the release reported to Sentry; unset: `beebeta@<crate version>`.
    pub release: Option<String>,
    /// `environment`: the environment reported to Sentry, e.g. `production` or `staging`.
    pub environment: String,
    /// `metrics_allow`: comma-separated addresses or networks allowed to read `/metrics`
    /// (others get 403); the client address is resolved through `trusted_proxies`.
    pub metrics_allow: String,
}

/// A list setting given as a list (`["a", "b"]` in a file or variable) or as one comma-separated
/// value (`a,b`, what an environment variable usually holds).
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(d)? {
        ListOrText::List(items) => items,
        ListOrText::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
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

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            public_url: "http://127.0.0.1:8000".into(),
            static_dir: String::new(),
            static_url: "/static".into(),
            compress: true,
            secret_key: None,
            secret_file: "beebeta.secret".into(),
            hot_refresh_secs: 300,
            live_max_streams: 1000,
            bench_bare_bytes: 0,
            bench_without_telemetry: false,
            sitemap_page_size: 50_000,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://beebeta.db".into(),
            pool_size: 16,
            acquire_timeout_ms: 1000,
            read_timeout_ms: 2000,
            write_timeout_ms: 5000,
            statement_timeout_ms: 10_000,
            migrate_on_start: true,
            seed_demo: None,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            url: "memory".into(),
            prefix: "bb".into(),
            memory_mb: 64,
            near_ms: 500,
            stale_if_error_secs: 600,
            search_secs: 30,
        }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            store: "file://./media".into(),
            url: "/media".into(),
            s3_endpoint: String::new(),
            upload_max_bytes: 5 * 1024 * 1024,
            // An ask form with an image on the question and on each of 10 choices: 11 × 5 MB.
            upload_request_max_bytes: 64 * 1024 * 1024,
            image_max_pixels: 40_000_000,
            image_max_side: 8_000,
            image_workers: 2,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: Secret::new(""),
            from: "Beebeta <no-reply@beebeta.invalid>".into(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            cookie_secure: false,
            session_idle_minutes: 7 * 24 * 60,
            session_max_days: 30,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            client_ip_header: "X-Real-IP".into(),
            oauth: Vec::new(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            switch: "on".into(),
            signup: "5/hour".into(),
            login: "20/minute".into(),
            reset: "5/hour".into(),
            ask: "20/hour".into(),
            vote: "120/minute".into(),
            upload: "60/hour".into(),
            search: "30/minute".into(),
            suggest: "120/minute".into(),
            flag: "10/hour".into(),
            live_streams_per_client: 4,
        }
    }
}

impl Default for VotingConfig {
    fn default() -> Self {
        VotingConfig {
            network_votes_per_day: 5,
            count_slots: 16,
            counts_refresh_ms: 1000,
            batch_max: 128,
            queue: 4096,
            writers: 2,
        }
    }
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            cache_secs: 120,
            refresh_secs: 60,
            wait_ms: 1500,
        }
    }
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            flags_hide_threshold: 3,
        }
    }
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            url: String::new(),
            token: Secret::new(""),
            max_batches: 100,
            events_dir: String::new(),
            events_rollups: true,
            events_queue: 10_000,
            events_flush_ms: 1000,
            server_id: default_server_id(),
        }
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            log_format: "pretty".into(),
            log_filter: "info,rocket=warn,rocket::launch=error".into(),
            sentry_dsn: None,
            sentry_sample_rate: 1.0,
            sentry_test_route: false,
            release: None,
            environment: "production".into(),
            metrics_allow: "127.0.0.1/32,::1/128".into(),
        }
    }
}

/// A default server id: `<hostname>-<pid>`.
pub fn default_server_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}", std::process::id())
}

impl DatabaseConfig {
    /// Whether this is the embedded default (SQLite, no servers).
    pub fn is_embedded(&self) -> bool {
        !(self.url.starts_with("mysql://") || self.url.starts_with("mariadb://"))
    }
}

impl SiteConfig {
    /// Whether the site is served over TLS (its public URL is `https://`).
    pub fn is_https(&self) -> bool {
        self.public_url
            .trim()
            .to_ascii_lowercase()
            .starts_with("https://")
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
    pub app: Config,
    /// Rocket's configuration (address, port, limits, secret key, template dir, ...).
    pub rocket: Figment,
    /// Warnings found while loading, to log once logging is set up.
    pub notices: Vec<String>,
}

/// The Beebeta layers: `Beebeta.toml` (or `$BEEBETA_CONFIG`), then `BEEBETA_*` variables.
pub fn layers() -> Figment {
    let file = std::env::var("BEEBETA_CONFIG").unwrap_or_else(|_| "Beebeta.toml".into());
    Figment::new()
        .merge(Toml::file(file))
        .merge(Env::prefixed("BEEBETA_").ignore(&["CONFIG"]))
}

impl Config {
    /// Reads every group from the same flat layers (each takes the names it knows; figment's
    /// errors name the offending setting).
    pub fn from_figment(layers: &Figment) -> Result<Config, String> {
        fn group<T: serde::de::DeserializeOwned>(layers: &Figment) -> Result<T, String> {
            layers
                .extract()
                .map_err(|e| format!("invalid configuration: {e}"))
        }
        let dict: Dict = group(layers)?;
        let mut auth: AuthConfig = group(layers)?;
        auth.oauth = oauth_settings(&dict)?;
        Ok(Config {
            site: group(layers)?,
            database: group(layers)?,
            cache: group(layers)?,
            media: group(layers)?,
            mail: group(layers)?,
            auth,
            limits: group(layers)?,
            voting: group(layers)?,
            reports: group(layers)?,
            moderation: group(layers)?,
            analytics: group(layers)?,
            telemetry: group(layers)?,
        })
    }
}

/// The fields of an OAuth provider's settings (`oauth_<name>_<field>`).
const OAUTH_FIELDS: &[&str] = &[
    "client_id",
    "client_secret",
    "issuer",
    "kind",
    "label",
    "auth_url",
    "token_url",
    "userinfo_url",
];

/// Groups every `oauth_<name>_<field>` key of the layers by provider name.
fn oauth_settings(dict: &Dict) -> Result<Vec<OAuthSettings>, String> {
    let mut by_name: BTreeMap<String, BTreeMap<&'static str, Secret>> = BTreeMap::new();
    for (key, value) in dict {
        let Some(rest) = key.strip_prefix("oauth_") else {
            continue;
        };
        let Some(field) = OAUTH_FIELDS
            .iter()
            .find(|f| rest.ends_with(&format!("_{f}")))
        else {
            return Err(format!("unknown OAuth setting `{key}`"));
        };
        let name = &rest[..rest.len() - field.len() - 1];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("invalid OAuth provider name in `{key}`"));
        }
        let text = match value {
            Value::String(_, s) => s.clone(),
            Value::Num(_, n) => n
                .to_u128()
                .map(|n| n.to_string())
                .ok_or_else(|| format!("`{key}` must be text"))?,
            _ => return Err(format!("`{key}` must be text")),
        };
        by_name
            .entry(name.to_lowercase())
            .or_default()
            .insert(field, Secret::new(text));
    }
    Ok(by_name
        .into_iter()
        .map(|(name, fields)| OAuthSettings { name, fields })
        .collect())
}

impl Settings {
    /// Reads the configuration from the file and the environment.
    pub fn load() -> Result<Settings, String> {
        Settings::from_figment(layers())
    }

    /// Builds the settings from Beebeta layers (tests pass their own).
    pub fn from_figment(layers: Figment) -> Result<Settings, String> {
        let mut app = Config::from_figment(&layers)?;
        let mut dict: Dict = layers
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        // `limits` is Beebeta's rate-limit switch; Rocket's body-size `limits` come from
        // `ROCKET_LIMITS` / `Rocket.toml` instead.
        dict.remove("limits");
        // Client secrets stay out of Rocket's configuration.
        dict.retain(|k, _| !k.starts_with("oauth_") && k != "sentry_dsn");
        let rocket = rocket::Config::figment()
            .merge(Serialized::global("limits", limits(&app.media)))
            // The client address is resolved by `auth::client_ip` (trusted proxies only).
            .merge(Serialized::global("ip_header", false))
            .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
            .merge(Serialized::globals(dict));
        let mut notices = Vec::new();
        if layers.find_value("cookie_secure").is_err() {
            app.auth.cookie_secure = app.site.is_https();
        }
        if layers.find_value("public_url").is_err() {
            // Not configured: the address the server listens on, so links work where it runs.
            let invalid = |e: rocket::figment::Error| format!("invalid configuration: {e}");
            let address: std::net::IpAddr = rocket.extract_inner("address").map_err(invalid)?;
            let port: u16 = rocket.extract_inner("port").map_err(invalid)?;
            app.site.public_url = listening_url(address, port);
            if !app.database.is_embedded() || address.is_unspecified() {
                notices.push(format!(
                    "public_url is not set: links and share cards use {} (set \
                     BEEBETA_PUBLIC_URL to the site's public address)",
                    app.site.public_url
                ));
            }
        }
        Ok(Settings {
            app,
            rocket,
            notices,
        })
    }
}

impl Settings {
    /// Settings a server can run with: the site's secret key (which signs cookies and CSRF
    /// tokens, the same on every server of the site) is the configured one; without one, the
    /// embedded default keeps a generated key in `secret_file`, a debug build on MySQL makes a
    /// random one for the process, and a release build on MySQL refuses to serve. Other commands
    /// (`migrate`, `generate`, ...) need no key.
    pub fn for_serving(mut self) -> Result<Settings, String> {
        if self.app.site.is_https() && !self.app.auth.cookie_secure && !cfg!(debug_assertions) {
            return Err(
                "public_url is https:// but cookie_secure is false: session and voter \
                        cookies would also travel over plain HTTP. Remove BEEBETA_COOKIE_SECURE \
                        (it follows the public URL) or set it to true"
                    .into(),
            );
        }
        if self.app.mail.smtp_url.expose().trim().is_empty() && !self.app.database.is_embedded() {
            return Err(
                "BEEBETA_SMTP_URL is not set: sign-up and password-reset links need a mail \
                 server (smtp://user:pass@host:587?tls=required). To write emails, links \
                 included, to the server log instead, set BEEBETA_SMTP_URL=log explicitly"
                    .into(),
            );
        }
        if self.app.site.secret_key.is_some() {
            return Ok(self);
        }
        let site = &self.app.site;
        let key = if self.app.database.is_embedded() {
            let (key, created) = load_or_create_secret(Path::new(&site.secret_file))?;
            tracing::warn!(
                "no secret key configured: {} the embedded default's key in {} (set \
                 BEEBETA_SECRET_KEY in production)",
                if created { "generated" } else { "using" },
                site.secret_file
            );
            key
        } else if cfg!(debug_assertions) {
            tracing::warn!(
                "no secret key configured: using a random one for this process (cookies will \
                 not survive a restart or work across servers)"
            );
            random_secret()
        } else {
            return Err(
                "BEEBETA_SECRET_KEY must be set when not running on the embedded \
                        defaults (generate one with `openssl rand -base64 64`)"
                    .into(),
            );
        };
        self.rocket = self
            .rocket
            .merge(Serialized::global("secret_key", key.expose()));
        self.app.site.secret_key = Some(key);
        Ok(self)
    }
}

/// `http://<address>:<port>` of a listening socket; an unspecified address (`0.0.0.0`, `::`)
/// becomes the loopback one.
fn listening_url(address: std::net::IpAddr, port: u16) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let host = match address {
        IpAddr::V4(a) if a.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    match host {
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("http://{v4}:{port}"),
    }
}

fn limits(media: &MediaConfig) -> Dict {
    let mut d = Dict::new();
    // Multipart forms (the ask form with its images, `POST /api/v1/uploads`) and each file in them.
    d.insert("data-form".into(), media.upload_request_max_bytes.into());
    d.insert("file".into(), media.upload_max_bytes.into());
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
    fn every_setting_keeps_its_flat_name() {
        let toml = r#"
            public_url = "https://polls.example"
            static_dir = "/srv/static"
            static_base_url = "https://cdn.example/static"
            compress = false
            secret_file = "/tmp/k"
            hot_refresh_secs = 7
            live_max_streams = 8
            bench_bare_bytes = 9
            bench_without_telemetry = true
            database_url = "sqlite:///tmp/a.db"
            db_pool_size = 10
            db_acquire_timeout_ms = 11
            db_statement_timeout_ms = 12
            db_read_timeout_ms = 21
            db_write_timeout_ms = 22
            stale_if_error_secs = 23
            migrate_on_start = false
            seed_demo = true
            cache = "memcache://h:1"
            cache_prefix = "p"
            cache_memory_mb = 13
            cache_near_ms = 14
            media = "memory://"
            media_url = "https://m.example"
            s3_endpoint = "http://s3"
            upload_max_bytes = 15
            upload_request_max_bytes = 16
            image_max_pixels = 17
            image_max_side = 18
            image_workers = 19
            smtp_url = "smtp://x"
            mail_from = "a@b.c"
            cookie_secure = true
            session_idle_minutes = 20
            session_max_days = 21
            trusted_proxies = ["10.0.0.1"]
            client_ip_header = "X-Forwarded-For"
            oauth_github_client_id = "gh"
            limits = "off"
            limits_signup = "1/hour"
            limits_login = "2/hour"
            limits_reset = "3/hour"
            limits_ask = "4/hour"
            limits_vote = "5/hour"
            limits_upload = "6/hour"
            limits_search = "7/hour"
            limits_suggest = "8/hour"
            limits_flag = "9/hour"
            flags_hide_threshold = 5
            live_streams_per_client = 34
            network_votes_per_day = 22
            vote_count_slots = 23
            counts_refresh_ms = 24
            vote_batch_max = 25
            vote_queue = 26
            vote_writers = 27
            report_cache_secs = 28
            report_refresh_secs = 29
            report_wait_ms = 30
            analytics_url = "http://a"
            analytics_token = "t"
            analytics_max_batches = 31
            events_dir = "file:///tmp/e"
            events_rollups = false
            events_queue = 32
            events_flush_ms = 33
            server_id = "s1"
            log_format = "json"
            log_filter = "debug"
            sentry_dsn = "https://k@sentry.example/1"
            sentry_sample_rate = 0.5
            sentry_test_route = true
            release = "r1"
            environment = "staging"
            metrics_allow = "10.0.0.0/8"
        "#;
        let c = Config::from_figment(&Figment::from(Toml::string(toml))).unwrap();
        let site = &c.site;
        assert_eq!(
            (
                site.public_url.as_str(),
                site.static_dir.as_str(),
                site.static_url.as_str()
            ),
            (
                "https://polls.example",
                "/srv/static",
                "https://cdn.example/static"
            )
        );
        assert_eq!(
            (
                site.compress,
                site.secret_file.as_str(),
                site.hot_refresh_secs
            ),
            (false, "/tmp/k", 7)
        );
        assert_eq!(
            (
                site.live_max_streams,
                site.bench_bare_bytes,
                site.bench_without_telemetry
            ),
            (8, 9, true)
        );
        let db = &c.database;
        assert_eq!(
            (
                db.url.as_str(),
                db.pool_size,
                db.acquire_timeout_ms,
                db.statement_timeout_ms
            ),
            ("sqlite:///tmp/a.db", 10, 11, 12)
        );
        assert_eq!((db.read_timeout_ms, db.write_timeout_ms), (21, 22));
        assert_eq!(c.cache.stale_if_error_secs, 23);
        assert_eq!((db.migrate_on_start, db.seed_demo), (false, Some(true)));
        let cache = &c.cache;
        assert_eq!(
            (
                cache.url.as_str(),
                cache.prefix.as_str(),
                cache.memory_mb,
                cache.near_ms
            ),
            ("memcache://h:1", "p", 13, 14)
        );
        let m = &c.media;
        assert_eq!(
            (m.store.as_str(), m.url.as_str(), m.s3_endpoint.as_str()),
            ("memory://", "https://m.example", "http://s3")
        );
        assert_eq!(
            (
                m.upload_max_bytes,
                m.upload_request_max_bytes,
                m.image_max_pixels
            ),
            (15, 16, 17)
        );
        assert_eq!((m.image_max_side, m.image_workers), (18, 19));
        assert_eq!(
            (c.mail.smtp_url.expose(), c.mail.from.as_str()),
            ("smtp://x", "a@b.c")
        );
        let a = &c.auth;
        assert_eq!(
            (a.cookie_secure, a.session_idle_minutes, a.session_max_days),
            (true, 20, 21)
        );
        assert_eq!(a.trusted_proxies, vec!["10.0.0.1".to_string()]);
        assert_eq!(a.client_ip_header, "X-Forwarded-For");
        assert_eq!(a.oauth[0].name, "github");
        assert_eq!(a.oauth[0].fields["client_id"].expose(), "gh");
        let l = &c.limits;
        assert_eq!(
            [
                &l.switch, &l.signup, &l.login, &l.reset, &l.ask, &l.vote, &l.upload, &l.search,
                &l.suggest
            ],
            [
                "off", "1/hour", "2/hour", "3/hour", "4/hour", "5/hour", "6/hour", "7/hour",
                "8/hour"
            ]
        );
        assert_eq!(l.live_streams_per_client, 34);
        assert_eq!(l.flag, "9/hour");
        assert_eq!(c.moderation.flags_hide_threshold, 5);
        let v = &c.voting;
        assert_eq!(
            (v.network_votes_per_day, v.count_slots, v.counts_refresh_ms),
            (22, 23, 24)
        );
        assert_eq!((v.batch_max, v.queue, v.writers), (25, 26, 27));
        let r = &c.reports;
        assert_eq!((r.cache_secs, r.refresh_secs, r.wait_ms), (28, 29, 30));
        let an = &c.analytics;
        assert_eq!(
            (an.url.as_str(), an.token.expose(), an.max_batches),
            ("http://a", "t", 31)
        );
        assert_eq!(
            (an.events_dir.as_str(), an.events_rollups, an.events_queue),
            ("file:///tmp/e", false, 32)
        );
        assert_eq!((an.events_flush_ms, an.server_id.as_str()), (33, "s1"));
        let t = &c.telemetry;
        assert_eq!(
            (t.log_format.as_str(), t.log_filter.as_str()),
            ("json", "debug")
        );
        assert_eq!(
            t.sentry_dsn.as_ref().map(Secret::expose),
            Some("https://k@sentry.example/1")
        );
        assert_eq!((t.sentry_sample_rate, t.sentry_test_route), (0.5, true));
        assert_eq!(
            (
                t.release.as_deref(),
                t.environment.as_str(),
                t.metrics_allow.as_str()
            ),
            (Some("r1"), "staging", "10.0.0.0/8")
        );
        let c = Config::from_figment(&Figment::from(Toml::string(
            "trusted_proxies = \"127.0.0.1, 10.0.0.0/8\"",
        )))
        .unwrap();
        assert_eq!(c.auth.trusted_proxies, ["127.0.0.1", "10.0.0.0/8"]);
        // Both names of the static URL setting work.
        let c = Config::from_figment(&Figment::from(Toml::string("static_url = \"/s\""))).unwrap();
        assert_eq!(c.site.static_url, "/s");
    }

    #[test]
    fn a_bad_value_names_its_setting() {
        let e = Config::from_figment(&Figment::from(Toml::string("db_pool_size = \"many\"")))
            .unwrap_err();
        assert!(e.contains("db_pool_size"), "{e}");
    }

    #[test]
    fn secure_cookies_follow_an_https_public_url() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
        let with = |toml: &str| {
            let fig = Figment::from(Toml::string(toml)).merge(("secret_key", key));
            Settings::from_figment(fig).unwrap()
        };
        let https = with("public_url = \"https://polls.example\"");
        assert!(https.app.auth.cookie_secure);
        assert!(https.app.site.is_https());
        assert!(
            !with("public_url = \"http://polls.example\"")
                .app
                .auth
                .cookie_secure
        );
        assert!(
            !with("").app.auth.cookie_secure,
            "the listening address is http"
        );
        let explicit = with("public_url = \"http://x.example\"\ncookie_secure = true");
        assert!(explicit.app.auth.cookie_secure);
        let insecure = with("public_url = \"https://polls.example\"\ncookie_secure = false");
        assert!(!insecure.app.auth.cookie_secure);
        // A release build refuses to serve like that; a debug build (tests, development) may.
        assert_eq!(insecure.for_serving().is_err(), !cfg!(debug_assertions));
    }

    #[test]
    fn the_log_mailer_is_refused_outside_the_embedded_default_unless_chosen() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
        let with = |toml: &str| {
            let fig = Figment::from(Toml::string(toml)).merge(("secret_key", key));
            Settings::from_figment(fig).unwrap()
        };
        let mysql = "database_url = \"mysql://u@db.example/beebeta\"\n";
        let err = with(mysql).for_serving().unwrap_err();
        assert!(err.contains("BEEBETA_SMTP_URL"), "{err}");
        assert!(
            with(&format!("{mysql}smtp_url = \"log\""))
                .for_serving()
                .is_ok()
        );
        assert!(
            with(&format!("{mysql}smtp_url = \"smtp://mail.example:587\""))
                .for_serving()
                .is_ok()
        );
        assert!(
            with("").for_serving().is_ok(),
            "the embedded default logs emails"
        );
    }

    #[test]
    fn the_public_url_follows_the_listening_address_unless_set() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
        let at = |port: u16, address: &str| {
            let fig = Figment::new()
                .merge(("secret_key", key))
                .merge(("port", port))
                .merge(("address", address));
            Settings::from_figment(fig).unwrap().app.site.public_url
        };
        assert_eq!(at(9123, "127.0.0.1"), "http://127.0.0.1:9123");
        assert_eq!(at(80, "0.0.0.0"), "http://127.0.0.1:80");
        assert_eq!(at(8001, "::"), "http://[::1]:8001");
        let fig = Figment::new()
            .merge(("secret_key", key))
            .merge(("port", 9123))
            .merge(("public_url", "https://polls.example"));
        let s = Settings::from_figment(fig).unwrap();
        assert_eq!(s.app.site.public_url, "https://polls.example");
    }

    #[test]
    fn layers_override_defaults() {
        let fig = Figment::new()
            .merge(("database_url", "sqlite:///tmp/x.db"))
            .merge(("secret_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="))
            .merge(("port", 9999));
        let s = Settings::from_figment(fig).unwrap();
        assert_eq!(s.app.database.url, "sqlite:///tmp/x.db");
        assert_eq!(s.app.voting.network_votes_per_day, 5);
        let rc: rocket::Config = s.rocket.extract().unwrap();
        assert_eq!(rc.port, 9999);
        assert_eq!(rc.limits.get("json").unwrap().as_u64(), 64 * 1024);
    }
}
