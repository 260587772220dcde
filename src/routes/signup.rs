//! Sign-up (HTML forms): the form mails a link; following it makes the account and logs in.
//! The form's answer does not say whether the address is taken (its owner is mailed instead).

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::analytics::{Event, Tracker};
use crate::auth::Voter;
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::session::{CurrentUser, Sessions};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::limits::Action;
use crate::models::security_event::Kind;
use crate::routes::accounts::{FormOutcome, safe_next};
use crate::routes::recovery::{BAD_LINK, message};
use crate::routes::viewer::Viewer;
use crate::services::signup::{self as signups, LinkProblem, PasswordSignup};
use crate::services::{accounts, security};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![signup_form, signup, sent, confirm_form, confirm, welcome]
}

fn form_page(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    next: &str,
    form: (&str, &str),
    errors: &FieldErrors,
) -> Template {
    viewer.render(
        "accounts/signup",
        context! {
            page_title: "Sign up",
            csrf_token: voter.csrf_token(&app.keys),
            providers: app.oauth.buttons(),
            next,
            form: context! { username: form.0, email: form.1 },
            errors: serde_json::to_value(errors).unwrap_or_default(),
        },
    )
}

#[get("/signup?<next>")]
async fn signup_form(app: &AppState, viewer: Viewer, voter: Voter, next: Option<&str>) -> Template {
    form_page(
        app,
        &viewer,
        &voter,
        &safe_next(next),
        ("", ""),
        &FieldErrors::new(),
    )
}

/// The sign-up form.
#[derive(Debug, FromForm)]
pub struct SignupForm {
    csrf_token: Option<String>,
    username: String,
    email: String,
    password: String,
    next: Option<String>,
}

csrf_protected!(SignupForm);

/// Where a sign-up goes once its form is accepted: "check your inbox", the same for every address.
fn to_inbox(email: &str) -> FormOutcome {
    FormOutcome::Flash(Flash::success(
        Redirect::to("/signup/sent"),
        format!(
            "We sent a message to {}. Open the link in it to finish signing up (it works for {} hours).",
            email.trim(),
            signups::LINK_HOURS
        ),
    ))
}

#[post("/signup", data = "<form>")]
async fn signup(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    ip: ClientIp,
    form: CsrfForm<SignupForm>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Signup, ip.key()).await?;
    let f = form.0;
    let next = safe_next(f.next.as_deref());
    let asked = PasswordSignup {
        username: &f.username,
        email: &f.email,
        password: &f.password,
        next: &next,
    };
    match signups::start(&app.db, &app.mailer, &app.config.site, asked).await {
        Ok(()) => Ok(to_inbox(&f.email)),
        Err(AppError::Validation { fields, .. }) => {
            let typed = (f.username.trim(), f.email.trim());
            let page = form_page(app, &viewer, &voter, &next, typed, &fields);
            Ok(FormOutcome::Form((Status::UnprocessableEntity, page)))
        }
        Err(e) => Err(e),
    }
}

#[get("/signup/sent")]
fn sent(viewer: Viewer, flash: Option<FlashMessage<'_>>) -> Template {
    let text = flash.map(|f| f.message().to_string()).unwrap_or_else(|| {
        "We sent you a message. Open the link in it to finish signing up.".to_string()
    });
    message(
        &viewer,
        Status::Ok,
        true,
        "Check your inbox",
        &format!(
            "{text} Nothing there after a few minutes? Look in the spam folder, or sign up again."
        ),
        None,
    )
    .1
}

/// Where a new account lands, by password or through a login provider: the welcome page, which
/// leads on to `next` (kept only when it is a path on this site).
pub fn welcome_path(next: &str) -> String {
    let next = safe_next(Some(next));
    format!(
        "/welcome?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    )
}

/// The first page of a new account: what it can do now, and the way back to where the sign-up
/// started (`next`).
#[get("/welcome?<next>")]
fn welcome(viewer: Viewer, user: CurrentUser, next: Option<&str>) -> Template {
    let next = safe_next(next);
    viewer.render(
        "accounts/welcome",
        context! {
            page_title: "Welcome",
            username: &user.user.username,
            next: (next != "/").then_some(next),
        },
    )
}

#[get("/signup/confirm?<token>")]
async fn confirm_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    token: Option<&str>,
) -> AppResult<(Status, Template)> {
    let token = token.unwrap_or("");
    if !signups::link_live(&app.db, token).await? {
        return Ok(message(
            &viewer,
            Status::BadRequest,
            false,
            "Link not valid",
            BAD_LINK,
            Some(("/signup", "Sign up again")),
        ));
    }
    // A button, not the link itself: mail scanners that open links make no accounts.
    Ok((
        Status::Ok,
        viewer.render(
            "accounts/signup_confirm",
            context! {
                page_title: "Finish signing up",
                csrf_token: voter.csrf_token(&app.keys),
                token,
            },
        ),
    ))
}

/// Following a sign-up link.
#[derive(Debug, FromForm)]
pub struct ConfirmForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    token: String,
}

csrf_protected!(ConfirmForm);

#[post("/signup/confirm", data = "<form>")]
async fn confirm(
    app: &AppState,
    viewer: Viewer,
    sessions: Sessions<'_>,
    track: Tracker,
    form: CsrfForm<ConfirmForm>,
) -> AppResult<Result<Redirect, (Status, Template)>> {
    let problem = match signups::finish(&app.db, &form.0.token).await? {
        Ok(done) => {
            // A new session (a new id: no fixation; an older one in this browser ends).
            if let Some(old) = viewer.user() {
                sessions.end(old).await?;
            }
            let cookie_voter = sessions.cookie_voter();
            sessions.start(done.user.id).await?;
            accounts::adopt_ballots(&app.db, cookie_voter, &done.user).await?;
            let via = done.provider.unwrap_or_else(|| "password".into());
            security::record(
                &app.db,
                done.user.id,
                Kind::Login,
                Some(format!("sign-up ({via})")),
                sessions.origin(),
            )
            .await;
            track.emit(Event::signup(done.user.id));
            return Ok(Ok(Redirect::to(welcome_path(&done.next))));
        }
        Err(problem) => problem,
    };
    let (status, text, link) = match problem {
        LinkProblem::Dead => (Status::BadRequest, BAD_LINK, ("/signup", "Sign up again")),
        LinkProblem::UsernameTaken => (
            Status::Conflict,
            "Someone took that username since: sign up again with another one.",
            ("/signup", "Sign up again"),
        ),
        LinkProblem::EmailTaken => (
            Status::Conflict,
            "An account with this address was made since: log in, or choose a new password if you forgot it.",
            ("/login", "Log in"),
        ),
        LinkProblem::IdentityTaken => (
            Status::Conflict,
            "That login provider's account was linked to another Beebeta account since: log in with it.",
            ("/login", "Log in"),
        ),
    };
    Ok(Err(message(
        &viewer,
        status,
        false,
        "No account made",
        text,
        Some(link),
    )))
}
