//! The one error type of the application and how it renders.
//!
//! Policy:
//! - Handlers and services return [`AppResult`]. Models return Diesel's `QueryResult`, or, where a
//!   domain rule may refuse a write, `QueryResult<Result<T, Refusal>>` with a refusal type from the
//!   domain crate (`VoteRefusal`, `ManageRefusal`); the domain knows nothing of HTTP.
//! - Every conversion into [`AppError`] is in this file, below: domain refusals and invalid
//!   values (votes, an author's changes, uploads, flags: a field problem, 422), Diesel and pool errors, provider-login failures
//!   ([`OAuthError`]). Its HTTP meaning
//!   (status, code, message) is decided here and nowhere else; the status in one `match`,
//!   [`AppError::status`].
//! - Diesel's `NotFound` is a 404; a database that did not answer in time, cannot be reached or
//!   lost the connection, and an exhausted pool, are [`AppError::DbUnavailable`]: 503 with
//!   `Retry-After`, logged once per outage by `db::health` (not per request, not a Sentry event
//!   per request); any other database error is a 500.
//! - Field problems have one shape, [`FieldErrors`] (messages by form field), carried by
//!   [`AppError::Validation`]: an HTML form is shown again with them, the API answers 422 with
//!   `fields`.
//! - A 5xx logs its cause once (here) and shows a plain page or JSON with no internals; a 4xx shows
//!   its message, which is written for the visitor.
//! - Routes under `/api/` and paths ending in `.json` (`/q/<id>/results.json`) get
//!   `{"error":{"code","message"}}`; all others get the `error` page.

use std::collections::BTreeMap;

use crate::domain::{
    DeletionRefusal, FlagRefusal, Invalid, ManageRefusal, UploadRefusal, VoteRefusal,
};

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::serde_json::json;

/// Result of a handler or service call.
pub type AppResult<T> = Result<T, AppError>;

/// Messages by form field (`form` for the whole form): the one shape of field errors, for forms
/// shown again and for the API's `fields`.
pub type FieldErrors = BTreeMap<&'static str, String>;

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or invalid (400).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The action needs a logged-in user (401).
    #[error("{0}")]
    LoginRequired(String),
    /// The caller may not do this (403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// No such thing (404).
    #[error("{0}")]
    NotFound(String),
    /// No such page, with the pages that do exist (404): a list parameter out of its set
    /// (`/top?window=year`) answers with the windows there are.
    #[error("{message}")]
    NoSuchPage { message: String, links: Vec<Link> },
    /// The action conflicts with the current state, e.g. voting on a closed question (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The body is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is not in the required media type (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is well-formed but its content is not acceptable (422).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// Fields of a form or an API body are invalid (422): a form is shown again with the
    /// messages, the API lists them under `fields`.
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    /// Too many requests from this client (429).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// Another service we depend on for this request (an OAuth provider) failed (502). The
    /// message is written for the visitor; the cause is logged.
    #[error("{message}: {cause}")]
    BadGateway { message: String, cause: String },
    /// A dependency is unavailable or the server is saturated (503).
    #[error("{0}")]
    Unavailable(String),
    /// The database did not answer in time or cannot be reached (503 with `Retry-After`); the
    /// string is the cause, logged once per outage (`db::health`).
    #[error("{0}")]
    DbUnavailable(String),
    /// A bug or an unexpected failure (500); the string is logged, never shown.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// How long a client should wait before trying again (`Retry-After`): a rate limit's window,
    /// or a moment while the database is unavailable.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            AppError::DbUnavailable(_) => Some(DB_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// Field problems (422); the message is the first field's.
    pub fn fields(fields: FieldErrors) -> Self {
        let message = fields
            .values()
            .next()
            .cloned()
            .unwrap_or_else(|| "Some of the submitted values are not valid.".into());
        AppError::Validation { message, fields }
    }

    /// One field's problem (422).
    pub fn field(name: &'static str, message: impl Into<String>) -> Self {
        AppError::fields(BTreeMap::from([(name, message.into())]))
    }

    /// Shorthand for a 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> Status {
        match self {
            AppError::BadRequest { .. } => Status::BadRequest,
            AppError::LoginRequired(_) => Status::Unauthorized,
            AppError::Forbidden { .. } => Status::Forbidden,
            AppError::NotFound(_) | AppError::NoSuchPage { .. } => Status::NotFound,
            AppError::Conflict { .. } => Status::Conflict,
            AppError::PayloadTooLarge(_) => Status::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => Status::UnsupportedMediaType,
            AppError::Unprocessable { .. } | AppError::Validation { .. } => {
                Status::UnprocessableEntity
            }
            AppError::TooManyRequests { .. } => Status::TooManyRequests,
            AppError::BadGateway { .. } => Status::BadGateway,
            AppError::Unavailable(_) | AppError::DbUnavailable(_) => Status::ServiceUnavailable,
            AppError::Internal(_) => Status::InternalServerError,
        }
    }

    /// A stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Unprocessable { code, .. } => code,
            AppError::LoginRequired(_) => "login_required",
            AppError::Validation { .. } => "validation_failed",
            AppError::NotFound(_) | AppError::NoSuchPage { .. } => "not_found",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::BadGateway { .. } => "bad_gateway",
            AppError::Unavailable(_) | AppError::DbUnavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message shown to the visitor (internals of 5xx errors are hidden).
    pub fn public_message(&self) -> String {
        match self {
            AppError::BadGateway { message, .. } => message.clone(),
            AppError::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            AppError::Unavailable(_) => {
                "The site is busy or a service is unavailable. Please try again shortly.".into()
            }
            AppError::DbUnavailable(_) => "We cannot reach our database just now. Please try \
                                           again in a few seconds; anything you sent was not \
                                           saved."
                .into(),
            other => other.to_string(),
        }
    }
}

/// Why a provider login (OAuth2 / OpenID Connect, `auth::oauth`) failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// No provider of that name is configured.
    #[error("unknown provider")]
    UnknownProvider,
    /// The user declined, or the provider refused the request (`error=` on the callback).
    #[error("denied: {0}")]
    Denied(String),
    /// The callback's state does not match a login started in this browser (or expired).
    #[error("state mismatch")]
    StateMismatch,
    /// The provider refused the code or sent something that does not verify.
    #[error("refused: {0}")]
    Refused(String),
    /// The provider could not be reached or answered nonsense.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

impl From<OAuthError> for AppError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::UnknownProvider => {
                AppError::NotFound("No such sign-in provider is configured.".into())
            }
            OAuthError::Denied(why) => {
                tracing::info!(reason = %why, "provider login denied");
                AppError::Forbidden {
                    code: "oauth_denied",
                    message: "The sign-in was cancelled or refused at the provider; nothing was \
                              changed. You can try again, or log in with a password."
                        .into(),
                }
            }
            OAuthError::StateMismatch => AppError::bad_request(
                "oauth_state",
                "This sign-in does not match one started in this browser, was already used, or \
                 expired. Please start again.",
            ),
            OAuthError::Refused(why) => {
                tracing::warn!(reason = %why, "provider login refused");
                AppError::bad_request(
                    "oauth_refused",
                    "The provider did not confirm this sign-in (the code may have expired or \
                     been used already). Please start again.",
                )
            }
            OAuthError::Unavailable(cause) => AppError::BadGateway {
                message: "The sign-in provider could not be reached. Please try again in a \
                          moment, or log in with a password."
                    .into(),
                cause,
            },
        }
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::BadRequest {
            code: e.code,
            message: e.message,
        }
    }
}

impl From<VoteRefusal> for AppError {
    fn from(r: VoteRefusal) -> Self {
        match r {
            VoteRefusal::NotFound => AppError::NotFound("There is no such question.".into()),
            VoteRefusal::Closed => AppError::Conflict {
                code: "question_closed",
                message: "This question is closed and no longer takes votes.".into(),
            },
            VoteRefusal::LoginRequired => {
                AppError::LoginRequired("Only logged-in members can vote on this question.".into())
            }
            VoteRefusal::NetworkLimit => AppError::TooManyRequests {
                message: "Too many votes from your network on this question today.".into(),
                retry_after_secs: 3600,
            },
            VoteRefusal::Invalid(i) => i.into(),
            VoteRefusal::BadRanking(i) | VoteRefusal::WrongList(i) => AppError::Unprocessable {
                code: i.code,
                message: i.message,
            },
        }
    }
}

impl From<FlagRefusal> for AppError {
    fn from(r: FlagRefusal) -> Self {
        AppError::field(r.field(), r.to_string())
    }
}

impl From<ManageRefusal> for AppError {
    fn from(r: ManageRefusal) -> Self {
        match r {
            ManageRefusal::NotFound => AppError::NotFound("There is no such question.".into()),
            ManageRefusal::NotAuthor => AppError::Forbidden {
                code: "not_author",
                message: "Only the author can change this question.".into(),
            },
            ManageRefusal::HasVotes => AppError::Conflict {
                code: "has_votes",
                message: "This question already has votes, so it can no longer be edited.".into(),
            },
            ManageRefusal::Closed => AppError::Conflict {
                code: "question_closed",
                message: "This question is already closed.".into(),
            },
        }
    }
}

impl From<DeletionRefusal> for AppError {
    fn from(r: DeletionRefusal) -> Self {
        match r {
            DeletionRefusal::LastAdmin => AppError::Conflict {
                code: "last_admin",
                message: r.to_string(),
            },
        }
    }
}

impl From<UploadRefusal> for AppError {
    fn from(r: UploadRefusal) -> Self {
        match r {
            UploadRefusal::TooLarge { .. } => AppError::PayloadTooLarge(r.to_string()),
            UploadRefusal::PathName => AppError::bad_request(r.code(), r.to_string()),
            _ => AppError::Unprocessable {
                code: r.code(),
                message: r.to_string(),
            },
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound("Not found.".into()),
            other if database_unavailable(&other) => {
                AppError::DbUnavailable(format!("database: {other}"))
            }
            other => AppError::Internal(format!("database error: {other}")),
        }
    }
}

/// The start of the cause of a 503 for a pool with no free connection while the database
/// answers: the site is busy, which is not a database failure (`db::health` does not count it).
pub const POOL_BUSY: &str = "database pool busy";

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        // r2d2 says "timed out waiting for connection", plus ": <error>" when connecting failed.
        let text = e.to_string();
        match text.split_once(": ") {
            Some((_, cause)) => {
                AppError::DbUnavailable(format!("database: cannot connect: {cause}"))
            }
            None => AppError::DbUnavailable(format!("{POOL_BUSY}: {text}")),
        }
    }
}

/// Whether the cause of a [`AppError::DbUnavailable`] (or a database error's message) says the
/// server closed the connection (killed, restarted, gone away): the work never reached it or its
/// transaction was rolled back, and another connection may succeed at once.
pub fn connection_lost(cause: &str) -> bool {
    // Only a statement's failure on a connection: a checkout that failed (the pool's wait, a
    // refused connect, a failed `SELECT 1` check) says the database itself is not answering.
    if cause.starts_with(POOL_BUSY) || cause.contains("cannot connect") {
        return false;
    }
    let m = cause.to_ascii_lowercase();
    [
        "server has gone away",
        "lost connection",
        "connection was killed",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Whether a statement was stopped by its time limit (MariaDB `max_statement_time`, MySQL
/// `max_execution_time`): the database answered, the statement was too costly.
pub fn statement_timed_out(e: &diesel::result::Error) -> bool {
    match e {
        diesel::result::Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            m.contains("max_statement_time")
                || m.contains("maximum statement execution time")
                || m.contains("query execution was interrupted")
        }
        _ => false,
    }
}

/// A search the database could not rank within the read limit: a 422 that says what to do, and
/// not a database outage (the breaker must not open because one search matched half the site).
pub fn search_too_broad(e: diesel::result::Error) -> AppError {
    if statement_timed_out(&e) {
        AppError::Unprocessable {
            code: "search_too_broad",
            message: "This search matches too many questions to rank in time. Add a word, a tag \
                      or a status, or put words in quotes."
                .into(),
        }
    } else {
        e.into()
    }
}

/// Whether a database error means the database did not answer in time or cannot be reached
/// (a statement or lock-wait limit, a lost or refused connection, SQLite's busy timeout), as
/// opposed to an answer (a constraint, bad SQL).
fn database_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            [
                "max_statement_time",
                "query execution was interrupted",
                "lock wait timeout",
                "database is locked",
                "database table is locked",
                "server has gone away",
                "lost connection",
                "can't connect",
                "connection refused",
                "connection was killed",
            ]
            .iter()
            .any(|needle| m.contains(needle))
        }
        Error::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => database_unavailable(rollback_error) || database_unavailable(commit_error),
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Whether a request is answered in JSON (API routes, `.json` files) rather than HTML.
pub fn wants_json(req: &Request<'_>) -> bool {
    let path = req.uri().path();
    path == "/api" || path.starts_with("/api/") || path.ends_with(".json")
}

/// A short title for a status, for error pages.
pub fn status_title(status: Status) -> &'static str {
    match status.code {
        400 => "Bad request",
        401 => "Please log in",
        403 => "Not allowed",
        404 => "Page not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Too large",
        415 => "Unsupported format",
        422 => "Invalid input",
        429 => "Slow down",
        502 | 503 => "Temporarily unavailable",
        _ if status.code >= 500 => "Server error",
        _ => "Error",
    }
}

/// Renders an error as JSON, with the given status.
pub fn render_json(status: Status, code: &str, message: &str) -> response::Result<'static> {
    let body = json!({"error": {"code": code, "message": message}}).to_string();
    Response::build()
        .status(status)
        .header(ContentType::JSON)
        .sized_body(body.len(), std::io::Cursor::new(body))
        .ok()
}

/// A link on an error page: where the visitor can go next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// What the link says.
    pub label: String,
    /// Where it goes (a path on this site).
    pub href: String,
}

impl Link {
    /// A link.
    pub fn new(label: impl Into<String>, href: impl Into<String>) -> Link {
        Link {
            label: label.into(),
            href: href.into(),
        }
    }
}

/// An HTML error page for a request: status, message and the error's own links. The routes
/// layer provides it (`routes::catchers::error_page`, managed as [`ErrorPages`]) so that the page
/// has the visitor's header; this module knows only its shape.
pub type PageRenderer = fn(&Request<'_>, Status, &str, Vec<Link>) -> response::Result<'static>;

/// The error page renderer, managed state (see [`PageRenderer`]).
pub struct ErrorPages(pub PageRenderer);

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        if let AppError::DbUnavailable(cause) = &self {
            // One log line and one Sentry event per outage come from `db::health`.
            tracing::debug!(path = %req.uri().path(), cause, "database unavailable");
            req.local_cache(|| DbOutage(true));
        } else if status.code >= 500 {
            tracing::error!(status = status.code, path = %req.uri().path(), cause = %self, "request failed");
            req.local_cache(|| ErrorCause(Some(self.to_string())));
        }
        let retry_after = self.retry_after_secs();
        if !wants_json(req) {
            // Rendered here, not by the catcher: Rocket drops the cookies a handler set (a used-up
            // login state) when a catcher answers.
            let links = match &self {
                AppError::NoSuchPage { links, .. } => links.clone(),
                _ => Vec::new(),
            };
            let message = self.public_message();
            let mut resp = match req.rocket().state::<ErrorPages>() {
                Some(pages) => (pages.0)(req, status, &message, links)?,
                None => render_json(status, self.code(), &message)?,
            };
            if let Some(secs) = retry_after {
                resp.set_header(Header::new("Retry-After", secs.to_string()));
            }
            return Ok(resp);
        }
        let mut resp = if let AppError::Validation { message, fields } = &self {
            let body =
                json!({"error": {"code": self.code(), "message": message, "fields": fields}})
                    .to_string();
            Response::build()
                .status(status)
                .header(ContentType::JSON)
                .sized_body(body.len(), std::io::Cursor::new(body))
                .finalize()
        } else {
            render_json(status, self.code(), &self.public_message())?
        };
        if let Some(secs) = retry_after {
            resp.set_header(Header::new("Retry-After", secs.to_string()));
        }
        Ok(resp)
    }
}

/// The `Retry-After` of a 503 for an unavailable database: about the breaker's cooldown.
pub const DB_RETRY_AFTER_SECS: u64 = 2;

/// Set on a request answered 503 because the database is unavailable: the access log says it at
/// warning level and Sentry gets no event for it (the outage is reported once).
#[derive(Debug, Default, Clone, Copy)]
pub struct DbOutage(pub bool);

/// The cause of a 5xx, left in the request by `AppError`'s responder for the Sentry event
/// (`telemetry::sentry`).
#[derive(Debug, Default)]
pub struct ErrorCause(pub Option<String>);

/// A reason attached to a request by a guard that failed, shown by the catcher.
#[derive(Debug, Default, Clone)]
pub struct FailureReason(pub Option<(&'static str, String)>);

/// Records why a guard failed so that the catcher can say it (code, message).
pub fn set_failure_reason(req: &Request<'_>, code: &'static str, message: impl Into<String>) {
    let msg = message.into();
    req.local_cache(|| FailureReason(Some((code, msg.clone()))));
}

/// Gives every 503 the app sends a `Retry-After` (a full vote queue, an exhausted pool, readiness,
/// the live-stream limit): clients and proxies back off instead of retrying at once.
pub struct RetryAfterOn503;

#[rocket::async_trait]
impl rocket::fairing::Fairing for RetryAfterOn503 {
    fn info(&self) -> rocket::fairing::Info {
        rocket::fairing::Info {
            name: "Retry-After on 503",
            kind: rocket::fairing::Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _req: &'r Request<'_>, resp: &mut Response<'r>) {
        if resp.status() == Status::ServiceUnavailable
            && resp.headers().get_one("Retry-After").is_none()
        {
            resp.set_header(Header::new("Retry-After", "1"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn db_error(message: &str) -> Error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string()))
    }

    #[test]
    fn a_search_over_its_time_limit_is_too_broad_not_an_outage() {
        for m in [
            "Query execution was interrupted (max_statement_time exceeded)",
            "Query execution was interrupted, maximum statement execution time exceeded",
        ] {
            let e = search_too_broad(db_error(m));
            assert!(
                matches!(
                    e,
                    AppError::Unprocessable {
                        code: "search_too_broad",
                        ..
                    }
                ),
                "{m}: {e:?}"
            );
            assert_eq!(e.status(), Status::UnprocessableEntity);
        }
        // Anything else keeps its meaning: a lost connection is the database failing.
        assert!(matches!(
            search_too_broad(db_error("Lost connection to server during query")),
            AppError::DbUnavailable(_)
        ));
    }
}
