//! Flagging a question by form: `POST /q/<id>/flag` (`reason`, optional `details`,
//! `csrf_token`) → back to the question with a thank-you. [`submit`] is shared with the API.

use rocket::response::{Flash, Redirect};
use rocket::{FromForm, post, routes};

use crate::analytics::{Event, Tracker};
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::csrf_protected;
use crate::auth::{CsrfForm, Voter};
use crate::domain::FlagReport;
use crate::error::AppResult;
use crate::limits::Action;
use crate::routes::params::Qid;
use crate::services::flagging::{self, Flagged, Flagger};
use crate::services::reading;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![flag]
}

/// What the flagger is told, whatever their flag did (stored, a repeat, or the one that hid
/// the question): nothing about other flags.
pub const THANKS: &str = "Thank you for the report: an admin will look at this question.";

/// The flag form.
#[derive(Debug, FromForm)]
pub struct FlagForm {
    csrf_token: Option<String>,
    /// `spam`, `abuse`, `misleading`, `duplicate` or `other`.
    reason: Option<String>,
    /// The visitor's words (required for `other`).
    details: Option<String>,
}

csrf_protected!(FlagForm);

/// A flag by form or API: the client's flag limit, the checked reason, then the flag; emits
/// `question_flagged` for a stored flag (and `question_hidden` when it hid the question, as the
/// site's own action) and clears the rendered pages as a moderator's hide does.
pub async fn submit(
    app: &AppState,
    voter: &Voter,
    ip: &ClientIp,
    track: &Tracker,
    id: Qid,
    reason: Option<&str>,
    details: Option<&str>,
) -> AppResult<Flagged> {
    app.limits.check(Action::Flag, ip.key()).await?;
    let report = FlagReport::parse(reason, details)?;
    let reason = report.reason();
    let flagger = Flagger {
        voter: voter.key(),
        user_id: voter.user_id(),
    };
    let threshold = app.config.moderation.flags_hide_threshold;
    let flagged = flagging::flag(&app.db, &app.cache, threshold, id.get(), flagger, report).await?;
    if let Flagged::Stored { hidden } = flagged {
        track.emit(Event::question_flagged(id.get(), reason));
        if hidden {
            app.pages.clear();
            app.analytics
                .emit(Event::question_hidden_by_flags(id.get()));
        }
    }
    Ok(flagged)
}

#[post("/q/<id>/flag", data = "<form>")]
async fn flag(
    app: &AppState,
    voter: Voter,
    ip: ClientIp,
    track: Tracker,
    id: Qid,
    form: CsrfForm<FlagForm>,
) -> AppResult<Flash<Redirect>> {
    // Read before the flag: a flag that hides the question still goes back to its address.
    let path = reading::question_path(&app.db, &app.cache, id.get()).await?;
    let form = form.0;
    submit(
        app,
        &voter,
        &ip,
        &track,
        id,
        form.reason.as_deref(),
        form.details.as_deref(),
    )
    .await?;
    Ok(Flash::success(Redirect::to(path), THANKS))
}
