//! Error catchers: the site's error page for HTML routes and `{"error":{...}}` under `/api`.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{Catcher, catch, catchers};
use rocket_dyn_templates::{Template, context};

use crate::auth::reauth::REAUTH_REQUIRED;
use crate::auth::session::TWO_FACTOR_REQUIRED;
use crate::error::{self, AppError, FailureReason, Link};
use crate::routes::params;
use crate::routes::viewer::Viewer;

/// A rendered error for a status, with the failing guard's reason (or the handler's error) when
/// there is one, for the visitor who asked (`None` for API calls; for a server error, only as far
/// as the request had looked them up).
pub struct CaughtError(Status, Option<Viewer>);

impl<'r> Responder<'r, 'static> for CaughtError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let CaughtError(status, viewer) = self;
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
        let (status, reason) = if reason.is_none() && params::is_bad_question_id(status, req) {
            let missing = AppError::NotFound("There is no such question.".into());
            (
                missing.status(),
                Some((missing.code(), missing.public_message())),
            )
        } else {
            (status, reason)
        };
        let (code, message) =
            reason.unwrap_or_else(|| (default_code(status), default_message(status).to_string()));
        let outage = req.local_cache(error::DbOutage::default).0;
        if status.code >= 500 && !outage {
            tracing::error!(status = status.code, path = %req.uri().path(), "request failed");
        }
        let mut resp = if error::wants_json(req) {
            error::render_json(status, code, &message)?
        } else {
            page(req, status, &message, Vec::new(), viewer.as_ref())?
        };
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

/// The error page for the visitor `viewer` (`None`: the plain header).
fn page(
    req: &Request<'_>,
    status: Status,
    message: &str,
    links: Vec<Link>,
    viewer: Option<&Viewer>,
) -> response::Result<'static> {
    let links = next_steps(req, status, viewer, links);
    let title = error::status_title(status);
    let ctx = context! {
        page_title: title,
        status: status.code,
        title,
        message,
        links,
        nav: "",
    };
    let page = match viewer {
        Some(v) => v.render("error", ctx),
        None => Template::render("error", ctx),
    };
    let mut resp = page.respond_to(req)?;
    resp.set_status(status);
    Ok(resp)
}

/// A handler's error as a page ([`error::PageRenderer`]): for the visitor the handler's guards
/// already looked up (the session is cached per request), without waiting on anything.
pub fn error_page(
    req: &Request<'_>,
    status: Status,
    message: &str,
    links: Vec<Link>,
) -> response::Result<'static> {
    // A server error too: what is cached asks nothing of the database, which may be what failed.
    let viewer = Viewer::cached(req);
    page(req, status, message, links, viewer.as_ref())
}

/// Where a visitor can go from an error: the error's own links first, then the place the
/// request came from (the form, the question, the admin area, settings), then the front page.
fn next_steps(
    req: &Request<'_>,
    status: Status,
    viewer: Option<&Viewer>,
    mut links: Vec<Link>,
) -> Vec<Link> {
    let path = req.uri().path().as_str().to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let post = req.method() != rocket::http::Method::Get;
    let admin = viewer
        .and_then(Viewer::user)
        .is_some_and(|u| u.user.is_admin());
    let member = viewer.and_then(Viewer::user).is_some();
    let here = match segments.as_slice() {
        ["ask"] if post => Some(Link::new("Back to the form", "/ask")),
        ["q", id, "edit"] if post => Some(Link::new("Back to the form", format!("/q/{id}/edit"))),
        ["q", id, _, ..] if status != Status::NotFound && params::is_question_id(id) => {
            Some(Link::new("Back to the question", format!("/q/{id}")))
        }
        ["admin", "reports", ..] if admin => {
            Some(Link::new("Back to the reports", "/admin/reports"))
        }
        ["admin", ..] if admin => Some(Link::new("Back to the admin area", "/admin")),
        ["settings", ..] if member => Some(Link::new("Back to settings", "/settings")),
        ["t", ..] | ["tags", ..] => Some(Link::new("All tags", "/tags")),
        ["search", ..] => Some(Link::new("Search again", "/search")),
        _ => None,
    };
    links.extend(here);
    if path != "/" {
        links.push(Link::new("Back to the front page", "/"));
    }
    links.dedup_by(|a, b| a.href == b.href);
    links
}

#[catch(default)]
async fn any(status: Status, req: &Request<'_>) -> CaughtError {
    // The visitor's header on every page error, not for the API. When the server failed, only
    // as far as the request looked the visitor up already: a 5xx page asks nothing more of the
    // database (a 503 may be the database being down).
    let viewer = if error::wants_json(req) {
        None
    } else if status.code >= 500 {
        Viewer::cached(req)
    } else {
        req.guard::<Viewer>().await.succeeded()
    };
    CaughtError(status, viewer)
}

/// The catchers, registered at `/` (HTML) and `/api` (JSON); the responder picks the format.
pub fn all() -> Vec<Catcher> {
    catchers![any]
}
