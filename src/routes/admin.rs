//! `/admin`: the admins' area (reports and moderation arrive with the admin issue).

use rocket::{State, get, routes};
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::db::Db;
use crate::error::AppResult;
use crate::models::user;
use crate::routes::viewer::Viewer;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![index]
}

#[get("/admin")]
async fn index(db: &State<Db>, admin: AdminUser, viewer: Viewer) -> AppResult<Template> {
    let _ = admin;
    let stats = db.run(|c| Ok(user::site_totals(c)?)).await?;
    Ok(viewer.render(
        "admin/index",
        context! {
            page_title: "Admin",
            stats: context! { users: stats.0, questions: stats.1, ballots: stats.2, sessions: stats.3 },
        },
    ))
}
