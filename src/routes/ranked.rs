//! The parts of the question page (and embed) that only ranked questions have: the ranking form
//! (a numbered select per choice, which `static/js/rank.js` turns into a reorderable list) and
//! the instant-runoff results (a table of the rounds and an SVG chart of them).

use serde::Serialize;

use crate::domain::{Runoff, TrustView};
use crate::models::choice::ChoiceRow;
use crate::models::poll::PollView;
use crate::routes::views::percent;

/// One choice of the ranking form, in the order the voter ranked them (ranked ones first).
#[derive(Debug, Serialize)]
pub struct RankChoice {
    id: i64,
    label: String,
    /// Its rank on the voter's ballot (1 = most preferred), if ranked.
    rank: Option<usize>,
}

/// The ranking form's context.
#[derive(Debug, Serialize)]
pub struct RankForm {
    /// The choices: the ranked ones in rank order, then the others in the question's order.
    choices: Vec<RankChoice>,
    /// The ranks a voter may give: 1 to `max_ranks`.
    ranks: Vec<usize>,
    max_ranks: i32,
    /// Whether the voter may leave choices unranked (`max_ranks` < number of choices).
    partial: bool,
}

/// The ranking form of a ranked question (`None` for other kinds); `ranking` is the voter's
/// ballot (or what they just sent).
pub fn form(view: &PollView, ranking: &[i64]) -> Option<RankForm> {
    if view.question.kind() != crate::domain::Kind::Ranked {
        return None;
    }
    let max = view.question.max_choices.max(1);
    let rank_of = |id: i64| ranking.iter().position(|r| *r == id).map(|i| i + 1);
    let mut choices: Vec<RankChoice> = view
        .choices
        .iter()
        .map(|c| RankChoice {
            id: c.id,
            label: c.label.clone(),
            rank: rank_of(c.id),
        })
        .collect();
    // Ranked first, by rank; the sort is stable, so the rest keep the question's order.
    choices.sort_by_key(|c| c.rank.unwrap_or(usize::MAX));
    Some(RankForm {
        ranks: (1..=max as usize).collect(),
        partial: (max as usize) < choices.len(),
        max_ranks: max,
        choices,
    })
}

/// One cell of the rounds table.
#[derive(Debug, Serialize)]
pub struct RoundCell {
    votes: Option<i64>,
    percent: f64,
    /// Eliminated after this round.
    eliminated: bool,
}

/// One choice's row of the rounds table.
#[derive(Debug, Serialize)]
pub struct RoundRow {
    id: i64,
    label: String,
    cells: Vec<RoundCell>,
    winner: bool,
}

/// The runoff section's context.
#[derive(Debug, Serialize)]
pub struct RunoffPartial {
    rounds: usize,
    rows: Vec<RoundRow>,
    exhausted: Vec<i64>,
    winner: Option<String>,
    /// The final round's share of the winner, of the ballots still counted then.
    winner_percent: f64,
    /// The chart, an SVG document (built here: no user text is put in it unescaped).
    chart: String,
}

/// The runoff section of a ranked question whose results are visible, in the results' view
/// (all votes, or verified accounts only).
pub fn results(view: &PollView, trust: TrustView) -> Option<RunoffPartial> {
    let runoff = view.runoff.as_ref()?;
    Some(partial(runoff.view(trust), &view.choices))
}

fn partial(runoff: &Runoff, choices: &[ChoiceRow]) -> RunoffPartial {
    let rows: Vec<RoundRow> = choices
        .iter()
        .map(|c| RoundRow {
            id: c.id,
            label: c.label.clone(),
            cells: runoff
                .rounds
                .iter()
                .map(|r| {
                    let votes = r.counts.get(&c.id).copied();
                    RoundCell {
                        votes,
                        percent: percent(votes.unwrap_or(0), r.active()),
                        eliminated: r.eliminated.contains(&c.id),
                    }
                })
                .collect(),
            winner: runoff.winner == Some(c.id),
        })
        .collect();
    let winner = runoff
        .winner
        .and_then(|w| choices.iter().find(|c| c.id == w));
    let winner_percent = match (runoff.winner, runoff.last()) {
        (Some(w), Some(last)) => percent(last.counts.get(&w).copied().unwrap_or(0), last.active()),
        _ => 0.0,
    };
    RunoffPartial {
        rounds: runoff.rounds.len(),
        exhausted: runoff.rounds.iter().map(|r| r.exhausted).collect(),
        winner: winner.map(|c| c.label.clone()),
        winner_percent,
        chart: chart(runoff, choices),
        rows,
    }
}

const BAR_H: u32 = 14;
const ROW_GAP: u32 = 6;
const LABEL_W: u32 = 150;
const ROUND_W: u32 = 110;

/// A small-multiples chart: one column per round, one bar per choice still in the count (its
/// share of that round's counted ballots); eliminated choices are marked.
fn chart(runoff: &Runoff, choices: &[ChoiceRow]) -> String {
    use crate::services::document::escape_markup as esc;
    let rounds = runoff.rounds.len() as u32;
    let width = LABEL_W + rounds * ROUND_W;
    let height = 24 + choices.len() as u32 * (BAR_H + ROW_GAP);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"runoff-chart\" role=\"img\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         aria-labelledby=\"runoff-chart-title\"><title id=\"runoff-chart-title\">Instant-runoff \
         count, {rounds} round{}: each choice's share of the ballots counted in each round \
         </title>",
        if rounds == 1 { "" } else { "s" }
    );
    for (i, _) in runoff.rounds.iter().enumerate() {
        let x = LABEL_W + i as u32 * ROUND_W;
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"14\" class=\"runoff-round\">Round {}</text>",
            i + 1
        ));
    }
    for (row, c) in choices.iter().enumerate() {
        let y = 24 + row as u32 * (BAR_H + ROW_GAP);
        let label: String = c.label.chars().take(22).collect();
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" class=\"runoff-label\">{}</text>",
            y + BAR_H - 3,
            esc(&label)
        ));
        for (i, r) in runoff.rounds.iter().enumerate() {
            let Some(votes) = r.counts.get(&c.id) else {
                continue;
            };
            let x = LABEL_W + i as u32 * ROUND_W;
            let share = percent(*votes, r.active());
            let w = ((share / 100.0) * f64::from(ROUND_W - 40)).round() as u32;
            let class = if r.eliminated.contains(&c.id) {
                "runoff-bar out"
            } else if runoff.winner == Some(c.id) && i + 1 == runoff.rounds.len() {
                "runoff-bar won"
            } else {
                "runoff-bar"
            };
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{BAR_H}\" class=\"{class}\"/>\
                 <text x=\"{}\" y=\"{}\" class=\"runoff-value\">{votes}</text>",
                w.max(1),
                x + w.max(1) + 3,
                y + BAR_H - 3
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}
