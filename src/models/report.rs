//! Reads of the analytics rollups for the admin reports, plus test-only inserts. Top lists
//! aggregate in a subquery over the `(day|hour, id)` primary key range and join the 20 winners
//! to their titles in the same statement. The one read of the ballots themselves is the network
//! concentration of those top questions ([`network_shares`]), over the `(question_id, ip_hash,
//! created_at)` index.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::AnyConnection;
use crate::db::schema::{
    questions, rollup_question_daily, rollup_question_hourly, rollup_site_hourly, rollup_tag_daily,
};

/// Rows in each top list.
pub const TOP_N: i64 = 20;

/// Site totals of one hour.
#[derive(
    Debug, Clone, Default, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = rollup_site_hourly)]
pub struct SiteHour {
    /// The hour (UTC, truncated).
    pub hour: NaiveDateTime,
    /// Page views.
    pub page_views: i64,
    /// Votes cast.
    pub votes: i64,
    /// Votes changed.
    pub vote_changes: i64,
    /// Votes withdrawn.
    pub vote_withdrawals: i64,
    /// Sign-ups.
    pub signups: i64,
    /// Logins.
    pub logins: i64,
    /// Questions asked.
    pub questions_asked: i64,
}

/// What a top list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopBy {
    /// Most votes first.
    Votes,
    /// Most views first.
    Views,
}

impl TopBy {
    fn column(self) -> &'static str {
        match self {
            TopBy::Votes => "votes",
            TopBy::Views => "views",
        }
    }
}

/// A question in a top list.
#[derive(Debug, Clone, QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct TopQuestion {
    /// Question id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its title.
    #[diesel(sql_type = Text)]
    pub title: String,
    /// Its slug.
    #[diesel(sql_type = Text)]
    pub slug: String,
    /// When it was hidden, if it is.
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub hidden_at: Option<NaiveDateTime>,
    /// Views in the range.
    #[diesel(sql_type = BigInt)]
    pub views: i64,
    /// Votes in the range.
    #[diesel(sql_type = BigInt)]
    pub votes: i64,
}

/// A tag in a top list.
#[derive(Debug, Clone, QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct TopTag {
    /// Tag id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its name.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Views in the range.
    #[diesel(sql_type = BigInt)]
    pub views: i64,
    /// Votes in the range.
    #[diesel(sql_type = BigInt)]
    pub votes: i64,
}

/// `SUM(col)` typed as a 64-bit integer on both backends (MySQL sums to DECIMAL).
fn sum(conn: &AnyConnection, col: &str) -> String {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => format!("CAST(SUM({col}) AS SIGNED)"),
        AnyConnection::Sqlite(_) => format!("SUM({col})"),
    }
}

#[derive(QueryableByName)]
struct QuestionSums {
    #[diesel(sql_type = BigInt)]
    question_id: i64,
    #[diesel(sql_type = BigInt)]
    views: i64,
    #[diesel(sql_type = BigInt)]
    votes: i64,
}

/// The first [`TOP_N`] of `sums` by `key` (largest first, then lowest id), sorted.
fn top_by(
    sums: &mut [(i64, i64, i64)],
    key: impl Fn(&(i64, i64, i64)) -> i64,
) -> Vec<(i64, i64, i64)> {
    let order = |a: &(i64, i64, i64), b: &(i64, i64, i64)| key(b).cmp(&key(a)).then(a.0.cmp(&b.0));
    let n = (TOP_N as usize).min(sums.len());
    if n == 0 {
        return Vec::new();
    }
    if sums.len() > n {
        sums.select_nth_unstable_by(n - 1, order);
    }
    let mut top = sums[..n].to_vec();
    top.sort_by(order);
    top
}

/// The top questions of `[start, end)` by votes and by views, from ONE scan of the hourly or
/// daily rollup: the per-question sums are grouped by the database and ranked here (two
/// `ORDER BY .. LIMIT` statements would scan the range twice, and a month of a busy site is
/// millions of rows), then the at most 2 × [`TOP_N`] winners' titles are read in one statement.
pub fn top_questions_both(
    conn: &mut AnyConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    hourly: bool,
) -> QueryResult<(Vec<TopQuestion>, Vec<TopQuestion>)> {
    let (table, time) = if hourly {
        ("rollup_question_hourly", "hour")
    } else {
        ("rollup_question_daily", "day")
    };
    let sql = format!(
        "SELECT question_id, {views} AS views, {votes} AS votes FROM {table} \
         WHERE {time} >= ? AND {time} < ? GROUP BY question_id",
        views = sum(conn, "views"),
        votes = sum(conn, "votes"),
    );
    let rows: Vec<QuestionSums> = diesel::sql_query(sql)
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)?;
    let mut sums: Vec<(i64, i64, i64)> = rows
        .into_iter()
        .map(|r| (r.question_id, r.views, r.votes))
        .collect();
    let by_votes = top_by(&mut sums, |r| r.2);
    let by_views = top_by(&mut sums, |r| r.1);
    let mut ids: Vec<i64> = by_votes.iter().chain(&by_views).map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, (String, String, Option<NaiveDateTime>)> = questions::table
        .filter(questions::id.eq_any(&ids))
        .select((
            questions::id,
            questions::title,
            questions::slug,
            questions::hidden_at,
        ))
        .load::<(i64, String, String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(id, title, slug, hidden_at)| (id, (title, slug, hidden_at)))
        .collect();
    let named = |top: Vec<(i64, i64, i64)>| -> Vec<TopQuestion> {
        top.into_iter()
            .filter_map(|(id, views, votes)| {
                let (title, slug, hidden_at) = names.get(&id)?;
                Some(TopQuestion {
                    id,
                    title: title.clone(),
                    slug: slug.clone(),
                    hidden_at: *hidden_at,
                    views,
                    votes,
                })
            })
            .collect()
    };
    Ok((named(by_votes), named(by_views)))
}

/// How concentrated a question's ballots of a period are: how many there are, and how many the
/// one client network that cast the most of them cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct NetworkShare {
    /// The question.
    #[diesel(sql_type = BigInt)]
    pub question_id: i64,
    /// Its ballots cast in the period (still standing).
    #[diesel(sql_type = BigInt)]
    pub ballots: i64,
    /// The most of them from one network (ballots without a known network are not one).
    #[diesel(sql_type = BigInt)]
    pub top_network: i64,
}

/// [`NetworkShare`] of each of `ids` with ballots cast in `[start, end)`, in one statement that
/// reads each question's range of the `(question_id, ip_hash, created_at)` index.
pub fn network_shares(
    conn: &mut AnyConnection,
    ids: &[i64],
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<NetworkShare>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT question_id, {ballots} AS ballots, \
         {top} AS top_network FROM ( \
           SELECT question_id, ip_hash, COUNT(*) AS n FROM ballots \
           WHERE question_id IN ({list}) AND created_at >= ? AND created_at < ? \
           GROUP BY question_id, ip_hash) per_network \
         GROUP BY question_id",
        ballots = sum(conn, "n"),
        top = cast(
            conn,
            "COALESCE(MAX(CASE WHEN ip_hash IS NOT NULL THEN n END), 0)"
        ),
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)
}

/// `expr` as a signed 64-bit integer on both backends.
fn cast(conn: &AnyConnection, expr: &str) -> String {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => format!("CAST({expr} AS SIGNED)"),
        AnyConnection::Sqlite(_) => expr.to_string(),
    }
}

/// The top tags of the days in `[start, end)`, with names.
pub fn top_tags(
    conn: &mut AnyConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    by: TopBy,
) -> QueryResult<Vec<TopTag>> {
    let order = by.column();
    let sql = format!(
        "SELECT g.id AS id, g.name AS name, t.views_sum AS views, t.votes_sum AS votes \
         FROM (SELECT tag_id, {views} AS views_sum, {votes} AS votes_sum FROM rollup_tag_daily \
               WHERE day >= ? AND day < ? GROUP BY tag_id \
               ORDER BY {order}_sum DESC, tag_id LIMIT {TOP_N}) t \
         JOIN tags g ON g.id = t.tag_id \
         ORDER BY t.{order}_sum DESC, g.id",
        views = sum(conn, "views"),
        votes = sum(conn, "votes"),
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)
}

/// One question's views and votes per day in `[start, end)`, oldest first (days without any
/// are absent).
pub fn question_days(
    conn: &mut AnyConnection,
    question_id: i64,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, i64, i64)>> {
    rollup_question_daily::table
        .filter(rollup_question_daily::question_id.eq(question_id))
        .filter(rollup_question_daily::day.ge(start))
        .filter(rollup_question_daily::day.lt(end))
        .order(rollup_question_daily::day.asc())
        .select((
            rollup_question_daily::day,
            rollup_question_daily::views,
            rollup_question_daily::votes,
        ))
        .load(conn)
}

/// The first hour with site totals, if any.
pub fn first_hour(conn: &mut AnyConnection) -> QueryResult<Option<NaiveDateTime>> {
    rollup_site_hourly::table
        .select(rollup_site_hourly::hour)
        .order(rollup_site_hourly::hour.asc())
        .first(conn)
        .optional()
}

/// The site's hourly totals in `[start, end)`, oldest first (at most 24 × 731 rows).
pub fn site_hours(
    conn: &mut AnyConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<SiteHour>> {
    rollup_site_hourly::table
        .filter(rollup_site_hourly::hour.ge(start))
        .filter(rollup_site_hourly::hour.lt(end))
        .order(rollup_site_hourly::hour.asc())
        .select(SiteHour::as_select())
        .load(conn)
}

/// Test data: stores one hour of site totals.
#[doc(hidden)]
pub fn insert_site_hour(conn: &mut AnyConnection, row: &SiteHour) -> QueryResult<()> {
    diesel::insert_into(rollup_site_hourly::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Test data: stores a question's views and votes of one day and of one hour of that day.
#[doc(hidden)]
pub fn insert_question(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    question_id: i64,
    views: i64,
    votes: i64,
) -> QueryResult<()> {
    let day = at.date().and_time(chrono::NaiveTime::MIN);
    diesel::insert_into(rollup_question_daily::table)
        .values((
            rollup_question_daily::day.eq(day),
            rollup_question_daily::question_id.eq(question_id),
            rollup_question_daily::views.eq(views),
            rollup_question_daily::votes.eq(votes),
        ))
        .execute(conn)?;
    diesel::insert_into(rollup_question_hourly::table)
        .values((
            rollup_question_hourly::hour.eq(at),
            rollup_question_hourly::question_id.eq(question_id),
            rollup_question_hourly::views.eq(views),
            rollup_question_hourly::votes.eq(votes),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Test data: stores a tag's views and votes of one day.
#[doc(hidden)]
pub fn insert_tag_day(
    conn: &mut AnyConnection,
    day: NaiveDateTime,
    tag_id: i64,
    views: i64,
    votes: i64,
) -> QueryResult<()> {
    diesel::insert_into(rollup_tag_daily::table)
        .values((
            rollup_tag_daily::day.eq(day),
            rollup_tag_daily::tag_id.eq(tag_id),
            rollup_tag_daily::views.eq(views),
            rollup_tag_daily::votes.eq(votes),
        ))
        .execute(conn)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_by_ranks_largest_first_then_lowest_id() {
        let mut sums: Vec<(i64, i64, i64)> = (1..=50).map(|id| (id, 100 - id, id % 7)).collect();
        let by_votes = top_by(&mut sums, |r| r.2);
        assert_eq!(by_votes.len(), TOP_N as usize);
        // Votes 6 for ids 6, 13, 20, 27, 34, 41, 48, then 5 for ids 5, 12, ...
        assert_eq!(
            by_votes.iter().map(|r| r.0).take(9).collect::<Vec<_>>(),
            vec![6, 13, 20, 27, 34, 41, 48, 5, 12]
        );
        let by_views = top_by(&mut sums, |r| r.1);
        assert_eq!(
            by_views.iter().map(|r| r.0).collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
        assert!(top_by(&mut [], |r| r.1).is_empty());
        let mut few = vec![(3, 1, 1), (2, 1, 1)];
        assert_eq!(top_by(&mut few, |r| r.1), vec![(2, 1, 1), (3, 1, 1)]);
    }
}
