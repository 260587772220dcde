//! [`AppState`]: the app's shared services as one request guard, so a handler's signature is the
//! state plus who may call it (`Voter`, `CurrentUser`, `AdminUser`, `CsrfForm`), as crates.io's
//! `AppState` and Lemmy's `LemmyContext` do. `app::build` makes it once; every field is built
//! from its own configuration group.

use std::sync::Arc;

use rocket::request::{FromRequest, Outcome, Request};

use crate::analytics::Analytics;
use crate::auth::Keys;
use crate::auth::oauth::OAuth;
use crate::cache::Cache;
use crate::config::Config;
use crate::db::Db;
use crate::limits::{Limits, LiveStreams};
use crate::mail::Mailer;
use crate::media::Media;
use crate::page_cache::PageCache;
use crate::services::count_refresher::CountRefresher;
use crate::services::reading;
use crate::services::reports::Reports;
use crate::services::voting::Voting;

/// Everything a handler may need besides the caller's identity (managed state).
pub struct AppState {
    /// The settings, by group.
    pub config: Config,
    /// The database pool.
    pub db: Db,
    /// The shared cache (memcached or in-process).
    pub cache: Cache,
    /// Keys derived from the secret (CSRF tokens, network hashes).
    pub keys: Keys,
    /// Image storage and processing.
    pub media: Media,
    /// Rate limits, counted in the shared cache.
    pub limits: Limits,
    /// Live-results streams open on this server.
    pub live: Arc<LiveStreams>,
    /// Outgoing mail.
    pub mailer: Mailer,
    /// OAuth2 / OpenID Connect providers.
    pub oauth: OAuth,
    /// The vote path (group commit).
    pub voting: Voting,
    /// List counters following the vote counters.
    pub refresher: CountRefresher,
    /// Admin reports, built off the request path.
    pub reports: Reports,
    /// The analytics pipeline.
    pub analytics: Analytics,
    /// Rendered pages shared by anonymous visitors.
    pub pages: PageCache,
}

impl AppState {
    /// What `voter` (`None`: a visitor who cannot have a ballot) sees of question `id` (a saved
    /// copy when the database fails: see `services::reading`).
    pub async fn poll_view(
        &self,
        id: crate::domain::QuestionId,
        voter: Option<String>,
    ) -> crate::AppResult<reading::Read<crate::models::poll::PollView>> {
        reading::poll_view(&self.db, &self.cache, id.0, voter).await
    }

    /// How long search results and suggestions are cached (`cache_search_secs`).
    pub fn search_cache(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.cache.search_secs)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r AppState {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(
            req.rocket()
                .state::<AppState>()
                .expect("app::build manages the AppState"),
        )
    }
}
