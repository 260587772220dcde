//! `/u/<username>`: a user's profile with their questions.

use rocket::request::FlashMessage;
use rocket::{get, routes};
use rocket_dyn_templates::{Template, context};

use crate::error::{AppError, AppResult};
use crate::models::{self, listing, user};
use crate::routes::questions::Notice;
use crate::routes::viewer::Viewer;
use crate::routes::views::{ItemPartial, human_time};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![profile]
}

#[get("/u/<name>?<page>")]
async fn profile(
    app: &AppState,
    viewer: Viewer,
    flash: Option<FlashMessage<'_>>,
    name: &str,
    page: Option<&str>,
) -> AppResult<Template> {
    let page = crate::routes::params::page_of(
        page,
        &format!("/u/{}", name.chars().take(32).collect::<String>()),
    )?;
    if name.is_empty() || name.len() > 32 {
        return Err(AppError::NotFound("There is no such user.".into()));
    }
    let n = name.to_string();
    let now = models::now();
    let found = app
        .db
        .run(move |c| {
            let Some(u) = user::find_by_username(c, &n)? else {
                return Ok(None);
            };
            let stats = listing::author_stats(c, u.id)?;
            let list = listing::by_author(c, u.id, page)?;
            Ok(Some((u, stats, list)))
        })
        .await?;
    let Some((u, (questions, votes), list)) = found else {
        return Err(AppError::NotFound("There is no such user.".into()));
    };
    let items: Vec<ItemPartial> = list
        .items
        .iter()
        .map(|s| ItemPartial::new(s, now, &app.media))
        .collect();
    let base = format!("/u/{}", u.username);
    let url = |n: u32| {
        if n == 1 {
            base.clone()
        } else {
            format!("{base}?page={n}")
        }
    };
    Ok(viewer.render(
        "users/profile",
        context! {
            page_title: format!("{} on Beebeta", u.username),
            // The message of the redirect that led here (a question deleted).
            flash: flash.map(Notice::from),
            is_me: viewer.user().is_some_and(|me| me.user.id == u.id),
            profile: context! {
                username: &u.username,
                joined_human: human_time(u.created_at, now),
                question_count: questions,
                total_votes: votes,
            },
            items,
            page: page.number(),
            prev_url: page.prev().map(url),
            next_url: if list.has_more { page.next().map(url) } else { None },
        },
    ))
}
