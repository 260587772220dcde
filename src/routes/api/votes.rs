//! `PUT /questions/{id}/vote` and `DELETE /questions/{id}/vote`.

use crate::analytics::{Event, Tracker};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, put, routes};

use super::types::{Ballot, ErrorBody, Results, VoteBody, VoteResponse};
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::ApiCsrf;
use crate::auth::{JsonBody, Voter};
use crate::cache::Cache;
use crate::config::AppConfig;
use crate::db::Db;
use crate::error::AppResult;
use crate::limits::{Action, Limits};
use crate::routes::questions::{load, parse_id};
use crate::services::vote_batcher::VoteBatcher;
use crate::services::voting::CountRefresher;
use crate::services::voting::{self, ClientNetwork};

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![put_vote, delete_vote]
}

/// Casts or changes the caller's vote (identified by the voter cookie).
#[utoipa::path(put, path = "/api/v1/questions/{id}/vote", tag = "votes",
    params(("id" = i64, Path, description = "question id")),
    request_body(content = VoteBody, content_type = "application/json"),
    responses(
        (status = 200, body = VoteResponse, description = "the stored ballot, and results when visible"),
        (status = 400, body = ErrorBody, description = "empty ballot, unknown choice, too many or too few choices, malformed JSON"),
        (status = 401, body = ErrorBody, description = "the question requires an account"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the question is closed"),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody, description = "not application/json"),
        (status = 422, body = ErrorBody, description = "JSON of the wrong shape"),
        (status = 429, body = ErrorBody, description = "network limit reached"),
        (status = 503, body = ErrorBody, description = "too many votes waiting to be written (with Retry-After)"),
    ))]
#[put("/questions/<id>/vote", data = "<body>")]
pub async fn put_vote(
    db: &State<Db>,
    cache: &State<Cache>,
    refresher: &State<CountRefresher>,
    batcher: &State<VoteBatcher>,
    cfg: &State<AppConfig>,
    voter: Voter,
    client: ClientNetwork,
    ip: ClientIp,
    limits: &State<Limits>,
    track: Tracker,
    id: &str,
    body: JsonBody<VoteBody>,
) -> AppResult<Json<VoteResponse>> {
    limits.check(Action::Vote, ip.key())?;
    let id = parse_id(id)?;
    if body.0.choices.len() > crate::domain::ballot::MAX_IDS {
        return Err(crate::domain::Invalid::new(
            "too_many_choices",
            "Too many choices on one ballot.",
        )
        .into());
    }
    let (outcome, choices, _, counts) =
        voting::cast(batcher, cfg, refresher, &voter, &client, id, body.0.choices).await?;
    crate::routes::votes::track_vote(&track, id.0, outcome, &choices);
    // With the counts read after the batch's commit, nothing more is read (the question itself
    // comes from the cache); otherwise the ballot and counts are read back.
    let view = match counts {
        Some(counts) => {
            crate::services::reading::poll_view_after_vote(db, cache, id.0, choices.clone(), counts)
                .await?
        }
        None => load(db, cache, id, Some(voter.key())).await?,
    };
    Ok(Json(VoteResponse {
        ballot: Ballot { choices },
        results: view
            .results
            .as_ref()
            .map(|r| Results::new(r, &view.choices)),
    }))
}

/// Withdraws the caller's vote (204 whether or not there was one).
#[utoipa::path(delete, path = "/api/v1/questions/{id}/vote", tag = "votes",
    params(("id" = i64, Path, description = "question id")),
    responses(
        (status = 204, description = "no ballot remains"),
        (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a cookie-authenticated request without JSON content type or X-CSRF-Token"),
        (status = 409, body = ErrorBody, description = "the question is closed"),
    ))]
#[delete("/questions/<id>/vote")]
pub async fn delete_vote(
    batcher: &State<VoteBatcher>,
    _csrf: ApiCsrf,
    voter: Voter,
    track: Tracker,
    id: &str,
) -> AppResult<Status> {
    let id = parse_id(id)?;
    let (had, _) = voting::withdraw(batcher, &voter, id).await?;
    if had {
        track.emit(Event::vote_withdrawn(id.0));
    }
    Ok(Status::NoContent)
}
