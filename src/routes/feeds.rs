//! Atom feeds of new questions: `/feed.atom` (the site), `/t/<tag>/feed.atom`,
//! `/u/<name>/feed.atom`. Built and cached by `services::feeds`; answered with validators and
//! 304s ([`Cached`]). An unknown tag or user is a 404.

use rocket::http::ContentType;
use rocket::{get, routes};

use crate::domain::TagName;
use crate::error::{AppError, AppResult};
use crate::routes::documents::Cached;
use crate::services::document::Document;
use crate::services::feeds::{self, FeedOf};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![site, tag, user]
}

/// How long clients and shared caches may keep a feed (seconds).
const MAX_AGE: u32 = 60;

/// `application/atom+xml; charset=utf-8`.
pub fn atom() -> ContentType {
    ContentType::new("application", "atom+xml").with_params(("charset", "utf-8"))
}

fn answer(doc: Document) -> Cached {
    Cached {
        doc,
        content_type: atom(),
        max_age: MAX_AGE,
    }
}

async fn feed(app: &AppState, of: FeedOf) -> AppResult<Option<Document>> {
    feeds::feed(&app.db, &app.cache, &app.config.site.public_url, of).await
}

#[get("/feed.atom")]
async fn site(app: &AppState) -> AppResult<Cached> {
    let doc = feed(app, FeedOf::Site).await?;
    doc.map(answer)
        .ok_or_else(|| AppError::Internal("the site feed has no subject".into()))
}

#[get("/t/<name>/feed.atom")]
async fn tag(app: &AppState, name: &str) -> AppResult<Cached> {
    let no_such = || AppError::NotFound("There is no such tag.".into());
    let name = TagName::from_url(name).ok_or_else(no_such)?;
    feed(app, FeedOf::Tag(name))
        .await?
        .map(answer)
        .ok_or_else(no_such)
}

#[get("/u/<name>/feed.atom")]
async fn user(app: &AppState, name: &str) -> AppResult<Cached> {
    let no_such = || AppError::NotFound("There is no such user.".into());
    if name.is_empty() || name.len() > 32 {
        return Err(no_such());
    }
    feed(app, FeedOf::User(name.to_string()))
        .await?
        .map(answer)
        .ok_or_else(no_such)
}
