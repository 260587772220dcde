//! `/admin/audit`: the moderation audit log, newest first.

use rocket::get;
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
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
    let page = crate::routes::params::page_of(page, "/admin/audit")?;
    let (rows, more, names) = app
        .db
        .run(move |c| {
            let (rows, more) = audit::page(c, page)?;
            let names = audit::target_names(c, &rows)?;
            Ok((rows, more, names))
        })
        .await?;
    let now = crate::models::now();
    let items: Vec<_> = rows
        .iter()
        .map(|e| {
            let name = names.get(&(e.target_kind.clone(), e.target_id));
            let target_url = match e.target_kind.as_str() {
                audit::QUESTION => format!("/q/{}", e.target_id),
                // An opaque reference: nothing to link to.
                audit::ACCOUNT => String::new(),
                audit::SEGMENT => "/admin/segments".to_string(),
                // The member's row in the users table, found by name.
                _ => match name {
                    Some(n) => format!(
                        "{}#user-{}",
                        user_row(n.trim_start_matches('@')),
                        e.target_id
                    ),
                    None => format!("/admin/users?page=1#user-{}", e.target_id),
                },
            };
            context! {
                actor: &e.actor,
                actor_url: e.actor.as_deref().map(user_row),
                action: e.action.replace('_', " "),
                target: name
                    .cloned()
                    .unwrap_or_else(|| format!("{} {}", e.target_kind, e.target_id)),
                target_url,
                reason: &e.reason,
                created_at: iso(e.created_at),
                created_text: crate::routes::views::human_time(e.created_at, now),
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

/// A member's row in the admin users table: the table filtered by their username.
fn user_row(username: &str) -> String {
    format!(
        "/admin/users?q={}",
        url::form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>()
    )
}
