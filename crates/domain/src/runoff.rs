//! The instant-runoff count of a ranked question, round by round, from the counts of distinct
//! rankings (never from single ballots: 100,000 ballots are at most a few thousand distinct
//! rankings, so a count is cheap however many people voted).
//!
//! The rule (the README's "How a ranked question is counted" says the same):
//! 1. Each round, every ballot counts for its highest-ranked choice still in the count. A ballot
//!    whose ranked choices are all out is *exhausted* and counts for nobody from then on.
//! 2. A choice with more than half of the round's counted (not exhausted) ballots wins.
//! 3. Otherwise the choice with the fewest votes is eliminated (every choice with no votes at
//!    all is eliminated together). A tie for fewest is broken by the earlier rounds: the one with
//!    fewer votes in the first round where the tied choices differ (round 1 is the first
//!    preferences) goes; if they had equal votes in every round, the one listed last on the
//!    question goes.
//! 4. When every choice still in the count has the same number of votes (two or more of them), or
//!    no ballot counts at all, the count stops without a winner: a tie, or no votes.

use std::collections::BTreeMap;

/// One round of the count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Round {
    /// Votes of each choice still in the count, by choice id.
    pub counts: BTreeMap<i64, i64>,
    /// The choices eliminated after this round (empty in the last round).
    pub eliminated: Vec<i64>,
    /// Ballots that count for nobody this round: every choice they ranked is out.
    pub exhausted: i64,
}

impl Round {
    /// Ballots counted for some choice this round.
    pub fn active(&self) -> i64 {
        self.counts.values().sum()
    }
}

/// The whole count.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Runoff {
    /// The rounds, first to last (at least one when the question has choices).
    pub rounds: Vec<Round>,
    /// The winning choice; `None` while tied or without ballots.
    pub winner: Option<i64>,
}

impl Runoff {
    /// The last round.
    pub fn last(&self) -> Option<&Round> {
        self.rounds.last()
    }
}

/// The canonical text of a ranking, as counters store it: `"3,1,2"` (most preferred first).
pub fn ranking_key(ranking: &[i64]) -> String {
    let mut s = String::with_capacity(ranking.len() * 4);
    for (i, id) in ranking.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s
}

/// Reads [`ranking_key`]'s text back; `None` for text it does not write.
pub fn parse_ranking_key(key: &str) -> Option<Vec<i64>> {
    key.split(',').map(|id| id.parse().ok()).collect()
}

/// Counts `rankings` (distinct rankings with their number of ballots) for a question whose
/// choices are `choices` (in the order the question lists them; the last tie-break). Ids in a
/// ranking that are not among `choices` are skipped.
pub fn count(choices: &[i64], rankings: &[(Vec<i64>, i64)]) -> Runoff {
    // Rankings as choice positions in one flat array (`spans`: start, end, ballots), so the
    // rounds index arrays instead of maps; each ranking keeps a cursor on its highest choice
    // still in the count, which only moves forward: a round costs about one step per ranking.
    let mut flat: Vec<usize> = Vec::new();
    let mut spans: Vec<(usize, usize, i64)> = Vec::new();
    for (ranking, n) in rankings.iter().filter(|(_, n)| *n > 0) {
        let start = flat.len();
        // A question has at most a few dozen choices: a linear search beats a map here.
        flat.extend(
            ranking
                .iter()
                .filter_map(|c| choices.iter().position(|x| x == c)),
        );
        spans.push((start, flat.len(), *n));
    }
    let mut cursor: Vec<usize> = spans.iter().map(|s| s.0).collect();
    let mut continuing = vec![true; choices.len()];
    let mut history: Vec<Vec<i64>> = Vec::new();
    let mut rounds = Vec::new();
    loop {
        let mut votes = vec![0i64; choices.len()];
        let mut exhausted = 0;
        for (&(_, end, n), at) in spans.iter().zip(cursor.iter_mut()) {
            while *at < end && !continuing[flat[*at]] {
                *at += 1;
            }
            if *at < end {
                votes[flat[*at]] += n;
            } else {
                exhausted += n;
            }
        }
        let alive: Vec<usize> = (0..choices.len()).filter(|&p| continuing[p]).collect();
        let active: i64 = alive.iter().map(|&p| votes[p]).sum();
        let counts = alive.iter().map(|&p| (choices[p], votes[p])).collect();
        history.push(votes.clone());
        let mut round = Round {
            counts,
            eliminated: Vec::new(),
            exhausted,
        };
        let leader = alive.iter().copied().max_by_key(|&p| votes[p]);
        let all_equal = alive
            .iter()
            .all(|&p| Some(votes[p]) == leader.map(|l| votes[l]));
        match leader {
            None => {
                rounds.push(round);
                return Runoff {
                    rounds,
                    winner: None,
                };
            }
            Some(l) if 2 * votes[l] > active => {
                rounds.push(round);
                return Runoff {
                    rounds,
                    winner: Some(choices[l]),
                };
            }
            Some(_) if active == 0 || all_equal => {
                rounds.push(round);
                return Runoff {
                    rounds,
                    winner: None,
                };
            }
            Some(_) => {}
        }
        let out: Vec<usize> = if alive.iter().any(|&p| votes[p] == 0) {
            alive.iter().copied().filter(|&p| votes[p] == 0).collect()
        } else {
            vec![loser(&alive, &history)]
        };
        for &p in &out {
            continuing[p] = false;
        }
        round.eliminated = out.iter().map(|&p| choices[p]).collect();
        rounds.push(round);
    }
}

/// The choice to eliminate: fewest votes this round; a tie goes to the one with fewer votes in
/// the first round where the tied ones differ; then to the one listed last.
fn loser(alive: &[usize], history: &[Vec<i64>]) -> usize {
    let now = history.last().expect("a round was counted");
    let fewest = alive.iter().map(|&p| now[p]).min().unwrap_or(0);
    let mut tied: Vec<usize> = alive
        .iter()
        .copied()
        .filter(|&p| now[p] == fewest)
        .collect();
    for round in history {
        if tied.len() == 1 {
            break;
        }
        let min = tied.iter().map(|&p| round[p]).min().unwrap_or(0);
        tied.retain(|&p| round[p] == min);
    }
    *tied.iter().max().expect("a choice is tied for fewest")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: i64 = 1;
    const B: i64 = 2;
    const C: i64 = 3;
    const D: i64 = 4;

    fn counts(pairs: &[(i64, i64)]) -> BTreeMap<i64, i64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn majority_in_the_first_round() {
        let r = count(
            &[A, B, C],
            &[(vec![A, B], 6), (vec![B], 3), (vec![C, A], 2)],
        );
        assert_eq!(r.winner, Some(A));
        assert_eq!(r.rounds.len(), 1);
        assert_eq!(r.rounds[0].counts, counts(&[(A, 6), (B, 3), (C, 2)]));
        assert!(r.rounds[0].eliminated.is_empty());
    }

    /// Worked by hand: 21 ballots. Round 1: A 8, B 7, C 4, D 2 (no majority of 21: D out).
    /// Round 2: D's 2 go to C (their second choice): A 8, B 7, C 6 (C out). Round 3: C's 6
    /// ballots — 4 rank B next, 2 (the former D voters: D, C) rank nothing more: exhausted.
    /// A 8, B 11 of 19 counted: B wins, although A led on first preferences.
    #[test]
    fn transfers_and_exhausted_ballots() {
        let rankings = [
            (vec![A], 8),
            (vec![B, A], 7),
            (vec![C, B], 4),
            (vec![D, C], 2),
        ];
        let r = count(&[A, B, C, D], &rankings);
        assert_eq!(r.rounds.len(), 3);
        assert_eq!(
            r.rounds[0].counts,
            counts(&[(A, 8), (B, 7), (C, 4), (D, 2)])
        );
        assert_eq!(r.rounds[0].eliminated, vec![D]);
        assert_eq!(r.rounds[0].exhausted, 0);
        assert_eq!(r.rounds[1].counts, counts(&[(A, 8), (B, 7), (C, 6)]));
        assert_eq!(r.rounds[1].eliminated, vec![C]);
        assert_eq!(r.rounds[2].counts, counts(&[(A, 8), (B, 11)]));
        assert_eq!(r.rounds[2].exhausted, 2);
        assert_eq!(r.rounds[2].active(), 19);
        assert!(r.rounds[2].eliminated.is_empty());
        assert_eq!(r.winner, Some(B));
    }

    #[test]
    fn unranked_choices_go_together_first() {
        let r = count(
            &[A, B, C, D],
            &[(vec![A], 2), (vec![B, A], 1), (vec![A, B], 1)],
        );
        assert_eq!(
            r.rounds[0].counts,
            counts(&[(A, 3), (B, 1), (C, 0), (D, 0)])
        );
        assert_eq!(r.winner, Some(A), "3 of 4 is a majority at once");
        let r = count(
            &[A, B, C, D],
            &[(vec![A], 2), (vec![B, A], 1), (vec![C, B], 1)],
        );
        assert_eq!(r.rounds[0].eliminated, vec![D], "D has no votes: out first");
        // Round 2: A 2, B 1, C 1: B and C tie for fewest with equal first preferences: the one
        // listed last (C) goes; its ballot moves to B. Round 3: A 2, B 2: a tie, no winner.
        assert_eq!(r.rounds[1].eliminated, vec![C]);
        assert_eq!(r.rounds[2].counts, counts(&[(A, 2), (B, 2)]));
        assert_eq!(r.winner, None);
    }

    #[test]
    fn ties_for_fewest_look_back_to_earlier_rounds() {
        // Round 1: A 4, B 3, C 2, D 1 → D out (its ballot goes to C). Round 2: A 4, B 3, C 3:
        // B and C tie for fewest; in round 1 C had fewer (2 < 3), so C goes, although B is the
        // one listed last. Round 3: C's 3 ballots rank nothing else: A 4 of 7 wins.
        let r = count(
            &[A, C, B, D],
            &[(vec![A], 4), (vec![B], 3), (vec![C], 2), (vec![D, C], 1)],
        );
        assert_eq!(r.rounds[0].eliminated, vec![D]);
        assert_eq!(r.rounds[1].counts, counts(&[(A, 4), (B, 3), (C, 3)]));
        assert_eq!(
            r.rounds[1].eliminated,
            vec![C],
            "C had fewer first preferences than B, though B is listed last"
        );
        assert_eq!(r.rounds[2].counts, counts(&[(A, 4), (B, 3)]));
        assert_eq!(r.rounds[2].exhausted, 3);
        assert_eq!(r.winner, Some(A));
    }

    #[test]
    fn complete_ties_and_no_ballots() {
        let r = count(&[A, B], &[(vec![A, B], 3), (vec![B, A], 3)]);
        assert_eq!(r.rounds.len(), 1);
        assert_eq!(r.winner, None, "two choices with 3 votes each: a tie");
        let r = count(&[A, B, C], &[(vec![A], 1), (vec![B], 1), (vec![C], 1)]);
        assert_eq!(r.winner, None, "three-way tie");
        let r = count(&[A, B, C], &[]);
        assert_eq!(r.winner, None);
        assert_eq!(r.rounds.len(), 1);
        assert_eq!(r.rounds[0].counts, counts(&[(A, 0), (B, 0), (C, 0)]));
        let r = count(&[A, B], &[(vec![A], 0)]);
        assert_eq!(r.winner, None, "rankings without ballots count for nothing");
    }

    #[test]
    fn every_ballot_exhausted_but_one() {
        // A 1, B 1, C 2: no majority of 4 (2 is not more than half). A and B tie with equal
        // history: B (listed later) goes, its ballot ranked nothing else. Round 2: A 1, C 2 of 3
        // counted: C wins.
        let r = count(&[A, B, C], &[(vec![A], 1), (vec![B], 1), (vec![C], 2)]);
        assert_eq!(r.rounds[0].eliminated, vec![B]);
        assert_eq!(r.rounds[1].exhausted, 1);
        assert_eq!(r.winner, Some(C));
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(ranking_key(&[3, 1, 2]), "3,1,2");
        assert_eq!(parse_ranking_key("3,1,2"), Some(vec![3, 1, 2]));
        assert_eq!(parse_ranking_key("3,x"), None);
    }

    /// The figure the bench prints (`bench/run.sh`): 10 choices, 100,000 ballots of random
    /// length and order (a worst case: most rankings distinct), aggregated into distinct
    /// rankings as the counters hold them, then counted. It prints the time; the normal test run
    /// skips it, CI runs it (debug) for the count's checks.
    #[test]
    #[ignore = "a measurement: cargo test -p beebeta-domain --release runoff_at_scale -- --ignored --nocapture"]
    fn runoff_at_scale() {
        let choices: Vec<i64> = (1..=10).collect();
        let mut seed: u64 = 2026;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let mut distinct: std::collections::HashMap<Vec<i64>, i64> = Default::default();
        for _ in 0..100_000 {
            let mut order = choices.clone();
            for i in (1..order.len()).rev() {
                order.swap(i, next(i as u64 + 1) as usize);
            }
            // Popular first choices: a skew so that the count takes several rounds.
            if next(3) == 0 {
                let favourite = 1 + next(3) as i64;
                let at = order.iter().position(|c| *c == favourite).unwrap();
                order[..=at].rotate_right(1);
            }
            order.truncate(1 + next(10) as usize);
            *distinct.entry(order).or_default() += 1;
        }
        let tallies: Vec<(Vec<i64>, i64)> = distinct.into_iter().collect();
        let started = std::time::Instant::now();
        let runs = 20;
        let mut result = Runoff::default();
        for _ in 0..runs {
            result = count(&choices, &tallies);
        }
        let per = started.elapsed() / runs;
        let ballots: i64 = tallies.iter().map(|(_, n)| n).sum();
        assert_eq!(ballots, 100_000);
        println!(
            "runoff: 10 choices, {ballots} ballots, {} distinct rankings, {} rounds, winner {:?}: \
             {:.2} ms per count",
            tallies.len(),
            result.rounds.len(),
            result.winner,
            per.as_secs_f64() * 1000.0
        );
        // The time is the bench's figure (`bench/run.sh` runs this in release), never asserted
        // here: debug builds and busy machines are slower. What is asserted is the count.
        assert_eq!(
            result.rounds[0].active(),
            100_000,
            "every ballot counts in round 1"
        );
        assert!(
            result.rounds.len() >= 2,
            "the skewed ballots take several rounds"
        );
        for round in &result.rounds {
            assert_eq!(
                round.active() + round.exhausted,
                100_000,
                "no ballot is lost"
            );
        }
    }

    #[test]
    fn unknown_ids_are_skipped() {
        let r = count(&[A, B], &[(vec![9, A], 2), (vec![B], 1)]);
        assert_eq!(r.rounds[0].counts, counts(&[(A, 2), (B, 1)]));
        assert_eq!(r.winner, Some(A));
    }
}
