//! CSRF defences. HTML forms carry a token bound to the voter cookie (compared in constant time)
//! and must come from our own origin when the browser says where they come from. JSON API calls
//! must be `Content-Type: application/json`, which a cross-site form cannot send without CORS.

use rocket::data::{Data, FromData, Outcome};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::request::Request;
use rocket::serde::json::Json;
use serde::de::DeserializeOwned;

use crate::auth::Keys;
use crate::auth::voter::Voter;
use crate::config::Config;
use crate::error::set_failure_reason;

/// Whether a form failed because its body was over Rocket's limit: Rocket reports that as an
/// `InvalidLength` of the whole form (no field name), with a status other than 413.
pub fn body_over_limit(errors: &rocket::form::Errors<'_>) -> bool {
    errors.iter().any(cut_at_limit)
}

/// Whether one form error is the body's cut at the size limit (see [`body_over_limit`]).
pub fn cut_at_limit(e: &rocket::form::Error<'_>) -> bool {
    e.name.is_none()
        && matches!(
            e.kind,
            rocket::form::error::ErrorKind::InvalidLength { max: Some(_), .. }
        )
}

/// A form that carries a CSRF token field named `csrf_token`.
pub trait CsrfProtected {
    /// The submitted token.
    fn csrf_token(&self) -> &str;

    /// Whether the body was cut off at the size limit before the form could be read whole (only
    /// a form that keeps what arrived, like the ask form, can say so; the others fail to parse).
    fn cut_at_limit(&self) -> bool {
        false
    }
}

/// Implements [`CsrfProtected`] for a form struct whose token is its `csrf_token: Option<String>`
/// field (a missing token is an empty one, which never matches).
macro_rules! csrf_protected {
    ($form:ident $(<$lt:lifetime>)?) => {
        impl $crate::auth::CsrfProtected for $form $(<$lt>)? {
            fn csrf_token(&self) -> &str {
                self.csrf_token.as_deref().unwrap_or("")
            }
        }
    };
}
pub(crate) use csrf_protected;

/// A form whose CSRF token and origin were checked; anything else is a 403.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// Whether the request's Origin (or Referer) names this site: the `Host` it was sent to or the
/// configured public URL. Requests with neither header pass (the token still binds them).
fn same_origin(req: &Request<'_>) -> bool {
    let claimed = req
        .headers()
        .get_one("Origin")
        .or_else(|| req.headers().get_one("Referer"));
    let Some(url) = claimed else { return true };
    let Some(claimed_host) = host_of(url) else {
        return false;
    };
    let public = req
        .rocket()
        .state::<Config>()
        .and_then(|c| host_of(&c.site.public_url).map(str::to_string));
    let host = req.headers().get_one("Host");
    [host, public.as_deref()]
        .into_iter()
        .flatten()
        .any(|h| h.eq_ignore_ascii_case(claimed_host))
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CsrfForm<T>
where
    T: FromForm<'r> + CsrfProtected + Send + 'r,
{
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let form = match Form::<T>::from_data(req, data).await {
            Outcome::Success(f) => f.into_inner(),
            Outcome::Forward(f) => return Outcome::Forward(f),
            Outcome::Error((status, errors)) => {
                let what = errors
                    .iter()
                    .next()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                if body_over_limit(&errors) {
                    return too_large(req);
                }
                set_failure_reason(
                    req,
                    "invalid_form",
                    format!("The form could not be read: {what}"),
                );
                return Outcome::Error((status, ()));
            }
        };
        let keys = req.rocket().state::<Keys>().expect("Keys are managed");
        let valid = Voter::identify(req)
            .await
            .is_some_and(|v| keys.verify_csrf(&v.csrf_binding(), form.csrf_token()));
        if !valid && form.cut_at_limit() {
            // Cut off before even its token arrived: too large, not forged.
            return too_large(req);
        }
        if !valid || !same_origin(req) {
            set_failure_reason(
                req,
                "csrf_failed",
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            );
            return Outcome::Error((Status::Forbidden, ()));
        }
        Outcome::Success(CsrfForm(form))
    }
}

/// A form over its size limit: 413, saying the limit.
fn too_large<'r, T: FromData<'r, Error = ()>>(req: &'r Request<'_>) -> Outcome<'r, T> {
    let multipart = req.content_type().is_some_and(|c| c.is_form_data());
    let limit = req
        .limits()
        .get(if multipart { "data-form" } else { "form" });
    let message = match limit {
        Some(l) if multipart => format!(
            "The form is too large: at most {} MB with its images.",
            l.as_u64() / (1024 * 1024)
        ),
        _ => "The form is too large.".to_string(),
    };
    set_failure_reason(req, "invalid_form", message);
    Outcome::Error((Status::PayloadTooLarge, ()))
}

/// CSRF check for state-changing API calls that may carry no JSON body (DELETE, uploads).
/// Requests with a bearer token pass (no ambient credentials); JSON requests pass (a cross-site
/// page cannot send them without a CORS preflight); requests without cookies pass (nothing to
/// ride on). Any other cookie-authenticated request must send the page's CSRF token in an
/// `X-CSRF-Token` header and come from our origin; otherwise 403.
#[derive(Debug, Clone, Copy)]
pub struct ApiCsrf;

/// The header that carries the CSRF token of cookie-authenticated, non-JSON API requests.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for ApiCsrf {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, ()> {
        use rocket::request::Outcome;
        let bearer = req
            .headers()
            .get_one("Authorization")
            .is_some_and(|a| a.starts_with("Bearer "));
        if bearer || req.content_type().is_some_and(|ct| ct.is_json()) {
            return Outcome::Success(ApiCsrf);
        }
        let Some(voter) = Voter::identify(req).await else {
            return Outcome::Success(ApiCsrf);
        };
        let keys = req.rocket().state::<Keys>().expect("Keys are managed");
        let token = req.headers().get_one(CSRF_HEADER).unwrap_or("");
        if keys.verify_csrf(&voter.csrf_binding(), token) && same_origin(req) {
            return Outcome::Success(ApiCsrf);
        }
        set_failure_reason(
            req,
            "csrf_failed",
            "Cookie-authenticated API requests that are not JSON must send the page's CSRF token \
             in the X-CSRF-Token header (or authenticate with a bearer token).",
        );
        Outcome::Error((Status::Forbidden, ()))
    }
}

/// A JSON body, accepted only with `Content-Type: application/json`; errors become clear 4xx JSON.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + Send + 'r> FromData<'r> for JsonBody<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        if !req.content_type().is_some_and(|ct| ct.is_json()) {
            set_failure_reason(
                req,
                "unsupported_media_type",
                "Send the body as JSON with `Content-Type: application/json`.",
            );
            return Outcome::Error((Status::UnsupportedMediaType, ()));
        }
        match Json::<T>::from_data(req, data).await {
            Outcome::Success(j) => Outcome::Success(JsonBody(j.into_inner())),
            Outcome::Forward(f) => Outcome::Forward(f),
            Outcome::Error((status, e)) => {
                let (status, code, message) = match e {
                    rocket::serde::json::Error::Io(io)
                        if io.kind() == std::io::ErrorKind::UnexpectedEof
                            || status == Status::PayloadTooLarge =>
                    {
                        (
                            Status::PayloadTooLarge,
                            "payload_too_large",
                            "The body is too large.".to_string(),
                        )
                    }
                    rocket::serde::json::Error::Io(io) => (
                        Status::BadRequest,
                        "invalid_json",
                        format!("The body could not be read: {io}"),
                    ),
                    rocket::serde::json::Error::Parse(_, err) if err.is_data() => (
                        Status::UnprocessableEntity,
                        "invalid_body",
                        format!("The JSON does not have the expected shape: {err}"),
                    ),
                    rocket::serde::json::Error::Parse(_, err) => (
                        Status::BadRequest,
                        "invalid_json",
                        format!("The body is not valid JSON: {err}"),
                    ),
                };
                set_failure_reason(req, code, message);
                Outcome::Error((status, ()))
            }
        }
    }
}
