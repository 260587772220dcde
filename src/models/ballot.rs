//! Ballots and the vote ledger: casting, changing and withdrawing votes, and exact counts.
//!
//! Invariants (enforced by the schema, relied upon here):
//! - one ballot per (question, voter): a unique key;
//! - a choice's count is its number of rows in `votes`, and the SUM of its slotted counters
//!   (`vote_counts`, see `models::counts`): every transaction that adds or removes ledger rows
//!   adds the same +1/-1 to one slot, so the two always agree;
//! - `questions.vote_count` / `hot_rank` (list sorting only) follow the counters a moment later.
//!
//! Locking (InnoDB): a new ballot inserts its rows and upserts one random counter slot; a
//! change locks its ballot row, then replaces the ballot's vote rows with locking statements
//! (which see the latest committed rows); a withdrawal locks the ballot, then deletes it. No
//! statement touches the question row, so votes on one viral question do not queue on one row
//! lock (except on `network`-protected questions, whose per-network window needs it). When the
//! database reports a deadlock or a duplicate from a concurrent first vote, the whole transaction
//! is retried from a fresh snapshot.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::schema::{ballots, choices, questions, votes};
use crate::db::{AnyConnection, is_retryable, last_insert_id};
use crate::domain::poll::{PollStatus, Protection, Trust};
use crate::domain::{BallotChoices, BallotRules, Invalid};
use crate::models::question::QuestionRow;
use crate::models::{counts, question};

/// Exact results of a question, counted from the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Number of ballots (voters).
    pub total: i64,
    /// Votes per choice id (choices without votes are absent).
    pub by_choice: HashMap<i64, i64>,
}

/// The choices on `voter`'s ballot and when it last changed, or `None` if they have none.
pub fn ballot_of(
    conn: &mut AnyConnection,
    question_id: i64,
    voter: &str,
) -> QueryResult<Option<(Vec<i64>, NaiveDateTime)>> {
    let ballot: Option<(i64, NaiveDateTime)> = ballots::table
        .filter(ballots::question_id.eq(question_id))
        .filter(ballots::voter.eq(voter))
        .select((ballots::id, ballots::updated_at))
        .first(conn)
        .optional()?;
    match ballot {
        None => Ok(None),
        Some((id, at)) => votes::table
            .filter(votes::ballot_id.eq(id))
            .order(votes::choice_id.asc())
            .select(votes::choice_id)
            .load(conn)
            .map(|ids| Some((ids, at))),
    }
}

/// The choices on `voter`'s ballot for a question, or `None` if they have none.
pub fn choices_of(
    conn: &mut AnyConnection,
    question_id: i64,
    voter: &str,
) -> QueryResult<Option<Vec<i64>>> {
    let ballot: Option<i64> = ballots::table
        .filter(ballots::question_id.eq(question_id))
        .filter(ballots::voter.eq(voter))
        .select(ballots::id)
        .first(conn)
        .optional()?;
    match ballot {
        None => Ok(None),
        Some(id) => votes::table
            .filter(votes::ballot_id.eq(id))
            .order(votes::choice_id.asc())
            .select(votes::choice_id)
            .load(conn)
            .map(Some),
    }
}

/// A question's exact counts (from its slotted counters).
pub fn counts(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Counts> {
    counts::read(conn, question_id)
}

/// Counts ballots and per-choice votes of a question from the ledger rows themselves (checks).
pub fn ledger_counts(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Counts> {
    let total: i64 = ballots::table
        .filter(ballots::question_id.eq(question_id))
        .count()
        .get_result(conn)?;
    let rows: Vec<(i64, i64)> = votes::table
        .filter(votes::question_id.eq(question_id))
        .group_by(votes::choice_id)
        .select((votes::choice_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(Counts {
        total,
        by_choice: rows.into_iter().collect(),
    })
}

/// Who is voting and how they are identified.
#[derive(Debug, Clone)]
pub struct Voter {
    /// Stable voter key: `c:<uuid>` for a cookie, `u:<id>` for an account.
    pub key: String,
    /// The account, when logged in.
    pub user_id: Option<i64>,
    /// Keyed hash of the client network (for the network window), if known.
    pub ip_hash: Option<String>,
    /// Whether the account's email is verified.
    pub verified: bool,
}

/// A vote request.
#[derive(Debug, Clone)]
pub struct VoteRequest {
    /// The question.
    pub question_id: i64,
    /// The voter.
    pub voter: Voter,
    /// Choice ids as sent (validated inside the transaction against the question).
    pub choices: Vec<i64>,
    /// At most this many new ballots per network per question per day (`network` protection).
    pub network_limit: u32,
    /// Request time.
    pub now: NaiveDateTime,
    /// The counter slot this vote updates (`counts::pick_slot`).
    pub slot: i16,
}

/// What happened to a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteOutcome {
    /// A new ballot was stored.
    Created,
    /// An existing ballot now holds the new choices.
    Changed,
    /// The ballot already held exactly these choices: nothing was written.
    Unchanged,
}

/// Why a vote or a withdrawal was refused.
#[derive(Debug, thiserror::Error)]
pub enum VoteError {
    /// No such (visible) question.
    #[error("no such question")]
    NotFound,
    /// The question no longer takes votes.
    #[error("this question is closed")]
    Closed,
    /// The question requires an account.
    #[error("log in to vote on this question")]
    LoginRequired,
    /// Too many ballots from this network today.
    #[error("too many votes from your network on this question today")]
    NetworkLimit,
    /// The ballot is not valid for this question.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A database failure.
    #[error(transparent)]
    Db(Error),
}

impl From<Error> for VoteError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound => VoteError::NotFound,
            e => VoteError::Db(e),
        }
    }
}

const MAX_ATTEMPTS: u32 = 10;

/// An error that rolls the transaction back and makes [`with_retries`] run it again.
fn start_over(why: &str) -> VoteError {
    VoteError::Db(Error::DatabaseError(
        DatabaseErrorKind::SerializationFailure,
        Box::new(why.to_string()),
    ))
}

/// Whether a vote transaction that failed with `e` should run again from a fresh snapshot.
pub(crate) fn should_retry(e: &VoteError) -> bool {
    match e {
        VoteError::Db(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => true,
        VoteError::Db(e) => is_retryable(e),
        _ => false,
    }
}

fn with_retries<T>(mut f: impl FnMut() -> Result<T, VoteError>) -> Result<T, VoteError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f() {
            Err(e) if attempt < MAX_ATTEMPTS && should_retry(&e) => {
                let backoff = 1u64 << attempt.min(6);
                let jitter = rand::random::<u64>() % (backoff + 1);
                std::thread::sleep(std::time::Duration::from_millis(jitter));
            }
            other => return other,
        }
    }
}

/// Casts or changes `req.voter`'s ballot; acknowledged only once committed.
pub fn vote(
    conn: &mut AnyConnection,
    req: &VoteRequest,
) -> Result<(VoteOutcome, Vec<i64>), VoteError> {
    with_retries(|| conn.transaction(|c| vote_once(c, req)))
}

fn vote_once(
    c: &mut AnyConnection,
    req: &VoteRequest,
) -> Result<(VoteOutcome, Vec<i64>), VoteError> {
    let q = question::find_visible(c, req.question_id)?;
    if q.protection() == Protection::Network {
        // Serialise new ballots on this question before the ballot reads, so that the network
        // count sees every committed ballot.
        diesel::update(questions::table.find(q.id))
            .set(questions::updated_at.eq(questions::updated_at))
            .execute(c)?;
    }
    let ids = choice_ids(c, q.id)?;
    let (outcome, stored, deltas) = apply_vote(c, &q, &ids, req)?;
    counts::add(c, q.id, req.slot, &deltas)?;
    Ok((outcome, stored))
}

/// The choice ids of a question.
pub(crate) fn choice_ids(c: &mut AnyConnection, question_id: i64) -> QueryResult<Vec<i64>> {
    choices::table
        .filter(choices::question_id.eq(question_id))
        .select(choices::id)
        .load(c)
}

/// The checks a vote passes before anything is written: the question is open, an account if the
/// question needs one, and a valid ballot for its rules.
pub(crate) fn check_vote(
    q: &QuestionRow,
    choice_ids: &[i64],
    req: &VoteRequest,
) -> Result<BallotChoices, VoteError> {
    if q.status(req.now) == PollStatus::Closed {
        return Err(VoteError::Closed);
    }
    if q.protection() == Protection::Account && req.voter.user_id.is_none() {
        return Err(VoteError::LoginRequired);
    }
    let rules = BallotRules {
        kind: q.kind(),
        min: q.min_choices.max(1) as u32,
        max: q.max_choices.max(1) as u32,
        choice_ids,
    };
    Ok(BallotChoices::parse(&req.choices, &rules)?)
}

/// The trust level of a new ballot by `voter` under `protection`.
pub(crate) fn trust_of(protection: Protection, voter: &Voter) -> Trust {
    match (protection, voter.user_id) {
        (_, Some(_)) if voter.verified => Trust::Verified,
        (_, Some(_)) => Trust::Account,
        (p, None) => p.anonymous_trust(),
    }
}

/// What [`apply_vote`] did: the outcome, the stored choices and the counter deltas.
pub(crate) type AppliedVote = (VoteOutcome, Vec<i64>, Vec<(i64, i64)>);

/// Casts or changes a ballot inside the caller's transaction, given its question and choice ids.
/// Returns the outcome, the stored choices and the counter deltas, which the caller adds (alone
/// or summed with other votes). A refusal (closed, login, invalid ballot, network limit) is
/// returned before anything is written.
pub(crate) fn apply_vote(
    c: &mut AnyConnection,
    q: &QuestionRow,
    choice_ids: &[i64],
    req: &VoteRequest,
) -> Result<AppliedVote, VoteError> {
    let protection = q.protection();
    let ballot_choices = check_vote(q, choice_ids, req)?;
    let existing: Option<i64> = ballots::table
        .filter(ballots::question_id.eq(q.id))
        .filter(ballots::voter.eq(&req.voter.key))
        .select(ballots::id)
        .first(c)
        .optional()?;
    let (outcome, deltas) = match existing {
        Some(ballot_id) => {
            // Lock the ballot; if it vanished (a concurrent withdrawal), start over.
            let locked = diesel::update(ballots::table.find(ballot_id))
                .set(ballots::updated_at.eq(req.now))
                .execute(c)?;
            if locked == 0 {
                return Err(start_over("ballot withdrawn concurrently"));
            }
            let old = locked_choices(c, ballot_id)?;
            let mut new = ballot_choices.ids().to_vec();
            new.sort_unstable();
            if old == new {
                return Ok((
                    VoteOutcome::Unchanged,
                    ballot_choices.ids().to_vec(),
                    Vec::new(),
                ));
            }
            diesel::delete(votes::table.filter(votes::ballot_id.eq(ballot_id))).execute(c)?;
            insert_votes(c, ballot_id, q.id, ballot_choices.ids(), req.now)?;
            let deltas: Vec<(i64, i64)> = old
                .iter()
                .map(|c| (*c, -1))
                .chain(ballot_choices.ids().iter().map(|c| (*c, 1)))
                .collect();
            (VoteOutcome::Changed, deltas)
        }
        None => {
            if protection == Protection::Network
                && let Some(ip) = &req.voter.ip_hash
            {
                let since = req.now - Duration::hours(24);
                let recent: i64 = ballots::table
                    .filter(ballots::question_id.eq(q.id))
                    .filter(ballots::ip_hash.eq(ip))
                    .filter(ballots::created_at.ge(since))
                    .count()
                    .get_result(c)?;
                if recent >= i64::from(req.network_limit) {
                    return Err(VoteError::NetworkLimit);
                }
            }
            let trust = trust_of(protection, &req.voter);
            diesel::insert_into(ballots::table)
                .values((
                    ballots::question_id.eq(q.id),
                    ballots::voter.eq(&req.voter.key),
                    ballots::user_id.eq(req.voter.user_id),
                    ballots::ip_hash.eq(req.voter.ip_hash.as_deref()),
                    ballots::trust.eq(trust.as_str()),
                    ballots::created_at.eq(req.now),
                    ballots::updated_at.eq(req.now),
                ))
                .execute(c)?;
            let ballot_id = last_insert_id(c)?;
            insert_votes(c, ballot_id, q.id, ballot_choices.ids(), req.now)?;
            let deltas: Vec<(i64, i64)> = std::iter::once((counts::BALLOTS, 1))
                .chain(ballot_choices.ids().iter().map(|c| (*c, 1)))
                .collect();
            (VoteOutcome::Created, deltas)
        }
    };
    Ok((outcome, ballot_choices.ids().to_vec(), deltas))
}

#[derive(QueryableByName)]
struct ChoiceIdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    choice_id: i64,
}

/// The choices of a ballot whose row this transaction has locked, read with a locking read: an
/// InnoDB plain SELECT would read the transaction's older snapshot and miss a change committed
/// meanwhile, and the counters would then subtract the wrong choices. (SQLite has one writer at
/// a time, so a plain read is current.)
fn locked_choices(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<Vec<i64>> {
    let lock = match c {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => " FOR UPDATE",
        AnyConnection::Sqlite(_) => "",
    };
    diesel::sql_query(format!(
        "SELECT choice_id FROM votes WHERE ballot_id = ? ORDER BY choice_id{lock}"
    ))
    .bind::<diesel::sql_types::BigInt, _>(ballot_id)
    .load::<ChoiceIdRow>(c)
    .map(|rows| rows.into_iter().map(|r| r.choice_id).collect())
}

fn insert_votes(
    c: &mut AnyConnection,
    ballot_id: i64,
    question_id: i64,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<()> {
    for choice_id in ids {
        diesel::insert_into(votes::table)
            .values((
                votes::ballot_id.eq(ballot_id),
                votes::choice_id.eq(choice_id),
                votes::question_id.eq(question_id),
                votes::created_at.eq(now),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Withdraws `voter`'s ballot; `Ok(false)` if they had none.
pub fn withdraw(
    conn: &mut AnyConnection,
    question_id: i64,
    voter: &str,
    now: NaiveDateTime,
    slot: i16,
) -> Result<bool, VoteError> {
    with_retries(|| conn.transaction(|c| withdraw_once(c, question_id, voter, now, slot)))
}

fn withdraw_once(
    c: &mut AnyConnection,
    question_id: i64,
    voter: &str,
    now: NaiveDateTime,
    slot: i16,
) -> Result<bool, VoteError> {
    let q = question::find_visible(c, question_id)?;
    let (had, deltas) = apply_withdraw(c, &q, voter, now)?;
    counts::add(c, q.id, slot, &deltas)?;
    Ok(had)
}

/// Withdraws `voter`'s ballot inside the caller's transaction; returns whether there was one and
/// the counter deltas for the caller to add. A closed question is refused before any write.
pub(crate) fn apply_withdraw(
    c: &mut AnyConnection,
    q: &QuestionRow,
    voter: &str,
    now: NaiveDateTime,
) -> Result<(bool, Vec<(i64, i64)>), VoteError> {
    if q.status(now) == PollStatus::Closed {
        return Err(VoteError::Closed);
    }
    let existing: Option<i64> = ballots::table
        .filter(ballots::question_id.eq(q.id))
        .filter(ballots::voter.eq(voter))
        .select(ballots::id)
        .first(c)
        .optional()?;
    let Some(ballot_id) = existing else {
        return Ok((false, Vec::new()));
    };
    // Lock the ballot before its vote rows (the order a change uses). If it is gone, it was
    // withdrawn concurrently: start over.
    let locked = diesel::update(ballots::table.find(ballot_id))
        .set(ballots::updated_at.eq(now))
        .execute(c)?;
    if locked == 0 {
        return Err(start_over("ballot withdrawn concurrently"));
    }
    // Votes would go with the ballot (ON DELETE CASCADE); delete them explicitly so the ledger
    // does not depend on the connection's foreign-key setting.
    let old = locked_choices(c, ballot_id)?;
    diesel::delete(votes::table.filter(votes::ballot_id.eq(ballot_id))).execute(c)?;
    diesel::delete(ballots::table.find(ballot_id)).execute(c)?;
    let deltas: Vec<(i64, i64)> = std::iter::once((counts::BALLOTS, -1))
        .chain(old.iter().map(|c| (*c, -1)))
        .collect();
    Ok((true, deltas))
}

/// Moves an anonymous voter's ballots to an account at login. Where the account already voted on
/// the same question, the anonymous ballot is dropped, so no one is counted twice. Returns
/// (ballots moved, ballots dropped).
pub fn adopt(
    conn: &mut AnyConnection,
    cookie_key: &str,
    user_id: i64,
    verified: bool,
    now: NaiveDateTime,
) -> QueryResult<(usize, usize)> {
    let user_key = format!("u:{user_id}");
    let trust = if verified {
        Trust::Verified
    } else {
        Trust::Account
    };
    conn.transaction(|c| {
        let mine: Vec<(i64, i64)> = ballots::table
            .filter(ballots::voter.eq(cookie_key))
            .select((ballots::id, ballots::question_id))
            .load(c)?;
        let (mut moved, mut dropped) = (0, Vec::new());
        for (ballot_id, question_id) in mine {
            let already: i64 = ballots::table
                .filter(ballots::question_id.eq(question_id))
                .filter(ballots::voter.eq(&user_key))
                .count()
                .get_result(c)?;
            if already > 0 {
                let old = locked_choices(c, ballot_id)?;
                diesel::delete(votes::table.filter(votes::ballot_id.eq(ballot_id))).execute(c)?;
                diesel::delete(ballots::table.find(ballot_id)).execute(c)?;
                let deltas: Vec<(i64, i64)> = std::iter::once((counts::BALLOTS, -1))
                    .chain(old.iter().map(|c| (*c, -1)))
                    .collect();
                counts::add(c, question_id, counts::pick_slot(8), &deltas)?;
                dropped.push(question_id);
            } else {
                diesel::update(ballots::table.find(ballot_id))
                    .set((
                        ballots::voter.eq(&user_key),
                        ballots::user_id.eq(Some(user_id)),
                        ballots::trust.eq(trust.as_str()),
                        ballots::updated_at.eq(now),
                    ))
                    .execute(c)?;
                moved += 1;
            }
        }
        // Rare (a visitor who voted both logged out and in): refresh the list counters now.
        counts::refresh_questions(c, &dropped, now)?;
        Ok((moved, dropped.len()))
    })
}
