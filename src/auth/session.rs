//! Sessions: a random token in a cookie, its SHA-256 as the key of a `sessions` row. Any app
//! server can check it; deleting the row revokes it. Idle and absolute expiry; a new token at
//! every login (no fixation).

use base64::Engine as _;
use chrono::{Duration, NaiveDateTime};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use sha2::{Digest, Sha256};

use crate::config::{AuthConfig, Config};
use crate::db::Db;
use crate::domain::{Scope, Scopes, TokenLifetime};
use crate::error::set_failure_reason;
use crate::models::session::{self, SessionRow};
use crate::models::user::UserRow;
use crate::models::{self};
use crate::models::{api_token, security_event};

/// Update `last_seen_at` at most this often.
const TOUCH_EVERY_SECS: i64 = 300;

/// The session cookie's name: `__Host-` prefixed when cookies are Secure (served over TLS).
pub fn cookie_name(cfg: &AuthConfig) -> &'static str {
    if cfg.cookie_secure {
        "__Host-bb_session"
    } else {
        "bb_session"
    }
}

/// SHA-256 (hex) of a token: what the database stores.
pub fn token_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random session token (256 bits).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How long a login (or a confirmation at `/confirm`) counts as recent for sensitive changes.
pub const REAUTH_MINUTES: i64 = 10;

/// The logged-in user of this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: UserRow,
    /// The session's id (hash of the token), or `t:<token id>` for an API token.
    pub session_id: String,
    /// An API token's scopes; `None` for a browser session (which may do everything).
    pub scopes: Option<Scopes>,
    /// When a browser session's user last proved who they are; `None` for an API token.
    pub authenticated_at: Option<NaiveDateTime>,
}

impl CurrentUser {
    /// Whether the email address was verified.
    pub fn verified(&self) -> bool {
        self.user.email_verified_at.is_some()
    }

    /// Whether this is a browser session whose user proved who they are in the last
    /// [`REAUTH_MINUTES`].
    pub fn recently_authenticated(&self, now: NaiveDateTime) -> bool {
        self.authenticated_at
            .is_some_and(|at| now - at <= Duration::minutes(REAUTH_MINUTES))
    }
}

/// Why this request's API token was not accepted: the status and error the guards answer with.
#[derive(Debug, Clone, Default)]
struct TokenRefused(Option<(Status, &'static str, &'static str)>);

/// Records why the request's token is refused (for [`token_refusal`]).
fn refuse_token(req: &Request<'_>, status: Status, code: &'static str, message: &'static str) {
    req.local_cache(|| TokenRefused(Some((status, code, message))));
}

/// When the request carried an API token that was refused: the status, code and message its
/// identity guards answer with (a refused token never falls back to another identity).
pub fn token_refusal(req: &Request<'_>) -> Option<(Status, &'static str, &'static str)> {
    req.local_cache(TokenRefused::default).0
}

/// API tokens are accepted under the API only: never by an HTML page or `/admin`.
fn takes_tokens(path: &str) -> bool {
    path.starts_with("/api/v1/")
}

/// Looks the session up once per request (cached), touching it now and then. Under `/api/v1/`
/// an `Authorization: Bearer` token is the caller instead of the cookie.
pub async fn current(req: &Request<'_>) -> Option<CurrentUser> {
    req.local_cache_async(async {
        let cfg = &req.rocket().state::<Config>()?.auth;
        let db = req.rocket().state::<Db>()?;
        if let Some(auth) = req.headers().get_one("Authorization")
            && takes_tokens(req.uri().path().as_str())
        {
            return bearer(req, db, auth).await;
        }
        let token = req.cookies().get(cookie_name(cfg))?.value().to_string();
        if token.len() > 100 {
            return None;
        }
        let id = token_id(&token);
        let now = models::now();
        let idle_since = now - Duration::minutes(cfg.session_idle_minutes as i64);
        let lookup_id = id.clone();
        let found = db
            .run(move |c| Ok(session::find_active(c, &lookup_id, now, idle_since)?))
            .await
            .inspect_err(|e| unknown_if_unavailable(req, e))
            .ok()
            .flatten();
        let (s, user) = found?;
        if (now - s.last_seen_at).num_seconds() > TOUCH_EVERY_SECS {
            // Best effort and off the request: a database slow to write never delays the page.
            let (db, sid) = (db.clone(), s.id.clone());
            rocket::tokio::spawn(async move {
                let _ = db.write(move |c| Ok(session::touch(c, &sid, now)?)).await;
            });
        }
        Some(CurrentUser {
            user,
            session_id: id,
            scopes: None,
            authenticated_at: Some(s.authenticated()),
        })
    })
    .await
    .clone()
}

/// Set when the visitor's session or token could not be looked up because the database is
/// unavailable: they are anonymous for this request, and a page that needs a login answers 503
/// (try again) rather than asking them to log in.
#[derive(Debug, Default, Clone, Copy)]
struct IdentityUnknown(bool);

fn unknown_if_unavailable(req: &Request<'_>, e: &crate::AppError) {
    if matches!(e, crate::AppError::DbUnavailable(_)) {
        req.local_cache(|| IdentityUnknown(true));
    }
}

/// The answer of a guard that needs a login when there is none: 503 when who the visitor is
/// could not be looked up (the database is unavailable), else 401.
fn login_required(req: &Request<'_>) -> Status {
    if req.local_cache(IdentityUnknown::default).0 {
        req.local_cache(|| crate::error::DbOutage(true));
        set_failure_reason(
            req,
            "unavailable",
            "We cannot reach our database just now, so we cannot tell who you are. Please try \
             again in a few seconds.",
        );
        Status::ServiceUnavailable
    } else {
        set_failure_reason(req, "login_required", "Please log in to continue.");
        Status::Unauthorized
    }
}

/// A personal API token from `Authorization: Bearer <token>`: live, unexpired, of an unbanned
/// user, with the scope this request needs. A refused token is recorded ([`token_refusal`]) and
/// the request has no user.
async fn bearer(req: &Request<'_>, db: &Db, header: &str) -> Option<CurrentUser> {
    let invalid = |req| {
        refuse_token(
            req,
            Status::Unauthorized,
            "invalid_token",
            "The API token is not valid: it is unknown, revoked or expired.",
        )
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 100)
    else {
        invalid(req);
        return None;
    };
    let hash = token_id(token);
    let found = db
        .run(move |c| Ok(api_token::find(c, &hash)?))
        .await
        .inspect_err(|e| unknown_if_unavailable(req, e))
        .ok()
        .flatten();
    let now = models::now();
    let Some((row, user)) = found else {
        invalid(req);
        return None;
    };
    let dead = row.revoked_at.is_some() || row.expires_at.is_none_or(|at| at <= now);
    if dead
        && row
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() > 60)
    {
        // Into the owner's security log (at most once a minute per token): a revoked token in
        // use is a leaked one.
        let origin = crate::auth::client_ip::origin_of(req);
        let (uid, tid, name) = (user.id, row.id, row.name.clone());
        let _ = db
            .write(move |c| {
                api_token::touch(c, tid, now)?;
                security_event::create(
                    c,
                    uid,
                    security_event::Kind::RevokedTokenUsed.as_str(),
                    Some(&name),
                    &origin,
                    now,
                )?;
                Ok(())
            })
            .await;
        tracing::warn!(target: "security", user = uid, token = tid, event = "revoked_token_used", "a revoked or expired API token was used");
    }
    if dead || user.banned_at.is_some() {
        invalid(req);
        return None;
    }
    // Stored scopes were checked when the token was made; an unreadable row allows nothing.
    let Ok(scopes) = Scopes::parse([row.scopes.as_str()]) else {
        invalid(req);
        return None;
    };
    let needed = Scope::for_request(req.method().as_str(), req.uri().path().as_str());
    if !scopes.allows(needed) {
        refuse_token(
            req,
            Status::Forbidden,
            "insufficient_scope",
            "The API token may not do this (see its scopes in your settings).",
        );
        return None;
    }
    if row
        .last_used_at
        .is_none_or(|t| (now - t).num_seconds() > TOUCH_EVERY_SECS)
    {
        let db = db.clone();
        rocket::tokio::spawn(async move {
            let _ = db
                .write(move |c| Ok(api_token::touch(c, row.id, now)?))
                .await;
        });
    }
    Some(CurrentUser {
        user,
        session_id: format!("t:{}", row.id),
        scopes: Some(scopes),
        authenticated_at: None,
    })
}

/// Creates a personal API token for a user; returns the token (shown once, never stored).
pub async fn create_api_token(
    db: &Db,
    user_id: i64,
    name: &str,
    scopes: Scopes,
    lifetime: TokenLifetime,
) -> crate::AppResult<String> {
    let token = format!("bb_{}", new_token());
    let hash = token_id(&token);
    let hint: String = token.chars().take(10).collect();
    let name = name.trim().chars().take(64).collect::<String>();
    let now = models::now();
    let expires_at = now + Duration::days(i64::from(lifetime.days()));
    db.write(move |c| {
        let new = api_token::NewApiToken {
            user_id,
            name: &name,
            token_hash: &hash,
            hint: &hint,
            scopes: &scopes.as_string(),
            created_at: now,
            expires_at,
        };
        Ok(api_token::create(c, &new)?)
    })
    .await?;
    Ok(token)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match current(req).await {
            Some(u) => Outcome::Success(u),
            None => match token_refusal(req) {
                Some((status, code, message)) => {
                    set_failure_reason(req, code, message);
                    Outcome::Error((status, ()))
                }
                None => Outcome::Error((login_required(req), ())),
            },
        }
    }
}

/// The failure code that sends an admin without two-factor authentication to enrol (see the
/// catchers).
pub const TWO_FACTOR_REQUIRED: &str = "two_factor_required";

/// A logged-in admin with two-factor authentication on; others get 403 (an admin without it is
/// sent to enrol first) and anonymous visitors a login redirect.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match current(req).await {
            Some(u) if u.user.is_admin() && u.user.two_factor() => Outcome::Success(AdminUser(u)),
            Some(u) if u.user.is_admin() => {
                set_failure_reason(
                    req,
                    TWO_FACTOR_REQUIRED,
                    "Admins use two-factor authentication: turn it on to continue.",
                );
                Outcome::Error((Status::Forbidden, ()))
            }
            Some(_) => {
                set_failure_reason(req, "forbidden", "This area is for admins.");
                Outcome::Error((Status::Forbidden, ()))
            }
            None => Outcome::Error((login_required(req), ())),
        }
    }
}

/// Logging in and out in this request: the cookie jar, the browser's `User-Agent` (recorded with a
/// new session for the sessions list), and the database and settings sessions live in.
pub struct Sessions<'r> {
    db: &'r Db,
    cfg: &'r AuthConfig,
    jar: &'r CookieJar<'r>,
    user_agent: Option<String>,
    origin: security_event::Origin,
}

impl Sessions<'_> {
    /// Starts a session for `user_id` (row and cookie); returns its id.
    pub async fn start(&self, user_id: i64) -> crate::AppResult<String> {
        start(
            self.db,
            self.cfg,
            self.jar,
            user_id,
            self.user_agent.clone(),
        )
        .await
    }

    /// Ends `user`'s current session (row and cookie).
    pub async fn end(&self, user: &CurrentUser) -> crate::AppResult<()> {
        end(self.db, self.cfg, self.jar, user).await
    }

    /// Removes the session cookie from this browser (after its session ended elsewhere).
    pub fn forget(&self) {
        self.jar
            .remove(Cookie::build(cookie_name(self.cfg)).path("/"));
    }

    /// The anonymous voter id in this browser's cookie, whose ballots a login adopts.
    pub fn cookie_voter(&self) -> Option<String> {
        crate::auth::Voter::cookie_id(self.jar)
    }

    /// The request's cookies.
    pub fn jar(&self) -> &CookieJar<'_> {
        self.jar
    }

    /// Where the request came from, for the security log.
    pub fn origin(&self) -> security_event::Origin {
        self.origin.clone()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Sessions<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let (Some(db), Some(cfg)) = (req.rocket().state::<Db>(), req.rocket().state::<Config>())
        else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        Outcome::Success(Sessions {
            db,
            cfg: &cfg.auth,
            jar: req.cookies(),
            user_agent: req.headers().get_one("User-Agent").map(str::to_string),
            origin: crate::auth::client_ip::origin_of(req),
        })
    }
}

/// Starts a session for `user`: stores it and sets the cookie. Returns the session id.
pub async fn start(
    db: &Db,
    cfg: &AuthConfig,
    jar: &CookieJar<'_>,
    user_id: i64,
    user_agent: Option<String>,
) -> crate::AppResult<String> {
    let token = new_token();
    let id = token_id(&token);
    let now = models::now();
    let row = SessionRow {
        id: id.clone(),
        user_id,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::days(cfg.session_max_days as i64),
        user_agent: user_agent.map(|ua| ua.chars().take(255).collect()),
        authenticated_at: Some(now),
    };
    db.write(move |c| Ok(session::create(c, &row)?)).await?;
    let cookie = Cookie::build((cookie_name(cfg), token))
        .path("/")
        .http_only(true)
        .secure(cfg.cookie_secure)
        .same_site(SameSite::Lax)
        .max_age(rocket::time::Duration::days(cfg.session_max_days as i64));
    jar.add(cookie);
    Ok(id)
}

/// Ends the current session: deletes its row and the cookie.
pub async fn end(
    db: &Db,
    cfg: &AuthConfig,
    jar: &CookieJar<'_>,
    user: &CurrentUser,
) -> crate::AppResult<()> {
    let (uid, sid) = (user.user.id, user.session_id.clone());
    db.write(move |c| Ok(session::delete(c, uid, &sid)?))
        .await?;
    jar.remove(Cookie::build(cookie_name(cfg)).path("/"));
    Ok(())
}
