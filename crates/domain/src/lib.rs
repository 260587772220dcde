//! Domain values and rules: validated inputs, poll states, the results-visibility rule, ranking.
//! Nothing here knows about HTTP or SQL.

pub mod account;
pub mod ballot;
pub mod deletion;
pub mod draft;
pub mod flag;
pub mod listing;
pub mod poll;
pub mod report;
pub mod runoff;
pub mod search;
pub mod segment;
pub mod text;
pub mod token;
pub mod upload;

pub use account::{Email, NewPassword, Username, login_fold, login_nfkc};
pub use ballot::{BallotChoices, BallotRules, Sent, VoteRefusal, VoteRules};
pub use deletion::{DeletionRefusal, QuestionsAfter};
pub use draft::{DraftInput, QuestionDraft};
pub use flag::{FlagReason, FlagRefusal, FlagReport, FlagResolution};
pub use listing::{Page, Sort, Window};
pub use poll::{Kind, ManageRefusal, PollStatus, Protection, ResultsVisibility, Trust, TrustView};
pub use runoff::{Round, Runoff};
pub use search::{SearchDocument, SearchSort, SearchTerms, StatusFilter, Term};
pub use segment::{SegmentDraft, SegmentValue};
pub use text::{ChoiceLabel, Description, QuestionTitle, SearchQuery, TagName};
pub use token::{Scope, Scopes, TokenLifetime};
pub use upload::UploadRefusal;

/// Why an input value was refused: a stable code and a message for the visitor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// Machine-readable code, e.g. `invalid_page`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl Invalid {
    /// Builds an `Invalid` value.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            code,
            message: message.into(),
        }
    }
}

/// An upload id from a form or the API: 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct UploadId(String);

impl UploadId {
    /// Parses an upload id.
    pub fn parse(s: &str) -> Result<UploadId, Invalid> {
        let s = s.trim();
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(UploadId(s.to_string()))
        } else {
            Err(Invalid::new(
                "invalid_image",
                "That image upload does not exist.",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A question id from a URL: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct QuestionId(pub i64);

impl QuestionId {
    /// Parses a path segment; anything but a positive integer is "no such question".
    pub fn parse(s: &str) -> Option<QuestionId> {
        if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<i64>().ok().filter(|n| *n > 0).map(QuestionId)
    }
}

/// Turns a title into the URL slug used in `/q/<id>/<slug>`.
pub fn slugify(title: &str) -> String {
    let mut s = slug::slugify(title);
    if s.len() > 80 {
        let mut cut = 80;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        while s.ends_with('-') {
            s.pop();
        }
    }
    // Slugs share the URL space `/q/<id>/...` with actions.
    const RESERVED: &[&str] = &[
        "edit", "vote", "withdraw", "close", "delete", "embed", "live", "results", "flag",
    ];
    if s.is_empty() {
        "question".into()
    } else if RESERVED.contains(&s.as_str()) {
        format!("{s}-question")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_ids() {
        assert_eq!(QuestionId::parse("42"), Some(QuestionId(42)));
        for bad in ["", "0", "-1", "abc", "1e3", "99999999999999999999", "4 2"] {
            assert_eq!(QuestionId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("Is tea better than coffee?"),
            "is-tea-better-than-coffee"
        );
        assert_eq!(slugify("???"), "question");
        assert_eq!(slugify("Edit?"), "edit-question");
        assert!(slugify(&"long words ".repeat(30)).len() <= 80);
    }
}
