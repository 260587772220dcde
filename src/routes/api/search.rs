//! `GET /search/suggest`: what the search box offers while a visitor types.

use rocket::serde::json::Json;
use rocket::{get, routes};

use crate::auth::client_ip::ClientIp;
use crate::domain::SearchTerms;
use crate::error::AppResult;
use crate::limits::Action;
use crate::models::question::path_of;
use crate::routes::json::{ErrorBody, Suggestion, SuggestionList};
use crate::routes::views::MaybeSaved;
use crate::services::reading::{self, Read};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![suggest]
}

/// Up to 8 questions whose title holds every word typed (the last one as a prefix), most voted
/// first. Cached for 30 s; rate-limited per client address (`limits_suggest`).
#[utoipa::path(get, path = "/api/v1/search/suggest", tag = "questions",
    params(("q" = Option<String>, Query, description = "what has been typed so far (at most 200 characters); empty: no suggestions")),
    responses(
        (status = 200, body = SuggestionList),
        (status = 400, body = ErrorBody, description = "more than 200 characters"),
        (status = 429, body = ErrorBody, description = "too many suggestions asked from this address; see Retry-After"),
    ))]
#[get("/search/suggest?<q>")]
pub async fn suggest(
    app: &AppState,
    ip: ClientIp,
    q: Option<&str>,
) -> AppResult<MaybeSaved<Json<SuggestionList>>> {
    // Nothing to look for yet (empty, or only symbols so far): no suggestions, not an error.
    let terms = match SearchTerms::parse(q.unwrap_or("")) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(MaybeSaved::fresh(Json(SuggestionList::default()))),
        Err(e) if e.code == "no_words" => {
            return Ok(MaybeSaved::fresh(Json(SuggestionList::default())));
        }
        Err(e) => return Err(e.into()),
    };
    app.limits.check(Action::Suggest, ip.key()).await?;
    let Read { value, saved } =
        reading::suggest(&app.db, &app.cache, app.search_cache(), terms).await?;
    let items = value
        .into_iter()
        .map(|s| Suggestion {
            url: path_of(s.id, &s.slug),
            id: s.id,
            title: s.title,
        })
        .collect();
    Ok(MaybeSaved(Json(SuggestionList { items }), saved))
}
