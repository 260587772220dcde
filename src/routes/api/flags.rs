//! `POST /questions/{id}/flags`: flag a question (202, whatever the flag did).

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{post, routes};

use crate::analytics::Tracker;
use crate::auth::client_ip::ClientIp;
use crate::auth::{JsonBody, Voter};
use crate::error::AppResult;
use crate::routes::flags::{THANKS, submit};
use crate::routes::json::{ErrorBody, FlagBody, FlagReceipt};
use crate::routes::params::Qid;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![post_flag]
}

/// Flags a question for the admins' review, once per caller (the voter cookie or the account):
/// a repeated flag is accepted the same way and stores nothing.
#[utoipa::path(post, path = "/api/v1/questions/{id}/flags", tag = "questions",
    params(("id" = i64, Path, description = "question id")),
    request_body(content = FlagBody, content_type = "application/json"),
    responses(
        (status = 202, body = FlagReceipt, description = "received: admins will review the question"),
        (status = 400, body = ErrorBody, description = "malformed JSON"),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody, description = "not application/json"),
        (status = 422, body = ErrorBody, description = "an unknown reason, details missing for `other` or too long, or JSON of the wrong shape"),
        (status = 429, body = ErrorBody, description = "too many flags from this client (with Retry-After)"),
    ))]
#[post("/questions/<id>/flags", data = "<body>")]
pub async fn post_flag(
    app: &AppState,
    voter: Voter,
    ip: ClientIp,
    track: Tracker,
    id: Qid,
    body: JsonBody<FlagBody>,
) -> AppResult<(Status, Json<FlagReceipt>)> {
    let body = body.0;
    submit(
        app,
        &voter,
        &ip,
        &track,
        id,
        Some(&body.reason),
        body.details.as_deref(),
    )
    .await?;
    Ok((
        Status::Accepted,
        Json(FlagReceipt {
            message: THANKS.into(),
        }),
    ))
}
