//! `/admin/questions` and `/admin/users`: moderation lists and their actions. Every action is a
//! CSRF-protected POST with a required reason, recorded in the audit log.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{get, post};
use rocket_dyn_templates::{Template, context};

use crate::analytics::{Event, Tracker};
use crate::auth::AdminUser;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::domain::SearchQuery;
use crate::domain::report::ModerationReason;
use crate::error::{AppError, AppResult};
use crate::models::moderation;
use crate::routes::accounts::FormOutcome;
use crate::routes::admin::{list_url, page_urls};
use crate::routes::destructive::{Confirmation, is_confirmed};
use crate::routes::params::Qid;
use crate::routes::questions::Notice;
use crate::routes::viewer::{Viewer, Visitor};
use crate::routes::views::iso;
use crate::services::moderation as service;
use crate::state::AppState;

/// A moderation action's form.
#[derive(Debug, FromForm)]
pub struct ActionForm {
    csrf_token: Option<String>,
    reason: Option<String>,
    /// With a ban: also hide all the user's questions.
    hide_questions: Option<bool>,
    /// The admin list to return to.
    back: Option<String>,
    /// `yes` once the admin confirmed a hide or a ban (`routes::destructive`).
    confirm: Option<String>,
}

csrf_protected!(ActionForm);

impl ActionForm {
    fn reason(&self) -> AppResult<ModerationReason> {
        Ok(ModerationReason::parse(
            self.reason.as_deref().unwrap_or(""),
        )?)
    }

    /// The fields to post again from the confirmation page.
    fn fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            (
                "csrf_token".to_string(),
                self.csrf_token.clone().unwrap_or_default(),
            ),
            (
                "reason".to_string(),
                self.reason.clone().unwrap_or_default(),
            ),
        ];
        if let Some(back) = &self.back {
            fields.push(("back".into(), back.clone()));
        }
        if self.hide_questions == Some(true) {
            fields.push(("hide_questions".into(), "true".into()));
        }
        fields
    }

    /// Where to go afterwards: an admin page of this site, or `fallback`.
    fn back(&self, fallback: &str) -> String {
        match self.back.as_deref() {
            Some(b) if b.starts_with("/admin/") && !b.contains("//") && !b.contains('\\') => {
                b.to_string()
            }
            _ => fallback.to_string(),
        }
    }
}

/// A user id in the path: a positive integer, or "there is no such user" (404).
fn user_id(id: &str) -> AppResult<i64> {
    crate::domain::QuestionId::parse(id)
        .map(|q| q.0)
        .ok_or_else(|| AppError::NotFound("There is no such user.".into()))
}

#[get("/admin/questions?<q>&<page>")]
pub async fn questions(
    app: &AppState,
    admin: AdminUser,
    visitor: Visitor<'_>,
    q: Option<&str>,
    page: Option<&str>,
) -> AppResult<Template> {
    let _ = admin;
    let Visitor {
        viewer,
        voter,
        flash,
    } = visitor;
    let search = SearchQuery::parse(q.unwrap_or(""))?;
    let page = crate::routes::params::page_of(page, "/admin/questions")?;
    let s = search.clone();
    let (rows, more) = app
        .db
        .run(move |c| Ok(moderation::questions(c, s.as_ref(), page)?))
        .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            context! {
                id: r.id,
                title: &r.title,
                url: format!("/q/{}/{}", r.id, r.slug),
                author: &r.author,
                votes: r.vote_count,
                created_at: iso(r.created_at),
                hidden: r.hidden_at.is_some(),
                deleted: r.deleted_at.is_some(),
            }
        })
        .collect();
    let (prev_url, next_url) = page_urls("/admin/questions", &search, page, more);
    Ok(viewer.render(
        "admin/questions",
        context! {
            page_title: "Moderate questions",
            nav: "admin",
            admin_nav: "questions",
            q: search.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default(),
            items,
            page: page.number(),
            prev_url,
            next_url,
            back: list_url("/admin/questions", &search, page.number()),
            csrf_token: voter.csrf_token(&app.keys),
            flash: flash.map(Notice::from),
        },
    ))
}

async fn hide_or_show(
    app: &AppState,
    admin: &AdminUser,
    viewer: Option<&Viewer>,
    track: &Tracker,
    id: Qid,
    form: CsrfForm<ActionForm>,
    hide: bool,
) -> AppResult<FormOutcome> {
    let id = id.get();
    let form = form.0;
    let reason = form.reason()?;
    let title = service::question_title(&app.db, id).await?;
    if let Some(viewer) = viewer.filter(|_| hide && !is_confirmed(form.confirm.as_deref())) {
        return Ok(Confirmation {
            heading: format!("Hide “{title}”?"),
            consequence: format!(
                "Nobody but admins will see it, on any page or in the API, until it is \
                 unhidden. The reason you gave, “{}”, goes into the audit log.",
                reason.as_str()
            ),
            action: format!("/admin/questions/{id}/hide"),
            yes: "Hide the question".into(),
            cancel: form.back("/admin/questions"),
            fields: form.fields(),
        }
        .page(viewer));
    }
    let out = service::set_question_hidden(&app.db, &app.cache, admin.0.user.id, id, hide, reason)
        .await?;
    let changed = out.changed;
    if changed {
        app.pages.clear();
        if hide {
            track.emit(Event::question_hidden(id, admin.0.user.id));
        }
    }
    let what = match (changed, hide) {
        (false, true) if out.flags_resolved > 0 => {
            format!("“{title}” stays hidden; its flags are resolved.")
        }
        (false, true) => format!("“{title}” was already hidden."),
        (false, false) => format!("“{title}” was not hidden."),
        (true, true) => format!("“{title}” is hidden."),
        (true, false) => format!("“{title}” is visible again."),
    };
    Ok(FormOutcome::Flash(Flash::success(
        Redirect::to(form.back("/admin/questions")),
        what,
    )))
}

#[post("/admin/questions/<id>/hide", data = "<form>")]
pub async fn hide(
    app: &AppState,
    admin: AdminUser,
    viewer: Viewer,
    track: Tracker,
    id: Qid,
    form: CsrfForm<ActionForm>,
) -> AppResult<FormOutcome> {
    hide_or_show(app, &admin, Some(&viewer), &track, id, form, true).await
}

#[post("/admin/questions/<id>/unhide", data = "<form>")]
pub async fn unhide(
    app: &AppState,
    admin: AdminUser,
    track: Tracker,
    id: Qid,
    form: CsrfForm<ActionForm>,
) -> AppResult<FormOutcome> {
    hide_or_show(app, &admin, None, &track, id, form, false).await
}

#[get("/admin/users?<q>&<page>")]
pub async fn users(
    app: &AppState,
    admin: AdminUser,
    visitor: Visitor<'_>,
    q: Option<&str>,
    page: Option<&str>,
) -> AppResult<Template> {
    let me = admin.0.user.id;
    let Visitor {
        viewer,
        voter,
        flash,
    } = visitor;
    let search = SearchQuery::parse(q.unwrap_or(""))?;
    let page = crate::routes::params::page_of(page, "/admin/users")?;
    let s = search.clone();
    let (rows, more) = app
        .db
        .run(move |c| Ok(moderation::users(c, s.as_ref(), page)?))
        .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|u| {
            context! {
                id: u.id,
                username: &u.username,
                email: &u.email,
                admin: u.role == crate::models::user::ROLE_ADMIN,
                me: u.id == me,
                created_at: iso(u.created_at),
                banned: u.banned_at.is_some(),
            }
        })
        .collect();
    let (prev_url, next_url) = page_urls("/admin/users", &search, page, more);
    Ok(viewer.render(
        "admin/users",
        context! {
            page_title: "Moderate users",
            nav: "admin",
            admin_nav: "users",
            q: search.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default(),
            items,
            page: page.number(),
            prev_url,
            next_url,
            back: list_url("/admin/users", &search, page.number()),
            csrf_token: voter.csrf_token(&app.keys),
            flash: flash.map(Notice::from),
        },
    ))
}

async fn ban_or_unban(
    app: &AppState,
    admin: &AdminUser,
    viewer: Option<&Viewer>,
    track: &Tracker,
    id: &str,
    form: CsrfForm<ActionForm>,
    ban: bool,
) -> AppResult<FormOutcome> {
    let id = user_id(id)?;
    let form = form.0;
    let reason = form.reason()?;
    let hide_all = ban && form.hide_questions.unwrap_or(false);
    let (name, is_admin) = service::user_label(&app.db, id).await?;
    if ban && is_admin {
        // Refused before asking: there is nothing to confirm.
        return Err(service::cannot_ban_admin());
    }
    if let Some(viewer) = viewer.filter(|_| ban && !is_confirmed(form.confirm.as_deref())) {
        let also = if hide_all {
            " All their questions will be hidden too."
        } else {
            ""
        };
        return Ok(Confirmation {
            heading: format!("Ban @{name}?"),
            consequence: format!(
                "They are logged out everywhere and can no longer log in or vote with their \
                 account.{also} The reason you gave, “{}”, goes into the audit log.",
                reason.as_str()
            ),
            action: format!("/admin/users/{id}/ban"),
            yes: "Ban the user".into(),
            cancel: form.back("/admin/users"),
            fields: form.fields(),
        }
        .page(viewer));
    }
    let admin_id = admin.0.user.id;
    let out =
        service::set_user_banned(&app.db, &app.cache, admin_id, id, ban, hide_all, reason).await?;
    if !out.hidden.is_empty() {
        app.pages.clear();
    }
    for qid in &out.hidden {
        track.emit(Event::question_hidden(*qid, admin.0.user.id));
    }
    let mut what = match (out.changed, ban) {
        (false, true) => format!("@{name} was already banned."),
        (false, false) => format!("@{name} was not banned."),
        (true, true) => format!("@{name} is banned and logged out everywhere."),
        (true, false) => format!("@{name} is no longer banned."),
    };
    if hide_all {
        what.push_str(&format!(
            " {} of their questions were hidden.",
            out.hidden.len()
        ));
    }
    Ok(FormOutcome::Flash(Flash::success(
        Redirect::to(form.back("/admin/users")),
        what,
    )))
}

#[post("/admin/users/<id>/ban", data = "<form>")]
pub async fn ban(
    app: &AppState,
    admin: AdminUser,
    viewer: Viewer,
    track: Tracker,
    id: &str,
    form: CsrfForm<ActionForm>,
) -> AppResult<FormOutcome> {
    ban_or_unban(app, &admin, Some(&viewer), &track, id, form, true).await
}

#[post("/admin/users/<id>/unban", data = "<form>")]
pub async fn unban(
    app: &AppState,
    admin: AdminUser,
    track: Tracker,
    id: &str,
    form: CsrfForm<ActionForm>,
) -> AppResult<FormOutcome> {
    ban_or_unban(app, &admin, None, &track, id, form, false).await
}
