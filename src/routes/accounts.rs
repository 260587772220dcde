//! Login (password, then the second factor when it is on) and logout (HTML forms).

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::analytics::{Event, Tracker};
use crate::auth::Voter;
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::session::{CurrentUser, Sessions};
use crate::error::{AppError, AppResult};
use crate::limits::{Action, LoginKeys};
use crate::models::security_event::{Kind, Origin};
use crate::models::user::UserRow;
use crate::routes::questions::Notice;
use crate::routes::viewer::Viewer;
use crate::services::{accounts, security};
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![login_form, login, logout]
}

/// A local path to return to after login; anything else (other sites, `//host`) becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("://")
                && n.len() <= 512
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// A page or a redirect.
#[derive(rocket::Responder)]
pub enum FormOutcome {
    /// Done: go on.
    Redirect(Redirect),
    /// Done: go on, with a message.
    Flash(Flash<Redirect>),
    /// Show the form again, with a status.
    Form((Status, Template)),
}

#[get("/login?<next>")]
async fn login_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    flash: Option<rocket::request::FlashMessage<'_>>,
    next: Option<&str>,
) -> Template {
    // A flash keeps its kind; the reason for a detour through this page is information, not
    // success.
    let notice = match flash {
        Some(f) => Some(Notice::from(f)),
        None => next
            .is_some()
            .then(|| Notice::info("Please log in to continue.")),
    };
    viewer.render(
        "accounts/login",
        context! {
            page_title: "Log in",
            csrf_token: voter.csrf_token(&app.keys),
            providers: app.oauth.buttons(),
            next: safe_next(next),
            form: context! { username: "" },
            error: Option::<String>::None,
            notice,
        },
    )
}

/// Checks a login and its password under the login's back-off ([`LoginKeys`]: the account the
/// login names, so every spelling of it shares one count, and the folded text): refused at once
/// while backing off; a wrong password counts towards it, a right one clears it.
pub async fn check_password(
    app: &AppState,
    login: &str,
    password: &str,
    origin: Origin,
) -> AppResult<UserRow> {
    let limits = &app.limits;
    let found = accounts::find_login(&app.db, login).await?;
    let account = found.as_ref().map(|u| u.id);
    let keys = LoginKeys::new(account, login);
    limits.check_login_backoff(&keys).await?;
    let result = accounts::check_login_password(found, password).await;
    match &result {
        Ok(_) => limits.login_succeeded(&keys).await?,
        Err(AppError::Validation { .. }) => {
            limits.login_failed(&keys).await?;
            // Into the account's security log (an unknown login has none).
            if let Some(id) = account {
                let detail = Some("wrong password".to_string());
                security::record(&app.db, id, Kind::LoginFailed, detail, origin).await;
            }
        }
        Err(_) => {}
    }
    result
}

/// The login form; `username` may be a username or an email.
#[derive(Debug, FromForm)]
pub struct LoginForm {
    csrf_token: Option<String>,
    username: String,
    password: String,
    next: Option<String>,
}

csrf_protected!(LoginForm);

#[post("/login", data = "<form>")]
async fn login(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    sessions: Sessions<'_>,
    ip: ClientIp,
    track: Tracker,
    form: CsrfForm<LoginForm>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Login, ip.key()).await?;
    let f = form.0;
    let next = safe_next(f.next.as_deref());
    match check_password(app, &f.username, &f.password, sessions.origin()).await {
        Ok(user) => {
            let done = finish_login(app, &viewer, &sessions, &track, &user, next, "password");
            Ok(FormOutcome::Redirect(done.await?))
        }
        Err(AppError::Validation { fields, .. }) => Ok(FormOutcome::Form((
            Status::UnprocessableEntity,
            viewer.render(
                "accounts/login",
                context! {
                    page_title: "Log in",
                    csrf_token: voter.csrf_token(&app.keys),
                    providers: app.oauth.buttons(),
                    next,
                    form: context! { username: f.username.trim() },
                    error: fields.values().next(),
                    notice: Option::<Notice>::None,
                },
            ),
        ))),
        Err(e) => Err(e),
    }
}

/// The browser's login between the password (or provider) step and the second factor.
pub const PENDING_LOGIN_COOKIE: &str = "bb_2fa";
/// How long the second step waits.
pub const PENDING_LOGIN_MINUTES: i64 = 5;

/// A login waiting for its second factor (in a private cookie: encrypted and signed).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingLogin {
    /// The account.
    pub user_id: i64,
    /// Where to go after.
    pub next: String,
    /// How the first step was passed (`password` or a provider's name).
    pub via: String,
    /// Unix seconds after which it is void.
    pub expires: i64,
    /// Wrong codes so far.
    pub tries: u8,
}

impl PendingLogin {
    /// The pending login in this browser, if it has not expired.
    pub fn of(jar: &rocket::http::CookieJar<'_>) -> Option<PendingLogin> {
        let c = jar.get_private(PENDING_LOGIN_COOKIE)?;
        serde_json::from_str::<PendingLogin>(c.value())
            .ok()
            .filter(|p| p.expires >= chrono::Utc::now().timestamp())
    }

    /// Stores it in the browser.
    pub fn save(&self, jar: &rocket::http::CookieJar<'_>, secure: bool) {
        let Ok(value) = serde_json::to_string(self) else {
            return;
        };
        let cookie = rocket::http::Cookie::build((PENDING_LOGIN_COOKIE, value))
            .path("/login")
            .http_only(true)
            .secure(secure)
            .same_site(rocket::http::SameSite::Lax)
            .max_age(rocket::time::Duration::minutes(PENDING_LOGIN_MINUTES));
        jar.add_private(cookie);
    }

    /// Removes it from the browser.
    pub fn clear(jar: &rocket::http::CookieJar<'_>) {
        jar.remove_private(rocket::http::Cookie::build(PENDING_LOGIN_COOKIE).path("/login"));
    }
}

/// After the password (or provider) step of `user`'s login: with two-factor authentication on,
/// the browser goes to `/login/2fa` (nothing is logged in yet); otherwise the login is done.
/// Returns where to go.
pub async fn finish_login(
    app: &AppState,
    viewer: &Viewer,
    sessions: &Sessions<'_>,
    track: &Tracker,
    user: &UserRow,
    next: String,
    via: &str,
) -> AppResult<Redirect> {
    if user.two_factor() {
        let pending = PendingLogin {
            user_id: user.id,
            next,
            via: via.to_string(),
            expires: chrono::Utc::now().timestamp() + PENDING_LOGIN_MINUTES * 60,
            tries: 0,
        };
        pending.save(sessions.jar(), app.config.auth.cookie_secure);
        return Ok(Redirect::to("/login/2fa"));
    }
    log_in(app, viewer, sessions, track, user, via).await?;
    Ok(Redirect::to(next))
}

/// Logs `user` in (every step passed): a new session (a new id: no fixation; an older session in
/// this browser ends), the visitor's anonymous ballots adopted, the login recorded.
pub async fn log_in(
    app: &AppState,
    viewer: &Viewer,
    sessions: &Sessions<'_>,
    track: &Tracker,
    user: &UserRow,
    via: &str,
) -> AppResult<()> {
    if let Some(old) = viewer.user() {
        sessions.end(old).await?;
    }
    let cookie_voter = sessions.cookie_voter();
    sessions.start(user.id).await?;
    accounts::adopt_ballots(&app.db, cookie_voter, user).await?;
    security::record(
        &app.db,
        user.id,
        Kind::Login,
        Some(via.to_string()),
        sessions.origin(),
    )
    .await;
    track.emit(Event::login(user.id, via));
    Ok(())
}

/// The logout form (only the token).
#[derive(Debug, FromForm)]
pub struct TokenForm {
    csrf_token: Option<String>,
}

csrf_protected!(TokenForm);

#[post("/logout", data = "<form>")]
async fn logout(
    user: CurrentUser,
    sessions: Sessions<'_>,
    form: CsrfForm<TokenForm>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    sessions.end(&user).await?;
    Ok(Flash::success(Redirect::to("/"), "You are logged out."))
}
