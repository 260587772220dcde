//! Images: `POST /api/v1/uploads` (multipart field `file`), the file fields of the ask form, and
//! `GET /media/<key>` when this app serves a local store itself.

use rocket::form::{Errors, Form, FromForm};
use rocket::fs::TempFile;
use rocket::http::{ContentType, Header, Status};
use rocket::response::status::Created;
use rocket::serde::json::Json;
use rocket::tokio::io::AsyncReadExt;
use rocket::{Responder, State, get, post, routes};

use crate::auth::CurrentUser;
use crate::auth::csrf::{ApiCsrf, body_over_limit};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::limits::{Action, Limits};
use crate::media::image::check_file_name;
use crate::media::store::{IMMUTABLE, content_type_of};
use crate::media::{ApiImage, Media, Refusal, StoreError};
use crate::services::uploads;

/// Routes mounted under the API base.
pub fn api_routes() -> Vec<rocket::Route> {
    routes![upload]
}

/// Routes of the site (the local media files).
pub fn routes() -> Vec<rocket::Route> {
    routes![media_file]
}

/// A file field as Rocket received it (written to a temporary file), capped at `file` limit.
pub type FileField<'r> = rocket::data::Capped<TempFile<'r>>;

/// Reads an uploaded file field. `Ok(None)` is a file input left empty (no name, no bytes).
pub async fn read_file(
    field: &FileField<'_>,
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, Refusal> {
    let raw_name = field
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str());
    if field.is_empty() && raw_name.is_none_or(str::is_empty) {
        return Ok(None);
    }
    check_file_name(raw_name)?;
    if !field.is_complete() || field.len() > max_bytes as u64 {
        return Err(Refusal::TooLarge { max: max_bytes });
    }
    if field.is_empty() {
        return Err(Refusal::Empty);
    }
    let mut bytes = Vec::with_capacity(field.len() as usize);
    let mut reader = field.open().await.map_err(|_| Refusal::Corrupt)?;
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| Refusal::Corrupt)?;
    Ok(Some(bytes))
}

/// The multipart body of `POST /api/v1/uploads`.
#[derive(Debug, FromForm)]
pub struct UploadForm<'r> {
    /// The image.
    file: FileField<'r>,
}

/// Answer to an upload: the upload id and the image's URLs.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// Upload id, for `image` in `POST /api/v1/questions`.
    pub id: String,
    #[serde(flatten)]
    pub image: ApiImage,
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
        (status = 400, body = crate::routes::api::types::ErrorBody, description = "no `file` field, or a path-like file name"),
        (status = 401, body = crate::routes::api::types::ErrorBody, description = "not logged in"),
        (status = 403, body = crate::routes::api::types::ErrorBody, description = "cookie request without the CSRF header"),
        (status = 413, body = crate::routes::api::types::ErrorBody, description = "file or request too large"),
        (status = 422, body = crate::routes::api::types::ErrorBody, description = "not an accepted image, damaged, or too many pixels"),
        (status = 503, body = crate::routes::api::types::ErrorBody, description = "storage unavailable; nothing was stored"),
    ))]
#[post("/uploads", data = "<form>")]
pub async fn upload(
    db: &State<Db>,
    media: &State<Media>,
    limits: &State<Limits>,
    user: CurrentUser,
    _csrf: ApiCsrf,
    form: Result<Form<UploadForm<'_>>, Errors<'_>>,
) -> AppResult<Created<Json<Uploaded>>> {
    let form = form.map_err(form_error)?;
    limits.check(Action::Upload, Some(format!("u:{}", user.user.id)))?;
    let bytes = read_file(&form.file, media.limits().max_bytes)
        .await
        .map_err(uploads::refusal_error)?
        .ok_or(Refusal::Empty)
        .map_err(uploads::refusal_error)?;
    let image = uploads::store(media, db, user.user.id, bytes)
        .await?
        .map_err(uploads::refusal_error)?;
    let id = image.id.clone();
    Ok(
        Created::new(format!("/api/v1/uploads/{id}")).body(Json(Uploaded {
            id,
            image: media.view(&image).into(),
        })),
    )
}

fn form_error(errors: Errors<'_>) -> AppError {
    match errors.status() {
        _ if body_over_limit(&errors) => AppError::PayloadTooLarge(
            "The upload is larger than allowed (5 MB per image, 20 MB per request).".into(),
        ),
        Status::PayloadTooLarge => AppError::PayloadTooLarge(
            "The upload is larger than allowed (5 MB per image, 20 MB per request).".into(),
        ),
        _ => AppError::bad_request(
            "invalid_upload",
            "Send the image as multipart/form-data in a field named `file`.",
        ),
    }
}

/// A media object with its type and the immutable cache policy.
#[derive(Responder)]
pub struct MediaFile {
    body: Vec<u8>,
    content_type: ContentType,
    cache: Header<'static>,
}

/// A stored rendition, when this app serves the local store (the embedded default). Keys are
/// content hashes, so the answer never changes: cached for a year, `immutable`.
#[get("/media/<folder>/<name>", rank = 5)]
pub async fn media_file(media: &State<Media>, folder: &str, name: &str) -> AppResult<MediaFile> {
    let not_found = || AppError::NotFound("There is no such image.".into());
    if !media.served_here() || folder != "img" {
        return Err(not_found());
    }
    let valid = name.len() <= 48
        && name.split_once('.').is_some_and(|(stem, _)| {
            !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_hexdigit())
        });
    let content_type = content_type_of(name)
        .filter(|_| valid)
        .ok_or_else(not_found)?;
    let key = format!("{folder}/{name}");
    match media.store().get(&key).await {
        Ok(bytes) => Ok(MediaFile {
            body: bytes.to_vec(),
            content_type: ContentType::parse_flexible(content_type).unwrap_or(ContentType::Binary),
            cache: Header::new("Cache-Control", IMMUTABLE),
        }),
        Err(StoreError::NotFound) => Err(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "reading a media object failed");
            Err(AppError::Unavailable(
                "The image cannot be read right now.".into(),
            ))
        }
    }
}
