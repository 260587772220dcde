//! The admin dashboard and popularity reports, computed from the analytics rollups. A report is
//! five small queries (four top-20 lists and the site's hourly totals, from which the per-day
//! series and the hour × weekday heatmap are summed here) and is cached per range for
//! `report_cache_secs`, so repeated views and CSV downloads of the same range read nothing.

use std::time::Duration;

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::report::ReportRange;
use crate::error::{AppError, AppResult};
use crate::models::report::{self, SiteHour, TopBy, TopQuestion, TopTag};

/// The site's totals over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// Page views.
    pub page_views: i64,
    /// Votes cast.
    pub votes: i64,
    /// Sign-ups.
    pub signups: i64,
    /// Logins.
    pub logins: i64,
    /// Questions asked.
    pub questions_asked: i64,
}

impl Totals {
    fn add(&mut self, h: &SiteHour) {
        self.page_views += h.page_views;
        self.votes += h.votes;
        self.signups += h.signups;
        self.logins += h.logins;
        self.questions_asked += h.questions_asked;
    }

    fn over(hours: &[SiteHour], start: NaiveDateTime, end: NaiveDateTime) -> Totals {
        let mut t = Totals::default();
        for h in hours.iter().filter(|h| h.hour >= start && h.hour < end) {
            t.add(h);
        }
        t
    }

    fn named(&self) -> [(&'static str, i64); 5] {
        [
            ("Page views", self.page_views),
            ("Votes", self.votes),
            ("Sign-ups", self.signups),
            ("Logins", self.logins),
            ("Questions asked", self.questions_asked),
        ]
    }
}

/// The change from `previous` to `current`: `+12%`, `-5%`, `0%`, or `new` when the previous
/// period had none.
pub fn change(current: i64, previous: i64) -> String {
    if previous == 0 {
        return if current == 0 { "0%" } else { "new" }.to_string();
    }
    let pct = ((current - previous) as f64 * 100.0 / previous as f64).round() as i64;
    if pct > 0 {
        format!("+{pct}%")
    } else {
        format!("{pct}%")
    }
}

/// One figure of the dashboard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Metric {
    /// What is counted.
    pub name: &'static str,
    /// In this period.
    pub current: i64,
    /// In the period of the same length just before.
    pub previous: i64,
    /// See [`change`].
    pub change: String,
}

/// A dashboard column: today, 7 days or 30 days, each against the period before it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Period {
    /// `today`, `7 days`, `30 days`.
    pub label: &'static str,
    /// The five figures.
    pub metrics: Vec<Metric>,
}

/// The dashboard at `now`: periods ending now (today since midnight UTC, the last 7 and 30
/// days counted from midnight 6 and 29 days ago), each against the preceding period of the
/// same length. One query (60 days of hourly site totals).
pub async fn dashboard(db: &Db, now: NaiveDateTime) -> AppResult<Vec<Period>> {
    let midnight = now.date().and_time(chrono::NaiveTime::MIN);
    let periods = [
        ("today", midnight),
        ("7 days", midnight - chrono::Duration::days(6)),
        ("30 days", midnight - chrono::Duration::days(29)),
    ];
    let earliest = midnight - chrono::Duration::days(60);
    let end = now + chrono::Duration::hours(1);
    let hours = db
        .run(move |c| Ok(report::site_hours(c, earliest, end)?))
        .await?;
    Ok(periods
        .iter()
        .map(|(label, start)| {
            let len = now - *start;
            let cur = Totals::over(&hours, *start, now);
            let prev = Totals::over(&hours, *start - len, *start);
            let metrics = cur
                .named()
                .into_iter()
                .zip(prev.named())
                .map(|((name, c), (_, p))| Metric {
                    name,
                    current: c,
                    previous: p,
                    change: change(c, p),
                })
                .collect();
            Period { label, metrics }
        })
        .collect())
}

/// One bucket (hour or day) of the activity series.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Bucket {
    /// Its start.
    pub start: NaiveDateTime,
    /// Its totals.
    pub totals: Totals,
}

/// A popularity report.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// The period.
    pub range: ReportRange,
    /// Top questions by votes.
    pub questions_by_votes: Vec<TopQuestion>,
    /// Top questions by views.
    pub questions_by_views: Vec<TopQuestion>,
    /// Top tags by votes.
    pub tags_by_votes: Vec<TopTag>,
    /// Top tags by views.
    pub tags_by_views: Vec<TopTag>,
    /// Totals per hour (24 h window) or per day.
    pub series: Vec<Bucket>,
    /// Activity (page views plus votes) by weekday (Monday first) and hour of day.
    pub heatmap: Vec<Vec<i64>>,
}

/// Builds the report of `range` from the rollups (one connection, five statements).
pub fn build(c: &mut crate::db::AnyConnection, range: &ReportRange) -> AppResult<Report> {
    let (s, e, h) = (range.start, range.end, range.hourly);
    // Tags have only a daily rollup: the 24 h window reads the whole days it touches.
    let tag_start = s.date().and_time(chrono::NaiveTime::MIN);
    let hours = report::site_hours(c, s, e)?;
    let mut series: Vec<Bucket> = range
        .buckets()
        .into_iter()
        .map(|start| Bucket {
            start,
            totals: Totals::default(),
        })
        .collect();
    let mut heatmap = vec![vec![0i64; 24]; 7];
    for row in &hours {
        let i = if h {
            (row.hour - s).num_hours()
        } else {
            (row.hour.date() - s.date()).num_days()
        };
        if let Some(b) = usize::try_from(i).ok().and_then(|i| series.get_mut(i)) {
            b.totals.add(row);
        }
        let wd = row.hour.weekday().num_days_from_monday() as usize;
        heatmap[wd][row.hour.hour() as usize] += row.page_views + row.votes;
    }
    Ok(Report {
        range: range.clone(),
        questions_by_votes: report::top_questions(c, s, e, h, TopBy::Votes)?,
        questions_by_views: report::top_questions(c, s, e, h, TopBy::Views)?,
        tags_by_votes: report::top_tags(c, tag_start, e, TopBy::Votes)?,
        tags_by_views: report::top_tags(c, tag_start, e, TopBy::Views)?,
        series,
        heatmap,
    })
}

/// The report of `range`, from the cache when it was built in the last `cache_for`.
pub async fn report(
    db: &Db,
    cache: &Cache,
    range: ReportRange,
    cache_for: Duration,
) -> AppResult<Report> {
    let (db, cache) = (db.clone(), cache.clone());
    rocket::tokio::task::spawn_blocking(move || {
        let load = || db.run_blocking(|c| build(c, &range));
        if cache_for.is_zero() {
            return load();
        }
        let key = format!("report:{}", range.key());
        cache.get_or_rebuild(&key, cache_for, cache_for, load)
    })
    .await
    .map_err(|e| AppError::Internal(format!("report task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes() {
        assert_eq!(change(0, 0), "0%");
        assert_eq!(change(5, 0), "new");
        assert_eq!(change(15, 10), "+50%");
        assert_eq!(change(5, 10), "-50%");
        assert_eq!(change(10, 10), "0%");
    }
}
