//! Who votes: a logged-in account, or an anonymous visitor identified by a random id in a
//! private (encrypted and signed) long-lived cookie, set on first need.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::time::Duration;

use crate::auth::Keys;
use crate::auth::session;

/// Name of the anonymous voter cookie.
pub const VOTER_COOKIE: &str = "bb_voter";

/// The caller as a voter.
#[derive(Debug, Clone)]
pub enum Voter {
    /// An anonymous visitor with a voter cookie.
    Cookie {
        /// The random id in the cookie.
        id: String,
        /// The cookie was issued by this request: this voter has no ballot anywhere yet.
        new: bool,
    },
    /// A logged-in user.
    Account {
        /// The user.
        user_id: i64,
        /// Whether their email is verified.
        verified: bool,
        /// Their session (CSRF tokens are bound to it).
        session_id: String,
    },
}

impl Voter {
    /// The key stored on ballots: `c:<uuid>` or `u:<user id>`.
    pub fn key(&self) -> String {
        match self {
            Voter::Cookie { id, .. } => format!("c:{id}"),
            Voter::Account { user_id, .. } => format!("u:{user_id}"),
        }
    }

    /// [`Voter::key`] when this voter may have ballots: `None` for a visitor whose cookie was
    /// issued by this very request, which saves reading pages a ballot lookup that cannot match.
    pub fn ballot_key(&self) -> Option<String> {
        match self {
            Voter::Cookie { new: true, .. } => None,
            _ => Some(self.key()),
        }
    }

    /// The account, if logged in.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Voter::Account { user_id, .. } => Some(*user_id),
            Voter::Cookie { .. } => None,
        }
    }

    /// Whether the voter is a logged-in user with a verified email.
    pub fn verified(&self) -> bool {
        matches!(self, Voter::Account { verified: true, .. })
    }

    /// What this voter's CSRF tokens are bound to: the session, or the voter cookie.
    pub fn csrf_binding(&self) -> String {
        match self {
            Voter::Cookie { id, .. } => format!("c:{id}"),
            Voter::Account { session_id, .. } => format!("s:{session_id}"),
        }
    }

    /// The CSRF token of this voter's forms.
    pub fn csrf_token(&self, keys: &Keys) -> String {
        keys.csrf_token(&self.csrf_binding())
    }

    /// The anonymous voter id in the cookie jar, if any (whether or not someone is logged in).
    pub fn cookie_id(jar: &CookieJar<'_>) -> Option<String> {
        let c = jar.get_private(VOTER_COOKIE)?;
        uuid::Uuid::parse_str(c.value()).ok().map(|u| u.to_string())
    }

    /// The caller as a voter, without creating a cookie.
    pub async fn identify(req: &Request<'_>) -> Option<Voter> {
        if let Some(u) = session::current(req).await {
            return Some(Voter::Account {
                user_id: u.user.id,
                verified: u.verified(),
                session_id: u.session_id,
            });
        }
        if session::token_refusal(req).is_some() {
            // A refused API token never falls back to the cookie's anonymous voter.
            return None;
        }
        Voter::cookie_id(req.cookies()).map(|id| Voter::Cookie { id, new: false })
    }

    fn create(jar: &CookieJar<'_>, secure: bool, framed: bool) -> Voter {
        let id = uuid::Uuid::new_v4().to_string();
        let cookie = Cookie::build((VOTER_COOKIE, id.clone()))
            .path("/")
            .http_only(true)
            .secure(secure)
            .max_age(Duration::days(400));
        // A page framed by another site gets its cookie back only if it is `SameSite=None`,
        // which browsers take only with `Secure`; `Partitioned` (CHIPS) keeps it for that site's
        // frames alone, and is what browsers that block third-party cookies still accept.
        let cookie = match framed && secure {
            true => cookie.same_site(SameSite::None).partitioned(true),
            false => cookie.same_site(SameSite::Lax),
        };
        jar.add_private(cookie);
        Voter::Cookie { id, new: true }
    }

    /// Whether the site is configured to set `Secure` cookies (served over https).
    fn secure_cookies(req: &Request<'_>) -> bool {
        req.rocket()
            .state::<crate::config::Config>()
            .is_some_and(|c| c.auth.cookie_secure)
    }
}

/// Whether the browser says this request comes from another site's page (`Sec-Fetch-Site:
/// cross-site`): a frame on another site, or a link from one.
pub fn cross_site(req: &Request<'_>) -> bool {
    req.headers()
        .get_one("Sec-Fetch-Site")
        .is_some_and(|s| s.eq_ignore_ascii_case("cross-site"))
}

/// The caller as a voter if they are one already: a session or a voter cookie (never sets a
/// cookie).
#[derive(Debug, Clone)]
pub struct KnownVoter(pub Option<Voter>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for KnownVoter {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(KnownVoter(Voter::identify(req).await))
    }
}

/// The voter of a page shown in another site's frame (`/q/<id>/embed`): like [`Voter`], but a
/// new cookie is issued with the attributes a third-party frame needs (`SameSite=None; Secure;
/// Partitioned`, when the site is on https and the request is cross-site). Where the browser
/// still refuses it, the next request comes without it: see [`Voter::identify`].
#[derive(Debug, Clone)]
pub struct EmbedVoter(pub Voter);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for EmbedVoter {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if let Some(v) = Voter::identify(req).await {
            return Outcome::Success(EmbedVoter(v));
        }
        let secure = Voter::secure_cookies(req);
        let voter = Voter::create(req.cookies(), secure, cross_site(req));
        Outcome::Success(EmbedVoter(voter))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Voter {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if let Some(v) = Voter::identify(req).await {
            return Outcome::Success(v);
        }
        // A refused API token is not an anonymous visitor.
        if let Some((status, code, message)) = session::token_refusal(req) {
            crate::error::set_failure_reason(req, code, message);
            return Outcome::Error((status, ()));
        }
        let secure = Voter::secure_cookies(req);
        Outcome::Success(Voter::create(req.cookies(), secure, false))
    }
}
