//! Storing an uploaded image: process it, write its renditions, then the row that refers to
//! them. Refused files store nothing; a storage failure leaves at most unreferenced objects
//! (removed by `beebeta media gc`), never a row pointing at a missing object.

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::media::{Media, StoredImage, UploadRefusal};
use crate::models::{self, media::MediaRow};

/// Processes and stores an image uploaded by `owner_id`. `Ok(Err(_))` is a refused file.
pub async fn store(
    media: &Media,
    db: &Db,
    owner_id: i64,
    bytes: Vec<u8>,
) -> AppResult<Result<StoredImage, UploadRefusal>> {
    let processed = match media.process(bytes).await {
        Ok(Ok(p)) => p,
        Ok(Err(refusal)) => return Ok(Err(refusal)),
        Err(_busy) => {
            return Err(AppError::Unavailable(
                "Too many images are being processed right now; try again in a moment.".into(),
            ));
        }
    };
    if let Err(e) = media.publish(&processed).await {
        tracing::error!(error = %e, store = media.store().describe(), "storing an upload failed");
        return Err(AppError::Unavailable(
            "Images cannot be stored right now; nothing was saved. Try again in a moment.".into(),
        ));
    }
    let image = StoredImage::from_processed(models::media::new_id(), &processed);
    let row = MediaRow::new(&image, owner_id, models::now());
    db.write(move |c| Ok(models::media::insert(c, &row)?))
        .await?;
    tracing::info!(
        upload = %image.id,
        owner = owner_id,
        width = processed.source_width,
        height = processed.source_height,
        renditions = image.renditions.len(),
        "image uploaded"
    );
    Ok(Ok(image))
}
