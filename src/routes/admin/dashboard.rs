//! `/admin`: the dashboard (site totals for today, 7 and 30 days against the period before).

use rocket::get;
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::error::AppResult;
use crate::routes::viewer::Viewer;
use crate::services::reports;
use crate::state::AppState;

#[get("/admin")]
pub async fn index(app: &AppState, admin: AdminUser, viewer: Viewer) -> AppResult<Template> {
    let _ = admin;
    let now = crate::models::now();
    let periods: Vec<_> = reports::dashboard(&app.reports, now)
        .await?
        .into_iter()
        .map(|p| {
            let built = p.built_at.map(|t| crate::routes::views::human_time(t, now));
            context! { period: p, built }
        })
        .collect();
    Ok(viewer.render(
        "admin/index",
        context! {
            page_title: "Admin",
            nav: "admin",
            admin_nav: "dashboard",
            periods,
        },
    ))
}
