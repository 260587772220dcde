//! Voting by plain form posts: `POST /q/<id>/vote` and `POST /q/<id>/withdraw`.

use crate::analytics::{Event, Tracker};
use rocket::response::{Flash as FlashRedirect, Redirect};
use rocket::{FromForm, State, post, routes};

use crate::auth::client_ip::ClientIp;
use crate::auth::{CsrfForm, CsrfProtected, Keys, Voter};
use crate::cache::Cache;
use crate::config::AppConfig;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::limits::{Action, Limits};
use crate::media::Media;
use crate::models::ballot::VoteOutcome;
use crate::routes::questions::{Flash, PageOrRedirect, load, parse_id, render_page};
use crate::routes::viewer::Viewer;
use crate::services::vote_batcher::VoteBatcher;
use crate::services::voting;
use crate::services::voting::CountRefresher;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![vote, withdraw]
}

/// The vote form: `choice` (repeated for multiple choice) and `csrf_token`.
#[derive(Debug, FromForm)]
pub struct VoteForm {
    csrf_token: Option<String>,
    choice: Vec<String>,
}

impl CsrfProtected for VoteForm {
    fn csrf_token(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

/// The withdraw form.
#[derive(Debug, FromForm)]
pub struct WithdrawForm {
    csrf_token: Option<String>,
}

impl CsrfProtected for WithdrawForm {
    fn csrf_token(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

/// A refused vote re-shows the question page with the reason and a 4xx status; other errors
/// use the error page.
async fn refuse(
    viewer: &Viewer,
    db: &Db,
    cache: &Cache,
    keys: &Keys,
    cfg: &AppConfig,
    media: &Media,
    voter: &Voter,
    id: crate::domain::QuestionId,
    err: AppError,
) -> AppResult<PageOrRedirect> {
    let status = err.status();
    if !matches!(status.code, 400 | 401 | 409 | 429) {
        return Err(err);
    }
    let view = load(db, cache, id, Some(voter.key())).await?;
    let page = render_page(
        viewer,
        &view,
        voter,
        keys,
        cfg,
        media,
        Some(Flash::error(err.public_message())),
    );
    if let AppError::TooManyRequests {
        retry_after_secs, ..
    } = err
    {
        let header = rocket::http::Header::new("Retry-After", retry_after_secs.to_string());
        return Ok(PageOrRedirect::Limited(page, header));
    }
    Ok(PageOrRedirect::Status((status, page)))
}

/// Emits the event of a vote's outcome (an identical re-submission is not an event).
pub fn track_vote(track: &Tracker, question_id: i64, outcome: VoteOutcome, choices: &[i64]) {
    match outcome {
        VoteOutcome::Created => track.emit(Event::vote_cast(question_id, choices)),
        VoteOutcome::Changed => track.emit(Event::vote_changed(question_id, choices)),
        VoteOutcome::Unchanged => {}
    }
}

#[post("/q/<id>/vote", data = "<form>")]
async fn vote(
    db: &State<Db>,
    cache: &State<Cache>,
    refresher: &State<CountRefresher>,
    batcher: &State<VoteBatcher>,
    keys: &State<Keys>,
    cfg: &State<AppConfig>,
    media: &State<Media>,
    voter: Voter,
    viewer: Viewer,
    client: voting::ClientNetwork,
    ip: ClientIp,
    limits: &State<Limits>,
    track: Tracker,
    id: &str,
    form: CsrfForm<VoteForm>,
) -> AppResult<Result<FlashRedirect<Redirect>, PageOrRedirect>> {
    let id = parse_id(id)?;
    if let Err(e) = limits.check(Action::Vote, ip.key()) {
        return refuse(&viewer, db, cache, keys, cfg, media, &voter, id, e)
            .await
            .map(Err);
    }
    let choices = match crate::domain::ballot::parse_ids(&form.0.choice) {
        Ok(c) => c,
        Err(e) => {
            return refuse(&viewer, db, cache, keys, cfg, media, &voter, id, e.into())
                .await
                .map(Err);
        }
    };
    match voting::cast(batcher, cfg, refresher, &voter, &client, id, choices).await {
        Ok((outcome, choices, path, _)) => {
            track_vote(&track, id.0, outcome, &choices);
            let msg = match outcome {
                VoteOutcome::Created => "Thanks, your vote was counted.",
                VoteOutcome::Changed => "Your vote was changed.",
                VoteOutcome::Unchanged => "That is already your vote: nothing changed.",
            };
            Ok(Ok(FlashRedirect::success(Redirect::to(path), msg)))
        }
        Err(e) => refuse(&viewer, db, cache, keys, cfg, media, &voter, id, e)
            .await
            .map(Err),
    }
}

#[post("/q/<id>/withdraw", data = "<form>")]
async fn withdraw(
    db: &State<Db>,
    cache: &State<Cache>,
    batcher: &State<VoteBatcher>,
    keys: &State<Keys>,
    cfg: &State<AppConfig>,
    media: &State<Media>,
    voter: Voter,
    viewer: Viewer,
    track: Tracker,
    id: &str,
    form: CsrfForm<WithdrawForm>,
) -> AppResult<Result<FlashRedirect<Redirect>, PageOrRedirect>> {
    let _ = form;
    let id = parse_id(id)?;
    match voting::withdraw(batcher, &voter, id).await {
        Ok((had, path)) => {
            if had {
                track.emit(Event::vote_withdrawn(id.0));
            }
            let msg = if had {
                "Your vote was withdrawn."
            } else {
                "You had not voted on this question."
            };
            Ok(Ok(FlashRedirect::success(Redirect::to(path), msg)))
        }
        Err(e) => refuse(&viewer, db, cache, keys, cfg, media, &voter, id, e)
            .await
            .map(Err),
    }
}
