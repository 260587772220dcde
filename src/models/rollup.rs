//! Writes to the analytics rollups (`rollup_*`, `analytics_batches`): additive upserts, one
//! transaction per batch of events together with the batch's row, so a batch applies at most once.
//! Reports read these tables elsewhere (`models::report`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::AnyConnection;
use crate::db::schema::{analytics_batches, question_tags, tags};
use crate::db::write_transaction;

/// Views and votes of one question or tag in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Page views.
    pub views: i64,
    /// Ballots cast.
    pub votes: i64,
}

/// Site totals of one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteActivity {
    /// Page views of every kind.
    pub page_views: i64,
    /// Ballots cast.
    pub votes: i64,
    /// Ballots changed.
    pub vote_changes: i64,
    /// Ballots withdrawn.
    pub vote_withdrawals: i64,
    /// Accounts created.
    pub signups: i64,
    /// Logins.
    pub logins: i64,
    /// Questions published.
    pub questions_asked: i64,
}

/// The sums of one batch of events, by key (aggregated in memory: one upsert per key).
#[derive(Debug, Clone, Default)]
pub struct Delta {
    /// Question activity per (hour, question); the daily and per-tag sums are derived from it.
    pub questions: BTreeMap<(NaiveDateTime, i64), Activity>,
    /// Tag page views per (day, tag name); names of no tag are ignored.
    pub tag_views: BTreeMap<(NaiveDateTime, String), i64>,
    /// Site totals per hour.
    pub site: BTreeMap<NaiveDateTime, SiteActivity>,
}

/// `t` truncated to its hour.
pub fn hour_of(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(t.hour(), 0, 0).unwrap_or(t)
}

/// `t` truncated to midnight.
pub fn day_of(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(0, 0, 0).unwrap_or(t)
}

fn lit(t: NaiveDateTime) -> String {
    // Our own formatted timestamp, the form Diesel stores: safe to put into the statement.
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

/// Applies `delta` as batch `batch_id` (of `events` events) in one transaction; `false` when
/// this batch was applied before (nothing changes).
pub fn apply(
    conn: &mut AnyConnection,
    batch_id: &str,
    events: i32,
    delta: &Delta,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    write_transaction(conn, |c| {
        let inserted = diesel::insert_into(analytics_batches::table)
            .values((
                analytics_batches::id.eq(batch_id),
                analytics_batches::events.eq(events),
                analytics_batches::applied_at.eq(now),
            ))
            .execute(c);
        match inserted {
            Ok(_) => {}
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => return Ok(false),
            Err(e) => return Err(e),
        }
        write_delta(c, delta)?;
        Ok(true)
    })
}

fn write_delta(c: &mut AnyConnection, delta: &Delta) -> QueryResult<()> {
    let mut daily: BTreeMap<(NaiveDateTime, i64), Activity> = BTreeMap::new();
    for (&(hour, q), a) in &delta.questions {
        let d = daily.entry((day_of(hour), q)).or_default();
        d.views += a.views;
        d.votes += a.votes;
    }
    let question_ids: BTreeSet<i64> = delta.questions.keys().map(|(_, q)| *q).collect();
    let tags_of: Vec<(i64, i64)> = if question_ids.is_empty() {
        Vec::new()
    } else {
        question_tags::table
            .filter(question_tags::question_id.eq_any(question_ids))
            .select((question_tags::question_id, question_tags::tag_id))
            .load(c)?
    };
    let mut per_tag: BTreeMap<(NaiveDateTime, i64), Activity> = BTreeMap::new();
    for (&(day, q), a) in &daily {
        for (_, tag) in tags_of.iter().filter(|(tq, _)| *tq == q) {
            let t = per_tag.entry((day, *tag)).or_default();
            t.views += a.views;
            t.votes += a.votes;
        }
    }
    let names: BTreeSet<&str> = delta.tag_views.keys().map(|(_, n)| n.as_str()).collect();
    let ids: BTreeMap<String, i64> = if names.is_empty() {
        BTreeMap::new()
    } else {
        tags::table
            .filter(tags::name.eq_any(names))
            .select((tags::name, tags::id))
            .load::<(String, i64)>(c)?
            .into_iter()
            .collect()
    };
    for ((day, name), views) in &delta.tag_views {
        if let Some(&id) = ids.get(name) {
            per_tag.entry((*day, id)).or_default().views += views;
        }
    }
    let activity = |m: &BTreeMap<(NaiveDateTime, i64), Activity>| -> Vec<String> {
        m.iter()
            .filter(|(_, a)| a.views != 0 || a.votes != 0)
            .map(|(&(t, id), a)| format!("({},{id},{},{})", lit(t), a.views, a.votes))
            .collect()
    };
    upsert(
        c,
        "rollup_question_hourly (hour, question_id, views, votes)",
        "hour, question_id",
        &["views", "votes"],
        &activity(&delta.questions),
    )?;
    upsert(
        c,
        "rollup_question_daily (day, question_id, views, votes)",
        "day, question_id",
        &["views", "votes"],
        &activity(&daily),
    )?;
    upsert(
        c,
        "rollup_tag_daily (day, tag_id, views, votes)",
        "day, tag_id",
        &["views", "votes"],
        &activity(&per_tag),
    )?;
    let site: Vec<String> = delta
        .site
        .iter()
        .map(|(&h, s)| {
            format!(
                "({},{},{},{},{},{},{},{})",
                lit(h),
                s.page_views,
                s.votes,
                s.vote_changes,
                s.vote_withdrawals,
                s.signups,
                s.logins,
                s.questions_asked
            )
        })
        .collect();
    upsert(
        c,
        "rollup_site_hourly (hour, page_views, votes, vote_changes, vote_withdrawals, signups, logins, questions_asked)",
        "hour",
        &[
            "page_views",
            "votes",
            "vote_changes",
            "vote_withdrawals",
            "signups",
            "logins",
            "questions_asked",
        ],
        &site,
    )
}

/// `INSERT INTO <target> VALUES <rows> ON CONFLICT/DUPLICATE KEY: col = col + new`. The rows
/// are in key order, so concurrent batches lock rows in the same order (no deadlocks).
fn upsert(
    c: &mut AnyConnection,
    target: &str,
    key: &str,
    sums: &[&str],
    rows: &[String],
) -> QueryResult<()> {
    for chunk in rows.chunks(500) {
        let update = match c {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(_) => {
                let set: Vec<String> = sums
                    .iter()
                    .map(|s| format!("{s} = {s} + VALUES({s})"))
                    .collect();
                format!("ON DUPLICATE KEY UPDATE {}", set.join(", "))
            }
            AnyConnection::Sqlite(_) => {
                let set: Vec<String> = sums
                    .iter()
                    .map(|s| format!("{s} = {s} + excluded.{s}"))
                    .collect();
                format!("ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", "))
            }
        };
        diesel::sql_query(format!(
            "INSERT INTO {target} VALUES {} {update}",
            chunk.join(",")
        ))
        .execute(c)?;
    }
    Ok(())
}

/// Deletes the records of batches applied before `before`; returns how many.
pub fn prune_batches(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(analytics_batches::table.filter(analytics_batches::applied_at.lt(before)))
        .execute(conn)
}

/// Whether the rollups hold nothing yet (a fresh install).
pub fn is_empty(conn: &mut AnyConnection) -> QueryResult<bool> {
    use crate::db::schema::rollup_site_hourly;
    let any: Option<NaiveDateTime> = rollup_site_hourly::table
        .select(rollup_site_hourly::hour)
        .first(conn)
        .optional()?;
    Ok(any.is_none())
}

/// Fills the rollups from the ballots in the ledger (one vote per ballot, at its creation hour)
/// plus `views_per_vote` synthetic views per vote, in bulk (`INSERT .. SELECT .. GROUP BY`), for
/// generated benchmark data, and the questions asked per hour. Replaces whatever the rollups held.
pub fn rebuild_from_ballots(conn: &mut AnyConnection, views_per_vote: i64) -> QueryResult<()> {
    let hour = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "DATE_FORMAT(b.created_at, '%Y-%m-%d %H:00:00')",
        AnyConnection::Sqlite(_) => "strftime('%Y-%m-%d %H:00:00', b.created_at)",
    };
    let day = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "DATE_FORMAT(hour, '%Y-%m-%d 00:00:00')",
        AnyConnection::Sqlite(_) => "strftime('%Y-%m-%d 00:00:00', hour)",
    };
    let question_hour = hour.replace("b.created_at", "q.created_at");
    let asked_upsert = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => {
            "ON DUPLICATE KEY UPDATE questions_asked = VALUES(questions_asked)"
        }
        AnyConnection::Sqlite(_) => {
            "ON CONFLICT (hour) DO UPDATE SET questions_asked = excluded.questions_asked"
        }
    };
    let v = views_per_vote.max(0);
    let statements = [
        "DELETE FROM rollup_question_hourly".to_string(),
        "DELETE FROM rollup_question_daily".to_string(),
        "DELETE FROM rollup_tag_daily".to_string(),
        "DELETE FROM rollup_site_hourly".to_string(),
        format!(
            "INSERT INTO rollup_question_hourly (hour, question_id, views, votes) \
             SELECT {hour}, b.question_id, COUNT(*) * {v} + 1, COUNT(*) FROM ballots b \
             GROUP BY {hour}, b.question_id"
        ),
        format!(
            "INSERT INTO rollup_question_daily (day, question_id, views, votes) \
             SELECT {day}, question_id, SUM(views), SUM(votes) FROM rollup_question_hourly \
             GROUP BY {day}, question_id"
        ),
        "INSERT INTO rollup_tag_daily (day, tag_id, views, votes) \
         SELECT r.day, qt.tag_id, SUM(r.views), SUM(r.votes) FROM rollup_question_daily r \
         JOIN question_tags qt ON qt.question_id = r.question_id GROUP BY r.day, qt.tag_id"
            .to_string(),
        "INSERT INTO rollup_site_hourly (hour, page_views, votes, vote_changes, vote_withdrawals, \
         signups, logins, questions_asked) \
         SELECT hour, SUM(views), SUM(votes), 0, 0, 0, 0, 0 FROM rollup_question_hourly GROUP BY hour"
            .to_string(),
        // `WHERE 1 = 1`: SQLite needs a WHERE before ON CONFLICT in an INSERT .. SELECT.
        format!(
            "INSERT INTO rollup_site_hourly (hour, page_views, votes, vote_changes, vote_withdrawals, \
             signups, logins, questions_asked) \
             SELECT {question_hour}, 0, 0, 0, 0, 0, 0, COUNT(*) FROM questions q WHERE 1 = 1 \
             GROUP BY {question_hour} {asked_upsert}"
        ),
    ];
    write_transaction(conn, |c| {
        for s in &statements {
            diesel::sql_query(s.as_str()).execute(c)?;
        }
        Ok(())
    })
}
