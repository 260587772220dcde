//! `/settings`: email, password, sessions ("log out everywhere"); its "Your data" forms are
//! `routes::your_data`'s.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::Voter;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::reauth::Confirmed;
use crate::auth::session::{CurrentUser, Sessions};
use crate::domain::{Scopes, TokenLifetime};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::security_event::Kind;
use crate::models::security_event::Origin;
use crate::models::{self, api_token, session as sessions};
use crate::routes::accounts::{FormOutcome, TokenForm};
use crate::routes::questions::Notice;
use crate::routes::viewer::Viewer;
use crate::routes::views::{device_name, human_time};
use crate::services::{accounts, breakdowns, identities, recovery, security};
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
        unlink_identity,
        profile_answers
    ]
}

/// What the settings page shows besides the account: a message, field problems, a new token.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    pub(crate) notice: Option<Notice>,
    pub(crate) errors: FieldErrors,
    pub(crate) new_token: Option<String>,
}

/// The settings page with what `shown` adds (also the "Your data" forms' page: `routes::your_data`).
pub(crate) async fn render(
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
                device: s.user_agent.as_deref().and_then(device_name),
                user_agent: &s.user_agent,
                current: s.id == user.session_id,
            }
        })
        .collect();
    let events = security::recent(db, uid).await?;
    let activity: Vec<_> = events
        .iter()
        .map(|e| {
            context! {
                what: Kind::describe(&e.kind),
                detail: e.detail.as_deref().map(|d| d.lines().next().unwrap_or("").to_string()),
                when_human: human_time(e.created_at, now),
                when: crate::routes::views::iso(e.created_at),
                user_agent: &e.user_agent,
                device: e.user_agent.as_deref().and_then(device_name),
                network: e.network.as_deref().map(|n| n.chars().take(8).collect::<String>()),
                alarm: matches!(e.kind.as_str(), "login_failed" | "revoked_token_used"),
            }
        })
        .collect();
    let segments = breakdowns::answers_of(db, &app.cache, uid).await?;
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
                has_password: user.user.password_hash.is_some(),
                two_factor: user.user.two_factor(),
                is_admin: user.user.is_admin(),
            },
            notice,
            errors: serde_json::to_value(&errors).unwrap_or_default(),
            sessions: list,
            tokens,
            new_token,
            identities,
            activity,
            providers: oauth.buttons(),
            segments,
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
    let notice = flash.map(Notice::from);
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

/// How the user proves it is them for an email or password change: the current password if the
/// account has one, else a recent login.
fn proof<'a>(user: &CurrentUser, typed: &'a str) -> accounts::Proof<'a> {
    accounts::Proof {
        password: typed,
        recent_login: user.recently_authenticated(models::now()),
    }
}

/// An account without a password changes its email or password only after a recent login:
/// otherwise the browser goes to confirm it first.
fn needs_confirming(user: &CurrentUser) -> Option<FormOutcome> {
    let stale = user.user.password_hash.is_none()
        && user.verified()
        && !user.recently_authenticated(models::now());
    stale.then(|| FormOutcome::Redirect(Redirect::to("/confirm?next=%2Fsettings")))
}

#[post("/settings/email", data = "<form>")]
async fn change_email(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    origin: Origin,
    form: CsrfForm<EmailForm>,
) -> AppResult<FormOutcome> {
    if let Some(confirm) = needs_confirming(&user) {
        return Ok(confirm);
    }
    let (db, f) = (&app.db, form.0);
    let proof = proof(&user, &f.password);
    let result = accounts::change_email(db, &app.mailer, &user.user, &f.email, proof, origin).await;
    if result.is_ok() {
        let uid = user.user.id;
        let updated = db.run(move |c| Ok(models::user::find(c, uid)?)).await?;
        recovery::send_verification(db, &app.mailer, &app.config.site, &updated).await?;
    }
    outcome(
        result,
        "Your email address was changed: open the link we sent to the new address to confirm it.",
        (app, &viewer, &voter, &user),
    )
    .await
}

/// Change of password.
#[derive(Debug, FromForm)]
pub struct PasswordForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    current_password: String,
    password: String,
    /// Log out this browser too (the other sessions end anyway).
    #[field(default = false)]
    logout_here: bool,
}

csrf_protected!(PasswordForm);

#[post("/settings/password", data = "<form>")]
async fn change_password(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    browser: Sessions<'_>,
    origin: Origin,
    form: CsrfForm<PasswordForm>,
) -> AppResult<FormOutcome> {
    if let Some(confirm) = needs_confirming(&user) {
        return Ok(confirm);
    }
    let f = form.0;
    let change = accounts::PasswordChange {
        proof: proof(&user, &f.current_password),
        new: &f.password,
        keep_session: (!f.logout_here).then_some(user.session_id.as_str()),
    };
    let result = accounts::change_password(&app.db, &app.mailer, &user.user, change, origin).await;
    if let Ok(revoked) = &result {
        tracing::info!(
            user = user.user.id,
            sessions = revoked.sessions,
            tokens = revoked.tokens,
            identities = revoked.identities,
            "password changed"
        );
        if f.logout_here {
            browser.forget();
            return Ok(FormOutcome::Flash(Flash::success(
                Redirect::to("/login"),
                "Your password was changed and every device was logged out. Log in with the new password.",
            )));
        }
    }
    outcome(
        result.map(|_| ()),
        "Your password was changed. Your other devices were logged out and your API tokens revoked.",
        (app, &viewer, &voter, &user),
    )
    .await
}

#[post("/settings/sessions/revoke-all", data = "<form>")]
async fn revoke_all(
    app: &AppState,
    user: CurrentUser,
    browser: Sessions<'_>,
    origin: Origin,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    let uid = user.user.id;
    let revoked = accounts::log_out_everywhere(&app.db, uid, origin).await?;
    browser.forget();
    tracing::info!(
        user = uid,
        sessions = revoked.sessions,
        tokens = revoked.tokens,
        "logged out everywhere"
    );
    Ok(Flash::success(
        Redirect::to("/login"),
        "You are logged out on every device, and your API tokens are revoked.",
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
    user: Confirmed,
    origin: Origin,
    form: CsrfForm<TokenNameForm>,
) -> AppResult<(Status, Template)> {
    let Confirmed(user) = user;
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
    let token = accounts::create_token(
        &app.db,
        &app.mailer,
        &user.user,
        &name,
        scopes,
        lifetime,
        origin,
    )
    .await?;
    let shown = Shown {
        notice: Some(Notice::ok(
            "Copy your new token now: it is shown only once.",
        )),
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
    origin: Origin,
    id: i64,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    identities::unlink(&app.db, user.user.id, id).await?;
    security::record(&app.db, user.user.id, Kind::IdentityUnlinked, None, origin).await;
    Ok(Flash::success(
        Redirect::to("/settings"),
        "The account was unlinked.",
    ))
}

/// The member's optional profile answers: `answers[<segment key>]` = a value, or "" for
/// "prefer not to say".
#[derive(Debug, FromForm)]
pub struct AnswersForm {
    csrf_token: Option<String>,
    answers: std::collections::BTreeMap<String, String>,
}

csrf_protected!(AnswersForm);

#[post("/settings/profile", data = "<form>")]
async fn profile_answers(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    form: CsrfForm<AnswersForm>,
) -> AppResult<FormOutcome> {
    let answers = form.0.answers;
    let result = breakdowns::set_answers(&app.db, &app.cache, user.user.id, answers).await;
    outcome(
        result,
        "Your profile answers are saved.",
        (app, &viewer, &voter, &user),
    )
    .await
}
