//! `/confirm`: a logged-in user proves who they are again (password, or a linked login provider)
//! before a sensitive change; see `auth::reauth`.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::Voter;
use crate::auth::client_ip::ClientIp;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::auth::reauth::{self, REAUTH_MINUTES};
use crate::auth::session::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::models::security_event::Origin;
use crate::routes::accounts::{FormOutcome, check_password, safe_next};
use crate::routes::viewer::Viewer;
use crate::services::identities;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![confirm_form, confirm]
}

async fn page(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    user: &CurrentUser,
    next: &str,
    error: Option<&str>,
) -> AppResult<Template> {
    let linked = identities::list(&app.db, user.user.id).await?;
    let providers: Vec<serde_json::Value> = app
        .oauth
        .buttons()
        .into_iter()
        .filter(|b| linked.iter().any(|i| b["name"] == i.provider.as_str()))
        .collect();
    Ok(viewer.render(
        "accounts/confirm",
        context! {
            page_title: "Confirm it is you",
            csrf_token: voter.csrf_token(&app.keys),
            username: &user.user.username,
            has_password: user.user.password_hash.is_some(),
            providers,
            next,
            error,
            minutes: REAUTH_MINUTES,
        },
    ))
}

#[get("/confirm?<next>")]
async fn confirm_form(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    next: Option<&str>,
) -> AppResult<Template> {
    page(app, &viewer, &voter, &user, &safe_next(next), None).await
}

/// The password, again.
#[derive(Debug, FromForm)]
pub struct ConfirmForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    password: String,
    next: Option<String>,
}

csrf_protected!(ConfirmForm);

#[post("/confirm", data = "<form>")]
async fn confirm(
    app: &AppState,
    viewer: Viewer,
    voter: Voter,
    user: CurrentUser,
    ip: ClientIp,
    origin: Origin,
    form: CsrfForm<ConfirmForm>,
) -> AppResult<FormOutcome> {
    app.limits.check(Action::Login, ip.key()).await?;
    let f = form.0;
    let next = safe_next(f.next.as_deref());
    if user.scopes.is_some() {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "This needs a browser session.".into(),
        });
    }
    match check_password(app, &user.user.username, &f.password, origin).await {
        Ok(found) if found.id == user.user.id => {
            reauth::renew(&app.db, &user).await?;
            tracing::info!(user = user.user.id, "confirmed again");
            Ok(FormOutcome::Flash(Flash::success(
                Redirect::to(next),
                format!(
                    "Thank you. For the next {REAUTH_MINUTES} minutes you can change your security settings."
                ),
            )))
        }
        Ok(_) | Err(AppError::Validation { .. }) => {
            let page = page(
                app,
                &viewer,
                &voter,
                &user,
                &next,
                Some("That is not the password of this account."),
            )
            .await?;
            Ok(FormOutcome::Form((Status::UnprocessableEntity, page)))
        }
        Err(e) => Err(e),
    }
}
