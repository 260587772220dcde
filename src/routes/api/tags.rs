//! `GET /tags`.

use rocket::serde::json::Json;
use rocket::{get, routes};

use crate::domain::{Page, TagName};
use crate::error::AppResult;
use crate::models::tag;
use crate::routes::json::{ErrorBody, Tag, TagList};
use crate::routes::views::MaybeSaved;
use crate::services::reading::{self, Read};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![list_tags]
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags",
    params(
        ("page" = Option<u32>, Query, description = "page number from 1"),
        ("prefix" = Option<String>, Query, description = "only tags starting with this (for autocomplete; at most 10, no paging)"),
    ),
    responses((status = 200, body = TagList), (status = 400, body = ErrorBody)))]
#[get("/tags?<page>&<prefix>")]
pub async fn list_tags(
    app: &AppState,
    page: Option<&str>,
    prefix: Option<&str>,
) -> AppResult<MaybeSaved<Json<TagList>>> {
    let page = Page::from_query(page)?;
    if let Some(prefix) = prefix.map(str::trim).filter(|p| !p.is_empty()) {
        let rows = match TagName::prefix(prefix) {
            None => Vec::new(),
            Some(p) => {
                app.db
                    .run(move |c| Ok(tag::with_prefix(c, &p, 10)?))
                    .await?
            }
        };
        return Ok(MaybeSaved::fresh(Json(TagList {
            items: rows
                .into_iter()
                .map(|t| Tag {
                    url: crate::domain::TagName::path_of(&t.name),
                    name: t.name,
                    question_count: t.question_count,
                })
                .collect(),
            page: 1,
            next_page: None,
        })));
    }
    let Read {
        value: (rows, more),
        saved,
    } = reading::popular_tags(&app.db, &app.cache, page).await?;
    let list = TagList {
        items: rows
            .into_iter()
            .map(|t| Tag {
                url: crate::domain::TagName::path_of(&t.name),
                name: t.name,
                question_count: t.question_count,
            })
            .collect(),
        page: page.number(),
        next_page: if more { page.next() } else { None },
    };
    Ok(MaybeSaved(Json(list), saved))
}
