//! Voting by plain form posts: `POST /q/<id>/vote` and `POST /q/<id>/withdraw`.

use rocket::response::{Flash, Redirect};
use rocket::{FromForm, post, routes};

use crate::analytics::{Event, Tracker};
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::csrf_protected;
use crate::auth::{CsrfForm, Voter};
use crate::domain::ballot::parse_ids;
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::models::ballot::VoteOutcome;
use crate::routes::params::Qid;
use crate::routes::questions::{Notice, PageOrRedirect, render_page};
use crate::routes::viewer::Viewer;
use crate::services::reading;
use crate::state::AppState;

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

csrf_protected!(VoteForm);

/// The withdraw form.
#[derive(Debug, FromForm)]
pub struct WithdrawForm {
    csrf_token: Option<String>,
}

csrf_protected!(WithdrawForm);

/// A refused vote re-shows the question page with the reason and a 4xx status; other errors
/// use the error page.
async fn refuse(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    id: Qid,
    err: AppError,
) -> AppResult<PageOrRedirect> {
    let status = err.status();
    if !matches!(status.code, 400 | 401 | 409 | 429) {
        return Err(err);
    }
    let view = app.poll_view(*id, Some(voter.key())).await?;
    let page = render_page(
        app,
        viewer,
        &view,
        voter,
        Some(Notice::error(err.public_message())),
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

/// A vote's answer: back to the question with a message, or the page again with the refusal.
type Answer = AppResult<Result<Flash<Redirect>, PageOrRedirect>>;

#[post("/q/<id>/vote", data = "<form>")]
async fn vote(
    app: &AppState,
    voter: Voter,
    viewer: Viewer,
    ip: ClientIp,
    track: Tracker,
    id: Qid,
    form: CsrfForm<VoteForm>,
) -> Answer {
    let cast = async {
        app.limits.check(Action::Vote, ip.key()).await?;
        let choices = parse_ids(&form.0.choice)?;
        let network = ip.network_hash(&app.keys);
        app.voting.cast(&voter, network, *id, choices).await
    };
    match cast.await {
        Ok(cast) => {
            track.vote(id.get(), cast.outcome, &cast.choices);
            let msg = match cast.outcome {
                VoteOutcome::Created => "Thanks, your vote was counted.",
                VoteOutcome::Changed => "Your vote was changed.",
                VoteOutcome::Unchanged => "That is already your vote: nothing changed.",
            };
            let path = reading::question_path(&app.db, &app.cache, id.get()).await?;
            Ok(Ok(Flash::success(Redirect::to(path), msg)))
        }
        Err(e) => refuse(app, &viewer, &voter, id, e).await.map(Err),
    }
}

#[post("/q/<id>/withdraw", data = "<form>")]
async fn withdraw(
    app: &AppState,
    voter: Voter,
    viewer: Viewer,
    track: Tracker,
    id: Qid,
    form: CsrfForm<WithdrawForm>,
) -> Answer {
    let _ = form;
    match app.voting.withdraw(&voter, *id).await {
        Ok(had) => {
            if had {
                track.emit(Event::vote_withdrawn(id.get()));
            }
            let msg = if had {
                "Your vote was withdrawn."
            } else {
                "You had not voted on this question."
            };
            let path = reading::question_path(&app.db, &app.cache, id.get()).await?;
            Ok(Ok(Flash::success(Redirect::to(path), msg)))
        }
        Err(e) => refuse(app, &viewer, &voter, id, e).await.map(Err),
    }
}
