//! `GET /questions`, `GET /questions/{id}`, `GET /questions/{id}/results`.

use rocket::serde::json::Json;
use rocket::{get, routes};

use crate::auth::Voter;
use crate::auth::client_ip::ClientIp;
use crate::domain::poll::results_visible;
use crate::domain::{
    Invalid, Page, SearchSort, SearchTerms, Sort, StatusFilter, TagName, TrustView, Window,
};
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::models;
use crate::models::listing::ListQuery;
use crate::models::search::SearchFilter;
use crate::routes::json::{ErrorBody, Question, QuestionItem, QuestionList, Results};
use crate::routes::params::Qid;
use crate::routes::views::MaybeSaved;
use crate::services::reading::{self, Read};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![list, get_question, results]
}

/// Lists questions, or searches them (`q`).
#[utoipa::path(get, path = "/api/v1/questions", tag = "questions",
    params(
        ("q" = Option<String>, Query, description = "search text, at most 200 characters: words (the last one also matches as a prefix) and \"quoted phrases\", found in titles, descriptions, choices and tags"),
        ("sort" = Option<String>, Query, description = "without q: hot (default), new or top; with q: relevance (default: all words in the title first, then all words anywhere, then some of them; then votes), new or top (these two list only questions holding every word)"),
        ("window" = Option<String>, Query, description = "day, week, month or all (default): only questions asked within it"),
        ("status" = Option<String>, Query, description = "with q only: open or closed"),
        ("tag" = Option<String>, Query, description = "only questions with this tag"),
        ("page" = Option<u32>, Query, description = "page number from 1 (at most 500)"),
    ),
    responses(
        (status = 200, body = QuestionList),
        (status = 400, body = ErrorBody, description = "invalid parameter, or a search with no letter or digit"),
        (status = 404, body = ErrorBody, description = "unknown tag"),
        (status = 429, body = ErrorBody, description = "too many searches (`q`) from this address; see Retry-After"),
    ))]
#[get("/questions?<sort>&<window>&<tag>&<q>&<status>&<page>")]
#[allow(clippy::too_many_arguments)]
pub async fn list(
    app: &AppState,
    ip: ClientIp,
    sort: Option<&str>,
    window: Option<&str>,
    tag: Option<&str>,
    q: Option<&str>,
    status: Option<&str>,
    page: Option<&str>,
) -> AppResult<MaybeSaved<Json<QuestionList>>> {
    let page = Page::from_query(page)?;
    let search = SearchTerms::parse(q.unwrap_or(""))?;
    let (sort, search_sort) = match &search {
        None => (Sort::from_query(sort)?, SearchSort::Relevance),
        Some(_) => (Sort::Hot, SearchSort::from_query(sort)?),
    };
    let window = Window::from_query(window)?;
    let status = StatusFilter::from_query(status)?;
    if search.is_none() && status.is_some() {
        return Err(Invalid::new("invalid_status", "status narrows searches: give q too.").into());
    }
    if search.is_some() {
        app.limits.check(Action::Search, ip.key()).await?;
    }
    let tag = tag
        .filter(|t| !t.is_empty())
        .map(TagName::parse)
        .transpose()?;
    let now = models::now();
    let tag_id = match tag {
        Some(t) => {
            let found = reading::tag_named(&app.db, &app.cache, t.clone()).await?;
            Some(
                found
                    .value
                    .ok_or_else(|| {
                        AppError::NotFound(format!("There is no tag “{}”.", t.as_str()))
                    })?
                    .id,
            )
        }
        None => None,
    };
    let Read {
        value: result,
        saved,
    } = match search {
        Some(terms) => {
            let filter = SearchFilter {
                tag_id,
                status,
                window,
                sort: search_sort,
                page,
            };
            reading::search(&app.db, &app.cache, app.search_cache(), terms, filter, now).await?
        }
        None => {
            let query = ListQuery {
                sort,
                window,
                tag_id,
                page,
            };
            reading::list(&app.db, &app.cache, query, now).await?
        }
    };
    let list = QuestionList {
        items: result
            .items
            .iter()
            .map(|s| QuestionItem::new(s, now))
            .collect(),
        page: page.number(),
        next_page: if result.has_more { page.next() } else { None },
    };
    Ok(MaybeSaved(Json(list), saved))
}

/// One question, with results when they are visible to the caller.
#[utoipa::path(get, path = "/api/v1/questions/{id}", tag = "questions",
    params(("id" = i64, Path, description = "question id"),
        ("trust" = Option<String>, Query, description = TRUST_PARAM)),
    responses((status = 200, body = Question), (status = 400, body = ErrorBody, description = "invalid trust"), (status = 404, body = ErrorBody)))]
#[get("/questions/<id>?<trust>")]
pub async fn get_question(
    app: &AppState,
    voter: Voter,
    id: Qid,
    trust: Option<&str>,
) -> AppResult<MaybeSaved<Json<Question>>> {
    let trust = TrustView::from_query(trust)?;
    let Read { value: view, saved } = app.poll_view(*id, voter.ballot_key()).await?;
    Ok(MaybeSaved(
        Json(Question::new(&view, &app.media, trust)),
        saved,
    ))
}

/// How `?trust=` is documented on the routes that take it.
const TRUST_PARAM: &str = "all (default): every ballot; verified: ballots of accounts with a verified email only (`total` and `choices` count those; `by_trust` always gives every level)";

/// The results of a question; 403 when they are not visible to the caller.
#[utoipa::path(get, path = "/api/v1/questions/{id}/results", tag = "questions",
    params(("id" = i64, Path, description = "question id"),
        ("trust" = Option<String>, Query, description = TRUST_PARAM)),
    responses(
        (status = 200, body = Results),
        (status = 400, body = ErrorBody, description = "invalid trust"),
        (status = 403, body = ErrorBody, description = "results are not visible to the caller yet"),
        (status = 404, body = ErrorBody),
    ))]
#[get("/questions/<id>/results?<trust>")]
pub async fn results(
    app: &AppState,
    voter: Voter,
    id: Qid,
    trust: Option<&str>,
) -> AppResult<MaybeSaved<Json<Results>>> {
    let trust = TrustView::from_query(trust)?;
    let Read { value: view, saved } = app.poll_view(*id, voter.ballot_key()).await?;
    let visible = results_visible(
        view.question.visibility(),
        view.my_choices.is_some(),
        view.status,
    );
    match (&view.results, visible) {
        (Some(r), true) => Ok(MaybeSaved(
            Json(
                Results::new(r, &view.choices, trust)
                    .with_runoff(view.runoff.as_ref().map(|c| c.view(trust))),
            ),
            saved,
        )),
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
