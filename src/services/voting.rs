//! Casting and withdrawing votes: the one entry of the vote path for the HTML form routes and the
//! JSON API. A vote goes route → [`Voting`] → the batcher's writer threads
//! (`services::vote_batcher`) → `models::ballot` (one transaction per batch) and is answered once
//! committed.

use crate::auth::Voter;
use crate::config::VotingConfig;
use crate::db::Db;
use crate::domain::ballot::check_count;
use crate::domain::{QuestionId, Sent};
use crate::error::{AppError, AppResult};
use crate::models::ballot::{Applied, BallotOp, Caster, VoteOutcome, VoteRequest};
use crate::models::counts::{self, Counts};
use crate::services::count_refresher::CountRefresher;
use crate::services::vote_batcher::{BatcherOptions, BatcherStats, VoteBatcher};

/// The vote service (managed state; cheap to clone): the batcher and the settings a vote needs.
#[derive(Clone)]
pub struct Voting {
    batcher: VoteBatcher,
    network_limit: u32,
    slots: u16,
}

/// A committed vote.
#[derive(Debug, Clone)]
pub struct Cast {
    /// Created, changed, or already so.
    pub outcome: VoteOutcome,
    /// The choices now on the ballot, ascending.
    pub choices: Vec<i64>,
    /// The question's counts read right after the commit (they include this vote), when the vote
    /// was committed in a batch; `None`: read them.
    pub counts: Option<Counts>,
}

impl Voting {
    /// Starts the vote writers on `db`.
    pub fn start(db: Db, cfg: &VotingConfig, refresher: CountRefresher) -> Voting {
        let slots = cfg.count_slots.max(1);
        let batcher = VoteBatcher::start(
            db,
            refresher,
            BatcherOptions {
                max_batch: cfg.batch_max,
                queue: cfg.queue,
                writers: cfg.writers,
                slots,
            },
        );
        Voting {
            batcher,
            network_limit: cfg.network_votes_per_day,
            slots,
        }
    }

    /// Casts or changes the voter's ballot (`network`: the keyed hash of their network, for
    /// `network`-protected questions; `sent`: the list the ids came in); answered once
    /// committed.
    pub async fn cast(
        &self,
        voter: &Voter,
        network: Option<String>,
        id: QuestionId,
        (choices, sent): (Vec<i64>, Sent),
    ) -> AppResult<Cast> {
        check_count(choices.len())?;
        let req = VoteRequest {
            question_id: id.0,
            voter: Caster {
                key: voter.key(),
                user_id: voter.user_id(),
                ip_hash: network,
                verified: voter.verified(),
            },
            choices,
            sent,
            network_limit: self.network_limit,
            now: crate::models::now(),
            slot: counts::pick_slot(self.slots),
        };
        let committed = self.batcher.submit(BallotOp::Vote(req)).await?;
        match committed.applied {
            Applied::Voted(voted) => Ok(Cast {
                outcome: voted.outcome,
                choices: voted.choices,
                counts: committed.counts,
            }),
            Applied::Withdrawn(_) => {
                Err(AppError::Internal("a vote answered as a withdrawal".into()))
            }
        }
    }

    /// Withdraws the voter's ballot; whether there was one.
    pub async fn withdraw(&self, voter: &Voter, id: QuestionId) -> AppResult<bool> {
        let op = BallotOp::Withdraw {
            question_id: id.0,
            voter: voter.key(),
            now: crate::models::now(),
        };
        match self.batcher.submit(op).await?.applied {
            Applied::Withdrawn(had) => Ok(had),
            Applied::Voted(_) => Err(AppError::Internal("a withdrawal answered as a vote".into())),
        }
    }

    /// The batcher (tests queue requests on it directly).
    pub fn batcher(&self) -> &VoteBatcher {
        &self.batcher
    }

    /// What the vote writers did so far.
    pub fn stats(&self) -> BatcherStats {
        self.batcher.stats()
    }

    /// Refuses new votes, commits the queued ones and stops the writers (blocking).
    pub fn shutdown(&self) {
        self.batcher.shutdown()
    }
}
