//! `PUT /questions/{id}/vote` and `DELETE /questions/{id}/vote`.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, put, routes};

use crate::analytics::{Event, Tracker};
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::ApiCsrf;
use crate::auth::{JsonBody, Voter};
use crate::domain::TrustView;
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::routes::json::{Ballot, ErrorBody, Results, VoteBody, VoteResponse};
use crate::routes::params::Qid;
use crate::services::reading;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![put_vote, delete_vote]
}

/// Casts or changes the caller's vote (identified by the voter cookie).
#[utoipa::path(put, path = "/api/v1/questions/{id}/vote", tag = "votes",
    params(("id" = i64, Path, description = "question id"),
        ("trust" = Option<String>, Query, description = "which ballots the answer's results count: all (default) or verified")),
    request_body(content = VoteBody, content_type = "application/json"),
    responses(
        (status = 200, body = VoteResponse, description = "the stored ballot, and results when visible"),
        (status = 400, body = ErrorBody, description = "empty ballot, unknown choice, too many or too few choices, malformed JSON, invalid trust (nothing stored)"),
        (status = 422, body = ErrorBody, description = "a ranking that is empty, repeats a choice, names another question's choice or is longer than `max_ranks`; `ranking` for a question that is not ranked (`not_ranked`), `choices` for one that is (`ranking_expected`), or both (`ambiguous_vote`); or JSON of the wrong shape"),
        (status = 401, body = ErrorBody, description = "the question requires an account"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the question is closed"),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody, description = "not application/json"),
        (status = 429, body = ErrorBody, description = "network limit reached"),
        (status = 503, body = ErrorBody, description = "not saved: the database is not answering or too many votes are waiting (with Retry-After); try again"),
    ))]
#[put("/questions/<id>/vote?<trust>", data = "<body>")]
#[allow(clippy::too_many_arguments)]
pub async fn put_vote(
    app: &AppState,
    voter: Voter,
    ip: ClientIp,
    track: Tracker,
    id: Qid,
    trust: Option<&str>,
    body: JsonBody<VoteBody>,
) -> AppResult<Json<VoteResponse>> {
    let trust = TrustView::from_query(trust)?;
    app.limits.check(Action::Vote, ip.key()).await?;
    let network = ip.network_hash(&app.keys);
    let cast = app
        .voting
        .cast(&voter, network, *id, body.0.into_sent()?)
        .await?;
    track.vote(id.get(), cast.outcome, &cast.choices);
    // With the counts read after the batch's commit, nothing more is read (the question itself
    // comes from the cache); otherwise the ballot and counts are read back. The vote is saved
    // either way: if the database stops answering now, the answer leaves the results out.
    let view = match cast.counts {
        Some(counts) => {
            let choices = cast.choices.clone();
            reading::poll_view_after_vote(&app.db, &app.cache, id.get(), choices, counts).await
        }
        None => app.poll_view(*id, Some(voter.key())).await.map(|r| r.value),
    };
    let view = match view {
        Ok(view) => Some(view),
        Err(AppError::DbUnavailable(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Json(VoteResponse {
        ballot: Ballot {
            choices: cast.choices,
        },
        results: view.as_ref().and_then(|view| {
            view.results.as_ref().map(|r| {
                Results::new(r, &view.choices, trust)
                    .with_runoff(view.runoff.as_ref().map(|r| r.view(trust)))
            })
        }),
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
    app: &AppState,
    _csrf: ApiCsrf,
    voter: Voter,
    track: Tracker,
    id: Qid,
) -> AppResult<Status> {
    if app.voting.withdraw(&voter, *id).await? {
        track.emit(Event::vote_withdrawn(id.get()));
    }
    Ok(Status::NoContent)
}
