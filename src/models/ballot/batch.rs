//! Many vote requests in one transaction (group commit): the SQL side of
//! `services::vote_batcher`.
//!
//! Each request keeps the semantics of [`super::vote`] / [`super::withdraw`]: requests are
//! applied in their order (so two by the same voter on the same question in one batch see each
//! other), a refusal leaves nothing written and is that request's own result, and the counter
//! deltas of the whole batch are summed into one upsert in the same transaction. A database error
//! rolls the whole batch back; the caller then retries it or applies the requests one by one
//! ([`apply_one`]). Votes on `network`-protected questions are not batched: their per-network
//! count needs the question lock taken before the transaction's first read, so they come back as
//! [`InBatch::Deferred`] and are applied alone after the batch.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Abort, VoteOutcome, VoteRequest, Voted, apply_vote, apply_withdraw, ballot_deltas};
use crate::db::prepared::{Statement, by_backend, timestamp};
use crate::db::schema::{ballots, choices, questions};
use crate::db::write_transaction;
use crate::db::{AnyConnection, in_padded};
use crate::domain::ballot::{check_vote, trust_of};
use crate::domain::runoff::ranking_key;
use crate::domain::{BallotChoices, Kind, Protection, VoteRefusal};
use crate::models::counts::{self, Delta};
use crate::models::question::{self, QuestionRow};
use crate::models::ranking;

/// One request of a batch.
#[derive(Debug, Clone)]
pub enum BallotOp {
    /// Cast or change a ballot.
    Vote(VoteRequest),
    /// Withdraw a ballot.
    Withdraw {
        /// The question.
        question_id: i64,
        /// The voter key.
        voter: String,
        /// Request time.
        now: NaiveDateTime,
    },
}

impl BallotOp {
    /// The question the request is about.
    pub fn question_id(&self) -> i64 {
        match self {
            BallotOp::Vote(r) => r.question_id,
            BallotOp::Withdraw { question_id, .. } => *question_id,
        }
    }

    /// The voter key of the request.
    pub fn voter(&self) -> &str {
        match self {
            BallotOp::Vote(r) => &r.voter.key,
            BallotOp::Withdraw { voter, .. } => voter,
        }
    }
}

/// What a committed request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The ballot was stored (created, changed, or already so).
    Voted(Voted),
    /// The ballot was withdrawn (`true`: there was one).
    Withdrawn(bool),
}

/// A request's result inside a batch: `Deferred` when it must be applied alone.
#[derive(Debug)]
pub enum InBatch {
    /// Applied (or refused) in the batch; final once the batch commits.
    Done(Result<Applied, VoteRefusal>),
    /// Not applied: run it with [`apply_one`] after the batch.
    Deferred,
}

/// The questions of a batch (visible ones, with their choice ids) and the (question, voter)
/// pairs that already have a ballot: three statements for the whole batch.
struct Context {
    questions: HashMap<i64, (QuestionRow, Vec<i64>)>,
    existing: HashSet<(i64, String)>,
}

impl Context {
    fn load(c: &mut AnyConnection, ops: &[&BallotOp]) -> QueryResult<Context> {
        let mut qids: Vec<i64> = ops.iter().map(|o| o.question_id()).collect();
        qids.sort_unstable();
        qids.dedup();
        let rows: Vec<QuestionRow> = questions::table
            .filter(in_padded(questions::id, qids.iter().copied()))
            .filter(question::visible!())
            .select(QuestionRow::as_select())
            .load(c)?;
        let mut questions: HashMap<i64, (QuestionRow, Vec<i64>)> =
            rows.into_iter().map(|q| (q.id, (q, Vec::new()))).collect();
        let pairs: Vec<(i64, i64)> = choices::table
            .filter(in_padded(choices::question_id, qids.iter().copied()))
            .select((choices::question_id, choices::id))
            .load(c)?;
        for (q, id) in pairs {
            if let Some(entry) = questions.get_mut(&q) {
                entry.1.push(id);
            }
        }
        let mut voters: Vec<&str> = ops.iter().map(|o| o.voter()).collect();
        voters.sort_unstable();
        voters.dedup();
        let existing: Vec<(i64, String)> = ballots::table
            .filter(in_padded(ballots::question_id, qids.iter().copied()))
            .filter(in_padded(ballots::voter, voters.iter().copied()))
            .select((ballots::question_id, ballots::voter))
            .load(c)?;
        Ok(Context {
            questions,
            existing: existing.into_iter().collect(),
        })
    }
}

/// Applies `ops` in order in one transaction, the counters of all of them in one upsert into
/// `slot`, and refreshes the list counters of `refresh` in the same commit. `Err` means the
/// transaction was rolled back (a database error) and nothing of the batch is stored.
pub fn apply_batch(
    conn: &mut AnyConnection,
    ops: &[&BallotOp],
    slot: i16,
    refresh: &[i64],
    now: NaiveDateTime,
) -> QueryResult<Vec<InBatch>> {
    write_transaction(conn, |c| {
        let ctx = Context::load(c, ops)?;
        let mut results: Vec<Option<InBatch>> = ops.iter().map(|_| None).collect();
        let mut deltas: Vec<(i64, Delta)> = Vec::new();
        new_ballots(c, ops, &ctx, &mut results, &mut deltas)?;
        let mut deferred: HashSet<i64> = HashSet::new();
        for (op, result) in ops.iter().zip(results.iter_mut()) {
            if result.is_some() {
                continue;
            }
            let qid = op.question_id();
            if deferred.contains(&qid) {
                *result = Some(InBatch::Deferred);
                continue;
            }
            let Some((q, ids)) = ctx.questions.get(&qid) else {
                *result = Some(InBatch::Done(Err(VoteRefusal::NotFound)));
                continue;
            };
            let applied = match op {
                BallotOp::Vote(_) if q.protection() == Protection::Network => {
                    // Later requests on this question follow it, in order.
                    deferred.insert(qid);
                    *result = Some(InBatch::Deferred);
                    continue;
                }
                BallotOp::Vote(req) => apply_vote(c, q, ids, req).map(|(voted, d)| {
                    deltas.extend(d.into_iter().map(|d| (qid, d)));
                    Applied::Voted(voted)
                }),
                BallotOp::Withdraw { voter, now, .. } => {
                    apply_withdraw(c, q, voter, *now).map(|(had, d)| {
                        deltas.extend(d.into_iter().map(|d| (qid, d)));
                        Applied::Withdrawn(had)
                    })
                }
            };
            *result = Some(InBatch::Done(match applied {
                Ok(applied) => Ok(applied),
                Err(Abort::Refused(r)) => Err(r),
                // A database error fails the whole batch (rolled back by returning it).
                Err(Abort::Db(e)) => return Err(e),
            }));
        }
        counts::add_many(c, slot, &deltas)?;
        if !refresh.is_empty() {
            counts::refresh_questions(c, refresh, now)?;
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(InBatch::Deferred))
            .collect())
    })
}

/// The common case in bulk: a first vote whose (question, voter) appears once in the batch, on a
/// question without `network` protection. Refusals are decided without writing; the accepted
/// ballots and their vote rows are inserted with one multi-row statement each. Other requests
/// are left (`None`) for the in-order path.
fn new_ballots(
    c: &mut AnyConnection,
    ops: &[&BallotOp],
    ctx: &Context,
    results: &mut [Option<InBatch>],
    deltas: &mut Vec<(i64, Delta)>,
) -> QueryResult<()> {
    let mut seen: HashMap<(i64, &str), usize> = HashMap::new();
    for op in ops {
        *seen.entry((op.question_id(), op.voter())).or_default() += 1;
    }
    let mut accepted: Vec<(usize, &VoteRequest, &QuestionRow, BallotChoices)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let BallotOp::Vote(req) = op else { continue };
        let key = (req.question_id, req.voter.key.as_str());
        let Some((q, ids)) = ctx.questions.get(&req.question_id) else {
            continue;
        };
        if seen[&key] > 1
            || q.protection() == Protection::Network
            || ctx.existing.contains(&(key.0, key.1.to_string()))
        {
            continue;
        }
        let rules = q.vote_rules(ids, req.now);
        match check_vote(&rules, req.voter.user_id.is_some(), &req.choices, req.sent) {
            Ok(choices) => accepted.push((i, req, q, choices)),
            Err(refused) => results[i] = Some(InBatch::Done(Err(refused))),
        }
    }
    if accepted.is_empty() {
        return Ok(());
    }
    // Two statements of a fixed shape (kept prepared) for any number of rows: the ballots, then
    // their vote rows, each ballot's id found by the server (question, voter) in the same
    // statement.
    let mut ballot_rows = Vec::with_capacity(accepted.len());
    let mut vote_rows = Vec::new();
    let (mut ranked_rows, mut ranked_deltas) = (Vec::new(), Vec::new());
    for (i, req, q, choices) in &accepted {
        let at = timestamp(c, req.now);
        let trust = trust_of(q.protection(), req.voter.user_id, req.voter.verified);
        ballot_rows.push(serde_json::json!([
            req.question_id,
            req.voter.key,
            req.voter.user_id,
            req.voter.ip_hash,
            trust.as_str(),
            at
        ]));
        deltas.extend(ballot_deltas(trust, choices.counted(q.kind()), 1).map(|d| (q.id, d)));
        for choice in choices.counted(q.kind()) {
            vote_rows.push(serde_json::json!([req.question_id, req.voter.key, choice]));
        }
        if q.kind() == Kind::Ranked {
            let key = ranking_key(choices.ids());
            ranked_deltas.push((q.id, key.clone(), trust.code(), 1));
            ranked_rows.push((q.id, req.voter.key.as_str(), key));
        }
        results[*i] = Some(InBatch::Done(Ok(Applied::Voted(Voted {
            outcome: VoteOutcome::Created,
            choices: choices.ids().to_vec(),
        }))));
    }
    let stored = Statement::new(by_backend(c, INSERT_BALLOTS_MYSQL, INSERT_BALLOTS_SQLITE))
        .text(serde_json::Value::from(ballot_rows).to_string())
        .execute(c)?;
    let expected = vote_rows.len();
    let voted = Statement::new(by_backend(c, INSERT_VOTES_MYSQL, INSERT_VOTES_SQLITE))
        .text(serde_json::Value::from(vote_rows).to_string())
        .execute(c)?;
    let ranked = ranking::insert_new(c, &ranked_rows)?;
    if stored != accepted.len() || voted != expected || ranked != ranked_rows.len() {
        // Not what was written: roll the batch back (its requests are then applied one by one).
        return Err(diesel::result::Error::NotFound);
    }
    ranking::add(c, &ranked_deltas)
}

/// `[[question, voter, user id, network hash, trust, time], …]` → ballots (in order).
const INSERT_BALLOTS_MYSQL: &str = "INSERT INTO ballots \
    (question_id, voter, user_id, ip_hash, trust, created_at, updated_at) \
    SELECT j.q, j.v, j.u, j.ip, j.t, j.at, j.at FROM JSON_TABLE(?, '$[*]' COLUMNS ( \
    n FOR ORDINALITY, q BIGINT PATH '$[0]', \
    v VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]', u BIGINT PATH '$[2]', \
    ip VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$[3]', \
    t VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin PATH '$[4]', \
    at DATETIME(6) PATH '$[5]')) AS j ORDER BY j.n";
const INSERT_BALLOTS_SQLITE: &str = "INSERT INTO ballots \
    (question_id, voter, user_id, ip_hash, trust, created_at, updated_at) \
    SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
    j.value ->> 5, j.value ->> 5 FROM json_each(?) AS j WHERE true ORDER BY j.key";

/// `[[question, voter, choice], …]` → vote rows of the ballots just stored (their ids and times
/// looked up by the unique key).
const INSERT_VOTES_MYSQL: &str = "INSERT INTO votes \
    (ballot_id, choice_id, question_id, created_at) \
    SELECT b.id, j.c, b.question_id, b.created_at FROM JSON_TABLE(?, '$[*]' COLUMNS ( \
    q BIGINT PATH '$[0]', v VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]', \
    c BIGINT PATH '$[2]')) AS j \
    JOIN ballots b ON b.question_id = j.q AND b.voter = j.v";
const INSERT_VOTES_SQLITE: &str = "INSERT INTO votes \
    (ballot_id, choice_id, question_id, created_at) \
    SELECT b.id, j.value ->> 2, b.question_id, b.created_at FROM json_each(?) AS j \
    JOIN ballots b ON b.question_id = j.value ->> 0 AND b.voter = j.value ->> 1 WHERE true";

/// Applies one request in its own transaction (with the usual retries), as before batching; a
/// withdrawal's counters go to `slot`.
pub fn apply_one(
    conn: &mut AnyConnection,
    op: &BallotOp,
    slot: i16,
) -> QueryResult<Result<Applied, VoteRefusal>> {
    Ok(match op {
        BallotOp::Vote(req) => super::vote(conn, req)?.map(Applied::Voted),
        BallotOp::Withdraw {
            question_id,
            voter,
            now,
        } => super::withdraw(conn, *question_id, voter, *now, slot)?.map(Applied::Withdrawn),
    })
}
