//! Rankings of ranked-choice ballots (`rankings`, part of the ledger) and their slotted counters
//! (`ranking_counts`: votes per distinct ranking, by the ballot's trust code).
//!
//! A ranked ballot is stored like any ballot (its `votes` row is its first preference, counted by
//! `vote_counts`), plus one `rankings` row with the whole ranking as canonical text
//! (`domain::runoff::ranking_key`: "3,1,2"). Every transaction that writes, changes or deletes
//! such a row adds the same +1/-1 to one random slot of `ranking_counts` (the same scheme as
//! `models::counts`), so the counters always equal `GROUP BY ranking` over the ledger, and the
//! instant-runoff count reads a question's distinct rankings, never its ballots.

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::prepared::{Statement, by_backend};
use crate::db::schema::{ranking_counts, rankings};
use crate::domain::runoff::{self, parse_ranking_key, ranking_key};
use crate::domain::{Runoff, Trust, TrustView};
use crate::models::counts::pick_slot;

/// Slots per (question, ranking, trust) counter.
pub const SLOTS: u16 = 16;

/// A stored ranking, its question and the trust of its ballot.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Stored {
    /// The question.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub question_id: i64,
    /// The canonical ranking text.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub ranking: String,
    /// The ballot's trust, as stored (`ballots.trust`).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub trust: String,
}

impl Stored {
    /// The ranking's choice ids, most preferred first.
    pub fn ids(&self) -> Vec<i64> {
        parse_ranking_key(&self.ranking).unwrap_or_default()
    }

    fn trust_code(&self) -> i16 {
        Trust::parse(&self.trust).map(Trust::code).unwrap_or(0)
    }
}

/// A counter change: (question, ranking text, trust code, ±1).
pub type Delta = (i64, String, i16, i64);

/// The ranking of a ballot whose row this transaction has locked, with a locking read (see
/// `models::ballot::locked_choices` for why), and its ballot's trust.
pub fn locked(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<Option<Stored>> {
    let lock = match c {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => " FOR UPDATE",
        AnyConnection::Sqlite(_) => "",
    };
    diesel::sql_query(format!(
        "SELECT r.question_id, r.ranking, b.trust FROM rankings r JOIN ballots b ON b.id = r.ballot_id \
         WHERE r.ballot_id = ?{lock}"
    ))
    .bind::<diesel::sql_types::BigInt, _>(ballot_id)
    .load::<Stored>(c)
    .map(|rows| rows.into_iter().next())
}

/// The ranking of a ballot (unlocked: for showing a voter their ballot).
pub fn of_ballot(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<Option<Vec<i64>>> {
    rankings::table
        .find(ballot_id)
        .select(rankings::ranking)
        .first::<String>(c)
        .optional()
        .map(|r| r.and_then(|r| parse_ranking_key(&r)))
}

/// Stores a new ballot's ranking and counts it.
pub fn insert(
    c: &mut AnyConnection,
    question_id: i64,
    ballot_id: i64,
    ranking: &[i64],
    trust: Trust,
) -> QueryResult<()> {
    let key = ranking_key(ranking);
    diesel::insert_into(rankings::table)
        .values((
            rankings::ballot_id.eq(ballot_id),
            rankings::question_id.eq(question_id),
            rankings::ranking.eq(&key),
        ))
        .execute(c)?;
    add(c, &[(question_id, key, trust.code(), 1)])
}

/// Replaces a locked ballot's ranking (`old`, read with [`locked`]) by `new` and moves its count.
pub fn replace(
    c: &mut AnyConnection,
    question_id: i64,
    ballot_id: i64,
    old: Option<&Stored>,
    new: &[i64],
    trust: Trust,
) -> QueryResult<()> {
    let key = ranking_key(new);
    match old {
        Some(old) => {
            diesel::update(rankings::table.find(ballot_id))
                .set(rankings::ranking.eq(&key))
                .execute(c)?;
            add(
                c,
                &[
                    (question_id, old.ranking.clone(), old.trust_code(), -1),
                    (question_id, key, old.trust_code(), 1),
                ],
            )
        }
        None => insert(c, question_id, ballot_id, new, trust),
    }
}

/// Deletes a locked ballot's ranking, if it has one, and takes it out of the counters.
pub fn remove(c: &mut AnyConnection, ballot_id: i64) -> QueryResult<()> {
    let Some(old) = locked(c, ballot_id)? else {
        return Ok(());
    };
    diesel::delete(rankings::table.find(ballot_id)).execute(c)?;
    add(
        c,
        &[(old.question_id, old.ranking.clone(), old.trust_code(), -1)],
    )
}

/// Moves a ballot's ranking to the counters of its new trust (a visitor's ballot adopted by
/// their account at login, an account's email verified or changed); call before the ballot's
/// trust changes, in the same transaction.
pub fn retrust(c: &mut AnyConnection, ballot_id: i64, trust: Trust) -> QueryResult<()> {
    match locked(c, ballot_id)? {
        Some(old) if old.trust_code() != trust.code() => add(
            c,
            &[
                (old.question_id, old.ranking.clone(), old.trust_code(), -1),
                (old.question_id, old.ranking, trust.code(), 1),
            ],
        ),
        _ => Ok(()),
    }
}

/// Stores the rankings of ballots just inserted in a batch: `(question, voter, ranking)`, each
/// ballot's id found by its unique key in the same statement. Returns the rows written.
pub fn insert_new(c: &mut AnyConnection, rows: &[(i64, &str, String)]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|(q, v, r)| serde_json::json!([q, v, r]))
        .collect();
    Statement::new(by_backend(c, INSERT_MYSQL, INSERT_SQLITE))
        .text(serde_json::Value::from(json).to_string())
        .execute(c)
}

const INSERT_MYSQL: &str = "INSERT INTO rankings (ballot_id, question_id, ranking) \
    SELECT b.id, b.question_id, j.r FROM JSON_TABLE(?, '$[*]' COLUMNS ( \
    q BIGINT PATH '$[0]', v VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]', \
    r VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin PATH '$[2]')) AS j \
    JOIN ballots b ON b.question_id = j.q AND b.voter = j.v";
const INSERT_SQLITE: &str = "INSERT INTO rankings (ballot_id, question_id, ranking) \
    SELECT b.id, b.question_id, j.value ->> 2 FROM json_each(?) AS j \
    JOIN ballots b ON b.question_id = j.value ->> 0 AND b.voter = j.value ->> 1 WHERE true";

/// Adds `deltas` to one random slot, in one statement (rows in key order, so two transactions
/// lock them in the same order).
pub fn add(c: &mut AnyConnection, deltas: &[Delta]) -> QueryResult<()> {
    let mut merged: BTreeMap<(i64, &str, i16), i64> = BTreeMap::new();
    for (q, r, t, d) in deltas {
        *merged.entry((*q, r.as_str(), *t)).or_default() += d;
    }
    merged.retain(|_, d| *d != 0);
    if merged.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = merged
        .iter()
        .map(|((q, r, t), d)| serde_json::json!([q, r, t, d]))
        .collect();
    Statement::new(by_backend(c, ADD_MYSQL, ADD_SQLITE))
        .int(i64::from(pick_slot(SLOTS)))
        .text(serde_json::Value::from(rows).to_string())
        .execute(c)
        .map(|_| ())
}

const ADD_MYSQL: &str = "INSERT INTO ranking_counts (question_id, ranking, trust, slot, votes) \
    SELECT j.q, j.r, j.t, ?, j.d FROM JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, \
    q BIGINT PATH '$[0]', r VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin PATH '$[1]', \
    t SMALLINT PATH '$[2]', d BIGINT PATH '$[3]')) AS j ORDER BY j.n \
    ON DUPLICATE KEY UPDATE votes = votes + VALUES(votes)";
const ADD_SQLITE: &str = "INSERT INTO ranking_counts (question_id, ranking, trust, slot, votes) \
    SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, ?, j.value ->> 3 FROM json_each(?) AS j \
    WHERE true ORDER BY j.key \
    ON CONFLICT (question_id, ranking, trust, slot) DO UPDATE SET votes = votes + excluded.votes";

/// Votes per (ranking text, trust code) of a question, from the counters (zeros left out).
pub fn counters(
    c: &mut AnyConnection,
    question_id: i64,
) -> QueryResult<BTreeMap<(String, i16), i64>> {
    let rows: Vec<(String, i16, i64)> = ranking_counts::table
        .filter(ranking_counts::question_id.eq(question_id))
        .select((
            ranking_counts::ranking,
            ranking_counts::trust,
            ranking_counts::votes,
        ))
        .load(c)?;
    let mut sums: BTreeMap<(String, i16), i64> = BTreeMap::new();
    for (r, t, v) in rows {
        *sums.entry((r, t)).or_default() += v;
    }
    sums.retain(|_, v| *v != 0);
    Ok(sums)
}

/// The same as [`counters`], counted from the ledger rows themselves (the check that they agree).
pub fn ledger(
    c: &mut AnyConnection,
    question_id: i64,
) -> QueryResult<BTreeMap<(String, i16), i64>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        ranking: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        trust: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT r.ranking, b.trust, COUNT(*) AS n FROM rankings r \
         JOIN ballots b ON b.id = r.ballot_id WHERE r.question_id = ? GROUP BY r.ranking, b.trust",
    )
    .bind::<diesel::sql_types::BigInt, _>(question_id)
    .load(c)?;
    let mut sums: BTreeMap<(String, i16), i64> = BTreeMap::new();
    for row in rows {
        let code = Trust::parse(&row.trust).map(Trust::code).unwrap_or(0);
        *sums.entry((row.ranking, code)).or_default() += row.n;
    }
    Ok(sums)
}

/// A ranked question's instant-runoff count over every ballot, and over verified accounts'
/// ballots only (the results' two views).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counted {
    /// Every ballot.
    pub all: Runoff,
    /// Ballots of accounts with a verified email.
    pub verified: Runoff,
}

impl Counted {
    /// The count a results view shows.
    pub fn view(&self, view: TrustView) -> &Runoff {
        match view.level() {
            None => &self.all,
            Some(_) => &self.verified,
        }
    }
}

/// Counts a ranked question (its choices in display order) from its ranking counters: one read.
pub fn count(c: &mut AnyConnection, question_id: i64, choices: &[i64]) -> QueryResult<Counted> {
    let (mut all, mut verified): (BTreeMap<String, i64>, BTreeMap<String, i64>) =
        Default::default();
    for ((r, trust), v) in counters(c, question_id)? {
        if trust == Trust::Verified.code() {
            *verified.entry(r.clone()).or_default() += v;
        }
        *all.entry(r).or_default() += v;
    }
    let tallies = |m: BTreeMap<String, i64>| -> Vec<(Vec<i64>, i64)> {
        m.into_iter()
            .filter(|(_, v)| *v > 0)
            .filter_map(|(r, v)| parse_ranking_key(&r).map(|ids| (ids, v)))
            .collect()
    };
    Ok(Counted {
        all: runoff::count(choices, &tallies(all)),
        verified: runoff::count(choices, &tallies(verified)),
    })
}

/// Stores the rankings of ballots inserted in bulk (`(ballot id, question, ranking)`: the seed
/// and the generator); their counters come from [`rebuild_all`].
pub fn insert_bulk(c: &mut AnyConnection, rows: &[(i64, i64, Vec<i64>)]) -> QueryResult<()> {
    for (ballot, question, ranking) in rows {
        diesel::insert_into(rankings::table)
            .values((
                rankings::ballot_id.eq(ballot),
                rankings::question_id.eq(question),
                rankings::ranking.eq(ranking_key(ranking)),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// A ranked question's result as list pages show it: the instant-runoff winner and its share of
/// the ballots counted in the final round.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Winner {
    /// The winning choice's label.
    pub label: String,
    /// Its share of the final round, one decimal.
    pub percent: f64,
    /// How many rounds the count took.
    pub rounds: usize,
}

/// The winners of ranked questions `ids` (all ballots; a question without one is left out):
/// their choices in one statement, then each one's counters.
pub fn winners(
    c: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Winner>> {
    use crate::db::schema::choices;
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(i64, i64, String)> = choices::table
        .filter(choices::question_id.eq_any(ids))
        .order((choices::question_id, choices::position))
        .select((choices::question_id, choices::id, choices::label))
        .load(c)?;
    for &qid in ids {
        let mine: Vec<&(i64, i64, String)> = rows.iter().filter(|r| r.0 == qid).collect();
        let choice_ids: Vec<i64> = mine.iter().map(|r| r.1).collect();
        let counted = count(c, qid, &choice_ids)?.all;
        let (Some(w), Some(last)) = (counted.winner, counted.last()) else {
            continue;
        };
        let votes = last.counts.get(&w).copied().unwrap_or(0);
        let active = last.active().max(1);
        out.insert(
            qid,
            Winner {
                label: mine
                    .iter()
                    .find(|r| r.1 == w)
                    .map(|r| r.2.clone())
                    .unwrap_or_default(),
                percent: (votes as f64 * 1000.0 / active as f64).round() / 10.0,
                rounds: counted.rounds.len(),
            },
        );
    }
    Ok(out)
}

/// Rebuilds every ranking counter from the ledger (after bulk loads).
pub fn rebuild_all(c: &mut AnyConnection) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    let codes: String = Trust::ALL
        .iter()
        .map(|t| format!(" WHEN '{}' THEN {}", t.as_str(), t.code()))
        .collect();
    c.batch_execute(&format!(
        "DELETE FROM ranking_counts;
         INSERT INTO ranking_counts (question_id, ranking, trust, slot, votes)
             SELECT r.question_id, r.ranking, CASE b.trust{codes} ELSE 0 END, 0, COUNT(*)
             FROM rankings r JOIN ballots b ON b.id = r.ballot_id
             GROUP BY r.question_id, r.ranking, b.trust;"
    ))
}
