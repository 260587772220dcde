//! Confirmation before an action that destroys or hides something (delete or close a question,
//! hide a question, ban a user). The button's form posts without `confirm=yes`: with JavaScript a
//! dialog asks first and adds it (`static/js/confirm.js`); without, the post changes nothing and
//! answers this page, whose "Yes" button posts the same fields again with `confirm=yes`.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket_dyn_templates::context;
use serde::Serialize;

use crate::auth::csrf::csrf_protected;
use crate::routes::accounts::FormOutcome;
use crate::routes::viewer::Viewer;

/// The value of `confirm` that says the visitor has confirmed.
pub const CONFIRMED: &str = "yes";

/// A destructive action's form when it carries nothing else: the token and the confirmation.
#[derive(Debug, FromForm)]
pub struct ConfirmForm {
    csrf_token: Option<String>,
    confirm: Option<String>,
}

csrf_protected!(ConfirmForm);

impl ConfirmForm {
    /// Whether the visitor confirmed (`confirm=yes`).
    pub fn confirmed(&self) -> bool {
        is_confirmed(self.confirm.as_deref())
    }

    /// The token, to carry on the confirmation page.
    pub fn token(&self) -> &str {
        self.csrf_token.as_deref().unwrap_or("")
    }
}

/// Whether a form's `confirm` field says yes.
pub fn is_confirmed(confirm: Option<&str>) -> bool {
    confirm == Some(CONFIRMED)
}

/// What the confirmation page asks.
#[derive(Debug, Serialize)]
pub struct Confirmation {
    /// The question, as the page's heading ("Delete this question?").
    pub heading: String,
    /// What will happen, in a sentence or two.
    pub consequence: String,
    /// Where the confirmed form posts (the action's own address).
    pub action: String,
    /// The "yes" button's words ("Delete the question").
    pub yes: String,
    /// Where "Cancel" goes.
    pub cancel: String,
    /// The form's other fields, posted again as they were sent (the token among them).
    pub fields: Vec<(String, String)>,
}

impl Confirmation {
    /// The confirmation page (200): nothing has changed yet.
    pub fn page(self, viewer: &Viewer) -> FormOutcome {
        let page = viewer.render(
            "confirm_action",
            context! {
                page_title: &self.heading,
                confirmation: &self,
                confirm_value: CONFIRMED,
            },
        );
        FormOutcome::Form((Status::Ok, page))
    }
}
