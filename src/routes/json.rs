//! JSON shapes of the API (the contract other clients rely on), also sent by the live-results
//! stream.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Runoff, Sent, Trust, TrustView};
use crate::error::{AppError, AppResult};
use crate::media::{Media, PublicImage};
use crate::models::choice::ChoiceRow;
use crate::models::counts::Counts;
use crate::models::listing::QuestionSummary;
use crate::models::poll::PollView;
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
    /// `single`, `multiple` or `ranked`.
    pub kind: String,
    /// A ranked question's instant-runoff leader, when its results are visible to everyone and
    /// it has ballots; `null` otherwise.
    pub runoff: Option<ListRunoff>,
}

/// A ranked question's result as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListRunoff {
    /// The label of the choice that wins (or leads) the instant-runoff count.
    pub winner: String,
    /// Its share of the ballots counted in the final round, one decimal.
    pub percent: f64,
    /// How many rounds the count took.
    pub rounds: usize,
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
            kind: q.kind.clone(),
            runoff: s.winner.as_ref().map(|w| ListRunoff {
                winner: w.label.clone(),
                percent: w.percent,
                rounds: w.rounds,
            }),
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

/// A question offered by the search box.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub id: i64,
    pub title: String,
    /// The question's page.
    pub url: String,
}

/// The search box's suggestions (at most 8).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SuggestionList {
    pub items: Vec<Suggestion>,
}

/// A choice of a question.
#[derive(Debug, Serialize, ToSchema)]
pub struct Choice {
    pub id: i64,
    pub label: String,
    /// The choice's image, or `null`.
    pub image: Option<Image>,
}

/// An image in the API: the widest rendition's URL and size, and every rendition's URL by its
/// pixel width (for `srcset`). URLs are absolute when media are served from a CDN.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiImage {
    /// URL of the widest rendition.
    pub url: String,
    /// Every rendition's URL by its pixel width.
    pub urls: BTreeMap<String, String>,
    /// Pixel width of the widest rendition.
    pub width: u32,
    /// Pixel height of the widest rendition.
    pub height: u32,
}

impl From<PublicImage> for ApiImage {
    fn from(v: PublicImage) -> Self {
        ApiImage {
            url: v.url,
            urls: v.urls,
            width: v.width,
            height: v.height,
        }
    }
}

/// An image.
pub type Image = ApiImage;

/// Answer to an upload: the upload id and the image's URLs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    /// Upload id, for `image` in `POST /api/v1/questions`.
    pub id: String,
    #[serde(flatten)]
    pub image: ApiImage,
}

/// Votes of one choice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChoiceResult {
    pub id: i64,
    pub votes: i64,
    /// Share of ballots (voters), one decimal; multiple-choice shares can sum past 100.
    pub percent: f64,
}

/// Ballots per trust level: how each was protected when it was cast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ByTrust {
    /// Voter cookie only.
    pub browser: i64,
    /// Voter cookie plus the per-network window.
    pub network: i64,
    /// A signed-in account whose email is not verified.
    pub account: i64,
    /// A signed-in account with a verified email.
    pub verified: i64,
}

impl ByTrust {
    /// The ballots of each level in `counts`.
    pub fn of(counts: &Counts) -> ByTrust {
        ByTrust {
            browser: counts.ballots_at(Trust::Cookie),
            network: counts.ballots_at(Trust::Network),
            account: counts.ballots_at(Trust::Account),
            verified: counts.ballots_at(Trust::Verified),
        }
    }
}

/// Exact results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Results {
    /// Number of ballots (voters) counted: all, or those of verified accounts (`trust`).
    pub total: i64,
    pub choices: Vec<ChoiceResult>,
    /// Which ballots `total` and `choices` count: `all` (the default) or `verified` (accounts
    /// with a verified email only; `?trust=verified`).
    pub trust: String,
    /// Every ballot per trust level, whichever `trust` is shown.
    pub by_trust: ByTrust,
    /// When these counts were read (Unix milliseconds): they include every vote committed before.
    /// Of two results, the one with the later `as_of` is the newer.
    pub as_of: i64,
    /// Ranked questions only: first preferences and the instant-runoff count.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ranked: Option<RankedResults>,
}

/// A ranked question's results beside `choices` (which count first preferences).
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedResults {
    /// First preferences of every choice (the same as `choices`).
    pub first_preferences: Vec<ChoiceResult>,
    /// The instant-runoff count, round by round.
    pub rounds: Vec<RoundResult>,
    /// The winning choice id; `null` while tied or without votes.
    pub winner: Option<i64>,
}

/// One round of an instant-runoff count.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundResult {
    /// Votes of each choice still in the count, by choice id.
    pub counts: BTreeMap<i64, i64>,
    /// Choice ids eliminated after this round.
    pub eliminated: Vec<i64>,
    /// Ballots whose ranked choices are all eliminated.
    pub exhausted: i64,
}

impl Results {
    /// Adds a ranked question's count (`None`: not ranked, nothing added).
    pub fn with_runoff(mut self, runoff: Option<&Runoff>) -> Self {
        self.ranked = runoff.map(|r| RankedResults {
            first_preferences: self.choices.clone(),
            rounds: r
                .rounds
                .iter()
                .map(|round| RoundResult {
                    counts: round.counts.clone(),
                    eliminated: round.eliminated.clone(),
                    exhausted: round.exhausted,
                })
                .collect(),
            winner: r.winner,
        });
        self
    }
}

impl Results {
    /// Results for every choice in display order, counting the ballots `view` names.
    pub fn new(all: &Counts, choices: &[ChoiceRow], view: TrustView) -> Self {
        let counts = all.view(view);
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
            trust: view.as_str().into(),
            by_trust: ByTrust::of(all),
            as_of: counts.as_of,
            ranked: None,
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
    /// `single`, `multiple` or `ranked`.
    pub kind: String,
    pub min_choices: i32,
    pub max_choices: i32,
    /// Ranked questions only: most choices a ranking may hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ranks: Option<i32>,
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

impl Question {
    /// The question as the caller sees it, its results counting the ballots `trust` names.
    pub fn new(view: &PollView, media: &Media, trust: TrustView) -> Question {
        let q = &view.question;
        let image = |id: &Option<String>| {
            id.as_ref()
                .and_then(|id| view.images.get(id))
                .map(|i| media.view(i).into())
        };
        Question {
            id: q.id,
            title: q.title.clone(),
            slug: q.slug.clone(),
            url: q.path(),
            description: q.description.clone(),
            kind: q.kind.clone(),
            min_choices: q.min_choices,
            max_choices: q.max_choices,
            max_ranks: (q.kind() == crate::domain::Kind::Ranked).then_some(q.max_choices),
            results_visibility: q.results_visibility.clone(),
            protection: q.protection.clone(),
            status: view.status.as_str().into(),
            tags: view.tags.clone(),
            author: view.author.clone(),
            created_at: iso(q.created_at),
            closes_at: q.closes_at.map(iso),
            total_votes: view.total_votes,
            choices: view
                .choices
                .iter()
                .map(|c| Choice {
                    id: c.id,
                    label: c.label.clone(),
                    image: image(&c.image_id),
                })
                .collect(),
            image: image(&q.image_id),
            ballot: view.my_choices.clone().map(|choices| Ballot { choices }),
            results: view.results.as_ref().map(|r| {
                Results::new(r, &view.choices, trust)
                    .with_runoff(view.runoff.as_ref().map(|r| r.view(trust)))
            }),
        }
    }
}

/// Body of `PUT /questions/{id}/vote`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// Choice ids of a single- or multiple-choice question: exactly one for single choice.
    #[serde(default)]
    pub choices: Vec<i64>,
    /// A ranked question's ranking: choice ids, most preferred first (at most `max_ranks`).
    /// Only for ranked questions, and never with `choices`.
    pub ranking: Option<Vec<i64>>,
}

impl VoteBody {
    /// The ids the vote is made of and the list they came in; both lists at once are refused
    /// (422 `ambiguous_vote`) rather than one silently ignored.
    pub fn into_sent(self) -> AppResult<(Vec<i64>, Sent)> {
        match self.ranking {
            Some(_) if !self.choices.is_empty() => Err(AppError::Unprocessable {
                code: "ambiguous_vote",
                message: "Send either \"choices\" or \"ranking\", not both.".into(),
            }),
            Some(ranking) => Ok((ranking, Sent::Ranking)),
            None => Ok((self.choices, Sent::Choices)),
        }
    }
}

/// Answer to a vote.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoteResponse {
    pub ballot: Ballot,
    pub results: Option<Results>,
}

/// Body of `POST /questions/{id}/flags`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    /// `spam`, `abuse`, `misleading`, `duplicate` or `other`.
    pub reason: String,
    /// In the caller's words, at most 500 characters; required for `other`.
    #[serde(default)]
    pub details: Option<String>,
}

/// Answer to a flag: a thank-you, the same whatever the flag did.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagReceipt {
    /// The thank-you.
    pub message: String,
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
