//! Segments (age band, country, and any an admin adds) and the privacy rule of breakdowns: every
//! group shown has at least [`K`] voters; smaller groups merge into "Other", which is hidden in
//! turn when it is still under [`K`] (its voters are then counted as not shown).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The fewest voters a shown group may have.
pub const K: i64 = 5;
/// The value of the merged group of small values ("Other"), never a segment's own.
pub const OTHER: &str = "other";
/// Most values a segment may have.
pub const MAX_VALUES: usize = 300;

/// One allowed value of a segment and its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentValue {
    /// As stored in an answer (`18-24`, `FR`).
    pub value: String,
    /// As shown (`18–24`, `France`).
    pub label: String,
}

/// A new segment, validated: a key (lowercase letters, digits, `-` and `_`, 2 to 32), a label,
/// and 2 to [`MAX_VALUES`] distinct values with labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDraft {
    /// The key used in `?by=`.
    pub key: String,
    /// What it is called.
    pub label: String,
    /// Its values in display order.
    pub values: Vec<SegmentValue>,
}

fn is_token(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'))
}

impl SegmentDraft {
    /// Parses a key, a label and values written one a line as `value = Label` (or just `value`).
    pub fn parse(key: &str, label: &str, values: &str) -> Result<SegmentDraft, Invalid> {
        let key = key.trim().to_ascii_lowercase();
        if key.len() < 2 || !is_token(&key, 32) || key.contains('+') {
            return Err(Invalid::new(
                "invalid_key",
                "The key is 2 to 32 lowercase letters, digits, “-” or “_”.",
            ));
        }
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 80 {
            return Err(Invalid::new(
                "invalid_label",
                "The label is 1 to 80 characters.",
            ));
        }
        let mut parsed: Vec<SegmentValue> = Vec::new();
        for line in values.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (value, shown) = match line.split_once('=') {
                Some((v, l)) => (v.trim(), l.trim()),
                None => (line, line),
            };
            if !is_token(value, 64) || shown.is_empty() || shown.chars().count() > 80 {
                return Err(Invalid::new(
                    "invalid_values",
                    format!(
                        "“{}”: a value is 1 to 64 letters, digits, “-”, “_” or “+”, and its label 1 to 80 characters.",
                        line.chars().take(40).collect::<String>()
                    ),
                ));
            }
            if value.eq_ignore_ascii_case(OTHER) {
                return Err(Invalid::new(
                    "invalid_values",
                    format!("“{value}” is kept for the merged group of small values."),
                ));
            }
            if parsed.iter().any(|v| v.value == value) {
                return Err(Invalid::new(
                    "invalid_values",
                    format!("The value “{value}” appears twice."),
                ));
            }
            parsed.push(SegmentValue {
                value: value.to_string(),
                label: shown.to_string(),
            });
        }
        if !(2..=MAX_VALUES).contains(&parsed.len()) {
            return Err(Invalid::new(
                "invalid_values",
                format!("A segment needs 2 to {MAX_VALUES} values, one a line."),
            ));
        }
        Ok(SegmentDraft {
            key,
            label: label.to_string(),
            values: parsed,
        })
    }
}

/// The voters of one segment value on one question: how many, and the votes of each choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Distinct voters.
    pub voters: i64,
    /// Votes by choice id.
    pub votes: BTreeMap<i64, i64>,
}

impl Tally {
    fn absorb(&mut self, other: &Tally) {
        self.voters += other.voters;
        for (choice, n) in &other.votes {
            *self.votes.entry(*choice).or_default() += n;
        }
    }
}

/// What may be shown of a breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped {
    /// The values with at least [`K`] voters, in the segment's order.
    pub shown: Vec<(String, Tally)>,
    /// The smaller values merged, when together they reach [`K`].
    pub other: Option<Tally>,
    /// Voters in no shown group (a merged "Other" under [`K`]).
    pub not_shown: i64,
}

/// Applies the k rule to tallies by value, in the order of `order` (the segment's values;
/// tallies of values not in it are merged as small ones).
pub fn group(order: &[SegmentValue], tallies: &BTreeMap<String, Tally>) -> Grouped {
    let mut out = Grouped::default();
    let mut other = Tally::default();
    for v in order {
        match tallies.get(&v.value) {
            Some(t) if t.voters >= K => out.shown.push((v.value.clone(), t.clone())),
            Some(t) => other.absorb(t),
            None => {}
        }
    }
    for (value, t) in tallies {
        if !order.iter().any(|v| &v.value == value) {
            other.absorb(t);
        }
    }
    if other.voters >= K {
        out.other = Some(other);
    } else {
        out.not_shown = other.voters;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(names: &[&str]) -> Vec<SegmentValue> {
        names
            .iter()
            .map(|v| SegmentValue {
                value: v.to_string(),
                label: v.to_string(),
            })
            .collect()
    }

    fn tally(voters: i64) -> Tally {
        Tally {
            voters,
            votes: BTreeMap::from([(1, voters)]),
        }
    }

    #[test]
    fn small_groups_merge_or_hide() {
        let order = values(&["a", "b", "c"]);
        let t = BTreeMap::from([("a".into(), tally(5)), ("b".into(), tally(4))]);
        let g = group(&order, &t);
        assert_eq!(g.shown.len(), 1);
        assert_eq!((g.other, g.not_shown), (None, 4));
        let t = BTreeMap::from([
            ("a".into(), tally(4)),
            ("b".into(), tally(3)),
            ("c".into(), tally(9)),
        ]);
        let g = group(&order, &t);
        assert_eq!(g.shown[0].0, "c");
        assert_eq!(g.other.unwrap().voters, 7);
        assert_eq!(g.not_shown, 0);
    }

    #[test]
    fn drafts() {
        let d = SegmentDraft::parse(" Region ", "Region", "north = North\nsouth\n\n").unwrap();
        assert_eq!(d.key, "region");
        assert_eq!(d.values[1].label, "south");
        assert!(SegmentDraft::parse("r", "Region", "a\nb").is_err());
        assert!(SegmentDraft::parse("region", "", "a\nb").is_err());
        assert!(SegmentDraft::parse("region", "Region", "a\na").is_err());
        assert!(SegmentDraft::parse("region", "Region", "a").is_err());
        assert!(SegmentDraft::parse("region", "Region", "a b\nc").is_err());
        assert!(SegmentDraft::parse("region", "Region", "a\nOther").is_err());
    }
}
