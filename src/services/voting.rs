//! Casting and withdrawing votes for a voter, shared by the HTML form routes and the JSON API.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::{Keys, Voter};
use crate::config::AppConfig;
use crate::db::Db;
use crate::domain::QuestionId;
use crate::error::{AppError, AppResult};
use crate::models::ballot::{self, Counts, VoteError, VoteOutcome, VoteRequest};
use crate::models::ballot_batch::{Applied, BallotOp};
use crate::models::counts;
use crate::services::vote_batcher::VoteBatcher;

/// Keeps `questions.vote_count` / `hot_rank` (list sorting) following the vote counters without
/// a write to the question row per vote: after a vote, a question not refreshed in the last
/// `every` is refreshed at once (quiet questions stay exact); a busy one is marked and refreshed
/// by the background task (`run_pending`) at most once per `every` per app server.
#[derive(Debug, Clone)]
pub struct CountRefresher {
    every: Duration,
    slots: u16,
    last: Arc<Mutex<HashMap<i64, Instant>>>,
    pending: Arc<Mutex<HashSet<i64>>>,
}

impl CountRefresher {
    /// Refreshes a busy question at most once per `every`; votes spread over `slots` counters.
    pub fn new(every: Duration, slots: u16) -> Self {
        CountRefresher {
            every,
            slots: slots.max(1),
            last: Arc::new(Mutex::new(HashMap::new())),
            pending: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// How often the background task should run.
    pub fn interval(&self) -> Duration {
        self.every
    }

    /// Whether the caller should refresh `id` now; otherwise it is left for the background task.
    fn claim(&self, id: i64) -> bool {
        let now = Instant::now();
        let mut last = self.last.lock().expect("lock");
        match last.get(&id) {
            Some(at) if now.duration_since(*at) < self.every => {
                self.pending.lock().expect("lock").insert(id);
                false
            }
            _ => {
                // Entries older than `every` mean the same as none: drop them before the map
                // grows with every question ever voted on.
                if last.len() >= 4096 {
                    last.retain(|_, at| now.duration_since(*at) < self.every);
                }
                last.insert(id, now);
                true
            }
        }
    }

    /// Of `ids`, those the caller should refresh now (in its own commit); the others are
    /// left for the background task.
    pub fn claim_all(&self, ids: &[i64]) -> Vec<i64> {
        ids.iter().copied().filter(|id| self.claim(*id)).collect()
    }

    /// Leaves `ids` for the background task (a refresh that could not run now).
    pub fn defer(&self, ids: &[i64]) {
        self.pending
            .lock()
            .expect("lock")
            .extend(ids.iter().copied());
    }

    /// The number of counter slots votes spread over.
    pub fn slots(&self) -> u16 {
        self.slots
    }

    /// Refreshes the questions marked busy since the last run; returns how many.
    pub async fn run_pending(&self, db: &Db) -> AppResult<usize> {
        let ids: Vec<i64> = self.pending.lock().expect("lock").drain().collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let now = Instant::now();
        {
            let mut last = self.last.lock().expect("lock");
            for id in &ids {
                last.insert(*id, now);
            }
        }
        let n = ids.len();
        // One transaction: one commit for all of them.
        db.write(move |c| {
            use diesel::Connection as _;
            Ok(c.transaction(|c| counts::refresh_questions(c, &ids, crate::models::now()))?)
        })
        .await?;
        Ok(n)
    }
}

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

/// The HTTP meaning of a refused vote.
pub(crate) fn to_app_error(e: VoteError) -> AppError {
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

/// Casts or changes the voter's ballot through the batcher (acknowledged once committed);
/// returns the outcome, the stored choices and the question's canonical path.
pub async fn cast(
    batcher: &VoteBatcher,
    cfg: &AppConfig,
    refresher: &CountRefresher,
    voter: &Voter,
    client: &ClientNetwork,
    id: QuestionId,
    choices: Vec<i64>,
) -> AppResult<(VoteOutcome, Vec<i64>, String, Option<Counts>)> {
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
        slot: counts::pick_slot(refresher.slots),
    };
    let committed = batcher.submit(BallotOp::Vote(req)).await?;
    match committed.applied {
        Applied::Voted {
            outcome,
            choices,
            path,
        } => Ok((outcome, choices, path, committed.counts)),
        Applied::Withdrawn { .. } => {
            Err(AppError::Internal("a vote answered as a withdrawal".into()))
        }
    }
}

/// Withdraws the voter's ballot through the batcher; returns whether there was one, and the
/// question's path.
pub async fn withdraw(
    batcher: &VoteBatcher,
    voter: &Voter,
    id: QuestionId,
) -> AppResult<(bool, String)> {
    let op = BallotOp::Withdraw {
        question_id: id.0,
        voter: voter.key(),
        now: crate::models::now(),
    };
    match batcher.submit(op).await?.applied {
        Applied::Withdrawn { had, path } => Ok((had, path)),
        Applied::Voted { .. } => Err(AppError::Internal("a withdrawal answered as a vote".into())),
    }
}
