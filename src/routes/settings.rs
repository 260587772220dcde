//! `/settings`: email, password, sessions ("log out everywhere").

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::Voter;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::session::{self, CurrentUser, Sessions};
use crate::domain::{Scopes, TokenLifetime};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::{self, api_token, session as sessions};
use crate::routes::accounts::{FormOutcome, TokenForm};
use crate::routes::viewer::Viewer;
use crate::routes::views::human_time;
use crate::services::{accounts, identities, recovery};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![
        show,
        change_email,
        change_password,
        revoke_all,
        revoke,
        create_token,
        revoke_token,
        unlink_identity
    ]
}

/// What the settings page shows besides the account: a message, field problems, a new token.
#[derive(Debug, Default)]
struct Shown {
    notice: Option<String>,
    errors: FieldErrors,
    new_token: Option<String>,
}

async fn render(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    user: &CurrentUser,
    shown: Shown,
) -> AppResult<Template> {
    let (db, oauth) = (&app.db, &app.oauth);
    let Shown {
        notice,
        errors,
        new_token,
    } = shown;
    let now = models::now();
    let uid = user.user.id;
    let (rows, tokens) = db
        .run(move |c| {
            Ok((
                sessions::for_user(c, uid, now)?,
                api_token::for_user(c, uid, now)?,
            ))
        })
        .await?;
    let tokens: Vec<_> = tokens
        .iter()
        .map(|t| {
            context! {
                id: t.id,
                name: &t.name,
                hint: &t.hint,
                scopes: &t.scopes,
                created_human: human_time(t.created_at, now),
                expires_human: t.expires_at.map(|e| human_time(e, now)),
                last_used_human: t.last_used_at.map(|u| human_time(u, now)),
            }
        })
        .collect();
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
    let linked = identities::list(db, uid).await?;
    let identities: Vec<_> = linked
        .iter()
        .map(|i| {
            let label = oauth
                .provider(&i.provider)
                .map(|p| p.label.clone())
                .unwrap_or_else(|_| i.provider.clone());
            context! {
                id: i.id,
                label,
                email: &i.email,
                created_human: human_time(i.created_at, now),
            }
        })
        .collect();
    Ok(viewer.render(
        "settings/index",
        context! {
            page_title: "Settings",
            csrf_token: voter.csrf_token(&app.keys),
            user: context! {
                username: &user.user.username,
                email: &user.user.email,
                email_verified: user.verified(),
            },
            notice,
            errors: serde_json::to_value(&errors).unwrap_or_default(),
            sessions: list,
            tokens,
            new_token,
            identities,
            providers: oauth.buttons(),
        },
    ))
}

#[get("/settings")]
async fn show(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    flash: Option<rocket::request::FlashMessage<'_>>,
) -> AppResult<Template> {
    let notice = flash.map(|f| f.message().to_string());
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    render(app, &viewer, &voter, &user, shown).await
}

/// Change of email.
#[derive(Debug, FromForm)]
pub struct EmailForm {
    csrf_token: Option<String>,
    email: String,
    password: String,
}

csrf_protected!(EmailForm);

/// Back to the settings with `done`, or the page again with the form's problems.
async fn outcome(
    result: AppResult<()>,
    done: &'static str,
    ctx: (&AppState, &Viewer, &Voter, &CurrentUser),
) -> AppResult<FormOutcome> {
    match result {
        Ok(()) => Ok(FormOutcome::Flash(Flash::success(
            Redirect::to("/settings"),
            done,
        ))),
        Err(AppError::Validation { fields, .. }) => {
            let (app, viewer, voter, user) = ctx;
            let shown = Shown {
                errors: fields,
                ..Shown::default()
            };
            let page = render(app, viewer, voter, user, shown).await?;
            Ok(FormOutcome::Form((Status::UnprocessableEntity, page)))
        }
        Err(e) => Err(e),
    }
}

#[post("/settings/email", data = "<form>")]
async fn change_email(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    form: CsrfForm<EmailForm>,
) -> AppResult<FormOutcome> {
    let (db, f) = (&app.db, form.0);
    let result = accounts::change_email(db, &user.user, &f.email, &f.password).await;
    if result.is_ok() {
        let uid = user.user.id;
        let updated = db.run(move |c| Ok(models::user::find(c, uid)?)).await?;
        recovery::send_verification(db, &app.mailer, &app.config.site, &updated).await?;
    }
    outcome(
        result,
        "Your email address was changed.",
        (app, &viewer, &voter, &user),
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

csrf_protected!(PasswordForm);

#[post("/settings/password", data = "<form>")]
async fn change_password(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    form: CsrfForm<PasswordForm>,
) -> AppResult<FormOutcome> {
    let f = form.0;
    let result =
        accounts::change_password(&app.db, &user.user, &f.current_password, &f.password).await;
    outcome(
        result,
        "Your password was changed.",
        (app, &viewer, &voter, &user),
    )
    .await
}

#[post("/settings/sessions/revoke-all", data = "<form>")]
async fn revoke_all(
    app: &AppState,
    user: CurrentUser,
    browser: Sessions<'_>,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    let uid = user.user.id;
    let n = app
        .db
        .write(move |c| Ok(sessions::delete_all(c, uid)?))
        .await?;
    browser.forget();
    tracing::info!(user = uid, sessions = n, "logged out everywhere");
    Ok(Flash::success(
        Redirect::to("/login"),
        "You are logged out on every device.",
    ))
}

#[post("/settings/sessions/<id>/revoke", data = "<form>")]
async fn revoke(
    app: &AppState,
    user: CurrentUser,
    id: &str,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound("No such session.".into()));
    }
    let (uid, prefix) = (user.user.id, id.to_string());
    let now = models::now();
    let removed = app
        .db
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
    Ok(Flash::success(
        Redirect::to("/settings"),
        "That session was logged out.",
    ))
}

/// A new API token: its label, what it may do, how many days it lives.
#[derive(Debug, FromForm)]
pub struct TokenNameForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    name: String,
    scope: Vec<String>,
    #[field(default = String::new())]
    days: String,
}

csrf_protected!(TokenNameForm);

#[post("/settings/tokens", data = "<form>")]
async fn create_token(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    form: CsrfForm<TokenNameForm>,
) -> AppResult<(Status, Template)> {
    let f = form.0;
    let name = f.name.trim().to_string();
    let scopes = Scopes::parse(f.scope.iter().map(String::as_str));
    let lifetime = TokenLifetime::parse(&f.days);
    let problem = if name.is_empty() || name.chars().count() > 64 {
        Some("Give the token a name of 1 to 64 characters.".to_string())
    } else {
        scopes
            .as_ref()
            .err()
            .or(lifetime.as_ref().err())
            .map(|e| e.message.clone())
    };
    let (Ok(scopes), Ok(lifetime), None) = (scopes, lifetime, problem.clone()) else {
        let shown = Shown {
            errors: FieldErrors::from([("token", problem.unwrap_or_default())]),
            ..Shown::default()
        };
        let page = render(app, &viewer, &voter, &user, shown).await?;
        return Ok((Status::UnprocessableEntity, page));
    };
    let token = session::create_api_token(&app.db, user.user.id, &name, scopes, lifetime).await?;
    let shown = Shown {
        notice: Some("Copy your new token now: it is shown only once.".to_string()),
        new_token: Some(token),
        ..Shown::default()
    };
    let page = render(app, &viewer, &voter, &user, shown).await?;
    Ok((Status::Created, page))
}

#[post("/settings/tokens/<id>/revoke", data = "<form>")]
async fn revoke_token(
    app: &AppState,
    user: CurrentUser,
    id: i64,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    let uid = user.user.id;
    let now = models::now();
    if !app
        .db
        .write(move |c| Ok(api_token::revoke(c, uid, id, now)?))
        .await?
    {
        return Err(AppError::NotFound("No such token.".into()));
    }
    Ok(Flash::success(
        Redirect::to("/settings"),
        "The token was revoked.",
    ))
}

#[post("/settings/identities/<id>/unlink", data = "<form>")]
async fn unlink_identity(
    app: &AppState,
    user: CurrentUser,
    id: i64,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    identities::unlink(&app.db, user.user.id, id).await?;
    Ok(Flash::success(
        Redirect::to("/settings"),
        "The account was unlinked.",
    ))
}
