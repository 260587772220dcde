//! `Viewer`: renders a template with what every page shows about the visitor (the header's user
//! menu and its logout token).

use rocket::request::{FromRequest, Outcome, Request};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::Keys;
use crate::auth::session::{self, CurrentUser};

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
