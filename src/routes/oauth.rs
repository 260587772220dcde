//! Login with OAuth2 / OpenID Connect providers: `/auth/<provider>/start`, its callback, and the
//! first-login page that creates an account or links an existing one by its password.

use rocket::form::FromForm;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};
use serde::{Deserialize, Serialize};

use crate::analytics::{Event, Tracker};
use crate::auth::Voter;
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::oauth::{OAuthError, PENDING_MINUTES, Pending, ProviderUser};
use crate::auth::reauth::{self, NotNow, REAUTH_MINUTES};
use crate::auth::session::Sessions;
use crate::config::AuthConfig;
use crate::domain::Username;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::limits::Action;
use crate::models::security_event::Kind;
use crate::models::user::UserRow;
use crate::routes::accounts::{FormOutcome, check_password, finish_login, safe_next};
use crate::routes::signup::welcome_path;
use crate::routes::viewer::Viewer;
use crate::services::identities::{self, LinkingUser, Resolution};
use crate::services::{accounts, security, signup};
use crate::state::AppState;

/// The login in progress (state, nonce, PKCE verifier), between start and callback.
const PENDING_COOKIE: &str = "bb_oauth";
/// A verified provider identity waiting for its account, between callback and `/auth/finish`.
const NEW_IDENTITY_COOKIE: &str = "bb_oauth_new";

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![start, callback, finish_form, finish, link]
}

fn private_cookie(cfg: &AuthConfig, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/auth")
        .http_only(true)
        .secure(cfg.cookie_secure)
        // Lax: the provider's redirect back is a top-level GET navigation from another site.
        .same_site(SameSite::Lax)
        .max_age(rocket::time::Duration::minutes(PENDING_MINUTES))
        .build()
}

fn take<T: for<'de> Deserialize<'de>>(jar: &CookieJar<'_>, name: &'static str) -> Option<T> {
    let c = jar.get_private(name)?;
    jar.remove_private(Cookie::build(name).path("/auth"));
    serde_json::from_str(c.value()).ok()
}

fn peek<T: for<'de> Deserialize<'de>>(jar: &CookieJar<'_>, name: &'static str) -> Option<T> {
    serde_json::from_str(jar.get_private(name)?.value()).ok()
}

#[get("/auth/<provider>/start?<next>")]
async fn start(
    app: &AppState,
    viewer: Viewer,
    jar: &CookieJar<'_>,
    provider: &str,
    next: Option<&str>,
) -> AppResult<Redirect> {
    let link_user = viewer.user().map(|u| u.user.id);
    let (url, pending) = app
        .oauth
        .begin(provider, safe_next(next), link_user)
        .await?;
    let value = serde_json::to_string(&pending).map_err(|e| AppError::Internal(e.to_string()))?;
    jar.add_private(private_cookie(&app.config.auth, PENDING_COOKIE, value));
    Ok(Redirect::to(url))
}

/// A first login waiting for its account.
#[derive(Debug, Serialize, Deserialize)]
struct NewIdentity {
    who: ProviderUser,
    next: String,
    same_email_user: Option<String>,
    expires: i64,
}

/// What the provider sends back to the callback: a code and our state, or an error.
#[derive(Debug, FromForm)]
struct ProviderReply<'r> {
    code: Option<&'r str>,
    state: Option<&'r str>,
    error: Option<&'r str>,
}

#[get("/auth/<provider>/callback?<reply..>")]
async fn callback(
    app: &AppState,
    viewer: Viewer,
    sessions: Sessions<'_>,
    ip: ClientIp,
    track: Tracker,
    provider: &str,
    reply: ProviderReply<'_>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Login, ip.key()).await?;
    let (jar, oauth) = (sessions.jar(), &app.oauth);
    let ProviderReply { code, state, error } = reply;
    // Single use: the pending login leaves the browser whatever happens next.
    let pending: Option<Pending> = take(jar, PENDING_COOKIE);
    let Some(pending) = pending.filter(|p| p.provider == provider) else {
        return Err(OAuthError::StateMismatch.into());
    };
    if let Some(error) = error {
        return Err(OAuthError::Denied(error.chars().take(100).collect()).into());
    }
    let current = viewer.user().map(|u| u.user.id);
    let linking = viewer.user().map(|u| LinkingUser {
        id: u.user.id,
        may_link: reauth::check(u),
    });
    if pending.link_user.is_some() && pending.link_user != current {
        // Started by another (or no longer the same) logged-in user.
        return Err(OAuthError::StateMismatch.into());
    }
    let who = oauth
        .complete(&pending, state.unwrap_or(""), code.unwrap_or(""))
        .await?;
    let label = oauth.provider(provider)?.label.clone();
    match identities::resolve(&app.db, &who, linking).await? {
        Resolution::LogIn(user) => {
            let done = finish_login(
                app,
                &viewer,
                &sessions,
                &track,
                &user,
                pending.next,
                provider,
            );
            Ok(FormOutcome::Redirect(done.await?))
        }
        Resolution::Linked => {
            if let Some(user) = viewer.user() {
                let detail = Some(label.clone());
                security::record(
                    &app.db,
                    user.user.id,
                    Kind::IdentityLinked,
                    detail,
                    sessions.origin(),
                )
                .await;
                security::notify(
                    &app.mailer,
                    &user.user,
                    &user.user.email,
                    Kind::IdentityLinked,
                    Some(&label),
                );
            }
            Ok(FormOutcome::Flash(Flash::success(
                Redirect::to("/settings"),
                format!("Your {label} account is now linked: you can log in with it."),
            )))
        }
        Resolution::AlreadyLinked => {
            // Logging in at the provider again is a fresh proof of who they are.
            if let Some(user) = viewer.user() {
                reauth::renew(&app.db, user).await?;
            }
            Ok(FormOutcome::Flash(Flash::success(
                Redirect::to(pending.next),
                format!(
                    "Confirmed with your linked {label} account: for the next {REAUTH_MINUTES} \
                     minutes you can change your security settings."
                ),
            )))
        }
        Resolution::LinkRefused(why) => {
            let (target, message) = match why {
                NotNow::Stale => (
                    "/confirm?next=%2Fsettings",
                    format!("Confirm it is you, then link your {label} account again."),
                ),
                other => ("/settings", other.answer().2.to_string()),
            };
            Ok(FormOutcome::Flash(Flash::error(
                Redirect::to(target),
                message,
            )))
        }
        Resolution::NeedsAccount { same_email_user } => {
            let new = NewIdentity {
                who,
                next: pending.next,
                same_email_user,
                expires: chrono::Utc::now().timestamp() + PENDING_MINUTES * 60,
            };
            let value =
                serde_json::to_string(&new).map_err(|e| AppError::Internal(e.to_string()))?;
            jar.add_private(private_cookie(&app.config.auth, NEW_IDENTITY_COOKIE, value));
            Ok(FormOutcome::Redirect(Redirect::to("/auth/finish")))
        }
    }
}

/// Starts a new account's first session (a new id: no fixation) and keeps the visitor's
/// anonymous ballots.
async fn start_session(app: &AppState, sessions: &Sessions<'_>, user: &UserRow) -> AppResult<()> {
    let cookie_voter = sessions.cookie_voter();
    sessions.start(user.id).await?;
    accounts::adopt_ballots(&app.db, cookie_voter, user).await
}

fn pending_identity(jar: &CookieJar<'_>) -> AppResult<NewIdentity> {
    peek::<NewIdentity>(jar, NEW_IDENTITY_COOKIE)
        .filter(|n| n.expires >= chrono::Utc::now().timestamp())
        .ok_or_else(|| {
            AppError::bad_request(
                "oauth_state",
                "No sign-in is waiting to be finished in this browser, or it expired. Please \
                 start again from the login page.",
            )
        })
}

/// A username suggestion from the provider's hint: valid as it is, or cleaned up.
fn suggested_username(hint: Option<&str>) -> String {
    let Some(hint) = hint else {
        return String::new();
    };
    if let Ok(u) = Username::parse(hint) {
        return u.as_str().to_string();
    }
    let cleaned: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    Username::parse(&cleaned)
        .map(|u| u.as_str().to_string())
        .unwrap_or_default()
}

fn finish_page(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    new: &NewIdentity,
    form: (String, String, String),
    errors: FieldErrors,
) -> Template {
    let label = app
        .oauth
        .provider(&new.who.provider)
        .map(|p| p.label.clone())
        .unwrap_or_else(|_| new.who.provider.clone());
    let (username, email, login) = form;
    viewer.render(
        "accounts/oauth_finish",
        context! {
            page_title: "Finish signing in",
            csrf_token: voter.csrf_token(&app.keys),
            provider: label,
            same_email_user: &new.same_email_user,
            form: context! { username, email, login },
            errors: serde_json::to_value(&errors).unwrap_or_default(),
        },
    )
}

#[get("/auth/finish")]
async fn finish_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    jar: &CookieJar<'_>,
) -> AppResult<Template> {
    let new = pending_identity(jar)?;
    let form = (
        suggested_username(new.who.username_hint.as_deref()),
        new.who.email.clone().unwrap_or_default(),
        new.same_email_user.clone().unwrap_or_default(),
    );
    Ok(finish_page(
        app,
        &viewer,
        &voter,
        &new,
        form,
        FieldErrors::new(),
    ))
}

/// Create an account for the provider identity.
#[derive(Debug, FromForm)]
pub struct FinishForm {
    csrf_token: Option<String>,
    username: String,
    email: String,
}

csrf_protected!(FinishForm);

#[post("/auth/finish", data = "<form>")]
async fn finish(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    sessions: Sessions<'_>,
    ip: ClientIp,
    track: Tracker,
    form: CsrfForm<FinishForm>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Signup, ip.key()).await?;
    let jar = sessions.jar();
    let new = pending_identity(jar)?;
    let f = form.0;
    // The provider vouches for this very address: the account is made now. Any other address
    // gets a link (or, when taken, its owner a notice), as a sign-up with a password does.
    let vouched = new.who.email_verified
        && new
            .who
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(f.email.trim()));
    let made = if vouched {
        identities::create_account(&app.db, &new.who, &f.username, &f.email)
            .await
            .map(Some)
    } else {
        let (db, mailer, site) = (&app.db, &app.mailer, &app.config.site);
        signup::start_for_identity(db, mailer, site, &new.who, &f.username, &f.email, &new.next)
            .await
            .map(|()| None)
    };
    match made {
        Ok(Some(user)) => {
            jar.remove_private(Cookie::build(NEW_IDENTITY_COOKIE).path("/auth"));
            start_session(app, &sessions, &user).await?;
            tracing::info!(user = user.id, provider = %new.who.provider, "signed up through a provider");
            track.emit(Event::signup(user.id));
            Ok(FormOutcome::Redirect(Redirect::to(welcome_path(&new.next))))
        }
        Ok(None) => {
            jar.remove_private(Cookie::build(NEW_IDENTITY_COOKIE).path("/auth"));
            Ok(FormOutcome::Flash(Flash::success(
                Redirect::to("/signup/sent"),
                format!(
                    "We sent a message to {}. Open the link in it to finish signing up (it works for {} hours).",
                    f.email.trim(),
                    signup::LINK_HOURS
                ),
            )))
        }
        Err(AppError::Validation { fields, .. }) => Ok(FormOutcome::Form((
            Status::UnprocessableEntity,
            finish_page(
                app,
                &viewer,
                &voter,
                &new,
                (
                    f.username.trim().to_string(),
                    f.email.trim().to_string(),
                    new.same_email_user.clone().unwrap_or_default(),
                ),
                fields,
            ),
        ))),
        Err(e) => Err(e),
    }
}

/// Link the provider identity to an existing account, confirmed by its password.
#[derive(Debug, FromForm)]
pub struct LinkForm {
    csrf_token: Option<String>,
    login: String,
    password: String,
}

csrf_protected!(LinkForm);

#[post("/auth/link", data = "<form>")]
async fn link(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    sessions: Sessions<'_>,
    ip: ClientIp,
    track: Tracker,
    form: CsrfForm<LinkForm>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Login, ip.key()).await?;
    let jar = sessions.jar();
    let new = pending_identity(jar)?;
    let f = form.0;
    match check_password(app, &f.login, &f.password, sessions.origin()).await {
        Ok(user) => {
            identities::link_existing(&app.db, &new.who, &user).await?;
            let label = app
                .oauth
                .provider(&new.who.provider)
                .map(|p| p.label.clone())
                .unwrap_or_else(|_| new.who.provider.clone());
            security::record(
                &app.db,
                user.id,
                Kind::IdentityLinked,
                Some(label.clone()),
                sessions.origin(),
            )
            .await;
            security::notify(
                &app.mailer,
                &user,
                &user.email,
                Kind::IdentityLinked,
                Some(&label),
            );
            jar.remove_private(Cookie::build(NEW_IDENTITY_COOKIE).path("/auth"));
            let (next, via) = (new.next.clone(), new.who.provider.clone());
            let done = finish_login(app, &viewer, &sessions, &track, &user, next, &via);
            Ok(FormOutcome::Redirect(done.await?))
        }
        Err(AppError::Validation {
            fields: mut errors, ..
        }) => {
            let message = errors.remove("form").unwrap_or_default();
            errors.insert("link", message);
            Ok(FormOutcome::Form((
                Status::UnprocessableEntity,
                finish_page(
                    app,
                    &viewer,
                    &voter,
                    &new,
                    (
                        suggested_username(new.who.username_hint.as_deref()),
                        new.who.email.clone().unwrap_or_default(),
                        f.login.trim().to_string(),
                    ),
                    errors,
                ),
            )))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::suggested_username;

    #[test]
    fn suggests_valid_usernames() {
        assert_eq!(suggested_username(None), "");
        assert_eq!(suggested_username(Some("octo")), "octo");
        let s = suggested_username(Some("Mock User!"));
        assert!(crate::domain::Username::parse(&s).is_ok(), "{s}");
    }
}
