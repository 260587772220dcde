//! `GET /questions`, `GET /questions/{id}`, `GET /questions/{id}/results`.

use rocket::serde::json::Json;
use rocket::{State, get, routes};

use super::types::{Ballot, Choice, ErrorBody, Question, QuestionItem, QuestionList, Results};
use crate::auth::Voter;
use crate::cache::Cache;
use crate::db::Db;
use crate::domain::poll::results_visible;
use crate::domain::{Page, SearchQuery, Sort, TagName, Window};
use crate::error::{AppError, AppResult};
use crate::media::Media;
use crate::models::listing::ListQuery;
use crate::models::poll::PollView;
use crate::models::{self, tag};
use crate::routes::questions::{load, parse_id};
use crate::routes::views::iso;
use crate::services::reading;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![list, get_question, results]
}

/// Lists questions.
#[utoipa::path(get, path = "/api/v1/questions", tag = "questions",
    params(
        ("sort" = Option<String>, Query, description = "hot (default), new or top"),
        ("window" = Option<String>, Query, description = "day, week, month or all (default): only questions asked within it"),
        ("tag" = Option<String>, Query, description = "only questions with this tag"),
        ("q" = Option<String>, Query, description = "search text (title and description, at most 200 characters)"),
        ("page" = Option<u32>, Query, description = "page number from 1 (at most 500)"),
    ),
    responses(
        (status = 200, body = QuestionList),
        (status = 400, body = ErrorBody, description = "invalid parameter"),
        (status = 404, body = ErrorBody, description = "unknown tag"),
    ))]
#[get("/questions?<sort>&<window>&<tag>&<q>&<page>")]
pub async fn list(
    db: &State<Db>,
    cache: &State<Cache>,
    sort: Option<&str>,
    window: Option<&str>,
    tag: Option<&str>,
    q: Option<&str>,
    page: Option<&str>,
) -> AppResult<Json<QuestionList>> {
    let sort = Sort::from_query(sort)?;
    let window = Window::from_query(window)?;
    let page = Page::from_query(page)?;
    let search = SearchQuery::parse(q.unwrap_or(""))?;
    let tag = tag
        .filter(|t| !t.is_empty())
        .map(TagName::parse)
        .transpose()?;
    let now = models::now();
    let tag_id = match tag {
        Some(t) => {
            let lookup = t.clone();
            let found = db.run(move |c| Ok(tag::find(c, &lookup)?)).await?;
            Some(
                found
                    .ok_or_else(|| {
                        AppError::NotFound(format!("There is no tag “{}”.", t.as_str()))
                    })?
                    .id,
            )
        }
        None => None,
    };
    let query = ListQuery {
        sort,
        window,
        tag_id,
        search,
        page,
    };
    let result = reading::list(db, cache, query, now).await?;
    Ok(Json(QuestionList {
        items: result
            .items
            .iter()
            .map(|s| QuestionItem::new(s, now))
            .collect(),
        page: page.number(),
        next_page: if result.has_more { page.next() } else { None },
    }))
}

/// Builds the API view of a question for the caller.
pub fn question_json(view: &PollView, media: &Media) -> Question {
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
        results: view
            .results
            .as_ref()
            .map(|r| Results::new(r, &view.choices)),
    }
}

/// One question, with results when they are visible to the caller.
#[utoipa::path(get, path = "/api/v1/questions/{id}", tag = "questions",
    params(("id" = i64, Path, description = "question id")),
    responses((status = 200, body = Question), (status = 404, body = ErrorBody)))]
#[get("/questions/<id>")]
pub async fn get_question(
    db: &State<Db>,
    cache: &State<Cache>,
    media: &State<Media>,
    voter: Voter,
    id: &str,
) -> AppResult<Json<Question>> {
    let id = parse_id(id)?;
    let view = load(db, cache, id, voter.ballot_key()).await?;
    Ok(Json(question_json(&view, media)))
}

/// The results of a question; 403 when they are not visible to the caller.
#[utoipa::path(get, path = "/api/v1/questions/{id}/results", tag = "questions",
    params(("id" = i64, Path, description = "question id")),
    responses(
        (status = 200, body = Results),
        (status = 403, body = ErrorBody, description = "results are not visible to the caller yet"),
        (status = 404, body = ErrorBody),
    ))]
#[get("/questions/<id>/results")]
pub async fn results(
    db: &State<Db>,
    cache: &State<Cache>,
    voter: Voter,
    id: &str,
) -> AppResult<Json<Results>> {
    let id = parse_id(id)?;
    let view = load(db, cache, id, voter.ballot_key()).await?;
    let visible = results_visible(
        view.question.visibility(),
        view.my_choices.is_some(),
        view.status,
    );
    match (&view.results, visible) {
        (Some(r), true) => Ok(Json(Results::new(r, &view.choices))),
        _ => Err(AppError::Forbidden {
            code: "results_hidden",
            message: crate::domain::poll::results_hidden_reason(
                view.question.visibility(),
                view.my_choices.is_some(),
                view.status,
            )
            .unwrap_or("Results are not visible yet.")
            .into(),
        }),
    }
}
