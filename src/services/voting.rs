//! Casting and withdrawing votes for a voter, shared by the HTML form routes and the JSON API.

use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::{Keys, Voter};
use crate::config::AppConfig;
use crate::db::Db;
use crate::domain::QuestionId;
use crate::error::{AppError, AppResult};
use crate::models::ballot::{self, VoteError, VoteOutcome, VoteRequest};

/// The keyed hash of the caller's network (see `Keys::network_hash`), if the address is known.
#[derive(Debug, Clone)]
pub struct ClientNetwork(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientNetwork {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let keys = req.rocket().state::<Keys>().expect("Keys are managed");
        let ip = crate::auth::client_ip::ClientIp::of(req).0;
        Outcome::Success(ClientNetwork(ip.map(|ip| keys.network_hash(ip))))
    }
}

fn to_app_error(e: VoteError) -> AppError {
    match e {
        VoteError::NotFound => AppError::NotFound("There is no such question.".into()),
        VoteError::Closed => AppError::Conflict {
            code: "question_closed",
            message: "This question is closed and no longer takes votes.".into(),
        },
        VoteError::LoginRequired => {
            AppError::LoginRequired("Only logged-in members can vote on this question.".into())
        }
        VoteError::NetworkLimit => AppError::TooManyRequests {
            message: "Too many votes from your network on this question today.".into(),
            retry_after_secs: 3600,
        },
        VoteError::Invalid(i) => i.into(),
        VoteError::Db(e) => e.into(),
    }
}

/// Casts or changes the voter's ballot; returns the outcome, the stored choices and the
/// question's canonical path.
pub async fn cast(
    db: &Db,
    cfg: &AppConfig,
    voter: &Voter,
    client: &ClientNetwork,
    id: QuestionId,
    choices: Vec<i64>,
) -> AppResult<(VoteOutcome, Vec<i64>, String)> {
    let req = VoteRequest {
        question_id: id.0,
        voter: ballot::Voter {
            key: voter.key(),
            user_id: voter.user_id(),
            ip_hash: client.0.clone(),
            verified: voter.verified(),
        },
        choices,
        network_limit: cfg.network_votes_per_day,
        now: crate::models::now(),
    };
    db.write(move |c| {
        let (outcome, ids) = ballot::vote(c, &req).map_err(to_app_error)?;
        let path = crate::models::question::find_visible(c, req.question_id)?.path();
        Ok((outcome, ids, path))
    })
    .await
}

/// Withdraws the voter's ballot; returns whether there was one, and the question's path.
pub async fn withdraw(db: &Db, voter: &Voter, id: QuestionId) -> AppResult<(bool, String)> {
    let key = voter.key();
    db.write(move |c| {
        let had = ballot::withdraw(c, id.0, &key, crate::models::now()).map_err(to_app_error)?;
        let path = crate::models::question::find_visible(c, id.0)?.path();
        Ok((had, path))
    })
    .await
}
