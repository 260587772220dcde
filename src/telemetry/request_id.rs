//! Request ids: the caller's `X-Request-Id` when it is sane (1 to 64 characters of
//! `[A-Za-z0-9_-]`, as a proxy in front would make), otherwise a new UUID. The id is kept in the
//! request's local cache, echoed in the response and put in the request log and Sentry events.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::request::{FromRequest, Outcome};
use rocket::{Data, Request, Response};

/// The header that carries the id both ways.
pub const HEADER: &str = "X-Request-Id";

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Accepts an incoming id: 1 to 64 characters of ASCII letters, digits, `-` and `_`.
    pub fn parse(s: &str) -> Option<RequestId> {
        let sane = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        sane.then(|| RequestId(s.to_owned()))
    }

    /// A new random id.
    pub fn generate() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string())
    }

    /// The id of `req` (decided once per request).
    pub fn of<'r>(req: &'r Request<'_>) -> &'r RequestId {
        req.local_cache(|| {
            req.headers()
                .get_one(HEADER)
                .and_then(RequestId::parse)
                .unwrap_or_else(RequestId::generate)
        })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r RequestId {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(RequestId::of(req))
    }
}

/// Gives every request its id and echoes it in the `X-Request-Id` response header.
pub struct RequestIds;

#[rocket::async_trait]
impl Fairing for RequestIds {
    fn info(&self) -> Info {
        Info {
            name: "request ids",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        RequestId::of(req);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, resp: &mut Response<'r>) {
        resp.set_header(Header::new(HEADER, RequestId::of(req).as_str().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_taken() {
        assert!(RequestId::parse("abc-DEF_123").is_some());
        assert!(RequestId::parse(&"a".repeat(64)).is_some());
        assert!(RequestId::parse(&"a".repeat(65)).is_none());
        assert!(RequestId::parse("").is_none());
        assert!(RequestId::parse("a b").is_none());
        assert!(RequestId::parse("a\nb").is_none());
        assert!(RequestId::parse("é").is_none());
        let fresh = RequestId::generate();
        assert_eq!(RequestId::parse(fresh.as_str()), Some(fresh));
    }
}
