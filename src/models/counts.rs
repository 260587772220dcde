//! Slotted vote counters (`vote_counts`): the aggregated form of the ledger.
//!
//! A vote adds +1/-1 deltas to one randomly chosen slot of its question, in the same transaction
//! as the ledger rows, with one upsert statement. Concurrent votes on one question therefore
//! update different rows (no single hot counter row), and reading the results is a SUM over at
//! most `slots × (choices + 1)` rows instead of a COUNT over the ledger. `choice_id = 0` counts
//! ballots. `questions.vote_count` / `hot_rank` (used to sort lists) are refreshed from these
//! sums by [`refresh_questions`] a moment later, not by each vote.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::prepared::{Statement, by_backend};
use crate::db::schema::{ballots, questions, vote_counts, votes};
use crate::db::{AnyConnection, in_padded};
use crate::domain::poll;

/// Exact results of a question: ballots, and votes per choice, and when they were read.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Number of ballots (voters).
    pub total: i64,
    /// Votes per choice id (choices without votes are absent).
    pub by_choice: HashMap<i64, i64>,
    /// When the read began (Unix milliseconds): the counts hold every vote committed before. A page
    /// keeps the newest counts it was shown, so cached older ones never overwrite them.
    #[serde(default)]
    pub as_of: i64,
}

/// Two counts are equal when they count the same, whenever they were read.
impl PartialEq for Counts {
    fn eq(&self, other: &Counts) -> bool {
        self.total == other.total && self.by_choice == other.by_choice
    }
}

impl Eq for Counts {}

/// Now, in Unix milliseconds (for [`Counts::as_of`]).
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The `choice_id` of a question's ballot count.
pub const BALLOTS: i64 = 0;

/// Picks a slot in `0..slots`.
pub fn pick_slot(slots: u16) -> i16 {
    if slots <= 1 {
        0
    } else {
        (rand::random::<u16>() % slots.min(i16::MAX as u16)) as i16
    }
}

/// Adds `deltas` (`(choice id or BALLOTS, delta)`) to `slot` of `question_id`, in one statement.
pub fn add(
    conn: &mut AnyConnection,
    question_id: i64,
    slot: i16,
    deltas: &[(i64, i64)],
) -> QueryResult<()> {
    let all: Vec<(i64, i64, i64)> = deltas.iter().map(|&(c, d)| (question_id, c, d)).collect();
    add_many(conn, slot, &all)
}

/// Adds `deltas` (`(question id, choice id or BALLOTS, delta)`, e.g. the summed deltas of a
/// batch of votes) to `slot` of each question, in one statement.
pub fn add_many(
    conn: &mut AnyConnection,
    slot: i16,
    deltas: &[(i64, i64, i64)],
) -> QueryResult<()> {
    let mut merged: std::collections::BTreeMap<(i64, i64), i64> = Default::default();
    for &(question, choice, delta) in deltas {
        *merged.entry((question, choice)).or_default() += delta;
    }
    merged.retain(|_, d| *d != 0);
    if merged.is_empty() {
        return Ok(());
    }
    // Rows in one order (question, then choice id ascending: the map's order) in every
    // transaction: no lock-order deadlocks. One statement of a fixed shape (kept prepared).
    let rows: Vec<[i64; 3]> = merged.iter().map(|(&(q, c), &d)| [q, c, d]).collect();
    let json = serde_json::to_string(&rows)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    Statement::new(by_backend(conn, ADD_MYSQL, ADD_SQLITE))
        .int(i64::from(slot))
        .text(json)
        .execute(conn)
        .map(|_| ())
}

/// `[[question, choice, delta], …]` added to one slot (bound first), in the array's order.
const ADD_MYSQL: &str = "INSERT INTO vote_counts (question_id, choice_id, slot, votes) \
    SELECT j.q, j.c, ?, j.d FROM JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, \
    q BIGINT PATH '$[0]', c BIGINT PATH '$[1]', d BIGINT PATH '$[2]')) AS j ORDER BY j.n \
    ON DUPLICATE KEY UPDATE votes = votes + VALUES(votes)";
const ADD_SQLITE: &str = "INSERT INTO vote_counts (question_id, choice_id, slot, votes) \
    SELECT j.value ->> 0, j.value ->> 1, ?, j.value ->> 2 FROM json_each(?) AS j \
    WHERE true ORDER BY j.key \
    ON CONFLICT (question_id, choice_id, slot) DO UPDATE SET votes = votes + excluded.votes";

/// A question's counts: ballots and votes per choice (choices without votes are absent).
pub fn read(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Counts> {
    let as_of = now_ms();
    let rows: Vec<(i64, i64)> = vote_counts::table
        .filter(vote_counts::question_id.eq(question_id))
        .select((vote_counts::choice_id, vote_counts::votes))
        .load(conn)?;
    Ok(fold(rows, as_of))
}

/// The counts of several questions in one statement (each as [`read`] gives it).
pub fn read_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, Counts>> {
    let as_of = now_ms();
    let rows: Vec<(i64, i64, i64)> = vote_counts::table
        .filter(in_padded(vote_counts::question_id, ids.iter().copied()))
        .select((
            vote_counts::question_id,
            vote_counts::choice_id,
            vote_counts::votes,
        ))
        .load(conn)?;
    let mut per_question: HashMap<i64, Vec<(i64, i64)>> =
        ids.iter().map(|id| (*id, Vec::new())).collect();
    for (q, choice, votes) in rows {
        per_question.entry(q).or_default().push((choice, votes));
    }
    Ok(per_question
        .into_iter()
        .map(|(q, rows)| (q, fold(rows, as_of)))
        .collect())
}

/// Sums counter rows `(choice id or BALLOTS, votes)` of one question over their slots.
fn fold(rows: Vec<(i64, i64)>, as_of: i64) -> Counts {
    let mut total = 0;
    let mut by_choice: HashMap<i64, i64> = HashMap::new();
    for (choice, votes) in rows {
        if choice == BALLOTS {
            total += votes;
        } else {
            *by_choice.entry(choice).or_default() += votes;
        }
    }
    by_choice.retain(|_, v| *v != 0);
    Counts {
        total,
        by_choice,
        as_of,
    }
}

/// Counts ballots and per-choice votes of a question from the ledger rows themselves (the
/// checks that the counters agree with it).
pub fn ledger(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Counts> {
    let as_of = now_ms();
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
        as_of,
    })
}

/// Ballot totals of several questions.
pub fn ballot_totals(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = vote_counts::table
        .filter(vote_counts::question_id.eq_any(ids))
        .filter(vote_counts::choice_id.eq(BALLOTS))
        .select((vote_counts::question_id, vote_counts::votes))
        .load(conn)?;
    let mut totals: HashMap<i64, i64> = ids.iter().map(|id| (*id, 0)).collect();
    for (q, v) in rows {
        *totals.entry(q).or_default() += v;
    }
    Ok(totals)
}

/// Sets `questions.vote_count` and `hot_rank` of `ids` from their counters (idempotent, so any
/// app server may do it for any question). Returns the number of questions updated.
pub fn refresh_questions(
    conn: &mut AnyConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut updated = 0;
    for chunk in ids.chunks(500) {
        let totals = ballot_totals(conn, chunk)?;
        let created: Vec<(i64, NaiveDateTime)> = questions::table
            .filter(questions::id.eq_any(chunk))
            .select((questions::id, questions::created_at))
            .load(conn)?;
        for (id, created_at) in created {
            let votes = totals.get(&id).copied().unwrap_or(0);
            updated += diesel::update(questions::table.find(id))
                .set((
                    questions::vote_count.eq(votes),
                    questions::hot_rank.eq(poll::hot_rank(votes, created_at, now)),
                ))
                .execute(conn)?;
        }
    }
    Ok(updated)
}

/// Rebuilds every counter from the ledger (after bulk loads; also what the migration does).
pub fn rebuild_all(conn: &mut AnyConnection) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(
        "DELETE FROM vote_counts;
         INSERT INTO vote_counts (question_id, choice_id, slot, votes)
             SELECT question_id, 0, 0, COUNT(*) FROM ballots GROUP BY question_id;
         INSERT INTO vote_counts (question_id, choice_id, slot, votes)
             SELECT question_id, choice_id, 0, COUNT(*) FROM votes GROUP BY question_id, choice_id;",
    )
}
