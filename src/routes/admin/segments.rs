//! `/admin/segments`: the segments members may answer for breakdowns (age band and country are
//! seeded) and the form that adds one with its values (CSRF, audit-logged).

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post};
use rocket_dyn_templates::{Template, context};

use crate::auth::AdminUser;
use crate::auth::Voter;
use crate::auth::csrf::{CsrfForm, csrf_protected};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::routes::questions::Notice;
use crate::routes::viewer::{Viewer, Visitor};
use crate::services::breakdowns;
use crate::state::AppState;

const PAGE: &str = "/admin/segments";

/// The add form as typed (shown again with its problems).
#[derive(Debug, Default, FromForm)]
pub struct SegmentForm {
    csrf_token: Option<String>,
    #[field(default = String::new())]
    key: String,
    #[field(default = String::new())]
    label: String,
    /// One value a line: `value = Label`.
    #[field(default = String::new())]
    values: String,
}

csrf_protected!(SegmentForm);

async fn render(
    app: &AppState,
    viewer: &Viewer,
    voter: &Voter,
    form: &SegmentForm,
    errors: &FieldErrors,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let segments = breakdowns::segments(&app.db, &app.cache).await?;
    let list: Vec<_> = segments
        .iter()
        .map(|s| {
            let values = s.values();
            context! {
                key: &s.seg_key,
                label: &s.label,
                count: values.len(),
                sample: values.iter().take(8).map(|v| v.label.clone()).collect::<Vec<_>>().join(", "),
            }
        })
        .collect();
    Ok(viewer.render(
        "admin/segments",
        context! {
            page_title: "Segments",
            nav: "admin",
            admin_nav: "segments",
            segments: list,
            form: context! { key: &form.key, label: &form.label, values: &form.values },
            errors: serde_json::to_value(errors).unwrap_or_default(),
            csrf_token: voter.csrf_token(&app.keys),
            flash,
        },
    ))
}

#[get("/admin/segments")]
pub async fn segments(
    app: &AppState,
    admin: AdminUser,
    visitor: Visitor<'_>,
) -> AppResult<Template> {
    let _ = admin;
    let Visitor {
        viewer,
        voter,
        flash,
    } = visitor;
    let flash = flash.map(Notice::from);
    let form = <SegmentForm as Default>::default();
    render(app, &viewer, &voter, &form, &FieldErrors::new(), flash).await
}

/// The page again with the form's problems, or back to the list.
#[derive(rocket::Responder)]
pub enum Added {
    /// Added: back to the list with a message.
    Done(Flash<Redirect>),
    /// Refused: the form with its problems.
    Form((Status, Template)),
}

#[post("/admin/segments", data = "<form>")]
pub async fn add_segment(
    app: &AppState,
    admin: AdminUser,
    viewer: Viewer,
    voter: Voter,
    form: CsrfForm<SegmentForm>,
) -> AppResult<Added> {
    let f = form.0;
    let added = breakdowns::add_segment(
        &app.db,
        &app.cache,
        admin.0.user.id,
        &f.key,
        &f.label,
        &f.values,
    )
    .await;
    match added {
        Ok(_) => Ok(Added::Done(Flash::success(
            Redirect::to(PAGE),
            format!("The segment “{}” is added.", f.label.trim()),
        ))),
        Err(AppError::Validation { fields, .. }) => {
            let page = render(app, &viewer, &voter, &f, &fields, None).await?;
            Ok(Added::Form((Status::UnprocessableEntity, page)))
        }
        Err(e) => Err(e),
    }
}
