//! Open results: `/q/<id>/results.csv` and `/q/<id>/results.json`, the question's counts as a
//! file anyone may download, under the one visibility rule (`domain::poll::results_visible`) the
//! question page and `GET /api/v1/questions/<id>/results` apply: a caller whose results are
//! hidden (not voted yet, not closed yet) gets 403, a hidden, deleted or unknown question 404.
//!
//! Both are read through `services::reading` like the API (the question and its counts from the
//! cache, the caller's own ballot from the database), so a download costs a page view. The caller
//! is looked up without issuing a voter cookie: someone without one has no ballot anyway.

use chrono::{DateTime, SecondsFormat, Utc};
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::{get, routes};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Voter;
use crate::domain::poll::{results_hidden_reason, results_visible};
use crate::domain::{Kind, PollStatus, TrustView};
use crate::error::{AppError, AppResult};
use crate::models::counts::Counts;
use crate::models::poll::PollView;
use crate::routes::admin::csv::{CsvFile, table};
use crate::routes::json::ByTrust;
use crate::routes::params::Qid;
use crate::routes::views::{MaybeSaved, percent};
use crate::services::reading::{Read, SavedCopy};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![results_csv, results_json]
}

/// A question's results as the downloads give them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OpenResults {
    pub question: OpenQuestion,
    /// Whether voting is over (these are the final results).
    pub closed: bool,
    /// When the counts were read, UTC (RFC 3339): they hold every vote committed before.
    pub generated_at: String,
    pub total: OpenTotal,
    /// Every choice in display order.
    pub choices: Vec<OpenChoice>,
    /// Which ballots `total` and `choices` count: `all` (the default) or `verified` (accounts
    /// with a verified email only; `?trust=verified`).
    pub trust: String,
    /// Every ballot per trust level, whichever `trust` is shown.
    pub by_trust: ByTrust,
}

/// Which question.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OpenQuestion {
    pub id: i64,
    pub title: String,
    /// The question page (absolute).
    pub url: String,
    /// `single` or `multiple`.
    pub kind: String,
}

/// How many took part.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OpenTotal {
    /// Ballots: the people who voted. Percentages are shares of this number.
    pub voters: i64,
    /// Multiple choice only: the choices picked over all ballots (more than `voters` when people
    /// picked several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices_picked: Option<i64>,
}

/// One choice's votes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OpenChoice {
    pub id: i64,
    pub label: String,
    pub votes: i64,
    /// Share of voters, one decimal (the API's `percent`); multiple-choice shares can sum past 100.
    pub percent: f64,
}

impl OpenResults {
    /// The results of `view` given its visible `counts`; `public_url` makes the question's URL
    /// absolute, `now` stands in for counts that do not say when they were read.
    pub fn new(
        view: &PollView,
        all: &Counts,
        trust: TrustView,
        public_url: &str,
        now: DateTime<Utc>,
    ) -> OpenResults {
        let counts = &all.view(trust);
        let q = &view.question;
        let generated = DateTime::from_timestamp_millis(counts.as_of)
            .filter(|_| counts.as_of > 0)
            .unwrap_or(now);
        OpenResults {
            question: OpenQuestion {
                id: q.id,
                title: q.title.clone(),
                url: format!("{}{}", public_url.trim_end_matches('/'), q.path()),
                kind: q.kind.clone(),
            },
            closed: view.status == PollStatus::Closed,
            generated_at: generated.to_rfc3339_opts(SecondsFormat::Secs, true),
            total: OpenTotal {
                voters: counts.total,
                choices_picked: (q.kind() == Kind::Multiple)
                    .then(|| counts.by_choice.values().sum()),
            },
            choices: view
                .choices
                .iter()
                .map(|c| {
                    let votes = counts.by_choice.get(&c.id).copied().unwrap_or(0);
                    OpenChoice {
                        id: c.id,
                        label: c.label.clone(),
                        votes,
                        percent: percent(votes, counts.total),
                    }
                })
                .collect(),
            trust: trust.as_str().into(),
            by_trust: ByTrust::of(all),
        }
    }

    /// As CSV (RFC 4180, CRLF, formulas neutralised): a header, then one row per choice, each
    /// carrying the totals so that every row stands alone in a spreadsheet.
    pub fn to_csv(&self) -> String {
        let header = [
            "question_id",
            "choice_id",
            "choice",
            "votes",
            "percent",
            "voters",
            "choices_picked",
            "closed",
            "generated_at",
        ];
        let rows: Vec<Vec<String>> = self
            .choices
            .iter()
            .map(|c| {
                vec![
                    self.question.id.to_string(),
                    c.id.to_string(),
                    c.label.clone(),
                    c.votes.to_string(),
                    format!("{:.1}", c.percent),
                    self.total.voters.to_string(),
                    self.total
                        .choices_picked
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    self.closed.to_string(),
                    self.generated_at.clone(),
                ]
            })
            .collect();
        table(&header, &rows)
    }
}

/// The caller's ballot key, if they may have a ballot: the account, or an existing voter cookie
/// (none is issued here: a download is no reason to start tracking a visitor).
pub struct BallotOwner(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BallotOwner {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(BallotOwner(
            Voter::identify(req).await.and_then(|v| v.ballot_key()),
        ))
    }
}

/// The results `caller` may see, or the API's 403 / 404.
async fn visible_results(
    app: &AppState,
    caller: BallotOwner,
    id: Qid,
    trust: TrustView,
) -> AppResult<(OpenResults, Option<SavedCopy>)> {
    let Read { value: view, saved } = app.poll_view(*id, caller.0).await?;
    let visibility = view.question.visibility();
    let voted = view.my_choices.is_some();
    match &view.results {
        Some(counts) if results_visible(visibility, voted, view.status) => {
            let public = &app.config.site.public_url;
            Ok((
                OpenResults::new(&view, counts, trust, public, Utc::now()),
                saved,
            ))
        }
        _ => Err(AppError::Forbidden {
            code: "results_hidden",
            message: results_hidden_reason(visibility, voted, view.status)
                .unwrap_or("Results are not visible yet.")
                .into(),
        }),
    }
}

/// An error of the CSV download: a 4xx is a short plain-text message (the download's reader is
/// a program or a spreadsheet as often as a person); a 5xx is the usual error response.
pub struct PlainError(AppError);

impl From<AppError> for PlainError {
    fn from(e: AppError) -> Self {
        PlainError(e)
    }
}

impl<'r> Responder<'r, 'static> for PlainError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.0.status();
        if status.code >= 500 || status == Status::TooManyRequests {
            return self.0.respond_to(req);
        }
        let body = format!("{}\n", self.0.public_message());
        Response::build()
            .status(status)
            .header(ContentType::Plain)
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    }
}

/// The results of a question as CSV; 403 when they are not visible to the caller.
#[utoipa::path(get, path = "/q/{id}/results.csv", tag = "open data",
    params(("id" = i64, Path, description = "question id"),
        ("trust" = Option<String>, Query, description = "all (default) or verified: count the ballots of verified accounts only (the file is then `beebeta-<id>-results-verified.csv`)")),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "RFC 4180 CSV (CRLF), sent as an attachment `beebeta-<id>-results.csv`. Header `question_id,choice_id,choice,votes,percent,voters,choices_picked,closed,generated_at`, then one row per choice in display order; `percent` is the share of voters with one decimal; `choices_picked` is empty for single-choice questions; `generated_at` is when the counts were read (UTC, RFC 3339). A cell starting with `=`, `+`, `-` or `@` is prefixed with `'`."),
        (status = 403, content_type = "text/plain", body = String, description = "results are not visible to the caller yet (the same rule as the question page: after voting, or after closing)"),
        (status = 404, description = "no such question (or it was hidden or deleted)"),
    ))]
#[get("/q/<id>/results.csv?<trust>", rank = 1)]
pub async fn results_csv(
    app: &AppState,
    caller: BallotOwner,
    id: Qid,
    trust: Option<&str>,
) -> Result<MaybeSaved<CsvFile>, PlainError> {
    let trust = TrustView::from_query(trust).map_err(AppError::from)?;
    let (results, saved) = visible_results(app, caller, id, trust).await?;
    let suffix = match trust {
        TrustView::All => "",
        TrustView::Verified => "-verified",
    };
    let file = CsvFile {
        filename: format!("beebeta-{}-results{suffix}.csv", id.get()),
        body: results.to_csv(),
    };
    Ok(MaybeSaved(file, saved))
}

/// The results of a question as JSON; 403 when they are not visible to the caller.
#[utoipa::path(get, path = "/q/{id}/results.json", tag = "open data",
    params(("id" = i64, Path, description = "question id"),
        ("trust" = Option<String>, Query, description = "all (default) or verified: count the ballots of verified accounts only")),
    responses(
        (status = 200, body = OpenResults),
        (status = 403, body = crate::routes::json::ErrorBody, description = "results are not visible to the caller yet (`results_hidden`)"),
        (status = 404, body = crate::routes::json::ErrorBody),
    ))]
#[get("/q/<id>/results.json?<trust>", rank = 1)]
pub async fn results_json(
    app: &AppState,
    caller: BallotOwner,
    id: Qid,
    trust: Option<&str>,
) -> AppResult<MaybeSaved<Json<OpenResults>>> {
    let trust = TrustView::from_query(trust)?;
    let (results, saved) = visible_results(app, caller, id, trust).await?;
    Ok(MaybeSaved(Json(results), saved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::choice::ChoiceRow;
    use crate::models::question::QuestionRow;
    use std::collections::{BTreeMap, HashMap};

    fn view(kind: &str, labels: &[&str], status: PollStatus) -> PollView {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        PollView {
            question: QuestionRow {
                id: 7,
                author_id: None,
                title: "Tea, or \"coffee\"?".into(),
                slug: "tea-or-coffee".into(),
                description: None,
                kind: kind.into(),
                min_choices: 1,
                max_choices: if kind == "multiple" { 3 } else { 1 },
                results_visibility: "always".into(),
                protection: "cookie".into(),
                vote_count: 0,
                hot_rank: 0.0,
                created_at: t,
                updated_at: t,
                closes_at: None,
                closed_at: None,
                hidden_at: None,
                deleted_at: None,
                image_id: None,
                author_deleted: false,
                breakdowns: true,
            },
            author: None,
            choices: labels
                .iter()
                .enumerate()
                .map(|(i, l)| ChoiceRow {
                    id: 100 + i as i64,
                    question_id: 7,
                    position: i as i32,
                    label: (*l).into(),
                    image_id: None,
                })
                .collect(),
            tags: vec![],
            images: BTreeMap::new(),
            my_choices: None,
            status,
            results: None,
            total_votes: 0,
            runoff: None,
        }
    }

    fn counts(total: i64, by: &[(i64, i64)], as_of: i64) -> Counts {
        Counts {
            total,
            by_choice: by.iter().copied().collect::<HashMap<_, _>>(),
            as_of,
            ..Counts::default()
        }
    }

    #[test]
    fn single_choice_shape() {
        let v = view("single", &["Tea", "Coffee", "Neither"], PollStatus::Open);
        let c = counts(3, &[(100, 2), (101, 1)], 1_796_464_800_123);
        let now = Utc::now();
        let r = OpenResults::new(&v, &c, TrustView::All, "https://beebeta.example/", now);
        assert_eq!(r.question.url, "https://beebeta.example/q/7/tea-or-coffee");
        assert_eq!(r.generated_at, "2026-12-05T10:00:00Z");
        assert!(!r.closed);
        assert_eq!(r.total.voters, 3);
        assert_eq!(r.total.choices_picked, None);
        let votes: Vec<(i64, i64, f64)> = r
            .choices
            .iter()
            .map(|c| (c.id, c.votes, c.percent))
            .collect();
        assert_eq!(
            votes,
            vec![(100, 2, 66.7), (101, 1, 33.3), (102, 0, 0.0)],
            "every choice in display order, one decimal"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["total"].get("choices_picked").is_none());
        assert_eq!(
            r.to_csv(),
            "question_id,choice_id,choice,votes,percent,voters,choices_picked,closed,generated_at\r\n\
             7,100,Tea,2,66.7,3,,false,2026-12-05T10:00:00Z\r\n\
             7,101,Coffee,1,33.3,3,,false,2026-12-05T10:00:00Z\r\n\
             7,102,Neither,0,0.0,3,,false,2026-12-05T10:00:00Z\r\n"
        );
    }

    #[test]
    fn multiple_choice_counts_picks_and_quotes_labels() {
        let v = view(
            "multiple",
            &["=HYPERLINK(\"x\")", "a, b", "two\nlines", "-1", "@me", "+1"],
            PollStatus::Closed,
        );
        let c = counts(2, &[(100, 2), (101, 1), (102, 1)], 0);
        let now = DateTime::from_timestamp(1_796_464_800, 0).unwrap();
        let r = OpenResults::new(&v, &c, TrustView::All, "https://b.example", now);
        assert!(r.closed);
        assert_eq!(r.generated_at, "2026-12-05T10:00:00Z", "no read time: now");
        assert_eq!(r.total.choices_picked, Some(4));
        let csv = r.to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[1],
            "7,100,\"'=HYPERLINK(\"\"x\"\")\",2,100.0,2,4,true,2026-12-05T10:00:00Z"
        );
        assert_eq!(
            lines[2],
            "7,101,\"a, b\",1,50.0,2,4,true,2026-12-05T10:00:00Z"
        );
        assert_eq!(
            lines[3], "7,102,\"two\nlines\",1,50.0,2,4,true,2026-12-05T10:00:00Z",
            "a line break inside a quoted cell"
        );
        assert!(lines[4].starts_with("7,103,'-1,0,0.0,"));
        assert!(lines[5].starts_with("7,104,'@me,0,"));
        assert!(lines[6].starts_with("7,105,'+1,0,"));
        assert_eq!(lines.len(), 8, "seven lines, each ended by CRLF");
    }
}
