//! Voting by plain form posts: `POST /q/<id>/vote` and `POST /q/<id>/withdraw`.

use rocket::response::{Flash, Redirect};
use rocket::{FromForm, post, routes};

use crate::analytics::{Event, Tracker};
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::csrf_protected;
use crate::auth::{CsrfForm, Voter};
use crate::domain::Sent;
use crate::domain::ballot::{parse_ids, parse_ranks};
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::models::ballot::VoteOutcome;
use crate::routes::params::Qid;
use crate::routes::questions::{Extras, Notice, PageOrRedirect, render_page};
use crate::routes::viewer::Viewer;
use crate::services::reading;
use crate::services::voting::Cast;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![vote, withdraw]
}

/// The vote form: `choice` (repeated for multiple choice) and `csrf_token`; a ranked question's
/// form posts a numbered rank per choice instead (`rank[<choice id>]=<n>`, blank: unranked).
#[derive(Debug, FromForm)]
pub struct VoteForm {
    csrf_token: Option<String>,
    /// The chosen choice ids, as posted.
    pub choice: Vec<String>,
    /// Ranks by choice id, as posted (ranked questions).
    pub rank: std::collections::BTreeMap<String, String>,
}

impl VoteForm {
    /// The posted choice ids as text, in order: the choices, or the ranks turned into a ranking
    /// (most preferred first).
    pub fn sent(&self) -> Result<Vec<String>, AppError> {
        if self.rank.is_empty() {
            return Ok(self.choice.clone());
        }
        let raw: Vec<(&str, &str)> = self
            .rank
            .iter()
            .map(|(id, rank)| (id.as_str(), rank.as_str()))
            .collect();
        Ok(parse_ranks(&raw)?.iter().map(i64::to_string).collect())
    }
}

csrf_protected!(VoteForm);

/// The withdraw form.
#[derive(Debug, FromForm)]
pub struct WithdrawForm {
    csrf_token: Option<String>,
}

csrf_protected!(WithdrawForm);

/// A refused vote re-shows the question page with the reason and a 4xx status; a vote the
/// database did not take re-shows it (a saved copy if need be) with the visitor's `chosen`
/// choices kept and a 503; other errors use the error page.
async fn refuse(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    id: Qid,
    err: AppError,
    chosen: Option<Vec<i64>>,
) -> AppResult<PageOrRedirect> {
    let status = err.status();
    let unsaved = matches!(err, AppError::DbUnavailable(_));
    if !unsaved && !matches!(status.code, 400 | 401 | 409 | 422 | 429) {
        return Err(err);
    }
    let read = match app.poll_view(*id, Some(voter.key())).await {
        Ok(read) => read,
        // Nothing to show the choices on: the error page says to try again.
        Err(AppError::DbUnavailable(_)) if unsaved => return Err(err),
        Err(e) => return Err(e),
    };
    let message = if unsaved {
        "We could not save your vote — try again. Your choice is kept below; our database is \
         not answering just now."
            .to_string()
    } else {
        err.public_message()
    };
    let extras = Extras {
        notice: Some(Notice::error(message)),
        saved: read.saved,
        chosen: unsaved.then_some(chosen).flatten(),
        ..Extras::default()
    };
    let page = render_page(app, viewer, &read.value, voter, extras);
    let retry = err
        .retry_after_secs()
        .map(|secs| rocket::http::Header::new("Retry-After", secs.to_string()));
    match (err, retry) {
        (AppError::TooManyRequests { .. }, Some(h)) => Ok(PageOrRedirect::Limited(page, h)),
        (AppError::DbUnavailable(_), Some(h)) => Ok(PageOrRedirect::Unavailable(page, h)),
        _ => Ok(PageOrRedirect::Status((status, page))),
    }
}

/// A vote by form: the client's vote limit, the posted choice ids, then the vote itself.
pub async fn cast(
    app: &AppState,
    voter: &Voter,
    ip: &ClientIp,
    id: Qid,
    choices: &[String],
) -> AppResult<Cast> {
    app.limits.check(Action::Vote, ip.key()).await?;
    let choices = parse_ids(choices)?;
    let network = ip.network_hash(&app.keys);
    app.voting
        .cast(voter, network, *id, (choices, Sent::AsForm))
        .await
}

/// What the voter is told after a vote was taken.
pub fn outcome_message(outcome: VoteOutcome) -> &'static str {
    match outcome {
        VoteOutcome::Created => "Thanks, your vote was counted.",
        VoteOutcome::Changed => "Your vote was changed.",
        VoteOutcome::Unchanged => "That is already your vote: nothing changed.",
    }
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
    let cast = match form.0.sent() {
        Ok(sent) => cast(app, &voter, &ip, id, &sent)
            .await
            .map_err(|e| (e, Some(sent))),
        Err(e) => Err((e, None)),
    };
    match cast {
        Ok(cast) => {
            track.vote(id.get(), cast.outcome, &cast.choices);
            let msg = outcome_message(cast.outcome);
            let path = reading::question_path(&app.db, &app.cache, id.get()).await?;
            Ok(Ok(Flash::success(Redirect::to(path), msg)))
        }
        Err((e, sent)) => {
            let chosen = sent.and_then(|s| parse_ids(&s).ok());
            refuse(app, &viewer, &voter, id, e, chosen).await.map(Err)
        }
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
        Err(e) => refuse(app, &viewer, &voter, id, e, None).await.map(Err),
    }
}
