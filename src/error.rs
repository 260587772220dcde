//! The one error type of the application and how it renders.
//!
//! Policy:
//! - Handlers return [`AppResult`]; models return Diesel's `QueryResult`, converted here.
//! - The status is decided in one place, [`AppError::status`].
//! - Diesel's `NotFound` is a 404; an exhausted or unreachable pool is a 503; any other database
//!   error is a 500.
//! - A 5xx logs its cause once (here) and shows a plain page or JSON with no internals; a 4xx shows
//!   its message, which is written for the visitor.
//! - Routes under `/api/` get `{"error":{"code","message"}}`; all others get the `error` page.

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::serde_json::json;
use rocket_dyn_templates::{Template, context};

/// Result of a handler or service call.
pub type AppResult<T> = Result<T, AppError>;

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
    /// Several fields are invalid (422); the API lists them under `fields`.
    #[error("{message}")]
    Validation {
        message: String,
        fields: std::collections::BTreeMap<String, String>,
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
    /// A dependency (the database) is unavailable (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (500); the string is logged, never shown.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
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
            AppError::NotFound(_) => Status::NotFound,
            AppError::Conflict { .. } => Status::Conflict,
            AppError::PayloadTooLarge(_) => Status::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => Status::UnsupportedMediaType,
            AppError::Unprocessable { .. } | AppError::Validation { .. } => {
                Status::UnprocessableEntity
            }
            AppError::TooManyRequests { .. } => Status::TooManyRequests,
            AppError::BadGateway { .. } => Status::BadGateway,
            AppError::Unavailable(_) => Status::ServiceUnavailable,
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
            AppError::NotFound(_) => "not_found",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::BadGateway { .. } => "bad_gateway",
            AppError::Unavailable(_) => "unavailable",
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
            other => other.to_string(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound("Not found.".into()),
            other => AppError::Internal(format!("database error: {other}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("database pool: {e}"))
    }
}

/// Whether a request is answered in JSON (API routes) rather than HTML.
pub fn wants_json(req: &Request<'_>) -> bool {
    let path = req.uri().path();
    path == "/api" || path.starts_with("/api/")
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

/// Renders an error as JSON or as the HTML error page, with the given status.
pub fn render(
    req: &Request<'_>,
    status: Status,
    code: &str,
    message: &str,
) -> response::Result<'static> {
    if wants_json(req) {
        let body = json!({"error": {"code": code, "message": message}}).to_string();
        Response::build()
            .status(status)
            .header(ContentType::JSON)
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    } else {
        let page = Template::render(
            "error",
            context! {
                page_title: status_title(status),
                status: status.code,
                title: status_title(status),
                message,
                nav: "",
            },
        );
        let mut resp = page.respond_to(req)?;
        resp.set_status(status);
        Ok(resp)
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        if status.code >= 500 {
            tracing::error!(status = status.code, path = %req.uri().path(), cause = %self, "request failed");
            req.local_cache(|| crate::telemetry::ErrorCause(Some(self.to_string())));
        }
        if let (AppError::Validation { message, fields }, true) = (&self, wants_json(req)) {
            let body =
                json!({"error": {"code": self.code(), "message": message, "fields": fields}})
                    .to_string();
            return Response::build()
                .status(status)
                .header(ContentType::JSON)
                .sized_body(body.len(), std::io::Cursor::new(body))
                .ok();
        }
        let mut resp = render(req, status, self.code(), &self.public_message())?;
        if let AppError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            resp.set_header(Header::new("Retry-After", retry_after_secs.to_string()));
        }
        Ok(resp)
    }
}

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
