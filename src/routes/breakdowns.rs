//! Breakdowns of a question's results by one segment: `?by=<segment>` on the question page and
//! `GET /api/v1/questions/<id>/breakdown?by=<segment>`. Both go through [`load`]: the same
//! visibility rule as the results, the author's switch, and the k rule of
//! `services::breakdowns`. The JSON shape ([`BreakdownBody`]) is the page's template context too.

use rocket::get;
use rocket::http::uri::Origin;
use rocket::serde::json::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Voter;
use crate::domain::segment::K;
use crate::error::{AppError, AppResult, Link};
use crate::models::poll::PollView;
use crate::models::segment::SegmentRow;
use crate::routes::params::{Qid, no_such_option};
use crate::routes::views::percent;
use crate::services::breakdowns::{self, Breakdown, Group};
use crate::state::AppState;

/// One choice within a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownChoice {
    /// The choice's id.
    pub id: i64,
    /// Its label.
    pub label: String,
    /// Votes from this group's voters.
    pub votes: i64,
    /// Percent of this group's voters, one decimal.
    pub percent: f64,
}

/// One shown group: a segment value (or "Other") with at least `k` verified voters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownGroup {
    /// The segment value (`other` for the merged smaller values).
    pub value: String,
    /// Its label.
    pub label: String,
    /// Distinct verified voters in it.
    pub voters: i64,
    /// Every choice, in the question's order.
    pub choices: Vec<BreakdownChoice>,
}

/// A question's results by one segment, from verified-account ballots only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownBody {
    /// The segment's key.
    pub segment: String,
    /// The segment's label.
    pub label: String,
    /// The fewest voters a shown group has (5).
    pub k: i64,
    /// The values with at least `k` voters.
    pub values: Vec<BreakdownGroup>,
    /// The smaller values merged, when together they have at least `k` voters.
    pub other: Option<BreakdownGroup>,
    /// Verified voters with an answer in no shown group.
    pub not_shown: i64,
}

impl BreakdownBody {
    fn new(b: Breakdown, view: &PollView) -> BreakdownBody {
        let group = |g: Group| BreakdownGroup {
            choices: g
                .votes
                .iter()
                .map(|(id, votes)| BreakdownChoice {
                    id: *id,
                    label: view
                        .choices
                        .iter()
                        .find(|c| c.id == *id)
                        .map(|c| c.label.clone())
                        .unwrap_or_default(),
                    votes: *votes,
                    percent: percent(*votes, g.voters),
                })
                .collect(),
            value: g.value,
            label: g.label,
            voters: g.voters,
        };
        BreakdownBody {
            segment: b.segment,
            label: b.label,
            k: K,
            values: b.values.into_iter().map(group).collect(),
            other: b.other.map(group),
            not_shown: b.not_shown,
        }
    }
}

/// The `by` query parameter of a question page's URI (the last one given), percent-decoded.
pub fn by_of(uri: &Origin<'_>) -> Option<String> {
    uri.query()?
        .segments()
        .filter(|(name, _)| *name == "by")
        .map(|(_, value)| value.to_string())
        .last()
}

/// What the question page needs to offer breakdowns: the segments, when the question allows
/// them and its results are visible to this visitor (else none).
pub async fn offered(app: &AppState, view: &PollView) -> AppResult<Vec<SegmentRow>> {
    if !view.question.breakdowns || view.results.is_none() {
        return Ok(Vec::new());
    }
    match breakdowns::segments(&app.db, &app.cache).await {
        // The links are an extra: a page (or its saved copy) shows without them while the
        // database is down and the segments were never read.
        Err(AppError::DbUnavailable(_)) => Ok(Vec::new()),
        other => other,
    }
}

/// The breakdown of `view` by segment `by`. A segment that does not exist is a 404 naming those
/// that do; breakdowns turned off by the author are a 409 (`breakdowns_off`); results the
/// visitor may not see yet are a 403 (`results_hidden`).
pub async fn load(app: &AppState, view: &PollView, by: &str) -> AppResult<BreakdownBody> {
    let q = &view.question;
    let all = breakdowns::segments(&app.db, &app.cache).await?;
    let Some(segment) = all.iter().find(|s| s.seg_key == by).cloned() else {
        let links = all.iter().map(|s| {
            Link::new(
                s.seg_key.clone(),
                format!("{}?by={}#breakdown", q.path(), s.seg_key),
            )
        });
        return Err(no_such_option(
            "a segment to break results down by",
            Some(by),
            links,
        ));
    };
    if !q.breakdowns {
        return Err(AppError::Conflict {
            code: "breakdowns_off",
            message: "The author turned breakdowns off for this question.".into(),
        });
    }
    if view.results.is_none() {
        return Err(AppError::Forbidden {
            code: "results_hidden",
            message: crate::domain::poll::results_hidden_reason(
                q.visibility(),
                view.my_choices.is_some(),
                view.status,
            )
            .unwrap_or("Results are not visible yet.")
            .into(),
        });
    }
    let ids = view.choices.iter().map(|c| c.id).collect();
    let b = breakdowns::breakdown(&app.db, &app.cache, q.id, segment, ids).await?;
    Ok(BreakdownBody::new(b, view))
}

/// A question's results broken down by one segment, counting verified-account ballots only;
/// every group shown has at least `k` = 5 voters (smaller ones merge into `other`, which is
/// left out, its voters counted in `not_shown`, when it is under 5 itself).
#[utoipa::path(get, path = "/api/v1/questions/{id}/breakdown", tag = "questions",
    params(
        ("id" = i64, Path, description = "question id"),
        ("by" = String, Query, description = "a segment key, e.g. age or country"),
    ),
    responses(
        (status = 200, body = BreakdownBody),
        (status = 403, body = crate::routes::json::ErrorBody, description = "results are not visible to the caller yet (`results_hidden`)"),
        (status = 404, body = crate::routes::json::ErrorBody, description = "no such question or segment"),
        (status = 409, body = crate::routes::json::ErrorBody, description = "the author turned breakdowns off (`breakdowns_off`)"),
    ))]
#[get("/questions/<id>/breakdown?<by>")]
pub async fn api_breakdown(
    app: &AppState,
    voter: Voter,
    id: Qid,
    by: Option<&str>,
) -> AppResult<Json<BreakdownBody>> {
    let view = app.poll_view(*id, voter.ballot_key()).await?.value;
    Ok(Json(load(app, &view, by.unwrap_or("")).await?))
}
