//! `/admin/audit`: the moderation audit log, newest first.

use rocket::get;
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::domain::Page;
use crate::error::AppResult;
use crate::models::audit;
use crate::routes::admin::page_urls;
use crate::routes::viewer::Viewer;
use crate::routes::views::iso;
use crate::state::AppState;

#[get("/admin/audit?<page>")]
pub async fn audit_log(
    app: &AppState,
    admin: AdminUser,
    viewer: Viewer,
    page: Option<&str>,
) -> AppResult<Template> {
    let _ = admin;
    let page = Page::from_query(page)?;
    let (rows, more) = app.db.run(move |c| Ok(audit::page(c, page)?)).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|e| {
            let target_url = match e.target_kind.as_str() {
                audit::QUESTION => format!("/q/{}", e.target_id),
                _ => format!("/admin/users?page=1#user-{}", e.target_id),
            };
            context! {
                actor: &e.actor,
                action: e.action.replace('_', " "),
                target: format!("{} {}", e.target_kind, e.target_id),
                target_url,
                reason: &e.reason,
                created_at: iso(e.created_at),
                created_text: e.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            }
        })
        .collect();
    let (prev_url, next_url) = page_urls("/admin/audit", &None, page, more);
    Ok(viewer.render(
        "admin/audit",
        context! {
            page_title: "Audit log",
            nav: "admin",
            admin_nav: "audit",
            items,
            page: page.number(),
            prev_url,
            next_url,
        },
    ))
}
