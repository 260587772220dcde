//! JSON shapes of the API (the contract other clients rely on).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::ballot::Counts;
use crate::models::choice::ChoiceRow;
use crate::models::listing::QuestionSummary;
use crate::routes::views::{iso, percent};

/// A question in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionItem {
    pub id: i64,
    pub title: String,
    pub slug: String,
    /// Path of the question page.
    pub url: String,
    pub tags: Vec<String>,
    /// Number of ballots.
    pub total_votes: i64,
    /// ISO 8601, UTC.
    pub created_at: String,
    pub closes_at: Option<String>,
    /// `open` or `closed`.
    pub status: String,
}

impl QuestionItem {
    /// Builds the item.
    pub fn new(s: &QuestionSummary, now: chrono::NaiveDateTime) -> Self {
        let q = &s.question;
        QuestionItem {
            id: q.id,
            title: q.title.clone(),
            slug: q.slug.clone(),
            url: q.path(),
            tags: s.tags.clone(),
            total_votes: q.vote_count,
            created_at: iso(q.created_at),
            closes_at: q.closes_at.map(iso),
            status: q.status(now).as_str().into(),
        }
    }
}

/// One page of questions.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionList {
    pub items: Vec<QuestionItem>,
    pub page: u32,
    pub next_page: Option<u32>,
}

/// A choice of a question.
#[derive(Debug, Serialize, ToSchema)]
pub struct Choice {
    pub id: i64,
    pub label: String,
    /// The choice's image, or `null`.
    pub image: Option<Image>,
}

/// An image (see [`crate::media::ApiImage`]).
pub type Image = crate::media::ApiImage;

/// Votes of one choice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceResult {
    pub id: i64,
    pub votes: i64,
    /// Share of ballots (voters), one decimal; multiple-choice shares can sum past 100.
    pub percent: f64,
}

/// Exact results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Results {
    /// Number of ballots (voters).
    pub total: i64,
    pub choices: Vec<ChoiceResult>,
}

impl Results {
    /// Results for every choice in display order.
    pub fn new(counts: &Counts, choices: &[ChoiceRow]) -> Self {
        Results {
            total: counts.total,
            choices: choices
                .iter()
                .map(|c| {
                    let votes = counts.by_choice.get(&c.id).copied().unwrap_or(0);
                    ChoiceResult {
                        id: c.id,
                        votes,
                        percent: percent(votes, counts.total),
                    }
                })
                .collect(),
        }
    }
}

/// The caller's ballot.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ballot {
    pub choices: Vec<i64>,
}

/// A question with its choices, and results when visible to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Question {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub url: String,
    pub description: Option<String>,
    /// `single` or `multiple`.
    pub kind: String,
    pub min_choices: i32,
    pub max_choices: i32,
    /// `always`, `after_vote` or `after_close`.
    pub results_visibility: String,
    /// `browser`, `network` or `account`.
    pub protection: String,
    /// `open` or `closed`.
    pub status: String,
    pub tags: Vec<String>,
    pub author: Option<String>,
    pub created_at: String,
    pub closes_at: Option<String>,
    pub total_votes: i64,
    pub choices: Vec<Choice>,
    /// The question's image, or `null`.
    pub image: Option<Image>,
    /// The caller's ballot, if they voted.
    pub ballot: Option<Ballot>,
    /// `null` when the results are not visible to the caller.
    pub results: Option<Results>,
}

/// Body of `PUT /questions/{id}/vote`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// Choice ids: exactly one for single choice.
    pub choices: Vec<i64>,
}

/// Answer to a vote.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoteResponse {
    pub ballot: Ballot,
    pub results: Option<Results>,
}

/// A tag.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tag {
    pub name: String,
    pub question_count: i64,
    pub url: String,
}

/// One page of tags, most used first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    pub items: Vec<Tag>,
    pub page: u32,
    pub next_page: Option<u32>,
}

/// An error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}
