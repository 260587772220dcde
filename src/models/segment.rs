//! Segments and members' optional answers to them (`segments`, `profile_answers`), and the
//! breakdown's one read: verified-account ballots of a question tallied by their voter's current
//! answer. Answers are read per person only for the member's own settings and export.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::{profile_answers, segments};
use crate::db::{AnyConnection, last_insert_id};
use crate::domain::segment::Tally;
use crate::domain::{SegmentDraft, SegmentValue, Trust};

/// A stored segment.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = segments)]
pub struct SegmentRow {
    /// Primary key.
    pub id: i64,
    /// The key used in `?by=`.
    pub seg_key: String,
    /// What it is called.
    pub label: String,
    /// Its values: a JSON list of `{value, label}` (read with [`SegmentRow::values`]).
    pub choices: String,
    /// Display order.
    pub position: i32,
    /// When it was added.
    pub created_at: NaiveDateTime,
}

impl SegmentRow {
    /// Its allowed values in display order (none if the stored list does not parse).
    pub fn values(&self) -> Vec<SegmentValue> {
        serde_json::from_str(&self.choices).unwrap_or_default()
    }

    /// The label of `value`, if it is one of this segment's.
    pub fn label_of(&self, value: &str) -> Option<String> {
        self.values()
            .into_iter()
            .find(|v| v.value == value)
            .map(|v| v.label)
    }
}

/// Every segment in display order.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<SegmentRow>> {
    segments::table
        .order((segments::position.asc(), segments::id.asc()))
        .select(SegmentRow::as_select())
        .load(conn)
}

/// The segment with `key`, if any.
pub fn find_by_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<SegmentRow>> {
    segments::table
        .filter(segments::seg_key.eq(key))
        .select(SegmentRow::as_select())
        .first(conn)
        .optional()
}

/// Stores a new segment after the others; returns its id. Run it in a write transaction.
pub fn create(c: &mut AnyConnection, draft: &SegmentDraft, now: NaiveDateTime) -> QueryResult<i64> {
    let last: Option<i32> = segments::table
        .select(diesel::dsl::max(segments::position))
        .first(c)?;
    let values = serde_json::to_string(&draft.values).unwrap_or_else(|_| "[]".into());
    diesel::insert_into(segments::table)
        .values((
            segments::seg_key.eq(&draft.key),
            segments::label.eq(&draft.label),
            segments::choices.eq(values),
            segments::position.eq(last.unwrap_or(0) + 1),
            segments::created_at.eq(now),
        ))
        .execute(c)?;
    last_insert_id(c)
}

/// A member's answers: `(segment id, value)`.
pub fn answers_of(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Vec<(i64, String)>> {
    profile_answers::table
        .filter(profile_answers::user_id.eq(user_id))
        .order(profile_answers::segment_id.asc())
        .select((profile_answers::segment_id, profile_answers::value))
        .load(conn)
}

/// One of a member's answers, for their own export.
#[derive(Debug, Clone)]
pub struct AnswerExport {
    /// The segment's key.
    pub segment: String,
    /// The segment's label.
    pub segment_label: String,
    /// The answer.
    pub value: String,
    /// The answer's label (`None` if the value is no longer one of the segment's).
    pub label: Option<String>,
    /// When it was given.
    pub updated_at: NaiveDateTime,
}

/// A member's answers with their segment's key and label, for their own export.
pub fn answers_for_export(
    conn: &mut AnyConnection,
    user_id: i64,
) -> QueryResult<Vec<AnswerExport>> {
    let rows: Vec<(SegmentRow, String, NaiveDateTime)> = profile_answers::table
        .inner_join(segments::table)
        .filter(profile_answers::user_id.eq(user_id))
        .order(segments::position.asc())
        .select((
            SegmentRow::as_select(),
            profile_answers::value,
            profile_answers::updated_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(s, value, updated_at)| AnswerExport {
            label: s.label_of(&value),
            segment: s.seg_key,
            segment_label: s.label,
            value,
            updated_at,
        })
        .collect())
}

/// Replaces a member's answers to the segments in `answers` (`None`: prefer not to say). Run it
/// in a write transaction.
pub fn set_answers(
    c: &mut AnyConnection,
    user_id: i64,
    answers: &[(i64, Option<String>)],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let ids: Vec<i64> = answers.iter().map(|(id, _)| *id).collect();
    diesel::delete(
        profile_answers::table
            .filter(profile_answers::user_id.eq(user_id))
            .filter(profile_answers::segment_id.eq_any(&ids)),
    )
    .execute(c)?;
    for (segment_id, value) in answers {
        if let Some(value) = value {
            diesel::insert_into(profile_answers::table)
                .values((
                    profile_answers::user_id.eq(user_id),
                    profile_answers::segment_id.eq(segment_id),
                    profile_answers::value.eq(value),
                    profile_answers::updated_at.eq(now),
                ))
                .execute(c)?;
        }
    }
    Ok(())
}

/// Deletes every answer of a member; returns how many.
pub fn delete_for_user(c: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(profile_answers::table.filter(profile_answers::user_id.eq(user_id))).execute(c)
}

#[derive(QueryableByName)]
struct Voters {
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Votes {
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    choice_id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The verified-account ballots of question `question_id` tallied by their voter's current
/// answer to segment `segment_id`: voters and votes per choice, by value (two GROUP BYs).
pub fn tallies(
    conn: &mut AnyConnection,
    question_id: i64,
    segment_id: i64,
) -> QueryResult<BTreeMap<String, Tally>> {
    let from = "FROM ballots b \
         JOIN profile_answers pa ON pa.user_id = b.user_id AND pa.segment_id = ? \
         WHERE b.question_id = ? AND b.trust = ?";
    let voters: Vec<Voters> = diesel::sql_query(format!(
        "SELECT pa.value AS value, COUNT(*) AS n {from} GROUP BY pa.value"
    ))
    .bind::<BigInt, _>(segment_id)
    .bind::<BigInt, _>(question_id)
    .bind::<Text, _>(Trust::Verified.as_str())
    .load(conn)?;
    let votes: Vec<Votes> = diesel::sql_query(format!(
        "SELECT pa.value AS value, v.choice_id AS choice_id, COUNT(*) AS n \
         {} GROUP BY pa.value, v.choice_id",
        from.replacen(
            "FROM ballots b",
            "FROM ballots b JOIN votes v ON v.ballot_id = b.id",
            1
        )
    ))
    .bind::<BigInt, _>(segment_id)
    .bind::<BigInt, _>(question_id)
    .bind::<Text, _>(Trust::Verified.as_str())
    .load(conn)?;
    let mut out: BTreeMap<String, Tally> = BTreeMap::new();
    for v in voters {
        out.entry(v.value).or_default().voters = v.n;
    }
    for v in votes {
        *out.entry(v.value)
            .or_default()
            .votes
            .entry(v.choice_id)
            .or_default() += v.n;
    }
    Ok(out)
}
