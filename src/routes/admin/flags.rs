//! `/admin/flags`: questions with open flags, those hidden pending review first, then by open
//! flags (the newest flag breaking ties), with their reasons and newest details; the actions:
//! dismiss (here), and hide, unhide, keep hidden and ban the author, which post to the
//! moderation routes (`routes::admin::moderation`) and so go through the moderation service,
//! its confirmation and its audit log.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post};
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::domain::FlagReason;
use crate::domain::report::ModerationReason;
use crate::error::AppResult;
use crate::routes::admin::page_urls;
use crate::routes::params::Qid;
use crate::routes::questions::Notice;
use crate::routes::viewer::Visitor;
use crate::routes::views::{human_time, iso};
use crate::services::{flagging, moderation};
use crate::state::AppState;

/// Where the queue lives.
const QUEUE: &str = "/admin/flags";

#[get("/admin/flags?<page>")]
pub async fn flags(
    app: &AppState,
    admin: AdminUser,
    visitor: Visitor<'_>,
    page: Option<&str>,
) -> AppResult<Template> {
    let _ = admin;
    let Visitor {
        viewer,
        voter,
        flash,
    } = visitor;
    let page = crate::routes::params::page_of(page, QUEUE)?;
    let (items, more) = flagging::queue(&app.db, page).await?;
    let now = crate::models::now();
    let items: Vec<_> = items
        .iter()
        .map(|item| {
            let q = &item.question;
            let reasons: Vec<_> = FlagReason::ALL
                .iter()
                .filter_map(|r| {
                    let n = *item.reasons.get(r.as_str())?;
                    Some(context! { reason: r.as_str(), count: n })
                })
                .collect();
            let details: Vec<_> = item
                .details
                .iter()
                .map(|(reason, text, at)| {
                    context! {
                        reason,
                        text,
                        at: iso(*at),
                        at_text: human_time(*at, now),
                    }
                })
                .collect();
            context! {
                id: q.question_id,
                title: &q.title,
                url: format!("/q/{}/{}", q.question_id, q.slug),
                author: &item.author,
                author_id: q.author_id,
                open: q.open,
                latest: q.latest.map(iso),
                latest_text: q.latest.map(|t| human_time(t, now)),
                pending: item.pending_review(),
                reasons,
                details,
            }
        })
        .collect();
    let (prev_url, next_url) = page_urls(QUEUE, &None, page, more);
    Ok(viewer.render(
        "admin/flags",
        context! {
            page_title: "Flagged questions",
            nav: "admin",
            admin_nav: "flags",
            items,
            page: page.number(),
            prev_url,
            next_url,
            back: format!("{QUEUE}?page={}", page.number()),
            threshold: app.config.moderation.flags_hide_threshold,
            csrf_token: voter.csrf_token(&app.keys),
            flash: flash.map(Notice::from),
        },
    ))
}

/// The dismiss form: the token and the reason for the audit log.
#[derive(Debug, FromForm)]
pub struct DismissForm {
    csrf_token: Option<String>,
    reason: Option<String>,
}

csrf_protected!(DismissForm);

/// Closes a question's open flags, leaving the question as it is (audit-logged).
#[post("/admin/flags/<id>/dismiss", data = "<form>")]
pub async fn dismiss(
    app: &AppState,
    admin: AdminUser,
    id: Qid,
    form: CsrfForm<DismissForm>,
) -> AppResult<Flash<Redirect>> {
    let reason = ModerationReason::parse(form.0.reason.as_deref().unwrap_or(""))?;
    let title = moderation::question_title(&app.db, id.get()).await?;
    let closed = flagging::dismiss(&app.db, admin.0.user.id, id.get(), reason).await?;
    let what = match closed {
        0 => format!("“{title}” had no open flags."),
        1 => format!("The flag on “{title}” is dismissed."),
        n => format!("The {n} flags on “{title}” are dismissed."),
    };
    Ok(Flash::success(Redirect::to(QUEUE), what))
}
