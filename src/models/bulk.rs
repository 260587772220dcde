//! Bulk loading for the demo seed and synthetic benchmark data: multi-row inserts with ids chosen
//! by the loader, then counters rebuilt from the ledger.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::AnyConnection;

/// A ballot to load, with its choices.
#[derive(Debug, Clone)]
pub struct BulkBallot {
    /// Ballot id (must be unused).
    pub id: i64,
    /// The question.
    pub question_id: i64,
    /// Voter key (unique per question).
    pub voter: String,
    /// The voting account, if any (its voter key is then `u:<id>`).
    pub user_id: Option<i64>,
    /// Trust level as stored.
    pub trust: &'static str,
    /// When it was cast.
    pub created_at: NaiveDateTime,
    /// Choice ids.
    pub choices: Vec<i64>,
}

fn ts(t: NaiveDateTime) -> String {
    t.format("'%Y-%m-%d %H:%M:%S%.6f'").to_string()
}

/// A string as an SQL literal, for the loaders' multi-row statements: quotes doubled. Only for
/// text without backslashes (MySQL reads them as escapes): generated keys and words, folded
/// search text — never text as a visitor typed it.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Inserts ballots and their votes with multi-row statements (no counters touched).
pub fn insert_ballots(conn: &mut AnyConnection, ballots: &[BulkBallot]) -> QueryResult<()> {
    for chunk in ballots.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO ballots (id, question_id, voter, user_id, ip_hash, trust, created_at, updated_at) VALUES ",
        );
        for (i, b) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let t = ts(b.created_at);
            sql.push_str(&format!(
                "({}, {}, {}, {}, NULL, {}, {t}, {t})",
                b.id,
                b.question_id,
                quote(&b.voter),
                b.user_id.map_or("NULL".to_string(), |id| id.to_string()),
                quote(b.trust)
            ));
        }
        conn.batch_execute(&sql)?;
        let mut sql = String::from(
            "INSERT INTO votes (ballot_id, choice_id, question_id, created_at) VALUES ",
        );
        let mut first = true;
        for b in chunk {
            for c in &b.choices {
                if !first {
                    sql.push(',');
                }
                first = false;
                sql.push_str(&format!(
                    "({}, {c}, {}, {})",
                    b.id,
                    b.question_id,
                    ts(b.created_at)
                ));
            }
        }
        if !first {
            conn.batch_execute(&sql)?;
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct MaxId {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    id: Option<i64>,
}

/// The largest id in `table` (one of ours), or 0.
pub fn max_id(conn: &mut AnyConnection, table: &str) -> QueryResult<i64> {
    let allowed = ["users", "questions", "choices", "tags", "ballots"];
    assert!(allowed.contains(&table), "max_id on an unknown table");
    diesel::sql_query(format!("SELECT MAX(id) AS id FROM {table}"))
        .get_result::<MaxId>(conn)
        .map(|r| r.id.unwrap_or(0))
}

/// Rebuilds the vote counters, `questions.vote_count` and `tags.question_count` from the rows
/// they count.
pub fn rebuild_counters(conn: &mut AnyConnection) -> QueryResult<()> {
    crate::models::counts::rebuild_all(conn)?;
    crate::models::ranking::rebuild_all(conn)?;
    conn.batch_execute(
        "UPDATE questions SET vote_count = (SELECT COUNT(*) FROM ballots WHERE ballots.question_id = questions.id);
         UPDATE tags SET question_count = (SELECT COUNT(*) FROM question_tags WHERE question_tags.tag_id = tags.id);",
    )
}
