//! What a voter may put on a ballot, and whether they may vote at all: the rules a vote is
//! checked against before anything is written.

use super::Invalid;
use super::poll::{Kind, PollStatus, Protection, Trust};

/// The choices of one ballot, checked against the question's choices and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotChoices(Vec<i64>);

/// Most choice ids accepted in one request (more than any question has).
pub const MAX_IDS: usize = 50;

/// Refuses a ballot of more than [`MAX_IDS`] choice ids before anything looks at them.
pub fn check_count(n: usize) -> Result<(), Invalid> {
    if n > MAX_IDS {
        return Err(Invalid::new(
            "too_many_choices",
            "Too many choices on one ballot.",
        ));
    }
    Ok(())
}

/// Parses choice ids given as text (form fields); anything non-numeric is refused.
pub fn parse_ids(raw: &[String]) -> Result<Vec<i64>, Invalid> {
    check_count(raw.len())?;
    raw.iter()
        .map(|s| s.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Invalid::new("invalid_choice", "A choice must be a choice id."))
}

/// What a question allows on a ballot.
#[derive(Debug, Clone)]
pub struct BallotRules<'a> {
    /// Single or multiple choice.
    pub kind: Kind,
    /// Fewest choices on a multiple-choice ballot.
    pub min: u32,
    /// Most choices on a multiple-choice ballot.
    pub max: u32,
    /// Ids of the question's choices.
    pub choice_ids: &'a [i64],
}

impl BallotChoices {
    /// Checks raw choice ids (duplicates are ignored) against the rules.
    pub fn parse(raw: &[i64], rules: &BallotRules<'_>) -> Result<BallotChoices, Invalid> {
        let mut ids = raw.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(Invalid::new(
                "empty_ballot",
                "Choose an answer before voting.",
            ));
        }
        if let Some(bad) = ids.iter().find(|id| !rules.choice_ids.contains(id)) {
            return Err(Invalid::new(
                "invalid_choice",
                format!("Choice {bad} is not one of this question's choices."),
            ));
        }
        match rules.kind {
            Kind::Single if ids.len() > 1 => {
                return Err(Invalid::new(
                    "too_many_choices",
                    "This question takes a single answer.",
                ));
            }
            Kind::Multiple if ids.len() > rules.max as usize => {
                return Err(Invalid::new(
                    "too_many_choices",
                    format!("Choose at most {} answers.", rules.max),
                ));
            }
            Kind::Multiple if ids.len() < rules.min as usize => {
                return Err(Invalid::new(
                    "too_few_choices",
                    format!("Choose at least {} answers.", rules.min),
                ));
            }
            _ => {}
        }
        Ok(BallotChoices(ids))
    }

    /// The chosen ids, sorted, without duplicates.
    pub fn ids(&self) -> &[i64] {
        &self.0
    }
}

/// Why a vote or a withdrawal was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteRefusal {
    /// No such (visible) question.
    #[error("no such question")]
    NotFound,
    /// The question no longer takes votes.
    #[error("this question is closed")]
    Closed,
    /// The question requires an account.
    #[error("log in to vote on this question")]
    LoginRequired,
    /// Too many ballots from this network today (`network` protection).
    #[error("too many votes from your network on this question today")]
    NetworkLimit,
    /// The ballot is not valid for this question.
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// What a question says about a vote on it.
#[derive(Debug, Clone)]
pub struct VoteRules<'a> {
    /// Open or closed at the time of the vote.
    pub status: PollStatus,
    /// The duplicate protection its author chose.
    pub protection: Protection,
    /// What a ballot may hold.
    pub ballot: BallotRules<'a>,
}

/// The checks a vote passes before anything is written: the question is open, the voter has an
/// account if the question needs one, and the ballot is valid for the question.
pub fn check_vote(
    rules: &VoteRules<'_>,
    has_account: bool,
    sent: &[i64],
) -> Result<BallotChoices, VoteRefusal> {
    if rules.status == PollStatus::Closed {
        return Err(VoteRefusal::Closed);
    }
    if rules.protection == Protection::Account && !has_account {
        return Err(VoteRefusal::LoginRequired);
    }
    Ok(BallotChoices::parse(sent, &rules.ballot)?)
}

/// A withdrawal is allowed while the question is open.
pub fn check_withdraw(status: PollStatus) -> Result<(), VoteRefusal> {
    match status {
        PollStatus::Closed => Err(VoteRefusal::Closed),
        PollStatus::Open => Ok(()),
    }
}

/// How a new ballot is protected: a verified account, an account, or what the question's
/// protection gives an anonymous voter.
pub fn trust_of(protection: Protection, account: Option<i64>, verified: bool) -> Trust {
    match account {
        Some(_) if verified => Trust::Verified,
        Some(_) => Trust::Account,
        None => protection.anonymous_trust(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_checks() {
        let rules = |status, protection| VoteRules {
            status,
            protection,
            ballot: BallotRules {
                kind: Kind::Single,
                min: 1,
                max: 1,
                choice_ids: &[1, 2],
            },
        };
        let open = rules(PollStatus::Open, Protection::Browser);
        assert_eq!(check_vote(&open, false, &[2]).unwrap().ids(), &[2]);
        assert_eq!(
            check_vote(&rules(PollStatus::Closed, Protection::Browser), true, &[2]),
            Err(VoteRefusal::Closed)
        );
        let account = rules(PollStatus::Open, Protection::Account);
        assert_eq!(
            check_vote(&account, false, &[2]),
            Err(VoteRefusal::LoginRequired)
        );
        assert!(check_vote(&account, true, &[2]).is_ok());
        assert!(matches!(
            check_vote(&open, false, &[3]),
            Err(VoteRefusal::Invalid(i)) if i.code == "invalid_choice"
        ));
        assert_eq!(check_withdraw(PollStatus::Closed), Err(VoteRefusal::Closed));
        assert_eq!(check_withdraw(PollStatus::Open), Ok(()));
    }

    #[test]
    fn trust_levels() {
        assert_eq!(
            trust_of(Protection::Browser, Some(1), true),
            Trust::Verified
        );
        assert_eq!(
            trust_of(Protection::Network, Some(1), false),
            Trust::Account
        );
        assert_eq!(
            trust_of(Protection::Network, None, false),
            Protection::Network.anonymous_trust()
        );
    }

    fn rules(kind: Kind, min: u32, max: u32) -> BallotRules<'static> {
        BallotRules {
            kind,
            min,
            max,
            choice_ids: &[10, 11, 12, 13],
        }
    }

    #[test]
    fn single_choice() {
        let r = rules(Kind::Single, 1, 1);
        assert_eq!(BallotChoices::parse(&[11, 11], &r).unwrap().ids(), &[11]);
        assert_eq!(
            BallotChoices::parse(&[], &r).unwrap_err().code,
            "empty_ballot"
        );
        assert_eq!(
            BallotChoices::parse(&[10, 11], &r).unwrap_err().code,
            "too_many_choices"
        );
        assert_eq!(
            BallotChoices::parse(&[99], &r).unwrap_err().code,
            "invalid_choice"
        );
    }

    #[test]
    fn multiple_choice() {
        let r = rules(Kind::Multiple, 2, 3);
        assert_eq!(
            BallotChoices::parse(&[12, 10], &r).unwrap().ids(),
            &[10, 12]
        );
        assert_eq!(
            BallotChoices::parse(&[10], &r).unwrap_err().code,
            "too_few_choices"
        );
        assert_eq!(
            BallotChoices::parse(&[10, 11, 12, 13], &r)
                .unwrap_err()
                .code,
            "too_many_choices"
        );
        let texts = vec!["10".to_string(), "abc".to_string()];
        assert_eq!(parse_ids(&texts).unwrap_err().code, "invalid_choice");
        assert_eq!(parse_ids(&["12".to_string()]).unwrap(), vec![12]);
    }
}
