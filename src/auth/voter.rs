//! The anonymous voter: a random id in a private (encrypted and signed) long-lived cookie.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::time::Duration;

use crate::auth::Keys;

/// Name of the voter cookie.
pub const VOTER_COOKIE: &str = "bb_voter";

/// The visitor as a voter; the cookie is set on first need.
#[derive(Debug, Clone)]
pub struct Voter {
    id: String,
}

impl Voter {
    /// The key stored on ballots.
    pub fn key(&self) -> String {
        format!("c:{}", self.id)
    }

    /// The CSRF token of this voter's forms.
    pub fn csrf_token(&self, keys: &Keys) -> String {
        keys.csrf_token(&self.key())
    }

    /// Reads the voter from the cookie jar without creating one.
    pub fn existing(jar: &CookieJar<'_>) -> Option<Voter> {
        let c = jar.get_private(VOTER_COOKIE)?;
        uuid::Uuid::parse_str(c.value())
            .ok()
            .map(|u| Voter { id: u.to_string() })
    }

    fn create(jar: &CookieJar<'_>, secure: bool) -> Voter {
        let id = uuid::Uuid::new_v4().to_string();
        let cookie = Cookie::build((VOTER_COOKIE, id.clone()))
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(Duration::days(400));
        jar.add_private(cookie);
        Voter { id }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Voter {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let jar = req.cookies();
        let voter = Voter::existing(jar)
            .unwrap_or_else(|| Voter::create(jar, req.rocket().config().tls_enabled()));
        Outcome::Success(voter)
    }
}
