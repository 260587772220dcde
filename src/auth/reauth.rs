//! Sensitive account changes (linking an identity, an API token, two-factor changes) need a
//! browser session with a verified email whose user proved who they are in the last ten minutes.
//! [`Confirmed`] is that guard; `/confirm` (routes::confirm) renews the proof.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::session::CurrentUser;
use crate::error::set_failure_reason;
use crate::models;

pub use crate::auth::session::REAUTH_MINUTES;

/// The failure code that sends a browser to `/confirm` (see the catchers).
pub const REAUTH_REQUIRED: &str = "reauth_required";

/// Why a user may not make a sensitive change now, if they may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotNow {
    /// An API token, not a browser session.
    Token,
    /// The account's email is not verified.
    Unverified,
    /// The last proof of who they are is older than [`REAUTH_MINUTES`].
    Stale,
}

impl NotNow {
    /// The status, code and message a refusal answers with.
    pub fn answer(self) -> (Status, &'static str, &'static str) {
        match self {
            NotNow::Token => (
                Status::Forbidden,
                "forbidden",
                "This needs a browser session, not an API token.",
            ),
            NotNow::Unverified => (
                Status::Forbidden,
                "email_unverified",
                "Confirm your email address first: open the link we sent you (the settings \
                 page can send it again).",
            ),
            NotNow::Stale => (
                Status::Unauthorized,
                REAUTH_REQUIRED,
                "Please confirm it is you before this change.",
            ),
        }
    }
}

/// Whether `user` may make a sensitive change now.
pub fn check(user: &CurrentUser) -> Result<(), NotNow> {
    if user.scopes.is_some() {
        return Err(NotNow::Token);
    }
    if !user.verified() {
        return Err(NotNow::Unverified);
    }
    if !user.recently_authenticated(models::now()) {
        return Err(NotNow::Stale);
    }
    Ok(())
}

/// A logged-in user with a verified email who proved who they are in the last ten minutes. A
/// stale proof answers 401 `reauth_required` (a browser is sent to `/confirm` and back); an
/// unverified email 403 `email_unverified`.
#[derive(Debug, Clone)]
pub struct Confirmed(pub CurrentUser);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Confirmed {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let user = match req.guard::<CurrentUser>().await {
            Outcome::Success(u) => u,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        match check(&user) {
            Ok(()) => Outcome::Success(Confirmed(user)),
            Err(why) => {
                let (status, code, message) = why.answer();
                set_failure_reason(req, code, message);
                Outcome::Error((status, ()))
            }
        }
    }
}

/// Records that `user` just proved who they are again (for the next [`REAUTH_MINUTES`]).
pub async fn renew(db: &crate::db::Db, user: &CurrentUser) -> crate::AppResult<()> {
    if user.scopes.is_some() {
        return Ok(());
    }
    let sid = user.session_id.clone();
    let now = models::now();
    db.write(move |c| Ok(models::session::reauthenticate(c, &sid, now)?))
        .await
}
