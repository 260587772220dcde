//! The read behind every surface that shows a question: the question, its choices, tags and
//! author, the caller's ballot, and the results when the one visibility rule allows them.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::users;
use crate::domain::PollStatus;
use crate::domain::poll::results_visible;
use crate::models::choice::{self, ChoiceRow};
use crate::models::counts::{self, Counts};
use crate::models::media::{self, StoredImage};
use crate::models::question::{self, QuestionRow};
use crate::models::tag;
use crate::models::{ballot, ranking};

/// A question as one visitor sees it.
#[derive(Debug, Clone)]
pub struct PollView {
    /// The question.
    pub question: QuestionRow,
    /// The author's username.
    pub author: Option<String>,
    /// Choices in display order.
    pub choices: Vec<ChoiceRow>,
    /// Tag names.
    pub tags: Vec<String>,
    /// The question's and choices' images, by upload id.
    pub images: BTreeMap<String, StoredImage>,
    /// The visitor's current ballot (choice ids), if they voted.
    pub my_choices: Option<Vec<i64>>,
    /// Open or closed now.
    pub status: PollStatus,
    /// Exact counts, only when visible to this visitor.
    pub results: Option<Counts>,
    /// Exact number of ballots (shown even when the results are not).
    pub total_votes: i64,
    /// A ranked question's instant-runoff count, with `results` (filled by `services::reading`).
    pub runoff: Option<ranking::Counted>,
}

/// The part of a question that is the same for every visitor (cached as one value).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SharedPoll {
    /// The question.
    pub question: QuestionRow,
    /// The author's username.
    pub author: Option<String>,
    /// Choices in display order.
    pub choices: Vec<ChoiceRow>,
    /// Tag names.
    pub tags: Vec<String>,
    /// The question's and choices' images, by upload id.
    #[serde(default)]
    pub images: BTreeMap<String, StoredImage>,
}

/// Loads the shared part of a visible question.
pub fn load_shared(conn: &mut AnyConnection, id: i64) -> QueryResult<SharedPoll> {
    let question = question::find_visible(conn, id)?;
    let author = match question.author_id {
        Some(uid) => users::table
            .find(uid)
            .select(users::username)
            .first(conn)
            .optional()?,
        None => None,
    };
    let choices = choice::for_question(conn, id)?;
    let tags = tag::names_for(conn, &[id])?.remove(&id).unwrap_or_default();
    let images = media::for_question(
        conn,
        question.image_id.as_deref(),
        choices.iter().map(|c| c.image_id.clone()),
    )?;
    Ok(SharedPoll {
        question,
        author,
        choices,
        tags,
        images,
    })
}

/// Puts a visitor's view together: results only when the one visibility rule allows them.
pub fn assemble(
    shared: SharedPoll,
    my_choices: Option<Vec<i64>>,
    counts: Counts,
    now: NaiveDateTime,
) -> PollView {
    let status = shared.question.status(now);
    let total_votes = counts.total;
    let results = results_visible(shared.question.visibility(), my_choices.is_some(), status)
        .then_some(counts);
    PollView {
        question: shared.question,
        author: shared.author,
        choices: shared.choices,
        tags: shared.tags,
        images: shared.images,
        my_choices,
        status,
        results,
        total_votes,
        runoff: None,
    }
}

/// Loads a visible question for `voter` (`None` for a visitor without a voter id), uncached.
pub fn load(
    conn: &mut AnyConnection,
    id: i64,
    voter: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<PollView> {
    let shared = load_shared(conn, id)?;
    let my_choices = match voter {
        Some(v) => ballot::ballot_of(conn, id, v)?.map(|b| b.choices),
        None => None,
    };
    let counts = counts::read(conn, id)?;
    Ok(assemble(shared, my_choices, counts, now))
}
