//! `/admin`: the admins' area, behind the `AdminUser` guard (anonymous visitors are sent to log
//! in, other users get 403): dashboard, popularity reports with SVG charts and CSV downloads,
//! a page of numbers per question, moderation of questions and users, the queue of flagged
//! questions, and the audit log.

pub mod audit;
pub mod charts;
pub mod csv;
pub mod dashboard;
pub mod flags;
pub mod moderation;
pub mod question;
pub mod reports;
pub mod segments;

use rocket::routes;

use crate::domain::{Page, SearchQuery};

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![
        dashboard::index,
        reports::reports,
        moderation::questions,
        question::question,
        moderation::hide,
        moderation::unhide,
        moderation::users,
        moderation::ban,
        moderation::unban,
        audit::audit_log,
        flags::flags,
        flags::dismiss,
        segments::segments,
        segments::add_segment,
    ]
}

/// `base?q=<search>&page=<n>`.
pub(crate) fn list_url(base: &str, search: &Option<SearchQuery>, n: u32) -> String {
    let q = search
        .as_ref()
        .map(|s| {
            let enc: String = url::form_urlencoded::byte_serialize(s.as_str().as_bytes()).collect();
            format!("q={enc}&")
        })
        .unwrap_or_default();
    format!("{base}?{q}page={n}")
}

/// The previous and next pages' URLs.
pub(crate) fn page_urls(
    base: &str,
    search: &Option<SearchQuery>,
    page: Page,
    more: bool,
) -> (Option<String>, Option<String>) {
    let next = if more { page.next() } else { None };
    (
        page.prev().map(|n| list_url(base, search, n)),
        next.map(|n| list_url(base, search, n)),
    )
}
