//! Uploaded images (`media`) and the references to them from questions and choices.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{choices, media, questions};

/// One stored rendition, as kept in the `media.renditions` column (JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredRendition {
    /// Pixel width.
    pub w: u32,
    /// Pixel height.
    pub h: u32,
    /// Storage key.
    pub key: String,
    /// Content type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// An image as pages and the API need it: its renditions, widest first. No URLs: those depend
/// on the configured media base URL and are built by `media::Media::view`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredImage {
    /// The upload id.
    pub id: String,
    /// Width of the widest rendition.
    pub width: u32,
    /// Height of the widest rendition.
    pub height: u32,
    /// Renditions, widest first.
    pub renditions: Vec<StoredRendition>,
}

/// A stored upload.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    /// The upload id (32 hex digits).
    pub id: String,
    /// Who uploaded it.
    pub owner_id: Option<i64>,
    /// Width of the widest rendition.
    pub width: i32,
    /// Height of the widest rendition.
    pub height: i32,
    /// The renditions, as JSON.
    pub renditions: String,
    /// Total bytes of the renditions.
    pub bytes: i64,
    /// When it was uploaded.
    pub created_at: NaiveDateTime,
}

impl MediaRow {
    /// The row for a processed upload.
    pub fn new(image: &StoredImage, owner_id: i64, now: NaiveDateTime) -> MediaRow {
        MediaRow {
            id: image.id.clone(),
            owner_id: Some(owner_id),
            width: image.width as i32,
            height: image.height as i32,
            renditions: serde_json::to_string(&image.renditions).unwrap_or_else(|_| "[]".into()),
            bytes: image.renditions.iter().map(|r| r.bytes as i64).sum(),
            created_at: now,
        }
    }

    /// The renditions (an unreadable column reads as none).
    pub fn rendition_list(&self) -> Vec<StoredRendition> {
        serde_json::from_str(&self.renditions).unwrap_or_default()
    }

    /// The image as pages and the API use it.
    pub fn image(&self) -> StoredImage {
        StoredImage {
            id: self.id.clone(),
            width: self.width.max(0) as u32,
            height: self.height.max(0) as u32,
            renditions: self.rendition_list(),
        }
    }
}

/// A new upload id: 128 random bits in hex.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Stores an upload's row (after its objects are written).
pub fn insert(conn: &mut AnyConnection, row: &MediaRow) -> QueryResult<()> {
    diesel::insert_into(media::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The uploads among `ids`, by id.
pub fn find_many(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<BTreeMap<String, StoredImage>> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(media::table
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.id.clone(), r.image()))
        .collect())
}

/// The ids among `ids` that do not name an upload of `owner_id` (so may not be attached).
pub fn not_owned(
    conn: &mut AnyConnection,
    ids: &[&str],
    owner_id: i64,
) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let owned: HashSet<String> = media::table
        .filter(media::id.eq_any(ids))
        .filter(media::owner_id.eq(owner_id))
        .select(media::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .filter(|id| !owned.contains(**id))
        .map(|id| id.to_string())
        .collect())
}

/// Ids of uploads referenced by a question that is not deleted, or by one of its choices
/// (hidden questions keep their images: they may be unhidden).
pub fn live_references(conn: &mut AnyConnection) -> QueryResult<HashSet<String>> {
    let mut ids: HashSet<String> = questions::table
        .filter(questions::deleted_at.is_null())
        .filter(questions::image_id.is_not_null())
        .select(questions::image_id.assume_not_null())
        .load::<String>(conn)?
        .into_iter()
        .collect();
    ids.extend(
        choices::table
            .inner_join(questions::table)
            .filter(questions::deleted_at.is_null())
            .filter(choices::image_id.is_not_null())
            .select(choices::image_id.assume_not_null())
            .load::<String>(conn)?,
    );
    Ok(ids)
}

/// Every upload row: id, upload time and renditions.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<MediaRow>> {
    media::table
        .select(MediaRow::as_select())
        .order(media::created_at.asc())
        .load(conn)
}

/// Deletes upload rows (the references of deleted questions to them become NULL).
pub fn delete(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        // SQLite and MariaDB both clear the references (ON DELETE SET NULL); done here too so
        // it holds whatever the foreign key settings.
        diesel::update(questions::table.filter(questions::image_id.eq_any(chunk)))
            .set(questions::image_id.eq(None::<String>))
            .execute(conn)?;
        diesel::update(choices::table.filter(choices::image_id.eq_any(chunk)))
            .set(choices::image_id.eq(None::<String>))
            .execute(conn)?;
        n += diesel::delete(media::table.filter(media::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(n)
}

/// The images of a question and its choices, by id.
pub fn for_question(
    conn: &mut AnyConnection,
    question_image: Option<&str>,
    choice_images: impl Iterator<Item = Option<String>>,
) -> QueryResult<BTreeMap<String, StoredImage>> {
    let mut ids: Vec<String> = question_image.map(str::to_string).into_iter().collect();
    ids.extend(choice_images.flatten());
    ids.sort();
    ids.dedup();
    find_many(conn, &ids)
}
