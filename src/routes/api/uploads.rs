//! `POST /uploads`: an image for a question or a choice (multipart field `file`).

use rocket::form::{Errors, Form, FromForm};
use rocket::http::Status;
use rocket::response::status::Created;
use rocket::serde::json::Json;
use rocket::{post, routes};

use crate::auth::CurrentUser;
use crate::auth::csrf::{ApiCsrf, body_over_limit};
use crate::error::{AppError, AppResult};
use crate::limits::Action;
use crate::media::UploadRefusal;
use crate::routes::json::{ErrorBody, Uploaded};
use crate::routes::uploads::{FileField, read_file};
use crate::services::uploads;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![upload]
}

/// The multipart body of `POST /api/v1/uploads`.
#[derive(Debug, FromForm)]
pub struct UploadForm<'r> {
    /// The image.
    file: FileField<'r>,
}

/// Uploads an image (multipart field `file`; JPEG, PNG, WebP or GIF, at most 5 MB, 40
/// megapixels and 8,000 px a side). It is re-encoded into renditions (1200, 600 and 160 px
/// wide, no metadata); the original is not kept. With a session cookie the request needs the
/// `X-CSRF-Token` header.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads",
    security(("bearer_token" = []), ("session_cookie" = [])),
    request_body(content_type = "multipart/form-data", description = "field `file`: the image"),
    responses(
        (status = 201, body = Uploaded, description = "stored; `id` goes into a question's `image`"),
        (status = 400, body = ErrorBody, description = "no `file` field, or a path-like file name"),
        (status = 401, body = ErrorBody, description = "not logged in"),
        (status = 403, body = ErrorBody, description = "cookie request without the CSRF header"),
        (status = 413, body = ErrorBody, description = "file or request too large"),
        (status = 422, body = ErrorBody, description = "not an accepted image, damaged, or too many pixels"),
        (status = 503, body = ErrorBody, description = "storage unavailable; nothing was stored"),
    ))]
#[post("/uploads", data = "<form>")]
pub async fn upload(
    app: &AppState,
    req_limits: &rocket::data::Limits,
    user: CurrentUser,
    _csrf: ApiCsrf,
    form: Result<Form<UploadForm<'_>>, Errors<'_>>,
) -> AppResult<Created<Json<Uploaded>>> {
    let form = form.map_err(|e| form_error(e, req_limits))?;
    let media = &app.media;
    app.limits
        .check(Action::Upload, Some(format!("u:{}", user.user.id)))
        .await?;
    let bytes = read_file(&form.file, media.limits().max_bytes)
        .await?
        .ok_or(UploadRefusal::Empty)?;
    let image = uploads::store(media, &app.db, user.user.id, bytes).await??;
    let id = image.id.clone();
    Ok(
        Created::new(format!("/api/v1/uploads/{id}")).body(Json(Uploaded {
            id,
            image: media.view(&image).into(),
        })),
    )
}

fn form_error(errors: Errors<'_>, limits: &rocket::data::Limits) -> AppError {
    let mb = |name: &str| limits.get(name).map_or(0, |l| l.as_u64() / (1024 * 1024));
    let too_large = || {
        AppError::PayloadTooLarge(format!(
            "The upload is larger than allowed ({} MB per image, {} MB per request).",
            mb("file"),
            mb("data-form")
        ))
    };
    match errors.status() {
        s if s == Status::PayloadTooLarge || body_over_limit(&errors) => too_large(),
        _ => AppError::bad_request(
            "invalid_upload",
            "Send the image as multipart/form-data in a field named `file`.",
        ),
    }
}
