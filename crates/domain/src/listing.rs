//! Parameters of question lists: sort order, time window, page number.

use chrono::{Duration, NaiveDateTime};

use super::Invalid;
use super::poll::string_enum;

string_enum! {
    /// Order of a question list.
    Sort as "sort" { Hot = "hot", New = "new", Top = "top" }
}

string_enum! {
    /// Time window of the "top" list: questions asked within it, by votes.
    Window as "window" { Day = "day", Week = "week", Month = "month", All = "all" }
}

impl Sort {
    /// Parses an optional query value; absent means hot.
    pub fn from_query(v: Option<&str>) -> Result<Sort, Invalid> {
        v.map_or(Ok(Sort::Hot), Sort::parse)
    }
}

impl Window {
    /// Parses an optional query value; absent means all time.
    pub fn from_query(v: Option<&str>) -> Result<Window, Invalid> {
        v.map_or(Ok(Window::All), Window::parse)
    }

    /// The earliest creation time inside the window, or `None` for all time.
    pub fn since(self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Window::Day => Some(now - Duration::hours(24)),
            Window::Week => Some(now - Duration::days(7)),
            Window::Month => Some(now - Duration::days(30)),
            Window::All => None,
        }
    }
}

/// A 1-based page number, bounded so that deep pages cannot be used to load the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page(u32);

impl Page {
    /// Items per page.
    pub const SIZE: i64 = 20;
    /// Deepest page served.
    pub const MAX: u32 = 500;

    /// The first page.
    pub fn first() -> Page {
        Page(1)
    }

    /// Parses an optional query value; absent means page 1.
    pub fn from_query(v: Option<&str>) -> Result<Page, Invalid> {
        let Some(v) = v else { return Ok(Page(1)) };
        let n: u64 = v
            .trim()
            .parse()
            .map_err(|_| Invalid::new("invalid_page", "The page must be a whole number from 1."))?;
        if n == 0 || n > u64::from(Self::MAX) {
            return Err(Invalid::new(
                "invalid_page",
                format!("The page must be between 1 and {}.", Self::MAX),
            ));
        }
        Ok(Page(n as u32))
    }

    /// The page number.
    pub fn number(self) -> u32 {
        self.0
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        i64::from(self.0 - 1) * Self::SIZE
    }

    /// The next page's number, if it may exist.
    pub fn next(self) -> Option<u32> {
        (self.0 < Self::MAX).then_some(self.0 + 1)
    }

    /// The previous page's number, if any.
    pub fn prev(self) -> Option<u32> {
        (self.0 > 1).then_some(self.0 - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        assert_eq!(Page::from_query(None).unwrap().number(), 1);
        assert_eq!(Page::from_query(Some("3")).unwrap().offset(), 40);
        for bad in ["0", "-1", "x", "501", "99999999999999999999999"] {
            assert!(Page::from_query(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn sorts_and_windows() {
        assert_eq!(Sort::from_query(None).unwrap(), Sort::Hot);
        assert!(Sort::from_query(Some("best")).is_err());
        assert_eq!(Window::from_query(Some("week")).unwrap(), Window::Week);
        assert!(Window::from_query(Some("year")).is_err());
        assert!(Window::All.since(chrono::Utc::now().naive_utc()).is_none());
    }
}
