//! `Viewer`: renders a template with what every page shows about the visitor (the header's user
//! menu and its logout token).

use rocket::outcome::try_outcome;
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::session::{self, CurrentUser};
use crate::auth::{Keys, Voter};

/// The visitor, as the page header needs it.
#[derive(Debug, Clone)]
pub struct Viewer {
    user: Option<CurrentUser>,
    header_csrf: String,
}

impl Viewer {
    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&CurrentUser> {
        self.user.as_ref()
    }

    /// Renders `name` with `context` plus `current_user` and `header_csrf`.
    pub fn render(&self, name: &'static str, context: impl Serialize) -> Template {
        Template::render(name, self.context(context))
    }

    /// `context` plus `current_user` and `header_csrf`, as [`Viewer::render`] renders it.
    pub fn context(&self, context: impl Serialize) -> Value {
        let mut value = serde_json::to_value(context).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut value {
            let user = self.user.as_ref().map(|u| {
                json!({
                    "username": u.user.username,
                    "is_admin": u.user.is_admin(),
                    "profile_url": format!("/u/{}", u.user.username),
                })
            });
            map.insert("current_user".into(), user.unwrap_or(Value::Null));
            map.insert(
                "header_csrf".into(),
                Value::String(self.header_csrf.clone()),
            );
            map.entry("nav").or_insert(Value::String(String::new()));
        }
        value
    }
}

impl Viewer {
    /// The visitor as far as this request has looked them up already (the session is cached per
    /// request), without a lookup of its own: for a handler's error page, rendered where nothing
    /// can be awaited. A request that never looked the session up shows the plain header.
    pub fn cached(req: &Request<'_>) -> Option<Viewer> {
        let keys = req.rocket().state::<Keys>()?;
        let user = req.local_cache(|| None::<CurrentUser>).clone();
        let header_csrf = match &user {
            Some(u) => keys.csrf_token(&format!("s:{}", u.session_id)),
            None => String::new(),
        };
        Some(Viewer { user, header_csrf })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Viewer {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = session::current(req).await;
        let header_csrf = match (&user, req.rocket().state::<Keys>()) {
            (Some(u), Some(keys)) => keys.csrf_token(&format!("s:{}", u.session_id)),
            _ => String::new(),
        };
        Outcome::Success(Viewer { user, header_csrf })
    }
}

/// A page's visitor in full: the header's user menu ([`Viewer`]), the voter its forms are bound
/// to ([`Voter`]), and the message the last action left (Rocket's flash cookie).
pub struct Visitor<'r> {
    /// The visitor as the header shows them.
    pub viewer: Viewer,
    /// The visitor as a voter (and the CSRF binding of the page's forms).
    pub voter: Voter,
    /// The message of the redirect that led here, if any.
    pub flash: Option<FlashMessage<'r>>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visitor<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let voter = try_outcome!(req.guard::<Voter>().await);
        // Both are infallible.
        let viewer = req.guard::<Viewer>().await.succeeded();
        let flash = req.guard::<Option<FlashMessage<'r>>>().await.succeeded();
        match viewer {
            Some(viewer) => Outcome::Success(Visitor {
                voter,
                viewer,
                flash: flash.flatten(),
            }),
            None => Outcome::Forward(rocket::http::Status::InternalServerError),
        }
    }
}
