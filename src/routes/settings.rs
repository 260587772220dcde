//! `/settings`: email, password, sessions ("log out everywhere").

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash as FlashRedirect, Redirect};
use rocket::{State, get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::csrf::{CsrfForm, CsrfProtected};
use crate::auth::session::{self, CurrentUser};
use crate::auth::{Keys, Voter};
use crate::config::AppConfig;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::models::{self, session as sessions};
use crate::routes::accounts::{FormOutcome, TokenForm};
use crate::routes::viewer::Viewer;
use crate::routes::views::human_time;
use crate::services::accounts::{self, FieldErrors, FormError};

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![show, change_email, change_password, revoke_all, revoke]
}

async fn render(
    db: &Db,
    viewer: &Viewer,
    voter: &Voter,
    keys: &Keys,
    user: &CurrentUser,
    notice: Option<String>,
    errors: FieldErrors,
) -> AppResult<Template> {
    let now = models::now();
    let uid = user.user.id;
    let rows = db
        .run(move |c| Ok(sessions::for_user(c, uid, now)?))
        .await?;
    let list: Vec<_> = rows
        .iter()
        .map(|s| {
            context! {
                id: &s.id[..16],
                created_human: human_time(s.created_at, now),
                last_seen_human: human_time(s.last_seen_at, now),
                user_agent: &s.user_agent,
                current: s.id == user.session_id,
            }
        })
        .collect();
    Ok(viewer.render(
        "settings/index",
        context! {
            page_title: "Settings",
            csrf_token: voter.csrf_token(keys),
            user: context! {
                username: &user.user.username,
                email: &user.user.email,
                email_verified: user.verified(),
            },
            notice,
            errors: serde_json::to_value(&errors).unwrap_or_default(),
            sessions: list,
        },
    ))
}

#[get("/settings")]
async fn show(
    db: &State<Db>,
    keys: &State<Keys>,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    flash: Option<rocket::request::FlashMessage<'_>>,
) -> AppResult<Template> {
    let notice = flash.map(|f| f.message().to_string());
    render(db, &viewer, &voter, keys, &user, notice, FieldErrors::new()).await
}

/// Change of email.
#[derive(Debug, FromForm)]
pub struct EmailForm {
    csrf_token: Option<String>,
    email: String,
    password: String,
}

impl CsrfProtected for EmailForm {
    fn csrf_token(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

async fn outcome(
    result: Result<(), FormError>,
    done: &'static str,
    ctx: (&Db, &Viewer, &Voter, &Keys, &CurrentUser),
) -> AppResult<FormOutcome> {
    match result {
        Ok(()) => Ok(FormOutcome::Flash(FlashRedirect::success(
            Redirect::to("/settings"),
            done,
        ))),
        Err(FormError::App(e)) => Err(e),
        Err(FormError::Fields(errors)) => {
            let (db, viewer, voter, keys, user) = ctx;
            let page = render(db, viewer, voter, keys, user, None, errors).await?;
            Ok(FormOutcome::Form((Status::UnprocessableEntity, page)))
        }
    }
}

#[post("/settings/email", data = "<form>")]
async fn change_email(
    db: &State<Db>,
    keys: &State<Keys>,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    form: CsrfForm<EmailForm>,
) -> AppResult<FormOutcome> {
    let f = form.0;
    let result = accounts::change_email(db, &user.user, &f.email, &f.password).await;
    outcome(
        result,
        "Your email address was changed.",
        (db, &viewer, &voter, keys, &user),
    )
    .await
}

/// Change of password.
#[derive(Debug, FromForm)]
pub struct PasswordForm {
    csrf_token: Option<String>,
    current_password: String,
    password: String,
}

impl CsrfProtected for PasswordForm {
    fn csrf_token(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

#[post("/settings/password", data = "<form>")]
async fn change_password(
    db: &State<Db>,
    keys: &State<Keys>,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    form: CsrfForm<PasswordForm>,
) -> AppResult<FormOutcome> {
    let f = form.0;
    let result = accounts::change_password(db, &user.user, &f.current_password, &f.password).await;
    outcome(
        result,
        "Your password was changed.",
        (db, &viewer, &voter, keys, &user),
    )
    .await
}

#[post("/settings/sessions/revoke-all", data = "<form>")]
async fn revoke_all(
    db: &State<Db>,
    cfg: &State<AppConfig>,
    user: CurrentUser,
    jar: &CookieJar<'_>,
    form: CsrfForm<TokenForm>,
) -> AppResult<FlashRedirect<Redirect>> {
    let _ = form;
    let uid = user.user.id;
    let n = db.write(move |c| Ok(sessions::delete_all(c, uid)?)).await?;
    jar.remove(rocket::http::Cookie::build(session::cookie_name(cfg)).path("/"));
    tracing::info!(user = uid, sessions = n, "logged out everywhere");
    Ok(FlashRedirect::success(
        Redirect::to("/login"),
        "You are logged out on every device.",
    ))
}

#[post("/settings/sessions/<id>/revoke", data = "<form>")]
async fn revoke(
    db: &State<Db>,
    user: CurrentUser,
    id: &str,
    form: CsrfForm<TokenForm>,
) -> AppResult<FlashRedirect<Redirect>> {
    let _ = form;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound("No such session.".into()));
    }
    let (uid, prefix) = (user.user.id, id.to_string());
    let now = models::now();
    let removed = db
        .write(move |c| {
            let target = sessions::for_user(c, uid, now)?
                .into_iter()
                .find(|s| s.id.starts_with(&prefix));
            match target {
                Some(s) => Ok(sessions::delete(c, uid, &s.id)?),
                None => Ok(false),
            }
        })
        .await?;
    if !removed {
        return Err(AppError::NotFound("No such session.".into()));
    }
    Ok(FlashRedirect::success(
        Redirect::to("/settings"),
        "That session was logged out.",
    ))
}
