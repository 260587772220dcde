//! What a voter may put on a ballot.

use super::Invalid;
use super::poll::Kind;

/// The choices of one ballot, checked against the question's choices and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotChoices(Vec<i64>);

/// Most choice ids accepted in one request (more than any question has).
pub const MAX_IDS: usize = 50;

/// Parses choice ids given as text (form fields); anything non-numeric is refused.
pub fn parse_ids(raw: &[String]) -> Result<Vec<i64>, Invalid> {
    if raw.len() > MAX_IDS {
        return Err(Invalid::new(
            "too_many_choices",
            "Too many choices on one ballot.",
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
