//! "Your data" on the settings page (issue 19, GDPR articles 15, 17 and 20):
//! `GET /settings/export` downloads everything stored about the member as JSON;
//! `POST /settings/delete` (`password`, `questions` = `keep` | `delete`, `csrf_token`) deletes the
//! account and answers `303` to `/` with the session cookie cleared.
//!
//! The typed password (or authenticator code) is the deletion's confirmation, so the form's
//! dialog (`static/js/confirm.js`) is a courtesy and the server does not wait for `confirm=yes`.
//! A provider-only account without two-factor has nothing to type: it needs a login in the last
//! ten minutes (else `/confirm` first) and then the confirmation page (`routes::destructive`).

pub mod export;

use rocket::form::FromForm;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Flash, Redirect, Responder, Response};
use rocket::{get, post, routes};

use crate::auth::Voter;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::session::{CurrentUser, Sessions};
use crate::domain::QuestionsAfter;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models;
use crate::routes::accounts::FormOutcome;
use crate::routes::destructive::{Confirmation, is_confirmed};
use crate::routes::settings::{Shown, render};
use crate::routes::viewer::Viewer;
use crate::services::your_data::{self, ProofNeeded};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![download, delete]
}

/// The export as a file download, never cached.
pub struct JsonDownload {
    filename: String,
    body: String,
}

impl<'r> Responder<'r, 'static> for JsonDownload {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let name: String = self
            .filename
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        Response::build()
            .header(ContentType::JSON)
            .header(Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            ))
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(self.body.len(), std::io::Cursor::new(self.body))
            .ok()
    }
}

#[get("/settings/export")]
async fn download(app: &AppState, user: CurrentUser) -> AppResult<JsonDownload> {
    let rows = your_data::export(&app.db, user.user.id).await?;
    let doc = export::Export::of(rows, &app.config.site.public_url, models::now());
    let body = serde_json::to_string_pretty(&doc)
        .map_err(|e| AppError::Internal(format!("export: {e}")))?;
    Ok(JsonDownload {
        filename: format!("beebeta-{}-data.json", user.user.username),
        body,
    })
}

/// The deletion form.
#[derive(Debug, FromForm)]
pub struct DeleteForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    password: String,
    /// A code of the authenticator app, for accounts without a password but with two-factor.
    #[field(default = String::new())]
    code: String,
    #[field(default = String::new())]
    questions: String,
    confirm: Option<String>,
}

csrf_protected!(DeleteForm);

/// The settings page again with the deletion's problem, and `status`.
async fn refused(
    app: &AppState,
    ctx: (&Viewer, &Voter, &CurrentUser),
    status: Status,
    message: String,
) -> AppResult<FormOutcome> {
    let (viewer, voter, user) = ctx;
    let shown = Shown {
        errors: FieldErrors::from([("delete", message)]),
        ..Shown::default()
    };
    let page = render(app, viewer, voter, user, shown).await?;
    Ok(FormOutcome::Form((status, page)))
}

/// What the deletion does, in words (the confirmation page's and the settings page's).
fn consequence(after: QuestionsAfter) -> String {
    let questions = match after {
        QuestionsAfter::Keep => "Your questions stay, shown as asked by \"[deleted]\".",
        QuestionsAfter::Delete => "Your questions are deleted.",
    };
    format!(
        "Your account, sessions, API tokens, linked accounts and security log are deleted for \
         good; your votes still count but no longer point to you. {questions} This cannot be \
         undone."
    )
}

#[post("/settings/delete", data = "<form>")]
async fn delete(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    browser: Sessions<'_>,
    form: CsrfForm<DeleteForm>,
) -> AppResult<FormOutcome> {
    let f = form.0;
    let ctx = (&viewer, &voter, &user);
    if user.scopes.is_some() {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "This needs a browser session, not an API token.".into(),
        });
    }
    let after = match QuestionsAfter::parse(&f.questions) {
        Ok(a) => a,
        Err(e) => return refused(app, ctx, Status::UnprocessableEntity, e.message).await,
    };
    let recent_login = user.recently_authenticated(models::now());
    if your_data::proof_needed(&user.user) == ProofNeeded::RecentLogin {
        if !recent_login {
            return Ok(FormOutcome::Redirect(Redirect::to(
                "/confirm?next=%2Fsettings%23your-data",
            )));
        }
        if !is_confirmed(f.confirm.as_deref()) {
            return Ok(Confirmation {
                heading: "Delete your account?".into(),
                consequence: consequence(after),
                action: "/settings/delete".into(),
                yes: "Delete my account".into(),
                cancel: "/settings#your-data".into(),
                fields: vec![
                    ("csrf_token".into(), f.csrf_token.unwrap_or_default()),
                    ("questions".into(), after.as_str().into()),
                ],
            }
            .page(&viewer));
        }
    }
    let proof = your_data::Proof {
        password: &f.password,
        code: &f.code,
        recent_login,
    };
    let deleted =
        your_data::delete_account(&app.db, &app.cache, &app.keys, &user.user, proof, after).await;
    match deleted {
        Ok(d) => {
            if !(d.removed.kept.is_empty() && d.removed.deleted.is_empty()) {
                // As after a hide: a deleted question's page must not be served by address, nor
                // a kept one with its old author.
                app.pages.clear();
            }
            browser.forget();
            Ok(FormOutcome::Flash(Flash::success(
                Redirect::to("/"),
                format!(
                    "Your account was deleted (reference {}). Thank you for taking part.",
                    d.reference
                ),
            )))
        }
        Err(AppError::Validation { mut fields, .. }) => {
            let message = fields.remove("delete").unwrap_or_default();
            refused(app, ctx, Status::UnprocessableEntity, message).await
        }
        Err(AppError::Conflict { message, .. }) => {
            refused(app, ctx, Status::Conflict, message).await
        }
        Err(e) => Err(e),
    }
}
