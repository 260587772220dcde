//! Images: reading a file field (the ask form's, and `POST /api/v1/uploads` in `api::uploads`),
//! and `GET /media/<key>` when this app serves a local store itself.

use rocket::fs::TempFile;
use rocket::http::{ContentType, Header};
use rocket::tokio::io::AsyncReadExt;
use rocket::{Responder, get, routes};

use crate::error::{AppError, AppResult};
use crate::media::image::check_file_name;
use crate::media::store::{IMMUTABLE, content_type_of};
use crate::media::{StoreError, UploadRefusal};
use crate::state::AppState;

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
) -> Result<Option<Vec<u8>>, UploadRefusal> {
    let raw_name = field
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str());
    if field.is_empty() && raw_name.is_none_or(str::is_empty) {
        return Ok(None);
    }
    check_file_name(raw_name)?;
    if !field.is_complete() || field.len() > max_bytes as u64 {
        return Err(UploadRefusal::TooLarge { max: max_bytes });
    }
    if field.is_empty() {
        return Err(UploadRefusal::Empty);
    }
    let mut bytes = Vec::with_capacity(field.len() as usize);
    let mut reader = field.open().await.map_err(|_| UploadRefusal::Corrupt)?;
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| UploadRefusal::Corrupt)?;
    Ok(Some(bytes))
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
pub async fn media_file(app: &AppState, folder: &str, name: &str) -> AppResult<MediaFile> {
    let media = &app.media;
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
