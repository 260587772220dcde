//! Poll rules: kinds, protection levels, trust levels, open/closed, the results-visibility rule
//! and the hot rank.

use chrono::NaiveDateTime;

use super::Invalid;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident as $label:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialized form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored form.
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Invalid::new(
                        concat!("invalid_", $label),
                        format!(
                            "`{}` is not a valid {}; expected one of: {}",
                            s.chars().take(40).collect::<String>(),
                            $label,
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Single choice (radio buttons), multiple choice (check boxes), or ranked choice (the voter
    /// orders the choices, or their top N; counted by instant runoff, see `runoff`).
    Kind as "kind" { Single = "single", Multiple = "multiple", Ranked = "ranked" }
}

string_enum! {
    /// When the results of a question may be seen.
    ResultsVisibility as "results_visibility" {
        /// Always, by everyone.
        Always = "always",
        /// After the visitor has voted (and always once closed).
        AfterVote = "after_vote",
        /// Only once the question has closed.
        AfterClose = "after_close",
    }
}

string_enum! {
    /// How a question guards against duplicate votes.
    Protection as "protection" {
        /// One ballot per voter cookie.
        Browser = "browser",
        /// Voter cookie plus at most N new ballots per client network per question per day.
        Network = "network",
        /// Only logged-in users may vote.
        Account = "account",
    }
}

string_enum! {
    /// How a ballot was protected when it was cast (recorded per ballot for "verified only" views).
    Trust as "trust" {
        /// Voter cookie only.
        Cookie = "cookie",
        /// Voter cookie plus the per-network window.
        Network = "network",
        /// A logged-in account.
        Account = "account",
        /// A logged-in account with a verified email.
        Verified = "verified",
    }
}

string_enum! {
    /// Which ballots results count (`?trust=`): every ballot, or those of verified accounts only.
    #[derive(Default)]
    TrustView as "trust" {
        /// Every ballot, however it was protected.
        #[default]
        All = "all",
        /// Ballots of accounts with a verified email.
        Verified = "verified",
    }
}

impl TrustView {
    /// The one trust level this view counts, or `None` for all of them.
    pub fn level(self) -> Option<Trust> {
        match self {
            TrustView::All => None,
            TrustView::Verified => Some(Trust::Verified),
        }
    }

    /// The view a query parameter asks for: absent or empty is all votes.
    pub fn from_query(value: Option<&str>) -> Result<TrustView, Invalid> {
        match value {
            None | Some("") => Ok(TrustView::All),
            Some(v) => TrustView::parse(v),
        }
    }

    /// The query parameter that asks for this view (`trust=verified`), or `None` for the
    /// default (all votes), which addresses leave out.
    pub fn query_pair(self) -> Option<&'static str> {
        match self {
            TrustView::All => None,
            TrustView::Verified => Some("trust=verified"),
        }
    }

    /// How the view is named on pages.
    pub fn label(self) -> &'static str {
        match self {
            TrustView::All => "All votes",
            TrustView::Verified => "Verified accounts only",
        }
    }
}

string_enum! {
    /// Whether a question takes votes.
    PollStatus as "status" { Open = "open", Closed = "closed" }
}

impl Protection {
    /// The trust level a ballot gets under this protection for an anonymous voter.
    pub fn anonymous_trust(self) -> Trust {
        match self {
            Protection::Browser => Trust::Cookie,
            Protection::Network => Trust::Network,
            Protection::Account => Trust::Account,
        }
    }
}

impl Trust {
    /// The small number counters store for this level (`vote_counts.trust`): its position in
    /// [`Trust::ALL`], weakest first.
    pub fn code(self) -> i16 {
        match self {
            Trust::Cookie => 0,
            Trust::Network => 1,
            Trust::Account => 2,
            Trust::Verified => 3,
        }
    }

    /// The level a counter's code stands for (`None` for a code no level has).
    pub fn from_code(code: i16) -> Option<Trust> {
        Trust::ALL.iter().copied().find(|t| t.code() == code)
    }
}

/// Why an author's change to their question was refused (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ManageRefusal {
    /// No such visible question.
    #[error("no such question")]
    NotFound,
    /// The caller is not its author.
    #[error("only the author may change this question")]
    NotAuthor,
    /// It already has votes (editing is only allowed before the first one).
    #[error("the question already has votes")]
    HasVotes,
    /// It is already closed.
    #[error("the question is closed")]
    Closed,
}

/// A question's status at `now`: closed once its closing time passed or its author closed it.
pub fn status_at(
    closes_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> PollStatus {
    let closed = closed_at.is_some_and(|t| t <= now) || closes_at.is_some_and(|t| t <= now);
    if closed {
        PollStatus::Closed
    } else {
        PollStatus::Open
    }
}

/// The one results-visibility rule, used by the page, the API, and every later surface.
pub fn results_visible(visibility: ResultsVisibility, has_voted: bool, status: PollStatus) -> bool {
    match visibility {
        ResultsVisibility::Always => true,
        ResultsVisibility::AfterVote => has_voted || status == PollStatus::Closed,
        ResultsVisibility::AfterClose => status == PollStatus::Closed,
    }
}

/// Why results are hidden, for the visitor; `None` when they are visible.
pub fn results_hidden_reason(
    visibility: ResultsVisibility,
    has_voted: bool,
    status: PollStatus,
) -> Option<&'static str> {
    if results_visible(visibility, has_voted, status) {
        return None;
    }
    Some(match visibility {
        ResultsVisibility::AfterVote => "Results are shown after you vote.",
        _ => "Results are shown when the poll closes.",
    })
}

/// Lemmy's hot rank: `log10(max(1, 3 + score)) / (hours + 2)^1.8`, scaled for storage.
pub fn hot_rank(score: i64, created_at: NaiveDateTime, now: NaiveDateTime) -> f64 {
    let hours = ((now - created_at).num_seconds().max(0) as f64) / 3600.0;
    let s = ((3 + score).max(1) as f64).log10();
    10_000.0 * s / (hours + 2.0).powf(1.8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn enums_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()).unwrap(), *k);
        }
        assert_eq!(
            ResultsVisibility::parse("after_vote").unwrap(),
            ResultsVisibility::AfterVote
        );
        let err = Protection::parse("nope").unwrap_err();
        assert_eq!(err.code, "invalid_protection");
        assert!(err.message.contains("browser, network, account"));
    }

    #[test]
    fn a_trust_view_is_asked_for_by_its_query_pair() {
        assert_eq!(TrustView::All.query_pair(), None);
        let pair = TrustView::Verified.query_pair().unwrap();
        let value = pair.strip_prefix("trust=").unwrap();
        assert_eq!(TrustView::from_query(Some(value)), Ok(TrustView::Verified));
    }

    #[test]
    fn trust_codes_round_trip_weakest_first() {
        let codes: Vec<i16> = Trust::ALL.iter().map(|t| t.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3]);
        for t in Trust::ALL {
            assert_eq!(Trust::from_code(t.code()), Some(*t));
        }
        assert_eq!(Trust::from_code(4), None);
    }

    #[test]
    fn visibility_rule() {
        use PollStatus::*;
        use ResultsVisibility::*;
        assert!(results_visible(Always, false, Open));
        assert!(!results_visible(AfterVote, false, Open));
        assert!(results_visible(AfterVote, true, Open));
        assert!(results_visible(AfterVote, false, Closed));
        assert!(!results_visible(AfterClose, true, Open));
        assert!(results_visible(AfterClose, false, Closed));
        assert!(
            results_hidden_reason(AfterClose, true, Open)
                .unwrap()
                .contains("closes")
        );
    }

    #[test]
    fn status_follows_closing_time() {
        let now = Utc::now().naive_utc();
        assert_eq!(status_at(None, None, now), PollStatus::Open);
        assert_eq!(
            status_at(Some(now + Duration::hours(1)), None, now),
            PollStatus::Open
        );
        assert_eq!(
            status_at(Some(now - Duration::seconds(1)), None, now),
            PollStatus::Closed
        );
        assert_eq!(status_at(None, Some(now), now), PollStatus::Closed);
    }

    #[test]
    fn hot_rank_prefers_recent_and_popular() {
        let now = Utc::now().naive_utc();
        let fresh = hot_rank(10, now - Duration::hours(1), now);
        let old = hot_rank(10, now - Duration::days(3), now);
        let popular = hot_rank(1000, now - Duration::hours(1), now);
        assert!(fresh > old && popular > fresh);
        assert!(hot_rank(-100, now, now) >= 0.0);
    }
}
