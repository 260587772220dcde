//! A visitor's flag on a question: why (one of five reasons) and, optionally, in their words
//! (required for `other`). Nothing else of the flag is shown back to the flagger.

/// Why a question was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlagReason {
    /// Advertising, link farming, nonsense posted in bulk.
    Spam,
    /// Harassment, hate, threats.
    Abuse,
    /// Loaded or false premises, choices that misrepresent.
    Misleading,
    /// The same question exists already.
    Duplicate,
    /// Anything else (the details say what).
    Other,
}

impl FlagReason {
    /// Every reason, in the order the form lists them.
    pub const ALL: [FlagReason; 5] = [
        FlagReason::Spam,
        FlagReason::Abuse,
        FlagReason::Misleading,
        FlagReason::Duplicate,
        FlagReason::Other,
    ];

    /// The stored and posted name (`spam`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FlagReason::Spam => "spam",
            FlagReason::Abuse => "abuse",
            FlagReason::Misleading => "misleading",
            FlagReason::Duplicate => "duplicate",
            FlagReason::Other => "other",
        }
    }

    /// What the form's radio button says.
    pub fn label(self) -> &'static str {
        match self {
            FlagReason::Spam => "Spam or advertising",
            FlagReason::Abuse => "Abusive or hateful",
            FlagReason::Misleading => "Misleading",
            FlagReason::Duplicate => "A duplicate of another question",
            FlagReason::Other => "Something else (say what below)",
        }
    }

    /// The reason of a stored or posted name.
    pub fn parse(s: &str) -> Option<FlagReason> {
        FlagReason::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// Why a flag was refused (nothing is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlagRefusal {
    /// The reason is missing or not one of the five.
    #[error(
        "Choose why you are flagging this question: spam, abuse, misleading, duplicate or other."
    )]
    UnknownReason,
    /// `other` without details.
    #[error("Say in a few words what is wrong with this question.")]
    DetailsRequired,
    /// The details are too long.
    #[error("The details may be at most {} characters.", FlagReport::MAX_DETAILS)]
    DetailsTooLong,
}

impl FlagRefusal {
    /// The form field (and JSON member) at fault.
    pub fn field(self) -> &'static str {
        match self {
            FlagRefusal::UnknownReason => "reason",
            FlagRefusal::DetailsRequired | FlagRefusal::DetailsTooLong => "details",
        }
    }
}

/// A valid flag: a reason, and details (trimmed, at most [`FlagReport::MAX_DETAILS`]
/// characters, required for `other`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagReport {
    reason: FlagReason,
    details: Option<String>,
}

impl FlagReport {
    /// Longest details, in characters.
    pub const MAX_DETAILS: usize = 500;

    /// Checks a posted reason and details (empty details are none).
    pub fn parse(reason: Option<&str>, details: Option<&str>) -> Result<FlagReport, FlagRefusal> {
        let reason = reason
            .and_then(FlagReason::parse)
            .ok_or(FlagRefusal::UnknownReason)?;
        let details = details.map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = details
            && d.chars().count() > Self::MAX_DETAILS
        {
            return Err(FlagRefusal::DetailsTooLong);
        }
        if reason == FlagReason::Other && details.is_none() {
            return Err(FlagRefusal::DetailsRequired);
        }
        Ok(FlagReport {
            reason,
            details: details.map(str::to_string),
        })
    }

    /// The reason.
    pub fn reason(&self) -> FlagReason {
        self.reason
    }

    /// The details, if any.
    pub fn details(&self) -> Option<&str> {
        self.details.as_deref()
    }
}

/// How a flag was closed (`flags.resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagResolution {
    /// An admin found nothing wrong.
    Dismissed,
    /// An admin hid the question (or kept it hidden after review).
    Hidden,
    /// An admin showed the question again after it was hidden pending review.
    Unhidden,
    /// An admin banned the question's author.
    Banned,
}

impl FlagResolution {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagResolution::Dismissed => "dismissed",
            FlagResolution::Hidden => "hidden",
            FlagResolution::Unhidden => "unhidden",
            FlagResolution::Banned => "banned",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for r in FlagReason::ALL {
            assert_eq!(FlagReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(FlagReason::parse("SPAM"), None);
        assert_eq!(FlagReason::parse(""), None);
    }

    #[test]
    fn reports() {
        let r = FlagReport::parse(Some("spam"), Some("  ")).unwrap();
        assert_eq!((r.reason(), r.details()), (FlagReason::Spam, None));
        let r = FlagReport::parse(Some("other"), Some(" a bot ")).unwrap();
        assert_eq!(r.details(), Some("a bot"));
        assert_eq!(
            FlagReport::parse(Some("other"), None),
            Err(FlagRefusal::DetailsRequired)
        );
        assert_eq!(
            FlagReport::parse(Some("rude"), None),
            Err(FlagRefusal::UnknownReason)
        );
        assert_eq!(
            FlagReport::parse(None, Some("x")),
            Err(FlagRefusal::UnknownReason)
        );
        let long = "é".repeat(FlagReport::MAX_DETAILS + 1);
        assert_eq!(
            FlagReport::parse(Some("abuse"), Some(&long)),
            Err(FlagRefusal::DetailsTooLong)
        );
        assert!(FlagReport::parse(Some("abuse"), Some(&long[2..])).is_ok());
        assert_eq!(FlagRefusal::DetailsTooLong.field(), "details");
    }
}
