//! Reads of the analytics rollups for the admin reports (never the raw votes), plus test-only
//! inserts. Top lists aggregate in a subquery over the `(day|hour, id)` primary key range and
//! join the 20 winners to their titles in the same statement.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::AnyConnection;
use crate::db::schema::{
    rollup_question_daily, rollup_question_hourly, rollup_site_hourly, rollup_tag_daily,
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

/// The top questions of `[start, end)`, from the hourly or the daily rollup, with titles.
pub fn top_questions(
    conn: &mut AnyConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    hourly: bool,
    by: TopBy,
) -> QueryResult<Vec<TopQuestion>> {
    let (table, time) = if hourly {
        ("rollup_question_hourly", "hour")
    } else {
        ("rollup_question_daily", "day")
    };
    let order = by.column();
    // Only fixed identifiers are formatted in; the times are bound.
    let sql = format!(
        "SELECT q.id AS id, q.title AS title, q.slug AS slug, q.hidden_at AS hidden_at, \
                t.views_sum AS views, t.votes_sum AS votes \
         FROM (SELECT question_id, {views} AS views_sum, {votes} AS votes_sum FROM {table} \
               WHERE {time} >= ? AND {time} < ? GROUP BY question_id \
               ORDER BY {order}_sum DESC, question_id LIMIT {TOP_N}) t \
         JOIN questions q ON q.id = t.question_id \
         ORDER BY t.{order}_sum DESC, q.id",
        views = sum(conn, "views"),
        votes = sum(conn, "votes"),
    );
    diesel::sql_query(sql)
        .bind::<Timestamp, _>(start)
        .bind::<Timestamp, _>(end)
        .load(conn)
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
