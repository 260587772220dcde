//! Ballots and the vote ledger: casting, changing and withdrawing votes, one at a time
//! ([`vote`], [`withdraw`]) or many in one transaction ([`batch`]), and moving a visitor's ballots
//! to their account ([`adopt`]). The rules a vote must pass are the domain's
//! (`domain::ballot::check_vote`); this module applies them to rows.
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
//!
//! Results: database errors are `Err`; a vote the rules refuse is `Ok(Err(VoteRefusal))`, with
//! nothing written.

pub mod batch;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

pub use self::batch::{Applied, BallotOp, InBatch};
use crate::db::schema::{ballots, choices, questions, votes};
use crate::db::write_transaction;
use crate::db::{Abort, AnyConnection, is_retryable, last_insert_id, retry, transaction};
use crate::domain::ballot::{check_vote, check_withdraw, trust_of};
use crate::domain::{Kind, Protection, Sent, Trust, VoteRefusal};
use crate::models::counts::{self, Delta};
use crate::models::question::{self, QuestionRow};
use crate::models::ranking;

/// A voter's stored ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// The chosen choice ids, ascending (a ranked ballot: its ranking, most preferred first).
    pub choices: Vec<i64>,
    /// When it was cast or last changed.
    pub changed_at: NaiveDateTime,
}

/// `voter`'s ballot on a question, or `None` if they have none.
pub fn ballot_of(
    conn: &mut AnyConnection,
    question_id: i64,
    voter: &str,
) -> QueryResult<Option<Ballot>> {
    let ballot: Option<(i64, NaiveDateTime)> = ballots::table
        .filter(ballots::question_id.eq(question_id))
        .filter(ballots::voter.eq(voter))
        .select((ballots::id, ballots::updated_at))
        .first(conn)
        .optional()?;
    match ballot {
        None => Ok(None),
        Some((id, changed_at)) => {
            let choices = match ranking::of_ballot(conn, id)? {
                Some(ranked) => ranked,
                None => votes::table
                    .filter(votes::ballot_id.eq(id))
                    .order(votes::choice_id.asc())
                    .select(votes::choice_id)
                    .load(conn)?,
            };
            Ok(Some(Ballot {
                choices,
                changed_at,
            }))
        }
    }
}

/// Who casts a ballot, as the ledger records it.
#[derive(Debug, Clone)]
pub struct Caster {
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
    /// Who votes.
    pub voter: Caster,
    /// Choice ids as sent (checked inside the transaction against the question).
    pub choices: Vec<i64>,
    /// The list they were sent in (it must fit the question's kind).
    pub sent: Sent,
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

/// A stored vote: what happened and the choices now on the ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voted {
    /// Created, changed or unchanged.
    pub outcome: VoteOutcome,
    /// The stored choice ids, ascending (ranked: the ranking, most preferred first).
    pub choices: Vec<i64>,
}

/// Counter changes of one question.
type Deltas = Vec<Delta>;

/// Tries of a single vote or withdrawal that keeps colliding with concurrent ones.
const ATTEMPTS: u32 = 10;

/// Whether a vote transaction that failed with `e` should run again from a fresh snapshot: a
/// transient conflict, or the unique key refusing a concurrent first vote (the retry sees that
/// ballot and becomes a change).
pub fn should_retry(e: &Error) -> bool {
    matches!(
        e,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    ) || is_retryable(e)
}

/// An error that rolls the transaction back and makes the retry run it again.
fn start_over(why: &str) -> Error {
    Error::DatabaseError(
        DatabaseErrorKind::SerializationFailure,
        Box::new(why.to_string()),
    )
}

/// The visible question `id`, or the refusal that it does not exist.
fn visible(c: &mut AnyConnection, id: i64) -> Result<QuestionRow, Abort<VoteRefusal>> {
    question::find_visible(c, id)
        .optional()?
        .ok_or(Abort::Refused(VoteRefusal::NotFound))
}

/// Casts or changes `req.voter`'s ballot in its own transaction; acknowledged only once
/// committed.
pub fn vote(
    conn: &mut AnyConnection,
    req: &VoteRequest,
) -> QueryResult<Result<Voted, VoteRefusal>> {
    retry(ATTEMPTS, should_retry, || {
        transaction(conn, |c| {
            let q = visible(c, req.question_id)?;
            if q.protection() == Protection::Network {
                // Serialise new ballots on this question before the ballot reads, so that the
                // network count sees every committed ballot.
                diesel::update(questions::table.find(q.id))
                    .set(questions::updated_at.eq(questions::updated_at))
                    .execute(c)?;
            }
            let ids = choice_ids(c, q.id)?;
            let (voted, deltas) = apply_vote(c, &q, &ids, req)?;
            counts::add(c, q.id, req.slot, &deltas)?;
            Ok(voted)
        })
    })
}

/// The choice ids of a question.
fn choice_ids(c: &mut AnyConnection, question_id: i64) -> QueryResult<Vec<i64>> {
    choices::table
        .filter(choices::question_id.eq(question_id))
        .select(choices::id)
        .load(c)
}

/// The id of `voter`'s ballot on a question, if any.
fn ballot_id(c: &mut AnyConnection, question_id: i64, voter: &str) -> QueryResult<Option<i64>> {
    ballots::table
        .filter(ballots::question_id.eq(question_id))
        .filter(ballots::voter.eq(voter))
        .select(ballots::id)
        .first(c)
        .optional()
}

/// Casts or changes a ballot inside the caller's transaction, given its question and choice ids.
/// Returns what was stored and the counter deltas, which the caller adds (alone or summed with
/// other votes). A refusal (closed, login, invalid ballot, network limit) comes before any write.
fn apply_vote(
    c: &mut AnyConnection,
    q: &QuestionRow,
    choice_ids: &[i64],
    req: &VoteRequest,
) -> Result<(Voted, Deltas), Abort<VoteRefusal>> {
    let protection = q.protection();
    let chosen = check_vote(
        &q.vote_rules(choice_ids, req.now),
        req.voter.user_id.is_some(),
        &req.choices,
        req.sent,
    )
    .map_err(Abort::Refused)?;
    let kind = q.kind();
    // A ranked ballot's vote row and counters hold its first preference; the whole ranking is
    // kept beside them (`models::ranking`).
    let new = chosen.counted(kind).to_vec();
    let ranked = (kind == Kind::Ranked).then(|| chosen.ids().to_vec());
    let (outcome, deltas) = match ballot_id(c, q.id, &req.voter.key)? {
        Some(ballot_id) => {
            lock_ballot(c, ballot_id, req.now)?;
            let (trust, old) = locked_ballot(c, ballot_id)?;
            let old_ranking = match &ranked {
                Some(_) => ranking::locked(c, ballot_id)?,
                None => None,
            };
            if old == new && old_ranking.as_ref().map(|r| r.ids()) == ranked {
                let voted = Voted {
                    outcome: VoteOutcome::Unchanged,
                    choices: ranked.unwrap_or(new),
                };
                return Ok((voted, Vec::new()));
            }
            if let Some(r) = &ranked {
                ranking::replace(c, q.id, ballot_id, old_ranking.as_ref(), r, trust)?;
            }
            diesel::delete(votes::table.filter(votes::ballot_id.eq(ballot_id))).execute(c)?;
            insert_votes(c, ballot_id, q.id, &new, req.now)?;
            let deltas = old
                .iter()
                .map(|c| Delta::new(*c, trust, -1))
                .chain(new.iter().map(|c| Delta::new(*c, trust, 1)))
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
                    return Err(Abort::Refused(VoteRefusal::NetworkLimit));
                }
            }
            let trust = trust_of(protection, req.voter.user_id, req.voter.verified);
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
            insert_votes(c, ballot_id, q.id, &new, req.now)?;
            if let Some(r) = &ranked {
                ranking::insert(c, q.id, ballot_id, r, trust)?;
            }
            let deltas = ballot_deltas(trust, &new, 1).collect();
            (VoteOutcome::Created, deltas)
        }
    };
    Ok((
        Voted {
            outcome,
            choices: ranked.unwrap_or(new),
        },
        deltas,
    ))
}

/// Locks a ballot row before its vote rows (the order every change takes). If it is gone, it was
/// withdrawn concurrently: the transaction starts over.
fn lock_ballot(c: &mut AnyConnection, ballot_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    let locked = diesel::update(ballots::table.find(ballot_id))
        .set(ballots::updated_at.eq(now))
        .execute(c)?;
    if locked == 0 {
        return Err(start_over("ballot withdrawn concurrently"));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct LockedRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    question_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    trust: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    choice_id: Option<i64>,
}

/// A ballot read with a locking read: its question, trust level and choices.
struct Locked {
    question_id: i64,
    trust: Trust,
    choices: Vec<i64>,
}

/// Locks a ballot (if this transaction has not yet) and reads its question, trust level and
/// choices with a locking read: an InnoDB plain SELECT would read the transaction's older
/// snapshot and miss a change committed meanwhile (new choices, or a new level when the account
/// verified its email), and the counters would then move the wrong counts. (SQLite has one writer
/// at a time, so a plain read is current.) `None` if the ballot is gone.
fn read_locked(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<Option<Locked>> {
    let lock = match c {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => " FOR UPDATE",
        AnyConnection::Sqlite(_) => "",
    };
    let rows = diesel::sql_query(format!(
        "SELECT b.question_id, b.trust, v.choice_id FROM ballots b \
         LEFT JOIN votes v ON v.ballot_id = b.id WHERE b.id = ? ORDER BY v.choice_id{lock}"
    ))
    .bind::<diesel::sql_types::BigInt, _>(ballot_id)
    .load::<LockedRow>(c)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Locked {
        question_id: first.question_id,
        trust: stored_trust(&first.trust)?,
        choices: rows.iter().filter_map(|r| r.choice_id).collect(),
    }))
}

/// The trust level and choices of a ballot this transaction has locked (see [`read_locked`]); if
/// it is gone, it was withdrawn concurrently: the transaction starts over.
fn locked_ballot(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<(Trust, Vec<i64>)> {
    match read_locked(c, ballot_id)? {
        Some(l) => Ok((l.trust, l.choices)),
        None => Err(start_over("ballot withdrawn concurrently")),
    }
}

/// A ballot's stored trust level.
fn stored_trust(s: &str) -> QueryResult<Trust> {
    Trust::parse(s).map_err(|e| Error::DeserializationError(Box::new(e)))
}

/// The counter changes that add (`sign` 1) or take out (-1) a ballot with these choices at
/// `trust`.
fn ballot_deltas(trust: Trust, choices: &[i64], sign: i64) -> impl Iterator<Item = Delta> + '_ {
    std::iter::once(Delta::new(counts::BALLOTS, trust, sign))
        .chain(choices.iter().map(move |c| Delta::new(*c, trust, sign)))
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

/// Deletes a locked ballot and its vote rows; the counter deltas that take it out.
fn delete_ballot(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<Deltas> {
    let (trust, old) = locked_ballot(c, ballot_id)?;
    delete_rows(c, ballot_id)?;
    Ok(ballot_deltas(trust, &old, -1).collect())
}

/// Deletes a ballot's vote rows and the ballot. (Votes would go with the ballot, ON DELETE
/// CASCADE; they are deleted explicitly so the ledger does not depend on the connection's
/// foreign-key setting.)
fn delete_rows(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<()> {
    ranking::remove(c, ballot_id)?;
    diesel::delete(votes::table.filter(votes::ballot_id.eq(ballot_id))).execute(c)?;
    diesel::delete(ballots::table.find(ballot_id)).execute(c)?;
    Ok(())
}

/// Withdraws `voter`'s ballot in its own transaction; `Ok(Ok(false))` if they had none.
pub fn withdraw(
    conn: &mut AnyConnection,
    question_id: i64,
    voter: &str,
    now: NaiveDateTime,
    slot: i16,
) -> QueryResult<Result<bool, VoteRefusal>> {
    retry(ATTEMPTS, should_retry, || {
        transaction(conn, |c| {
            let q = visible(c, question_id)?;
            let (had, deltas) = apply_withdraw(c, &q, voter, now)?;
            counts::add(c, q.id, slot, &deltas)?;
            Ok(had)
        })
    })
}

/// Withdraws `voter`'s ballot inside the caller's transaction; returns whether there was one and
/// the counter deltas for the caller to add. A closed question is refused before any write.
fn apply_withdraw(
    c: &mut AnyConnection,
    q: &QuestionRow,
    voter: &str,
    now: NaiveDateTime,
) -> Result<(bool, Deltas), Abort<VoteRefusal>> {
    check_withdraw(q.status(now)).map_err(Abort::Refused)?;
    let Some(ballot_id) = ballot_id(c, q.id, voter)? else {
        return Ok((false, Vec::new()));
    };
    lock_ballot(c, ballot_id, now)?;
    Ok((true, delete_ballot(c, ballot_id)?))
}

/// Moves an anonymous voter's ballots to an account at login. Where the account already voted on
/// the same question, the anonymous ballot is dropped, so no one is counted twice. A moved ballot
/// takes the account's trust level, and its counts move with it. Returns (ballots moved, ballots
/// dropped).
pub fn adopt(
    conn: &mut AnyConnection,
    cookie_key: &str,
    user_id: i64,
    verified: bool,
    now: NaiveDateTime,
) -> QueryResult<(usize, usize)> {
    let user_key = format!("u:{user_id}");
    let trust = account_trust(verified);
    write_transaction(conn, |c| {
        let mine: Vec<(i64, i64)> = ballots::table
            .filter(ballots::voter.eq(cookie_key))
            .select((ballots::id, ballots::question_id))
            .load(c)?;
        let (mut moved, mut dropped) = (0, Vec::new());
        let mut deltas: Vec<(i64, Delta)> = Vec::new();
        for (ballot_id, question_id) in mine {
            let Some(Locked {
                trust: was,
                choices,
                ..
            }) = read_locked(c, ballot_id)?
            else {
                continue; // withdrawn meanwhile
            };
            let already: i64 = ballots::table
                .filter(ballots::question_id.eq(question_id))
                .filter(ballots::voter.eq(&user_key))
                .count()
                .get_result(c)?;
            if already > 0 {
                delete_rows(c, ballot_id)?;
                let out = ballot_deltas(was, &choices, -1);
                deltas.extend(out.map(|d| (question_id, d)));
                dropped.push(question_id);
            } else {
                ranking::retrust(c, ballot_id, trust)?;
                diesel::update(ballots::table.find(ballot_id))
                    .set((
                        ballots::voter.eq(&user_key),
                        ballots::user_id.eq(Some(user_id)),
                        ballots::trust.eq(trust.as_str()),
                        ballots::updated_at.eq(now),
                    ))
                    .execute(c)?;
                if was != trust {
                    let out = ballot_deltas(was, &choices, -1);
                    let into = ballot_deltas(trust, &choices, 1);
                    deltas.extend(out.chain(into).map(|d| (question_id, d)));
                }
                moved += 1;
            }
        }
        counts::add_many(c, counts::pick_slot(8), &deltas)?;
        // Rare (a visitor who voted both logged out and in): refresh the list counters now.
        counts::refresh_questions(c, &dropped, now)?;
        Ok((moved, dropped.len()))
    })
}

/// The trust level of an account's ballots: verified or not.
fn account_trust(verified: bool) -> Trust {
    if verified {
        Trust::Verified
    } else {
        Trust::Account
    }
}

/// Moves the ballots an account cast to the trust level its email now gives it (verified, or no
/// longer: a new address not yet confirmed), with their counts, in one transaction (nested in the
/// caller's, if any). Ballots anonymised by an account deletion keep theirs. Returns how many
/// ballots moved.
pub fn set_account_trust(
    conn: &mut AnyConnection,
    user_id: i64,
    verified: bool,
) -> QueryResult<usize> {
    let to = account_trust(verified);
    let from = account_trust(!verified);
    write_transaction(conn, |c| {
        let ids: Vec<i64> = ballots::table
            .filter(ballots::user_id.eq(user_id))
            .filter(ballots::trust.eq(from.as_str()))
            .select(ballots::id)
            .load(c)?;
        let mut deltas: Vec<(i64, Delta)> = Vec::new();
        let mut moved = 0;
        for ballot_id in ids {
            let Some(Locked {
                question_id,
                trust,
                choices,
            }) = read_locked(c, ballot_id)?
            else {
                continue; // withdrawn meanwhile
            };
            if trust != from {
                continue; // moved meanwhile
            }
            ranking::retrust(c, ballot_id, to)?;
            diesel::update(ballots::table.find(ballot_id))
                .set(ballots::trust.eq(to.as_str()))
                .execute(c)?;
            let out = ballot_deltas(from, &choices, -1);
            let into = ballot_deltas(to, &choices, 1);
            deltas.extend(out.chain(into).map(|d| (question_id, d)));
            moved += 1;
        }
        counts::add_many(c, counts::pick_slot(8), &deltas)?;
        Ok(moved)
    })
}
