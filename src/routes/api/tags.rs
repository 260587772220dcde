//! `GET /tags`.

use rocket::serde::json::Json;
use rocket::{State, get, routes};

use super::types::{ErrorBody, Tag, TagList};
use crate::db::Db;
use crate::domain::Page;
use crate::error::AppResult;
use crate::models::tag;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![list_tags]
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags",
    params(("page" = Option<u32>, Query, description = "page number from 1")),
    responses((status = 200, body = TagList), (status = 400, body = ErrorBody)))]
#[get("/tags?<page>")]
pub async fn list_tags(db: &State<Db>, page: Option<&str>) -> AppResult<Json<TagList>> {
    let page = Page::from_query(page)?;
    let (rows, more) = db.run(move |c| Ok(tag::popular(c, page)?)).await?;
    Ok(Json(TagList {
        items: rows
            .into_iter()
            .map(|t| Tag {
                url: format!("/t/{}", t.name),
                name: t.name,
                question_count: t.question_count,
            })
            .collect(),
        page: page.number(),
        next_page: if more { page.next() } else { None },
    }))
}
