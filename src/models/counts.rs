//! Slotted vote counters (`vote_counts`): the aggregated form of the ledger.
//!
//! A vote adds +1/-1 deltas to one randomly chosen slot of its question, in the same transaction
//! as the ledger rows, with one upsert statement. Concurrent votes on one question therefore
//! update different rows (no single hot counter row), and reading the results is a SUM over at
//! most `slots × (choices + 1) × trust levels` rows instead of a COUNT over the ledger.
//! `choice_id = 0` counts ballots. Each row also names the trust level of the ballots it counts
//! (`Trust::code`), so results for verified accounts only are the same read. `questions.vote_count`
//! / `hot_rank` (used to sort lists) are refreshed from these sums by [`refresh_questions`] a
//! moment later, not by each vote.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::prepared::{Statement, by_backend};
use crate::db::schema::{ballots, questions, vote_counts};
use crate::db::{AnyConnection, in_padded};
use crate::domain::{Trust, TrustView, poll};

/// Ballots and votes per choice (of one trust level, or of all).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Number of ballots (voters).
    pub total: i64,
    /// Votes per choice id (choices without votes are absent).
    pub by_choice: HashMap<i64, i64>,
}

/// Exact results of a question: ballots, and votes per choice, in all and per trust level, and
/// when they were read.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Number of ballots (voters) counted (all of them, or those of one level: see [`Counts::view`]).
    pub total: i64,
    /// Votes per choice id (choices without votes are absent).
    pub by_choice: HashMap<i64, i64>,
    /// Every ballot per trust level, weakest first (index [`Trust::code`]); a view keeps them all,
    /// so a page can say how many of the votes are verified.
    #[serde(default)]
    pub by_trust: [Tally; 4],
    /// When the read began (Unix milliseconds): the counts hold every vote committed before. A page
    /// keeps the newest counts it was shown, so cached older ones never overwrite them.
    #[serde(default)]
    pub as_of: i64,
}

/// Two counts are equal when they count the same, whenever they were read.
impl PartialEq for Counts {
    fn eq(&self, other: &Counts) -> bool {
        self.total == other.total
            && self.by_choice == other.by_choice
            && self.by_trust == other.by_trust
    }
}

impl Eq for Counts {}

impl Counts {
    /// The ballots of one trust level.
    pub fn ballots_at(&self, trust: Trust) -> i64 {
        self.by_trust[trust.code() as usize].total
    }

    /// The counts `view` shows: all of them, or only the ballots of one level (`total` and
    /// `by_choice` of that level; `by_trust` and `as_of` unchanged). All votes, the common case
    /// on every vote's answer, are these counts themselves, not a copy.
    pub fn view(&self, view: TrustView) -> std::borrow::Cow<'_, Counts> {
        match view.level() {
            None => std::borrow::Cow::Borrowed(self),
            Some(level) => {
                let tally = &self.by_trust[level.code() as usize];
                std::borrow::Cow::Owned(Counts {
                    total: tally.total,
                    by_choice: tally.by_choice.clone(),
                    by_trust: self.by_trust.clone(),
                    as_of: self.as_of,
                })
            }
        }
    }
}

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

/// A counter change: `delta` ballots (choice [`BALLOTS`]) or votes for a choice, counted at a
/// ballot's trust level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    /// Choice id, or [`BALLOTS`].
    pub choice: i64,
    /// The trust level of the ballot.
    pub trust: Trust,
    /// +1 or -1 (or a sum of them).
    pub delta: i64,
}

impl Delta {
    /// `delta` for `choice` at `trust`.
    pub fn new(choice: i64, trust: Trust, delta: i64) -> Delta {
        Delta {
            choice,
            trust,
            delta,
        }
    }
}

/// Adds `deltas` to `slot` of `question_id`, in one statement.
pub fn add(
    conn: &mut AnyConnection,
    question_id: i64,
    slot: i16,
    deltas: &[Delta],
) -> QueryResult<()> {
    let all: Vec<(i64, Delta)> = deltas.iter().map(|&d| (question_id, d)).collect();
    add_many(conn, slot, &all)
}

/// Adds `deltas` (`(question id, delta)`, e.g. the summed deltas of a batch of votes) to `slot`
/// of each question, in one statement.
pub fn add_many(conn: &mut AnyConnection, slot: i16, deltas: &[(i64, Delta)]) -> QueryResult<()> {
    let mut merged: std::collections::BTreeMap<(i64, i64, i16), i64> = Default::default();
    for &(question, d) in deltas {
        *merged
            .entry((question, d.choice, d.trust.code()))
            .or_default() += d.delta;
    }
    merged.retain(|_, d| *d != 0);
    if merged.is_empty() {
        return Ok(());
    }
    // Rows in one order (question, then choice id, then trust ascending: the map's order) in
    // every transaction: no lock-order deadlocks. One statement of a fixed shape (kept prepared).
    let rows: Vec<[i64; 4]> = merged
        .iter()
        .map(|(&(q, c, t), &d)| [q, c, i64::from(t), d])
        .collect();
    let json = serde_json::to_string(&rows)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    Statement::new(by_backend(conn, ADD_MYSQL, ADD_SQLITE))
        .int(i64::from(slot))
        .text(json)
        .execute(conn)
        .map(|_| ())
}

/// `[[question, choice, trust, delta], …]` added to one slot (bound first), in the array's order.
const ADD_MYSQL: &str = "INSERT INTO vote_counts (question_id, choice_id, trust, slot, votes) \
    SELECT j.q, j.c, j.t, ?, j.d FROM JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, \
    q BIGINT PATH '$[0]', c BIGINT PATH '$[1]', t SMALLINT PATH '$[2]', d BIGINT PATH '$[3]')) \
    AS j ORDER BY j.n \
    ON DUPLICATE KEY UPDATE votes = votes + VALUES(votes)";
const ADD_SQLITE: &str = "INSERT INTO vote_counts (question_id, choice_id, trust, slot, votes) \
    SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, ?, j.value ->> 3 FROM json_each(?) AS j \
    WHERE true ORDER BY j.key \
    ON CONFLICT (question_id, choice_id, trust, slot) DO UPDATE SET votes = votes + excluded.votes";

/// A question's counts: ballots and votes per choice (choices without votes are absent).
pub fn read(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Counts> {
    let as_of = now_ms();
    let rows: Vec<(i64, i16, i64)> = vote_counts::table
        .filter(vote_counts::question_id.eq(question_id))
        .select((
            vote_counts::choice_id,
            vote_counts::trust,
            vote_counts::votes,
        ))
        .load(conn)?;
    Ok(fold(rows, as_of))
}

/// The counts of several questions in one statement (each as [`read`] gives it).
pub fn read_many(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, Counts>> {
    let as_of = now_ms();
    let rows: Vec<(i64, i64, i16, i64)> = vote_counts::table
        .filter(in_padded(vote_counts::question_id, ids.iter().copied()))
        .select((
            vote_counts::question_id,
            vote_counts::choice_id,
            vote_counts::trust,
            vote_counts::votes,
        ))
        .load(conn)?;
    let mut per_question: HashMap<i64, Vec<(i64, i16, i64)>> =
        ids.iter().map(|id| (*id, Vec::new())).collect();
    for (q, choice, trust, votes) in rows {
        per_question
            .entry(q)
            .or_default()
            .push((choice, trust, votes));
    }
    Ok(per_question
        .into_iter()
        .map(|(q, rows)| (q, fold(rows, as_of)))
        .collect())
}

/// Sums counter rows `(choice id or BALLOTS, trust code, votes)` of one question over their
/// slots, per trust level and in all. (A row of a code no level has counts in the total only.)
fn fold(rows: Vec<(i64, i16, i64)>, as_of: i64) -> Counts {
    let mut all = Tally::default();
    let mut by_trust: [Tally; 4] = Default::default();
    for (choice, trust, votes) in rows {
        let level = Trust::from_code(trust).map(|t| &mut by_trust[t.code() as usize]);
        for tally in std::iter::once(&mut all).chain(level) {
            if choice == BALLOTS {
                tally.total += votes;
            } else {
                *tally.by_choice.entry(choice).or_default() += votes;
            }
        }
    }
    for tally in std::iter::once(&mut all).chain(by_trust.iter_mut()) {
        tally.by_choice.retain(|_, v| *v != 0);
    }
    Counts {
        total: all.total,
        by_choice: all.by_choice,
        by_trust,
        as_of,
    }
}

#[derive(QueryableByName)]
struct ChoiceAtLevel {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    choice_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    trust: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Counts ballots and per-choice votes of a question, per trust level, from the ledger rows
/// themselves (the checks that the counters agree with it).
pub fn ledger(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Counts> {
    let as_of = now_ms();
    let per_level: Vec<(String, i64)> = ballots::table
        .filter(ballots::question_id.eq(question_id))
        .group_by(ballots::trust)
        .select((ballots::trust, diesel::dsl::count_star()))
        .load(conn)?;
    let per_choice: Vec<ChoiceAtLevel> = diesel::sql_query(
        "SELECT v.choice_id, b.trust, COUNT(*) AS n FROM votes v \
         JOIN ballots b ON b.id = v.ballot_id WHERE v.question_id = ? \
         GROUP BY v.choice_id, b.trust",
    )
    .bind::<diesel::sql_types::BigInt, _>(question_id)
    .load(conn)?;
    let code = |t: &str| Trust::parse(t).map(Trust::code).unwrap_or(-1);
    let rows = per_level
        .iter()
        .map(|(t, n)| (BALLOTS, code(t), *n))
        .chain(
            per_choice
                .iter()
                .map(|r| (r.choice_id, code(&r.trust), r.n)),
        )
        .collect();
    Ok(fold(rows, as_of))
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
         INSERT INTO vote_counts (question_id, choice_id, trust, slot, votes)
             SELECT question_id, 0, CASE trust WHEN 'cookie' THEN 0 WHEN 'network' THEN 1
                    WHEN 'account' THEN 2 ELSE 3 END AS t, 0, COUNT(*)
             FROM ballots GROUP BY question_id, t;
         INSERT INTO vote_counts (question_id, choice_id, trust, slot, votes)
             SELECT v.question_id, v.choice_id, CASE b.trust WHEN 'cookie' THEN 0
                    WHEN 'network' THEN 1 WHEN 'account' THEN 2 ELSE 3 END AS t, 0, COUNT(*)
             FROM votes v JOIN ballots b ON b.id = v.ballot_id
             GROUP BY v.question_id, v.choice_id, t;",
    )
}
