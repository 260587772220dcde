//! Questions: creation (with choices and tags) and ranking upkeep.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{choices, questions};
use crate::db::{Abort, AnyConnection, last_insert_id, transaction};
use crate::db::{is_retryable, retry, write_transaction};
use crate::domain::poll::{self, PollStatus};
use crate::domain::{
    BallotRules, Kind, ManageRefusal, Protection, QuestionDraft, ResultsVisibility, SearchDocument,
    VoteRules, slugify,
};
use crate::models::choice::NewChoice;
use crate::models::tag;

/// A stored question.
#[derive(
    Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = questions)]
pub struct QuestionRow {
    /// Primary key.
    pub id: i64,
    /// Asking user.
    pub author_id: Option<i64>,
    /// Title.
    pub title: String,
    /// URL slug of the title.
    pub slug: String,
    /// Optional longer text.
    pub description: Option<String>,
    /// `single` or `multiple`.
    pub kind: String,
    /// Fewest choices per ballot.
    pub min_choices: i32,
    /// Most choices per ballot.
    pub max_choices: i32,
    /// `always`, `after_vote` or `after_close`.
    pub results_visibility: String,
    /// `browser`, `network` or `account`.
    pub protection: String,
    /// Number of ballots (kept in the ballot's transaction).
    pub vote_count: i64,
    /// Hot rank (see `domain::poll::hot_rank`).
    pub hot_rank: f64,
    /// When it was asked.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Scheduled end of voting.
    pub closes_at: Option<NaiveDateTime>,
    /// When its author closed it early.
    pub closed_at: Option<NaiveDateTime>,
    /// When a moderator hid it.
    pub hidden_at: Option<NaiveDateTime>,
    /// When it was deleted (soft).
    pub deleted_at: Option<NaiveDateTime>,
    /// Its image (an upload id), if any.
    #[serde(default)]
    pub image_id: Option<String>,
    /// Whether its author deleted their account and let it stay (shown as by "[deleted]").
    #[serde(default)]
    pub author_deleted: bool,
    /// Whether its results may be shown broken down by a segment (its author's choice).
    #[serde(default = "breakdowns_default")]
    pub breakdowns: bool,
}

fn breakdowns_default() -> bool {
    true
}

impl QuestionRow {
    /// Parsed kind (a stored value that does not parse is treated as single choice).
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Single)
    }

    /// Parsed results visibility (unknown values are the strictest).
    pub fn visibility(&self) -> ResultsVisibility {
        ResultsVisibility::parse(&self.results_visibility).unwrap_or(ResultsVisibility::AfterClose)
    }

    /// Parsed protection level (unknown values are the strictest).
    pub fn protection(&self) -> Protection {
        Protection::parse(&self.protection).unwrap_or(Protection::Account)
    }

    /// Open or closed at `now`.
    pub fn status(&self, now: NaiveDateTime) -> PollStatus {
        poll::status_at(self.closes_at, self.closed_at, now)
    }

    /// The canonical path `/q/<id>/<slug>`.
    pub fn path(&self) -> String {
        path_of(self.id, &self.slug)
    }

    /// What this question says about a vote at `now`, given its choice ids.
    pub fn vote_rules<'a>(&self, choice_ids: &'a [i64], now: NaiveDateTime) -> VoteRules<'a> {
        VoteRules {
            status: self.status(now),
            protection: self.protection(),
            ballot: BallotRules {
                kind: self.kind(),
                min: self.min_choices.max(1) as u32,
                max: self.max_choices.max(1) as u32,
                choice_ids,
            },
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = questions)]
struct NewQuestion<'a> {
    author_id: Option<i64>,
    title: &'a str,
    slug: &'a str,
    description: Option<&'a str>,
    kind: &'a str,
    min_choices: i32,
    max_choices: i32,
    results_visibility: &'a str,
    protection: &'a str,
    vote_count: i64,
    hot_rank: f64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    closes_at: Option<NaiveDateTime>,
    image_id: Option<&'a str>,
    breakdowns: bool,
}

/// Filter for questions that are listed and reachable (not hidden, not deleted).
/// The canonical path of question `id` with `slug`: `/q/<id>/<slug>`.
pub fn path_of(id: i64, slug: &str) -> String {
    format!("/q/{id}/{slug}")
}

macro_rules! visible {
    () => {
        questions::hidden_at
            .is_null()
            .and(questions::deleted_at.is_null())
    };
}
pub(crate) use visible;

/// [`visible!`] for walks by id (feeds, sitemaps): the same rows, written so that no index on
/// `hidden_at`/`deleted_at` can serve it. Otherwise SQLite reads every visible question through
/// `questions_visible_new` and sorts them, instead of a range or a backward walk of the primary
/// key that stops after a page.
pub(crate) fn visible_by_id() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("COALESCE(questions.hidden_at, questions.deleted_at) IS NULL")
}

/// How often a question's creation or edit is tried when MySQL/MariaDB picks it as a deadlock
/// victim: questions asked at once that share new tags or words upsert the same `tags` and
/// `search_words` rows (and their gaps), and InnoDB may break a lock cycle by rolling one back.
const ATTEMPTS: u32 = 4;

/// Stores a question with its choices and tags in one transaction; returns its id. A deadlock
/// rolls it back whole and it is tried again.
pub fn create(
    conn: &mut AnyConnection,
    draft: &QuestionDraft,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    retry(ATTEMPTS, is_retryable, || create_once(conn, draft, now))
}

fn create_once(
    conn: &mut AnyConnection,
    draft: &QuestionDraft,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    write_transaction(conn, |c| {
        let slug = slugify(draft.title.as_str());
        diesel::insert_into(questions::table)
            .values(NewQuestion {
                author_id: draft.author_id,
                title: draft.title.as_str(),
                slug: &slug,
                description: draft.description.as_ref().map(|d| d.as_str()),
                kind: draft.kind.as_str(),
                min_choices: draft.min_choices as i32,
                max_choices: draft.max_choices as i32,
                results_visibility: draft.results_visibility.as_str(),
                protection: draft.protection.as_str(),
                vote_count: 0,
                hot_rank: poll::hot_rank(0, now, now),
                created_at: now,
                updated_at: now,
                closes_at: draft.closes_at,
                image_id: draft.image.as_ref().map(|m| m.as_str()),
                breakdowns: draft.breakdowns,
            })
            .execute(c)?;
        let id = last_insert_id(c)?;
        let rows: Vec<NewChoice<'_>> = draft
            .choices
            .iter()
            .enumerate()
            .map(|(i, l)| NewChoice {
                question_id: id,
                position: i as i32,
                label: l.as_str(),
                image_id: draft
                    .choice_images
                    .get(i)
                    .and_then(|m| m.as_ref().map(|m| m.as_str())),
            })
            .collect();
        for row in &rows {
            diesel::insert_into(choices::table).values(row).execute(c)?;
        }
        tag::attach(c, id, &draft.tags)?;
        crate::models::search::replace(c, id, &SearchDocument::of_draft(draft))?;
        Ok(id)
    })
}

/// Number of questions, whatever their state.
pub fn count_all(conn: &mut AnyConnection) -> QueryResult<i64> {
    questions::table.count().get_result(conn)
}

/// A visible question by id (neither hidden nor deleted).
pub fn find_visible(conn: &mut AnyConnection, id: i64) -> QueryResult<QuestionRow> {
    questions::table
        .find(id)
        .filter(visible!())
        .select(QuestionRow::as_select())
        .first(conn)
}

/// How far back hot ranks are kept fresh; older questions rank 0.
pub const HOT_HORIZON_DAYS: i64 = 7;

/// Recomputes hot ranks of recent questions and zeroes older ones; returns rows updated.
pub fn refresh_hot_ranks(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let horizon = now - Duration::days(HOT_HORIZON_DAYS);
    let mut updated = diesel::update(
        questions::table
            .filter(questions::created_at.lt(horizon))
            .filter(questions::hot_rank.gt(0.0)),
    )
    .set(questions::hot_rank.eq(0.0))
    .execute(conn)?;
    let recent: Vec<(i64, i64, NaiveDateTime)> = questions::table
        .filter(questions::created_at.ge(horizon))
        .select((questions::id, questions::vote_count, questions::created_at))
        .load(conn)?;
    for chunk in recent.chunks(500) {
        // One statement per chunk: a CASE over ids. Only numbers are formatted into the SQL.
        let mut sql = String::from("UPDATE questions SET hot_rank = CASE id");
        for (id, votes, created) in chunk {
            let rank = poll::hot_rank(*votes, *created, now);
            sql.push_str(&format!(" WHEN {id} THEN {rank:.6}"));
        }
        sql.push_str(" ELSE hot_rank END WHERE id IN (");
        let ids: Vec<String> = chunk.iter().map(|(id, _, _)| id.to_string()).collect();
        sql.push_str(&ids.join(","));
        sql.push(')');
        updated += diesel::sql_query(sql).execute(conn)?;
    }
    Ok(updated)
}

/// The caller's own visible question, or why not.
fn own(
    c: &mut AnyConnection,
    id: i64,
    author_id: i64,
) -> Result<QuestionRow, Abort<ManageRefusal>> {
    let q = find_visible(c, id)
        .optional()?
        .ok_or(Abort::Refused(ManageRefusal::NotFound))?;
    if q.author_id != Some(author_id) {
        return Err(Abort::Refused(ManageRefusal::NotAuthor));
    }
    Ok(q)
}

/// Replaces a question's content (and choices and tags) while it has no votes; tried again
/// after a deadlock, like [`create`].
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    author_id: i64,
    draft: &QuestionDraft,
    now: NaiveDateTime,
) -> QueryResult<Result<(), ManageRefusal>> {
    retry(ATTEMPTS, is_retryable, || {
        update_once(conn, id, author_id, draft, now)
    })
}

fn update_once(
    conn: &mut AnyConnection,
    id: i64,
    author_id: i64,
    draft: &QuestionDraft,
    now: NaiveDateTime,
) -> QueryResult<Result<(), ManageRefusal>> {
    transaction(conn, |c| {
        // Lock the row first: a vote arriving now waits for us, or we see its ballot below.
        diesel::update(questions::table.find(id))
            .set(questions::updated_at.eq(now))
            .execute(c)?;
        let q = own(c, id, author_id)?;
        let ballots: i64 = crate::db::schema::ballots::table
            .filter(crate::db::schema::ballots::question_id.eq(id))
            .count()
            .get_result(c)?;
        if ballots > 0 || q.vote_count > 0 {
            return Err(Abort::Refused(ManageRefusal::HasVotes));
        }
        if q.status(now) == PollStatus::Closed {
            return Err(Abort::Refused(ManageRefusal::Closed));
        }
        diesel::update(questions::table.find(id))
            .set((
                questions::title.eq(draft.title.as_str()),
                questions::slug.eq(slugify(draft.title.as_str())),
                questions::description.eq(draft.description.as_ref().map(|d| d.as_str())),
                questions::kind.eq(draft.kind.as_str()),
                questions::min_choices.eq(draft.min_choices as i32),
                questions::max_choices.eq(draft.max_choices as i32),
                questions::results_visibility.eq(draft.results_visibility.as_str()),
                questions::protection.eq(draft.protection.as_str()),
                questions::closes_at.eq(draft.closes_at),
                questions::image_id.eq(draft.image.as_ref().map(|m| m.as_str())),
                questions::breakdowns.eq(draft.breakdowns),
            ))
            .execute(c)?;
        diesel::delete(choices::table.filter(choices::question_id.eq(id))).execute(c)?;
        for (i, l) in draft.choices.iter().enumerate() {
            diesel::insert_into(choices::table)
                .values(NewChoice {
                    question_id: id,
                    position: i as i32,
                    label: l.as_str(),
                    image_id: draft
                        .choice_images
                        .get(i)
                        .and_then(|m| m.as_ref().map(|m| m.as_str())),
                })
                .execute(c)?;
        }
        tag::detach_all(c, id)?;
        tag::attach(c, id, &draft.tags)?;
        crate::models::search::replace(c, id, &SearchDocument::of_draft(draft))?;
        Ok(())
    })
}

/// Closes voting now.
pub fn close(
    conn: &mut AnyConnection,
    id: i64,
    author_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Result<(), ManageRefusal>> {
    transaction(conn, |c| {
        let q = own(c, id, author_id)?;
        if q.status(now) == PollStatus::Closed {
            return Err(Abort::Refused(ManageRefusal::Closed));
        }
        diesel::update(questions::table.find(id))
            .set((
                questions::closed_at.eq(Some(now)),
                questions::updated_at.eq(now),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// Deletes (softly: hidden everywhere, rows kept) a question.
pub fn soft_delete(
    conn: &mut AnyConnection,
    id: i64,
    author_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Result<(), ManageRefusal>> {
    transaction(conn, |c| {
        own(c, id, author_id)?;
        diesel::update(questions::table.find(id))
            .set((
                questions::deleted_at.eq(Some(now)),
                questions::updated_at.eq(now),
            ))
            .execute(c)?;
        tag::uncount(c, id)?;
        Ok(())
    })
}
