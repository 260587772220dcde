//! What a voter may put on a ballot, and whether they may vote at all: the rules a vote is
//! checked against before anything is written.

use super::Invalid;
use super::poll::{Kind, PollStatus, Protection, Trust};

/// The choices of one ballot, checked against the question's choices and kind: ascending ids,
/// or for a ranked question the ranking, most preferred first.
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

/// The list a vote named its ids in: a form's fields follow the question's kind; the API names
/// `choices` (single and multiple choice) or `ranking` (ranked), and the name must fit the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sent {
    /// A form (or any caller that follows the question's kind).
    #[default]
    AsForm,
    /// JSON `choices`.
    Choices,
    /// JSON `ranking`.
    Ranking,
}

/// What a question allows on a ballot.
#[derive(Debug, Clone)]
pub struct BallotRules<'a> {
    /// Single, multiple or ranked choice.
    pub kind: Kind,
    /// Fewest choices on a multiple-choice ballot.
    pub min: u32,
    /// Most choices on a multiple-choice ballot; most ranks on a ranked one (`max_ranks`).
    pub max: u32,
    /// Ids of the question's choices.
    pub choice_ids: &'a [i64],
}

impl BallotChoices {
    /// Checks raw choice ids (duplicates are ignored) against the rules; a ranked question's
    /// ranking keeps its order (see [`BallotChoices::parse_ranking`]).
    pub fn parse(raw: &[i64], rules: &BallotRules<'_>) -> Result<BallotChoices, Invalid> {
        if rules.kind == Kind::Ranked {
            return Self::parse_ranking(raw, rules);
        }
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

    /// A ranking (most preferred first): each choice at most once, only the question's choices,
    /// at least one and at most `max` ranks. A list has no gaps by construction; a form's
    /// numbered ranks are turned into one by `ranking_from_ranks`.
    pub fn parse_ranking(raw: &[i64], rules: &BallotRules<'_>) -> Result<BallotChoices, Invalid> {
        if raw.is_empty() {
            return Err(Invalid::new(
                "empty_ranking",
                "Rank at least one choice before voting.",
            ));
        }
        if let Some(bad) = raw.iter().find(|id| !rules.choice_ids.contains(id)) {
            return Err(Invalid::new(
                "invalid_choice",
                format!("Choice {bad} is not one of this question's choices."),
            ));
        }
        for (i, id) in raw.iter().enumerate() {
            if raw[..i].contains(id) {
                return Err(Invalid::new(
                    "repeated_choice",
                    format!("Choice {id} is ranked more than once."),
                ));
            }
        }
        if raw.len() > rules.max as usize {
            return Err(Invalid::new(
                "too_many_ranks",
                format!("Rank at most {} choices.", rules.max),
            ));
        }
        Ok(BallotChoices(raw.to_vec()))
    }

    /// The chosen ids: sorted without duplicates, or a ranking in preference order.
    pub fn ids(&self) -> &[i64] {
        &self.0
    }

    /// The ids the per-choice counters and the ledger's vote rows hold: every chosen id, or a
    /// ranking's first preference only (the full ranking is kept beside it).
    pub fn counted(&self, kind: Kind) -> &[i64] {
        match kind {
            Kind::Ranked => &self.0[..1.min(self.0.len())],
            _ => &self.0,
        }
    }
}

/// Reads a form's numbered ranks (`(choice id, rank)` as text; a blank rank: not ranked) into a
/// ranking, as [`ranking_from_ranks`] does.
pub fn parse_ranks(raw: &[(&str, &str)]) -> Result<Vec<i64>, Invalid> {
    check_count(raw.len())?;
    let mut ranks = Vec::with_capacity(raw.len());
    for (id, rank) in raw {
        if rank.trim().is_empty() {
            continue;
        }
        match (id.trim().parse::<i64>(), rank.trim().parse::<u32>()) {
            (Ok(id), Ok(rank)) => ranks.push((id, rank)),
            _ => {
                return Err(Invalid::new(
                    "invalid_rank",
                    "A rank must be a number next to one of the choices.",
                ));
            }
        }
    }
    ranking_from_ranks(&ranks)
}

/// Turns a form's numbered ranks (`(choice id, rank)`, rank 1 = most preferred; unranked
/// choices left out) into a ranking. The ranks must be 1, 2, … without gaps or repeats.
pub fn ranking_from_ranks(ranks: &[(i64, u32)]) -> Result<Vec<i64>, Invalid> {
    check_count(ranks.len())?;
    let mut sorted = ranks.to_vec();
    sorted.sort_by_key(|&(_, rank)| rank);
    for (i, &(_, rank)) in sorted.iter().enumerate() {
        if rank as usize != i + 1 {
            let code = if i > 0 && sorted[i - 1].1 == rank {
                "repeated_rank"
            } else {
                "gap_in_ranking"
            };
            return Err(Invalid::new(
                code,
                format!(
                    "Number your choices 1, 2, 3 … without gaps or repeats (rank {} is {}).",
                    i + 1,
                    if code == "repeated_rank" {
                        "given twice"
                    } else {
                        "missing"
                    }
                ),
            ));
        }
    }
    Ok(sorted.into_iter().map(|(id, _)| id).collect())
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
    /// The ranking is not valid for this ranked question (repeats a choice, names another
    /// question's choice, is longer than its `max_ranks`, or is empty).
    #[error(transparent)]
    BadRanking(Invalid),
    /// A ranking sent to a question that is not ranked, or choices to one that is.
    #[error(transparent)]
    WrongList(Invalid),
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
    named: Sent,
) -> Result<BallotChoices, VoteRefusal> {
    if rules.status == PollStatus::Closed {
        return Err(VoteRefusal::Closed);
    }
    if rules.protection == Protection::Account && !has_account {
        return Err(VoteRefusal::LoginRequired);
    }
    match (named, rules.ballot.kind) {
        (Sent::Ranking, Kind::Single | Kind::Multiple) => {
            return Err(VoteRefusal::WrongList(Invalid::new(
                "not_ranked",
                "This question is not ranked: send your answer as \"choices\".",
            )));
        }
        (Sent::Choices, Kind::Ranked) => {
            return Err(VoteRefusal::WrongList(Invalid::new(
                "ranking_expected",
                "This question is ranked: send \"ranking\", your most preferred choice first.",
            )));
        }
        _ => {}
    }
    BallotChoices::parse(sent, &rules.ballot).map_err(|i| match rules.ballot.kind {
        Kind::Ranked => VoteRefusal::BadRanking(i),
        _ => VoteRefusal::Invalid(i),
    })
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
        assert_eq!(
            check_vote(&open, false, &[2], Sent::AsForm).unwrap().ids(),
            &[2]
        );
        assert_eq!(
            check_vote(
                &rules(PollStatus::Closed, Protection::Browser),
                true,
                &[2],
                Sent::AsForm
            ),
            Err(VoteRefusal::Closed)
        );
        let account = rules(PollStatus::Open, Protection::Account);
        assert_eq!(
            check_vote(&account, false, &[2], Sent::AsForm),
            Err(VoteRefusal::LoginRequired)
        );
        assert!(check_vote(&account, true, &[2], Sent::AsForm).is_ok());
        assert!(matches!(
            check_vote(&open, false, &[3], Sent::AsForm),
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
    }

    #[test]
    fn ranked_choice() {
        let r = rules(Kind::Ranked, 1, 3);
        let ok = BallotChoices::parse(&[12, 10, 13], &r).unwrap();
        assert_eq!(ok.ids(), &[12, 10, 13], "a ranking keeps its order");
        assert_eq!(ok.counted(Kind::Ranked), &[12]);
        assert_eq!(BallotChoices::parse(&[11], &r).unwrap().ids(), &[11]);
        let code = |raw: &[i64]| BallotChoices::parse(raw, &r).unwrap_err().code;
        assert_eq!(code(&[]), "empty_ranking");
        assert_eq!(code(&[10, 12, 10]), "repeated_choice");
        assert_eq!(code(&[10, 99]), "invalid_choice");
        assert_eq!(code(&[10, 11, 12, 13]), "too_many_ranks");
        let vote = VoteRules {
            status: PollStatus::Open,
            protection: Protection::Browser,
            ballot: r.clone(),
        };
        assert!(matches!(
            check_vote(&vote, false, &[10, 10], Sent::AsForm),
            Err(VoteRefusal::BadRanking(i)) if i.code == "repeated_choice"
        ));
        assert!(check_vote(&vote, false, &[10, 12], Sent::Ranking).is_ok());
        assert!(matches!(
            check_vote(&vote, false, &[10], Sent::Choices),
            Err(VoteRefusal::WrongList(i)) if i.code == "ranking_expected"
        ));
    }

    #[test]
    fn the_list_named_must_fit_the_kind() {
        let single = VoteRules {
            status: PollStatus::Open,
            protection: Protection::Browser,
            ballot: BallotRules {
                kind: Kind::Single,
                min: 1,
                max: 1,
                choice_ids: &[1, 2],
            },
        };
        assert!(check_vote(&single, false, &[1], Sent::Choices).is_ok());
        assert!(check_vote(&single, false, &[1], Sent::AsForm).is_ok());
        assert!(matches!(
            check_vote(&single, false, &[1], Sent::Ranking),
            Err(VoteRefusal::WrongList(i)) if i.code == "not_ranked"
        ));
        // A closed question says so first, whatever was sent.
        let closed = VoteRules {
            status: PollStatus::Closed,
            ..single
        };
        assert_eq!(
            check_vote(&closed, false, &[1], Sent::Ranking),
            Err(VoteRefusal::Closed)
        );
    }

    #[test]
    fn numbered_ranks() {
        assert_eq!(
            ranking_from_ranks(&[(10, 2), (12, 1), (11, 3)]).unwrap(),
            vec![12, 10, 11]
        );
        assert_eq!(ranking_from_ranks(&[]).unwrap(), Vec::<i64>::new());
        assert_eq!(
            ranking_from_ranks(&[(10, 1), (12, 3)]).unwrap_err().code,
            "gap_in_ranking"
        );
        assert_eq!(
            ranking_from_ranks(&[(10, 1), (12, 1)]).unwrap_err().code,
            "repeated_rank"
        );
        assert_eq!(
            ranking_from_ranks(&[(10, 2)]).unwrap_err().code,
            "gap_in_ranking"
        );
        assert_eq!(
            parse_ranks(&[("10", "2"), ("11", ""), ("12", "1")]).unwrap(),
            vec![12, 10]
        );
        assert_eq!(
            parse_ranks(&[("10", "x")]).unwrap_err().code,
            "invalid_rank"
        );
    }

    #[test]
    fn parse_ids_checks() {
        let texts = vec!["10".to_string(), "abc".to_string()];
        assert_eq!(parse_ids(&texts).unwrap_err().code, "invalid_choice");
        assert_eq!(parse_ids(&["12".to_string()]).unwrap(), vec![12]);
    }
}
