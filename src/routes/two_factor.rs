//! Two-factor authentication pages: the second step of a login (`/login/2fa`) and the settings
//! that turn it on (QR enrolment, recovery codes), renew the codes or turn it off.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::analytics::Tracker;
use crate::auth::Voter;
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::reauth::Confirmed;
use crate::auth::session::Sessions;
use crate::error::{AppError, AppResult};
use crate::limits::{Action, LoginKeys};
use crate::models::security_event::{Kind, Origin};
use crate::routes::accounts::{FormOutcome, PendingLogin, log_in, safe_next};
use crate::routes::viewer::Viewer;
use crate::services::two_factor::{self, Enrolment, SecondFactor};
use crate::services::{accounts, security};
use crate::state::AppState;

/// Wrong codes before the login starts over from the password.
const MAX_TRIES: u8 = 5;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![
        second_step_form,
        second_step,
        manage,
        confirm_enrolment,
        disable,
        renew_codes
    ]
}

fn login_again(message: &str) -> FormOutcome {
    FormOutcome::Flash(Flash::error(Redirect::to("/login"), message.to_string()))
}

fn second_step_page(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    error: Option<&str>,
) -> Template {
    viewer.render(
        "accounts/two_factor",
        context! {
            page_title: "Two-factor authentication",
            csrf_token: voter.csrf_token(&app.keys),
            error,
        },
    )
}

#[get("/login/2fa")]
async fn second_step_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    jar: &CookieJar<'_>,
) -> Result<Template, Flash<Redirect>> {
    if PendingLogin::of(jar).is_none() {
        return Err(Flash::error(
            Redirect::to("/login"),
            "Log in first: no login is waiting for its second step here, or it took longer than 5 minutes.",
        ));
    }
    Ok(second_step_page(app, &viewer, &voter, None))
}

/// The second factor: a 6-digit code or a recovery code.
#[derive(Debug, FromForm)]
pub struct CodeForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    code: String,
    next: Option<String>,
}

csrf_protected!(CodeForm);

#[post("/login/2fa", data = "<form>")]
async fn second_step(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    sessions: Sessions<'_>,
    ip: ClientIp,
    track: Tracker,
    form: CsrfForm<CodeForm>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Login, ip.key()).await?;
    let jar = sessions.jar();
    let Some(mut pending) = PendingLogin::of(jar) else {
        return Ok(login_again(
            "Log in first: no login is waiting for its second step here, or it took longer than 5 minutes.",
        ));
    };
    let uid = pending.user_id;
    let backoff = LoginKeys::second_factor(uid);
    app.limits.check_login_backoff(&backoff).await?;
    let code = form.0.code;
    let passed = two_factor::verify(&app.db, &app.keys, uid, &code).await?;
    let Some(factor) = passed else {
        app.limits.login_failed(&backoff).await?;
        security::record(
            &app.db,
            uid,
            Kind::LoginFailed,
            Some("wrong second factor".into()),
            sessions.origin(),
        )
        .await;
        pending.tries += 1;
        if pending.tries >= MAX_TRIES {
            PendingLogin::clear(jar);
            return Ok(login_again("Too many wrong codes: log in again."));
        }
        pending.save(jar, app.config.auth.cookie_secure);
        let page = second_step_page(
            app,
            &viewer,
            &voter,
            Some(
                "That code is not right (or was used already). Use the current 6-digit code of your authenticator app, or one of your recovery codes.",
            ),
        );
        return Ok(FormOutcome::Form((Status::UnprocessableEntity, page)));
    };
    app.limits.login_succeeded(&backoff).await?;
    PendingLogin::clear(jar);
    let user = accounts::find_active(&app.db, uid)
        .await?
        .ok_or_else(|| AppError::Forbidden {
            code: "banned",
            message: "This account is suspended.".into(),
        })?;
    log_in(app, &viewer, &sessions, &track, &user, &pending.via).await?;
    match factor {
        SecondFactor::Code => Ok(FormOutcome::Redirect(Redirect::to(safe_next(Some(
            &pending.next,
        ))))),
        SecondFactor::RecoveryCode { left } => {
            let detail = format!("{left} recovery codes left");
            security::record(
                &app.db,
                uid,
                Kind::RecoveryCodeUsed,
                Some(detail.clone()),
                sessions.origin(),
            )
            .await;
            security::notify(
                &app.mailer,
                &user,
                &user.email,
                Kind::RecoveryCodeUsed,
                Some(&detail),
            );
            // To the settings, where new codes are one step away.
            Ok(FormOutcome::Flash(Flash::warning(
                Redirect::to("/settings"),
                format!(
                    "You logged in with a recovery code; {left} are left. Make new ones under \"Two-factor authentication\" if you are running low."
                ),
            )))
        }
    }
}

/// The settings page of two-factor authentication.
fn manage_page(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    user: &Confirmed,
    enrolment: Option<Enrolment>,
    next: &str,
    error: Option<String>,
) -> Template {
    let u = &user.0.user;
    viewer.render(
        "settings/two_factor",
        context! {
            page_title: "Two-factor authentication",
            csrf_token: voter.csrf_token(&app.keys),
            enabled: u.two_factor(),
            admin: u.is_admin(),
            enrolment: enrolment.map(|e| context! { secret: e.secret, uri: e.uri, qr_svg: e.qr_svg }),
            next,
            error,
        },
    )
}

#[get("/settings/two-factor?<next>")]
async fn manage(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: Confirmed,
    next: Option<&str>,
) -> AppResult<Template> {
    let u = &user.0.user;
    let enrolment = if u.two_factor() {
        None
    } else {
        match two_factor::pending(&app.db, &app.keys, u).await? {
            Some(e) => Some(e),
            None => Some(two_factor::begin(&app.db, &app.keys, u).await?),
        }
    };
    let next = safe_next(next);
    Ok(manage_page(
        app, &viewer, &voter, &user, enrolment, &next, None,
    ))
}

/// A page showing new recovery codes (once).
fn codes_page(viewer: &Viewer, codes: &[String], next: &str, fresh: bool) -> Template {
    viewer.render(
        "settings/recovery_codes",
        context! {
            page_title: "Your recovery codes",
            codes,
            next,
            fresh,
        },
    )
}

#[post("/settings/two-factor", data = "<form>")]
async fn confirm_enrolment(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: Confirmed,
    origin: Origin,
    form: CsrfForm<CodeForm>,
) -> AppResult<(Status, Template)> {
    let f = form.0;
    let next = safe_next(f.next.as_deref());
    let u = &user.0.user;
    match two_factor::confirm(&app.db, &app.keys, &app.mailer, u, &f.code, origin).await {
        Ok(codes) => Ok((Status::Created, codes_page(&viewer, &codes, &next, true))),
        Err(AppError::Validation { mut fields, .. }) => {
            let enrolment = two_factor::pending(&app.db, &app.keys, u).await?;
            let page = manage_page(
                app,
                &viewer,
                &voter,
                &user,
                enrolment,
                &next,
                fields.remove("code"),
            );
            Ok((Status::UnprocessableEntity, page))
        }
        Err(e) => Err(e),
    }
}

#[post("/settings/two-factor/disable", data = "<form>")]
async fn disable(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: Confirmed,
    origin: Origin,
    form: CsrfForm<CodeForm>,
) -> AppResult<FormOutcome> {
    let f = form.0;
    let u = &user.0.user;
    match two_factor::disable(&app.db, &app.keys, &app.mailer, u, &f.code, origin).await {
        Ok(()) => Ok(FormOutcome::Flash(Flash::success(
            Redirect::to("/settings"),
            "Two-factor authentication is off.",
        ))),
        Err(AppError::Validation { mut fields, .. }) => {
            let page = manage_page(
                app,
                &viewer,
                &voter,
                &user,
                None,
                "/settings",
                fields.remove("code"),
            );
            Ok(FormOutcome::Form((Status::UnprocessableEntity, page)))
        }
        Err(e) => Err(e),
    }
}

#[post("/settings/two-factor/recovery-codes", data = "<form>")]
async fn renew_codes(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: Confirmed,
    origin: Origin,
    form: CsrfForm<CodeForm>,
) -> AppResult<(Status, Template)> {
    let f = form.0;
    let u = &user.0.user;
    match two_factor::renew_codes(&app.db, &app.keys, &app.mailer, u, &f.code, origin).await {
        Ok(codes) => Ok((
            Status::Created,
            codes_page(&viewer, &codes, "/settings", false),
        )),
        Err(AppError::Validation { mut fields, .. }) => {
            let page = manage_page(
                app,
                &viewer,
                &voter,
                &user,
                None,
                "/settings",
                fields.remove("code"),
            );
            Ok((Status::UnprocessableEntity, page))
        }
        Err(e) => Err(e),
    }
}
