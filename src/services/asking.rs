//! Asking and managing questions: raw input to a validated draft, stored by the models.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use crate::db::Db;
use crate::domain::{DraftInput, QuestionDraft};
use crate::error::{AppError, AppResult};
use crate::models::question::{self, ManageError};
use crate::models::{self};

/// A question as typed into the ask form or sent to the API, before validation.
#[derive(Debug, Clone)]
pub struct RawQuestion {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Choice labels.
    pub choices: Vec<String>,
    /// Upload ids of the choices' images, in the order of `choices` (may be shorter).
    pub choice_images: Vec<Option<String>>,
    /// Upload id of the question's image.
    pub image: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// `single` or `multiple`.
    pub kind: String,
    /// Fewest choices (text from a form, or a number).
    pub min_choices: Option<String>,
    /// Most choices.
    pub max_choices: Option<String>,
    /// Closing time, already parsed (`Err` keeps the field's message).
    pub closes_at: Result<Option<NaiveDateTime>, String>,
    /// `always`, `after_vote` or `after_close`.
    pub results_visibility: String,
    /// `browser`, `network` or `account`.
    pub duplicate_protection: String,
}

/// Field problems, keyed by form field.
pub type Problems = BTreeMap<&'static str, String>;

fn limit(v: &Option<String>) -> Result<Option<u32>, ()> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse::<u32>().map(Some).map_err(|_| ()),
    }
}

/// Validates raw input into a draft by `author_id`.
pub fn validate(
    raw: &RawQuestion,
    author_id: i64,
    now: NaiveDateTime,
) -> Result<QuestionDraft, Problems> {
    let mut problems = Problems::new();
    let min = limit(&raw.min_choices);
    let max = limit(&raw.max_choices);
    if min.is_err() || max.is_err() {
        problems.insert("limits", "The limits must be whole numbers.".into());
    }
    let closes_at = match &raw.closes_at {
        Ok(t) => *t,
        Err(m) => {
            problems.insert("closes_at", m.clone());
            None
        }
    };
    let input = DraftInput {
        author_id: Some(author_id),
        title: &raw.title,
        description: &raw.description,
        kind: &raw.kind,
        min_choices: min.unwrap_or(None),
        max_choices: max.unwrap_or(None),
        results_visibility: &raw.results_visibility,
        protection: &raw.duplicate_protection,
        closes_at,
        choices: raw.choices.iter().map(String::as_str).collect(),
        choice_images: raw.choice_images.iter().map(Option::as_deref).collect(),
        image: raw.image.as_deref(),
        tags: raw.tags.iter().map(String::as_str).collect(),
    };
    match QuestionDraft::parse_fields(input, now) {
        Ok(d) if problems.is_empty() => Ok(d),
        Ok(_) => Err(problems),
        Err(errors) => {
            for (field, e) in errors {
                problems.entry(field).or_insert(e.message);
            }
            Err(problems)
        }
    }
}

/// Parses an HTML `datetime-local` value (UTC) or an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<Option<NaiveDateTime>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.naive_utc()));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(Some(t));
        }
    }
    Err("Enter the closing date and time as YYYY-MM-DD HH:MM.".into())
}

/// Stores a new question; returns its id and canonical path.
pub async fn create(
    db: &Db,
    raw: RawQuestion,
    author_id: i64,
) -> AppResult<Result<(i64, String), Problems>> {
    let now = models::now();
    let draft = match validate(&raw, author_id, now) {
        Ok(d) => d,
        Err(p) => return Ok(Err(p)),
    };
    let created = db
        .write(move |c| {
            if let Some(p) = foreign_uploads(c, &draft, author_id)? {
                return Ok(Err(p));
            }
            let id = question::create(c, &draft, now)?;
            Ok(Ok((id, question::find_visible(c, id)?.path())))
        })
        .await?;
    if let Ok((id, _)) = &created {
        tracing::info!(question = id, author = author_id, "question asked");
    }
    Ok(created)
}

/// Problems when the draft refers to uploads that do not exist or belong to someone else.
fn foreign_uploads(
    c: &mut crate::db::AnyConnection,
    draft: &QuestionDraft,
    author_id: i64,
) -> AppResult<Option<Problems>> {
    let bad = models::media::not_owned(c, &draft.upload_ids(), author_id)?;
    if bad.is_empty() {
        return Ok(None);
    }
    let mut problems = Problems::new();
    if draft
        .image
        .as_ref()
        .is_some_and(|m| bad.iter().any(|b| b == m.as_str()))
    {
        problems.insert("image", "That image upload does not exist.".into());
    }
    if draft
        .choice_images
        .iter()
        .flatten()
        .any(|m| bad.iter().any(|b| b == m.as_str()))
    {
        problems.insert("choices", "A choice's image upload does not exist.".into());
    }
    Ok(Some(problems))
}

/// Maps an author's refused change to an error.
pub fn manage_error(e: ManageError) -> AppError {
    match e {
        ManageError::NotFound => AppError::NotFound("There is no such question.".into()),
        ManageError::NotAuthor => AppError::Forbidden {
            code: "not_author",
            message: "Only the author can change this question.".into(),
        },
        ManageError::HasVotes => AppError::Conflict {
            code: "has_votes",
            message: "This question already has votes, so it can no longer be edited.".into(),
        },
        ManageError::Closed => AppError::Conflict {
            code: "question_closed",
            message: "This question is already closed.".into(),
        },
        ManageError::Db(e) => e.into(),
    }
}

/// Replaces a question's content; field problems, or the stored path.
pub async fn edit(
    db: &Db,
    id: i64,
    raw: RawQuestion,
    author_id: i64,
) -> AppResult<Result<String, Problems>> {
    let now = models::now();
    let draft = match validate(&raw, author_id, now) {
        Ok(d) => d,
        Err(p) => return Ok(Err(p)),
    };
    db.write(move |c| {
        if let Some(p) = foreign_uploads(c, &draft, author_id)? {
            return Ok(Err(p));
        }
        question::update(c, id, author_id, &draft, now).map_err(manage_error)?;
        Ok(Ok(question::find_visible(c, id)?.path()))
    })
    .await
}

/// The problems as an API error (422 with `fields`).
pub fn problems_error(problems: Problems) -> AppError {
    let message = problems
        .values()
        .next()
        .cloned()
        .unwrap_or_else(|| "Invalid question.".into());
    AppError::Validation {
        message,
        fields: problems
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}
