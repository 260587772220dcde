//! Asking and managing questions: raw input to a validated draft, stored by the models.

use chrono::NaiveDateTime;
use diesel::OptionalExtension;

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::{DraftInput, ManageRefusal, QuestionDraft};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::choice::{self, ChoiceRow};
use crate::models::question::{self, QuestionRow};
use crate::models::{self};
use crate::services::reading;

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
    /// Whether results may be broken down by a segment.
    pub breakdowns: bool,
}

fn limit(v: &Option<String>) -> Result<Option<u32>, ()> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse::<u32>().map(Some).map_err(|_| ()),
    }
}

/// Validates raw input into a draft by `author_id`; the problems by form field otherwise.
pub fn validate(
    raw: &RawQuestion,
    author_id: i64,
    now: NaiveDateTime,
) -> Result<QuestionDraft, FieldErrors> {
    let mut problems = FieldErrors::new();
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
        breakdowns: Some(raw.breakdowns),
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

/// Stores a new question; returns its id and canonical path. Invalid input is
/// `AppError::Validation` with the problems by form field.
pub async fn create(
    db: &Db,
    cache: &Cache,
    raw: RawQuestion,
    author_id: i64,
) -> AppResult<(i64, String)> {
    let now = models::now();
    let draft = validate(&raw, author_id, now).map_err(AppError::fields)?;
    let (id, path) = db
        .write(move |c| {
            refuse_foreign_uploads(c, &draft, author_id)?;
            let id = question::create(c, &draft, now)?;
            Ok((id, question::find_visible(c, id)?.path()))
        })
        .await?;
    tracing::info!(question = id, author = author_id, "question asked");
    reading::lists_changed(cache).await;
    Ok((id, path))
}

/// Refuses a draft that refers to uploads that do not exist or belong to someone else.
fn refuse_foreign_uploads(
    c: &mut crate::db::AnyConnection,
    draft: &QuestionDraft,
    author_id: i64,
) -> AppResult<()> {
    let bad = models::media::not_owned(c, &draft.upload_ids(), author_id)?;
    if bad.is_empty() {
        return Ok(());
    }
    let mut problems = FieldErrors::new();
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
    Err(AppError::fields(problems))
}

/// An author's own question with its choices and tag names, for the edit form.
#[derive(Debug, Clone)]
pub struct OwnQuestion {
    /// The question.
    pub question: QuestionRow,
    /// Its choices in order.
    pub choices: Vec<ChoiceRow>,
    /// Its tags' names.
    pub tags: Vec<String>,
}

/// `author_id`'s visible question `id` (403 for someone else's, 404 for none).
pub async fn own(db: &Db, id: i64, author_id: i64) -> AppResult<OwnQuestion> {
    db.run(move |c| {
        let question = question::find_visible(c, id)
            .optional()?
            .ok_or(ManageRefusal::NotFound)?;
        if question.author_id != Some(author_id) {
            return Err(ManageRefusal::NotAuthor.into());
        }
        let choices = choice::for_question(c, id)?;
        let tags = models::tag::names_for(c, &[id])?
            .remove(&id)
            .unwrap_or_default();
        Ok(OwnQuestion {
            question,
            choices,
            tags,
        })
    })
    .await
}

/// Replaces a question's content; returns its canonical path. Invalid input is
/// `AppError::Validation`.
pub async fn edit(
    db: &Db,
    cache: &Cache,
    id: i64,
    raw: RawQuestion,
    author_id: i64,
) -> AppResult<String> {
    let now = models::now();
    let draft = validate(&raw, author_id, now).map_err(AppError::fields)?;
    let path = db
        .write(move |c| {
            refuse_foreign_uploads(c, &draft, author_id)?;
            question::update(c, id, author_id, &draft, now)??;
            Ok(question::find_visible(c, id)?.path())
        })
        .await?;
    reading::question_changed(cache, id).await;
    Ok(path)
}

/// Closes voting on the author's question now; returns its canonical path.
pub async fn close(db: &Db, cache: &Cache, id: i64, author_id: i64) -> AppResult<String> {
    let path = db
        .write(move |c| {
            question::close(c, id, author_id, models::now())??;
            Ok(question::find_visible(c, id)?.path())
        })
        .await?;
    reading::question_changed(cache, id).await;
    Ok(path)
}

/// Deletes the author's question (softly: hidden everywhere, rows kept).
pub async fn delete(db: &Db, cache: &Cache, id: i64, author_id: i64) -> AppResult<()> {
    db.write(move |c| Ok(question::soft_delete(c, id, author_id, models::now())??))
        .await?;
    reading::question_changed(cache, id).await;
    Ok(())
}
