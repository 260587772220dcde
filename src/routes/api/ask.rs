//! `POST /questions`: ask a question through the API.

use rocket::response::status::Created;
use rocket::serde::json::Json;
use rocket::{post, routes};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::analytics::{Event, Tracker};
use crate::auth::{CurrentUser, JsonBody, Voter};
use crate::domain::{QuestionId, TrustView};
use crate::error::AppResult;
use crate::limits::Action;
use crate::routes::json::{ErrorBody, Question};
use crate::services::asking::{self, RawQuestion};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![create_question]
}

/// A new question.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestionBody {
    /// 10 to 200 characters.
    pub title: String,
    /// At most 5,000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// 2 to 10 choices: each a label, or `{"label": ..., "image": <upload id>}`.
    pub choices: Vec<ChoiceInput>,
    /// Upload id of the question's image (from `POST /api/v1/uploads`).
    #[serde(default)]
    pub image: Option<String>,
    /// Up to 5 tags (normalised: lower case, words joined by dashes, `+ # .` kept: `C++` is `c++`);
    /// two that would become one tag, or one losing characters at its ends, are a 422.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `single` (default), `multiple` or `ranked`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Fewest choices on a multiple-choice ballot (default 1).
    #[serde(default)]
    pub min_choices: Option<u32>,
    /// Most choices on a multiple-choice ballot (default: all).
    #[serde(default)]
    pub max_choices: Option<u32>,
    /// Ranked questions: most choices a voter may rank, 2 to the number of choices (default:
    /// all of them).
    #[serde(default)]
    pub max_ranks: Option<u32>,
    /// RFC 3339 closing time, or null to stay open.
    #[serde(default)]
    pub closes_at: Option<String>,
    /// `always` (default), `after_vote` or `after_close`.
    #[serde(default)]
    pub results_visibility: Option<String>,
    /// `browser` (default), `network` or `account`.
    #[serde(default)]
    pub duplicate_protection: Option<String>,
    /// Whether results may be broken down by a segment (default `true`).
    #[serde(default)]
    pub breakdowns: Option<bool>,
}

/// A choice of a new question: its label, or its label and image.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ChoiceInput {
    /// Just the label.
    Label(String),
    /// A label with an image.
    WithImage(ChoiceWithImage),
}

/// A choice with an image.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceWithImage {
    /// 1 to 200 characters.
    pub label: String,
    /// Upload id (from `POST /api/v1/uploads`), or null.
    #[serde(default)]
    pub image: Option<String>,
}

/// Asks a question as the logged-in user.
#[utoipa::path(post, path = "/api/v1/questions", tag = "questions",
    security(("bearer_token" = []), ("session_cookie" = [])),
    request_body(content = NewQuestionBody, content_type = "application/json"),
    responses(
        (status = 201, body = Question, description = "the new question, as GET returns it"),
        (status = 401, body = ErrorBody, description = "not logged in"),
        (status = 415, body = ErrorBody, description = "not application/json"),
        (status = 422, body = ErrorBody, description = "invalid fields, listed in error.fields"),
    ))]
#[post("/questions", data = "<body>")]
pub async fn create_question(
    app: &AppState,
    user: CurrentUser,
    voter: Voter,
    track: Tracker,
    body: JsonBody<NewQuestionBody>,
) -> AppResult<Created<Json<Question>>> {
    app.limits
        .check(Action::Ask, Some(format!("u:{}", user.user.id)))
        .await?;
    let b = body.0;
    let (choices, choice_images) = b
        .choices
        .into_iter()
        .map(|c| match c {
            ChoiceInput::Label(label) => (label, None),
            ChoiceInput::WithImage(c) => (c.label, c.image),
        })
        .unzip();
    let raw = RawQuestion {
        title: b.title,
        description: b.description.unwrap_or_default(),
        choices,
        choice_images,
        image: b.image,
        tags: b.tags,
        kind: b.kind.unwrap_or_else(|| "single".into()),
        min_choices: b.min_choices.map(|n| n.to_string()),
        max_choices: b.max_ranks.or(b.max_choices).map(|n| n.to_string()),
        closes_at: match b.closes_at.as_deref() {
            None => Ok(None),
            Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| Some(t.naive_utc()))
                .map_err(|_| {
                    "closes_at must be an RFC 3339 time, e.g. 2030-01-31T18:00:00Z.".to_string()
                }),
        },
        results_visibility: b.results_visibility.unwrap_or_else(|| "always".into()),
        duplicate_protection: b.duplicate_protection.unwrap_or_else(|| "browser".into()),
        breakdowns: b.breakdowns.unwrap_or(true),
    };
    let (id, _) = asking::create(&app.db, &app.cache, raw, user.user.id).await?;
    track.emit(Event::question_asked(id));
    let view = app
        .poll_view(QuestionId(id), Some(voter.key()))
        .await?
        .value;
    Ok(
        Created::new(format!("/api/v1/questions/{id}")).body(Json(Question::new(
            &view,
            &app.media,
            TrustView::All,
        ))),
    )
}
