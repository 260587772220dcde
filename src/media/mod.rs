//! Media: uploaded images, processed into renditions and kept in object storage.
//!
//! - [`image`] turns an upload into renditions (pure, blocking);
//! - [`store`] keeps objects in a local directory, S3 or memory;
//! - [`Media`] (managed state) joins the two with the configured limits, runs the image work on
//!   the blocking pool at most `image_workers` at a time, and builds public URLs.
//!
//! Consistency: the objects are written before the `media` row that references them (see
//! `services::uploads`), so no row points at a missing object; an object left without a row by
//! a failed upload is removed by `beebeta media gc`.

pub mod image;
pub mod store;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;

pub use self::image::{ImageLimits, Processed, Rendition};
pub use self::store::{MediaStore, StoreError, StoreOptions};
use crate::config::MediaConfig;
pub use crate::domain::UploadRefusal;
pub use crate::models::media::{StoredImage, StoredRendition};

/// How long an upload waits for a free image worker before it is refused with a 503.
const WORKER_WAIT: Duration = Duration::from_secs(30);

/// Uploads processed at once beyond this many waiting are refused at once (503).
const MAX_WAITING: usize = 64;

/// An image with its public URLs, as pages use it (`<img src srcset width height>`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublicImage {
    /// URL of the widest rendition.
    pub url: String,
    /// Every rendition's URL by its pixel width.
    pub urls: BTreeMap<String, String>,
    /// Pixel width of the widest rendition.
    pub width: u32,
    /// Pixel height of the widest rendition.
    pub height: u32,
    /// `<url> <width>w, ...` for `srcset`.
    pub srcset: String,
    /// URL of the narrowest rendition (a thumbnail).
    pub thumb: String,
}

/// The media service: storage, limits, the image worker bound and the public base URL.
#[derive(Debug, Clone)]
pub struct Media {
    store: MediaStore,
    base_url: String,
    limits: ImageLimits,
    workers: Arc<Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

impl Media {
    /// The media service described by the configuration.
    pub fn from_config(cfg: &MediaConfig) -> Result<Media, String> {
        let store = MediaStore::open(
            &cfg.store,
            &StoreOptions {
                s3_endpoint: Some(cfg.s3_endpoint.clone()),
            },
        )
        .map_err(|e| e.to_string())?;
        let limits = ImageLimits {
            max_bytes: usize::try_from(cfg.upload_max_bytes).unwrap_or(usize::MAX),
            max_pixels: cfg.image_max_pixels,
            max_side: cfg.image_max_side,
            ..ImageLimits::default()
        };
        Ok(Media::new(store, &cfg.url, limits, cfg.image_workers))
    }

    /// A media service over `store`.
    pub fn new(store: MediaStore, base_url: &str, limits: ImageLimits, workers: usize) -> Media {
        Media {
            store,
            base_url: base_url.trim_end_matches('/').to_string(),
            limits,
            workers: Arc::new(Semaphore::new(workers.max(1))),
            waiting: Arc::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &MediaStore {
        &self.store
    }

    /// The upload limits.
    pub fn limits(&self) -> &ImageLimits {
        &self.limits
    }

    /// Whether this app serves `/media/...` itself (a local or in-memory store with a relative
    /// base URL); with S3 a CDN or the bucket serves them.
    pub fn served_here(&self) -> bool {
        self.store.kind() != store::Kind::S3 && self.base_url.starts_with('/')
    }

    /// The base URL of media, when it is another origin (for the Content-Security-Policy).
    pub fn external_origin(&self) -> Option<String> {
        let rest = self
            .base_url
            .strip_prefix("https://")
            .or_else(|| self.base_url.strip_prefix("http://"))?;
        let host = rest.split('/').next().unwrap_or(rest);
        let scheme = if self.base_url.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        Some(format!("{scheme}://{host}"))
    }

    /// The public URL of a stored key. Characters that could end an HTML attribute are
    /// percent-encoded, so templates may write the URL unescaped (`| safe`).
    pub fn url(&self, key: &str) -> String {
        let mut url = String::with_capacity(self.base_url.len() + key.len() + 1);
        for c in self
            .base_url
            .chars()
            .chain(std::iter::once('/'))
            .chain(key.chars())
        {
            match c {
                '"' => url.push_str("%22"),
                '\'' => url.push_str("%27"),
                '<' => url.push_str("%3C"),
                '>' => url.push_str("%3E"),
                ' ' => url.push_str("%20"),
                '&' => url.push_str("%26"),
                c => url.push(c),
            }
        }
        url
    }

    /// An image with its URLs.
    pub fn view(&self, image: &StoredImage) -> PublicImage {
        let urls = image
            .renditions
            .iter()
            .map(|r| (r.w.to_string(), self.url(&r.key)))
            .collect();
        let srcset = image
            .renditions
            .iter()
            .map(|r| format!("{} {}w", self.url(&r.key), r.w))
            .collect::<Vec<_>>()
            .join(", ");
        PublicImage {
            url: image
                .renditions
                .first()
                .map(|r| self.url(&r.key))
                .unwrap_or_default(),
            thumb: image
                .renditions
                .last()
                .map(|r| self.url(&r.key))
                .unwrap_or_default(),
            urls,
            width: image.width,
            height: image.height,
            srcset,
        }
    }

    /// Decodes and re-encodes an upload on the blocking pool, at most `image_workers` at once.
    /// `Ok(Err(_))` is a refused file; `Err(Busy)` means the workers are saturated.
    pub async fn process(&self, bytes: Vec<u8>) -> Result<Result<Processed, UploadRefusal>, Busy> {
        use std::sync::atomic::Ordering;
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let permit = if waiting >= MAX_WAITING {
            None
        } else {
            tokio::time::timeout(WORKER_WAIT, Arc::clone(&self.workers).acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let permit = permit.ok_or(Busy)?;
        let limits = self.limits;
        let done = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            self::image::process(&bytes, &limits)
        })
        .await;
        match done {
            Ok(result) => Ok(result),
            Err(e) => {
                tracing::error!(error = %e, "image processing panicked");
                Ok(Err(UploadRefusal::Corrupt))
            }
        }
    }

    /// Writes every rendition (concurrently); the first failure is returned. Objects written
    /// before a failure stay until `beebeta media gc` (they are content-addressed, so a retry
    /// rewrites the same keys).
    pub async fn publish(&self, processed: &Processed) -> Result<(), StoreError> {
        let puts = processed.renditions.iter().map(|r| {
            self.store
                .put(&r.key, Bytes::from(r.bytes.clone()), r.content_type)
        });
        for result in futures::future::join_all(puts).await {
            result?;
        }
        Ok(())
    }
}

/// Every image worker is taken and too many uploads are waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl StoredImage {
    /// The stored form of freshly processed renditions.
    pub fn from_processed(id: String, p: &Processed) -> StoredImage {
        let renditions: Vec<StoredRendition> = p
            .renditions
            .iter()
            .map(|r| StoredRendition {
                w: r.width,
                h: r.height,
                key: r.key.clone(),
                content_type: r.content_type.to_string(),
                bytes: r.bytes.len() as u64,
            })
            .collect();
        let (width, height) = renditions.first().map(|r| (r.w, r.h)).unwrap_or((0, 0));
        StoredImage {
            id,
            width,
            height,
            renditions,
        }
    }
}

#[cfg(test)]
mod tests;
