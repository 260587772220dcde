//! Error catchers: the site's error page for HTML routes and `{"error":{...}}` under `/api`.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{Catcher, catch, catchers};

use crate::auth::reauth::REAUTH_REQUIRED;
use crate::auth::session::TWO_FACTOR_REQUIRED;
use crate::error::{self, AppError, FailureReason};
use crate::routes::params;

/// A rendered error for a status, with the failing guard's reason when there is one.
pub struct CaughtError(Status);

impl<'r> Responder<'r, 'static> for CaughtError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.0;
        let reason = req.local_cache(FailureReason::default).0.clone();
        let enrol = reason
            .as_ref()
            .is_some_and(|(c, _)| *c == TWO_FACTOR_REQUIRED);
        if status == Status::Forbidden && enrol && !error::wants_json(req) {
            // An admin without two-factor authentication turns it on first, then comes back.
            let next = if req.method() == rocket::http::Method::Get {
                req.uri().to_string()
            } else {
                "/admin".to_string()
            };
            let target = format!(
                "/settings/two-factor?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return rocket::response::Redirect::to(target).respond_to(req);
        }
        if status == Status::Unauthorized && !error::wants_json(req) {
            // Pages that need an account send the visitor to log in (or, for a sensitive change,
            // to confirm it is them), and back afterwards.
            let reauth = reason.as_ref().is_some_and(|(c, _)| *c == REAUTH_REQUIRED);
            let next = if req.method() == rocket::http::Method::Get {
                req.uri().to_string()
            } else if reauth {
                "/settings".to_string()
            } else {
                "/".to_string()
            };
            let target = format!(
                "/{}?next={}",
                if reauth { "confirm" } else { "login" },
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return rocket::response::Redirect::to(target).respond_to(req);
        }
        if reason.is_none() && params::is_bad_question_id(status, req) {
            let missing = AppError::NotFound("There is no such question.".into());
            return missing.respond_to(req);
        }
        let (code, message) =
            reason.unwrap_or_else(|| (default_code(status), default_message(status).to_string()));
        let outage = req.local_cache(error::DbOutage::default).0;
        if status.code >= 500 && !outage {
            tracing::error!(status = status.code, path = %req.uri().path(), "request failed");
        }
        let mut resp = error::render(req, status, code, &message)?;
        if outage {
            resp.set_raw_header("Retry-After", error::DB_RETRY_AFTER_SECS.to_string());
        }
        if status == Status::TooManyRequests && resp.headers().get_one("Retry-After").is_none() {
            resp.set_raw_header("Retry-After", "60");
        }
        Ok(Response::build_from(resp).finalize())
    }
}

fn default_code(status: Status) -> &'static str {
    match status.code {
        400 => "bad_request",
        401 => "login_required",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid_input",
        429 => "rate_limited",
        503 => "unavailable",
        _ if status.code >= 500 => "internal",
        _ => "error",
    }
}

fn default_message(status: Status) -> &'static str {
    match status.code {
        400 => "The request could not be understood.",
        401 => "Please log in to continue.",
        403 => "You are not allowed to do that.",
        404 => "We could not find that page. It may have been removed, or the link is wrong.",
        405 => "That method is not allowed here.",
        413 => "The request is too large.",
        415 => "The request body is not in a format this address accepts.",
        422 => "Some of the submitted values are not valid.",
        429 => "Too many requests. Please wait a moment and try again.",
        503 => "The site is busy or a service is unavailable. Please try again shortly.",
        _ if status.code >= 500 => "Something went wrong on our side. Please try again.",
        _ => "The request failed.",
    }
}

#[catch(default)]
fn any(status: Status, _req: &Request<'_>) -> CaughtError {
    CaughtError(status)
}

/// The catchers, registered at `/` (HTML) and `/api` (JSON); the responder picks the format.
pub fn all() -> Vec<Catcher> {
    catchers![any]
}
