//! Email links: `/verify` (confirm an address), `/reset` and `/reset/confirm` (new password).

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::{CurrentUser, Voter};
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::models::security_event::Origin;
use crate::routes::accounts::TokenForm;
use crate::routes::viewer::Viewer;
use crate::services::recovery::{self, BadLink};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![
        verify,
        resend,
        reset_form,
        reset_request,
        reset_confirm_form,
        reset_confirm
    ]
}

pub(crate) fn message(
    viewer: &Viewer,
    status: Status,
    ok: bool,
    heading: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> (Status, Template) {
    let (link_url, link_text) = link.unzip();
    (
        status,
        viewer.render(
            "accounts/message",
            context! { page_title: heading, heading, message: text, ok, link_url, link_text },
        ),
    )
}

pub(crate) const BAD_LINK: &str = "This link is invalid, was already used, or has expired.";

#[get("/verify?<token>")]
async fn verify(
    app: &AppState,
    viewer: Viewer,
    token: Option<&str>,
) -> AppResult<(Status, Template)> {
    match recovery::verify(&app.db, token.unwrap_or("")).await? {
        Some(_) => Ok(message(
            &viewer,
            Status::Ok,
            true,
            "Email confirmed",
            "Thank you: your email address is confirmed.",
            Some(("/", "Go to the questions")),
        )),
        None => Ok(message(
            &viewer,
            Status::BadRequest,
            false,
            "Link not valid",
            BAD_LINK,
            Some(("/settings", "Send a new link from your settings")),
        )),
    }
}

#[post("/settings/verify", data = "<form>")]
async fn resend(
    app: &AppState,
    user: CurrentUser,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    app.limits
        .check(Action::Reset, Some(format!("u:{}", user.user.id)))
        .await?;
    recovery::send_verification(&app.db, &app.mailer, &app.config.site, &user.user).await?;
    Ok(Flash::success(
        Redirect::to("/settings"),
        format!("We sent a confirmation link to {}.", user.user.email),
    ))
}

#[get("/reset")]
async fn reset_form(app: &AppState, viewer: Viewer, voter: Voter) -> Template {
    viewer.render(
        "accounts/reset_request",
        context! { page_title: "Reset your password", csrf_token: voter.csrf_token(&app.keys) },
    )
}

/// The reset request.
#[derive(Debug, FromForm)]
pub struct ResetRequestForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    email: String,
}

csrf_protected!(ResetRequestForm);

#[post("/reset", data = "<form>")]
async fn reset_request(
    app: &AppState,
    ip: ClientIp,
    viewer: Viewer,
    form: CsrfForm<ResetRequestForm>,
) -> AppResult<(Status, Template)> {
    app.limits.check(Action::Reset, ip.key()).await?;
    recovery::request_reset(&app.db, &app.mailer, &app.config.site, &form.0.email).await?;
    // The same answer whether or not an account uses the address.
    Ok(message(
        &viewer,
        Status::Ok,
        true,
        "Check your email",
        "If an account uses that address, we sent it a link to choose a new password. The link works for an hour.",
        Some(("/login", "Back to log in")),
    ))
}

#[get("/reset/confirm?<token>")]
async fn reset_confirm_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    token: Option<&str>,
) -> AppResult<(Status, Template)> {
    let token = token.unwrap_or("");
    if !recovery::reset_link_live(&app.db, token).await? {
        return Ok(message(
            &viewer,
            Status::BadRequest,
            false,
            "Link not valid",
            BAD_LINK,
            Some(("/reset", "Ask for a new link")),
        ));
    }
    Ok((
        Status::Ok,
        viewer.render(
            "accounts/reset_confirm",
            context! { page_title: "Choose a new password", csrf_token: voter.csrf_token(&app.keys), token, error: Option::<String>::None },
        ),
    ))
}

/// The new password with its link's token.
#[derive(Debug, FromForm)]
pub struct ResetConfirmForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    token: String,
    #[field(default = String::new())]
    password: String,
}

csrf_protected!(ResetConfirmForm);

/// A redirect after success, or a page.
#[derive(rocket::Responder)]
pub enum ResetOutcome {
    /// Done.
    Done(Flash<Redirect>),
    /// A page with a status.
    Page((Status, Template)),
}

#[post("/reset/confirm", data = "<form>")]
async fn reset_confirm(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    origin: Origin,
    form: CsrfForm<ResetConfirmForm>,
) -> AppResult<ResetOutcome> {
    let f = form.0;
    match recovery::reset(&app.db, &app.mailer, &f.token, &f.password, origin).await {
        Ok(Ok(())) => Ok(ResetOutcome::Done(Flash::success(
            Redirect::to("/login"),
            "Your password was changed, every device was logged out and every API token revoked. Log in with the new password.",
        ))),
        Ok(Err(BadLink)) => Ok(ResetOutcome::Page(message(&viewer, Status::BadRequest, false, "Link not valid", BAD_LINK, Some(("/reset", "Ask for a new link"))))),
        Err(AppError::Validation { mut fields, .. }) => Ok(ResetOutcome::Page((
            Status::UnprocessableEntity,
            viewer.render(
                "accounts/reset_confirm",
                context! { page_title: "Choose a new password", csrf_token: voter.csrf_token(&app.keys), token: f.token, error: fields.remove("password") },
            ),
        ))),
        Err(e) => Err(e),
    }
}
