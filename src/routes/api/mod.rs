//! JSON API v1 under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.

pub mod ask;
pub mod flags;
pub mod questions;
pub mod search;
pub mod tags;
pub mod uploads;
pub mod votes;

use rocket::serde::json::Json;
use rocket::{get, routes};
use utoipa::OpenApi;

use crate::routes::json;

/// Where the API is mounted.
pub const BASE: &str = "/api/v1";

/// The OpenAPI document, generated from the route annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Beebeta API", version = "1", description = "Questions, votes and results of Beebeta."),
    paths(
        questions::list,
        ask::create_question,
        questions::get_question,
        questions::results,
        crate::routes::breakdowns::api_breakdown,
        search::suggest,
        votes::put_vote,
        votes::delete_vote,
        flags::post_flag,
        tags::list_tags,
        uploads::upload,
        openapi_json,
        crate::routes::open_data::results_csv,
        crate::routes::open_data::results_json,
    ),
    components(schemas(
        json::QuestionItem,
        json::ListRunoff,
        json::QuestionList,
        json::Question,
        json::Choice,
        json::Results,
        json::ChoiceResult,
        json::RankedResults,
        json::RoundResult,
        json::ByTrust,
        crate::routes::breakdowns::BreakdownBody,
        crate::routes::breakdowns::BreakdownGroup,
        crate::routes::breakdowns::BreakdownChoice,
        json::Ballot,
        json::VoteBody,
        json::VoteResponse,
        json::FlagBody,
        json::FlagReceipt,
        json::Tag,
        json::TagList,
        json::Suggestion,
        json::SuggestionList,
        json::ErrorBody,
        ask::NewQuestionBody,
        ask::ChoiceInput,
        ask::ChoiceWithImage,
        json::ApiImage,
        json::Uploaded,
        json::ErrorDetail,
        crate::routes::open_data::OpenResults,
        crate::routes::open_data::OpenQuestion,
        crate::routes::open_data::OpenTotal,
        crate::routes::open_data::OpenChoice,
    )),
        tags((name = "questions"), (name = "votes"), (name = "tags"), (name = "uploads"), (name = "meta"),
        (name = "open data", description = "Results as files anyone may download, outside /api/v1 (linked from the question page); the same visibility rule as the results endpoint.")),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// Declares how callers authenticate: a personal token, or the browser's session cookie.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal API token created on the settings page, accepted under \
                         /api/v1/ only. Scopes: read (GET), vote (PUT/DELETE .../vote), ask \
                         (questions, uploads). It expires after 1 to 365 days (90 by default). \
                         401 invalid_token when unknown, revoked or expired; 403 \
                         insufficient_scope when its scopes do not cover the call.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "bb_session",
                "The browser session (JSON requests need Content-Type: application/json).",
            ))),
        );
    }
}

/// Routes of the API (mounted at [`BASE`]).
pub fn routes() -> Vec<rocket::Route> {
    let mut r = routes![openapi_json];
    r.extend(questions::routes());
    r.extend(ask::routes());
    r.extend(votes::routes());
    r.extend(flags::routes());
    r.extend(tags::routes());
    r.extend(search::routes());
    r.extend(uploads::routes());
    r.extend(routes![crate::routes::breakdowns::api_breakdown]);
    r
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
