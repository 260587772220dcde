//! The period of an admin report: a named window or a custom range of whole UTC days, checked.

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};

use crate::Invalid;

/// Longest custom range, in days (two years).
pub const MAX_RANGE_DAYS: i64 = 731;

/// A named report window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportWindow {
    /// The last 24 hours (read from the hourly rollups).
    Day,
    /// The last 7 days, today included.
    Week,
    /// The last 30 days, today included.
    Month,
    /// Since the first day with data, today included (at most [`MAX_RANGE_DAYS`]: the builder
    /// narrows the longest range to the data).
    All,
}

impl ReportWindow {
    /// Parses `day`, `week`, `month` or `all`.
    pub fn parse(s: &str) -> Result<ReportWindow, Invalid> {
        match s.trim() {
            "day" => Ok(ReportWindow::Day),
            "week" => Ok(ReportWindow::Week),
            "month" => Ok(ReportWindow::Month),
            "all" => Ok(ReportWindow::All),
            other => Err(Invalid::new(
                "invalid_window",
                format!(
                    "Unknown report window {:?}: use day, week, month or all.",
                    other.chars().take(20).collect::<String>()
                ),
            )),
        }
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportWindow::Day => "day",
            ReportWindow::Week => "week",
            ReportWindow::Month => "month",
            ReportWindow::All => "all",
        }
    }
}

/// A checked report period: `[start, end)` in UTC, bucketed by hour (24 h window) or by day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportRange {
    /// First instant included.
    pub start: NaiveDateTime,
    /// First instant excluded.
    pub end: NaiveDateTime,
    /// Whether the report reads the hourly rollups (the 24 h window) rather than the daily ones.
    pub hourly: bool,
    /// The named window, if the range is one.
    pub window: Option<ReportWindow>,
}

fn parse_date(field: &str, value: &str) -> Result<NaiveDate, Invalid> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Invalid::new(
            "empty_range",
            "Give both dates of the range, as YYYY-MM-DD.",
        ));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        Invalid::new(
            "invalid_date",
            format!(
                "The {field} date {:?} is not a date: use YYYY-MM-DD.",
                v.chars().take(20).collect::<String>()
            ),
        )
    })
}

impl ReportRange {
    /// A named window ending now.
    pub fn window(w: ReportWindow, now: NaiveDateTime) -> ReportRange {
        let today = now.date();
        let days = |n: i64| ReportRange {
            start: (today - Duration::days(n - 1)).and_time(chrono::NaiveTime::MIN),
            end: (today + Duration::days(1)).and_time(chrono::NaiveTime::MIN),
            hourly: false,
            window: Some(w),
        };
        match w {
            ReportWindow::Day => {
                let hour = now
                    .with_minute(0)
                    .and_then(|t| t.with_second(0))
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(now);
                ReportRange {
                    start: hour - Duration::hours(23),
                    end: hour + Duration::hours(1),
                    hourly: true,
                    window: Some(w),
                }
            }
            ReportWindow::Week => days(7),
            ReportWindow::Month => days(30),
            ReportWindow::All => days(MAX_RANGE_DAYS),
        }
    }

    /// From the query: `window`, or `from` and `to` (inclusive UTC days); neither means a week.
    pub fn parse(
        window: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<ReportRange, Invalid> {
        if from.is_none() && to.is_none() {
            let w = window.map(ReportWindow::parse).transpose()?;
            return Ok(ReportRange::window(w.unwrap_or(ReportWindow::Week), now));
        }
        if window.is_some_and(|w| !w.trim().is_empty()) {
            return Err(Invalid::new(
                "invalid_range",
                "Give either a window or a from/to range, not both.",
            ));
        }
        let from = parse_date("from", from.unwrap_or(""))?;
        let to = parse_date("to", to.unwrap_or(""))?;
        if to < from {
            return Err(Invalid::new(
                "reversed_range",
                format!("The range ends ({to}) before it starts ({from})."),
            ));
        }
        if to > now.date() {
            return Err(Invalid::new(
                "future_range",
                format!(
                    "The range ends in the future ({to}); the last day with data is today ({}).",
                    now.date()
                ),
            ));
        }
        if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            return Err(Invalid::new(
                "range_too_long",
                format!("The range is longer than two years ({MAX_RANGE_DAYS} days)."),
            ));
        }
        Ok(ReportRange {
            start: from.and_time(chrono::NaiveTime::MIN),
            end: (to + Duration::days(1)).and_time(chrono::NaiveTime::MIN),
            hourly: false,
            window: None,
        })
    }

    /// The first day included.
    pub fn from_day(&self) -> NaiveDate {
        self.start.date()
    }

    /// The last day included.
    pub fn to_day(&self) -> NaiveDate {
        (self.end - Duration::seconds(1)).date()
    }

    /// The start of each bucket (hour or day) of the range, in order.
    pub fn buckets(&self) -> Vec<NaiveDateTime> {
        let step = if self.hourly {
            Duration::hours(1)
        } else {
            Duration::days(1)
        };
        let mut out = Vec::new();
        let mut t = self.start;
        while t < self.end {
            out.push(t);
            t += step;
        }
        out
    }

    /// A stable text form, for cache keys and file names.
    pub fn key(&self) -> String {
        format!(
            "{}_{}{}",
            self.start.format("%Y%m%d%H"),
            self.end.format("%Y%m%d%H"),
            if self.hourly { "h" } else { "d" }
        )
    }
}

/// Why a moderator acted: required, at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationReason(String);

impl ModerationReason {
    /// Longest reason.
    pub const MAX: usize = 500;

    /// Trims and checks a reason.
    pub fn parse(s: &str) -> Result<ModerationReason, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::new(
                "reason_required",
                "Say why (the reason is kept in the audit log).",
            ));
        }
        if s.chars().count() > Self::MAX {
            return Err(Invalid::new(
                "reason_too_long",
                format!("The reason may be at most {} characters.", Self::MAX),
            ));
        }
        Ok(ModerationReason(s.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When the admin report flags a question's ballots as concentrated in one client network: that
/// network cast at least [`UNUSUAL_NETWORK_MIN`] of the question's ballots in the period and at
/// least [`UNUSUAL_NETWORK_PERCENT`] % of them. Ordinary questions draw their voters from many
/// networks; an office or a campus can still pass the bar, so the report flags for a look and acts
/// on nothing.
pub fn unusual_network_share(top_network: i64, ballots: i64) -> bool {
    ballots > 0
        && top_network >= UNUSUAL_NETWORK_MIN
        && top_network * 100 >= UNUSUAL_NETWORK_PERCENT * ballots
}

/// The fewest ballots from one network that [`unusual_network_share`] flags.
pub const UNUSUAL_NETWORK_MIN: i64 = 20;
/// The share of a question's ballots (percent) from one network that [`unusual_network_share`]
/// flags.
pub const UNUSUAL_NETWORK_PERCENT: i64 = 25;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_network_shares() {
        assert!(!unusual_network_share(0, 0));
        assert!(!unusual_network_share(19, 19), "too few to tell");
        assert!(unusual_network_share(20, 80), "a quarter");
        assert!(!unusual_network_share(20, 81), "under a quarter");
        assert!(unusual_network_share(300, 1000));
        assert!(!unusual_network_share(100, 1000));
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn windows() {
        let now = at("2026-12-04 05:30:10");
        let d = ReportRange::parse(Some("day"), None, None, now).unwrap();
        assert!(d.hourly);
        assert_eq!(d.buckets().len(), 24);
        assert_eq!(d.end, at("2026-12-04 06:00:00"));
        let w = ReportRange::parse(None, None, None, now).unwrap();
        assert_eq!(w.window, Some(ReportWindow::Week));
        assert_eq!(w.buckets().len(), 7);
        assert_eq!(w.to_day(), now.date());
        let m = ReportRange::parse(Some("month"), None, None, now).unwrap();
        assert_eq!(m.buckets().len(), 30);
        assert_eq!(
            ReportRange::parse(Some("year"), None, None, now)
                .unwrap_err()
                .code,
            "invalid_window"
        );
    }

    #[test]
    fn custom_ranges() {
        let now = at("2026-12-04 05:30:10");
        let r = ReportRange::parse(None, Some("2026-11-01"), Some("2026-11-03"), now).unwrap();
        assert_eq!(r.buckets().len(), 3);
        assert_eq!(r.from_day().to_string(), "2026-11-01");
        assert_eq!(r.to_day().to_string(), "2026-11-03");
        let code = |f: &str, t: &str| {
            ReportRange::parse(None, Some(f), Some(t), now)
                .unwrap_err()
                .code
        };
        assert_eq!(code("2026-11-03", "2026-11-01"), "reversed_range");
        assert_eq!(code("2026-12-01", "2026-12-05"), "future_range");
        assert_eq!(code("2024-01-01", "2026-12-01"), "range_too_long");
        assert_eq!(code("2026-13-01", "2026-12-01"), "invalid_date");
        assert_eq!(code("", ""), "empty_range");
        assert!(ReportRange::parse(None, Some("2024-12-04"), Some("2026-12-04"), now).is_ok());
    }

    #[test]
    fn reasons() {
        assert!(ModerationReason::parse("  ").is_err());
        assert!(ModerationReason::parse(&"x".repeat(501)).is_err());
        assert_eq!(ModerationReason::parse(" spam ").unwrap().as_str(), "spam");
    }
}
