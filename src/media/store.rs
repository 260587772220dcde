//! Where media objects live: one interface over `object_store` for a local directory (the
//! embedded default), S3 (or an S3-compatible server) and memory (tests).
//!
//! Objects are immutable and named by their content (`img/<hash>.<ext>`), so a put of a key that
//! exists writes the same bytes again and a CDN may cache every URL forever.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};

/// The cache policy of every published object: content-addressed, so it never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A storage failure; the message names the store, never credentials.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage URL or its settings are wrong (a startup error).
    #[error("media storage: {0}")]
    Config(String),
    /// The object does not exist.
    #[error("no such media object")]
    NotFound,
    /// The store failed or could not be reached.
    #[error("media storage failed: {0}")]
    Backend(String),
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound,
            e => StoreError::Backend(e.to_string()),
        }
    }
}

/// Which kind of store this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A local directory.
    Local,
    /// S3 or an S3-compatible server.
    S3,
    /// Memory (tests).
    Memory,
}

/// What to connect to besides the URL.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// An S3 endpoint override (`BEEBETA_S3_ENDPOINT`), for S3-compatible servers.
    pub s3_endpoint: Option<String>,
}

/// An object as listed.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Its key, relative to the store's prefix.
    pub key: String,
    /// When it was written.
    pub last_modified: DateTime<Utc>,
    /// Its size in bytes.
    pub size: u64,
}

/// The media store: an object store, a key prefix inside it, and its kind.
#[derive(Debug, Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    kind: Kind,
    description: String,
}

impl MediaStore {
    /// Opens `file://<dir>` (created if missing), `s3://<bucket>[/<prefix>]` (region and
    /// credentials from the `AWS_*` environment) or `memory://`.
    pub fn open(url: &str, options: &StoreOptions) -> Result<MediaStore, StoreError> {
        if let Some(dir) = url.strip_prefix("file://") {
            let dir = if dir.is_empty() { "." } else { dir };
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {dir}: {e}")))?;
            let local = LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| StoreError::Config(format!("{dir}: {e}")))?
                .with_automatic_cleanup(true);
            return Ok(MediaStore {
                store: Arc::new(local),
                prefix: Path::default(),
                kind: Kind::Local,
                description: format!("file://{dir}"),
            });
        }
        if url == "memory://" || url == "memory:" {
            return Ok(Self::memory());
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::Config(format!(
                    "{url}: the S3 URL needs a bucket"
                )));
            }
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(RetryConfig {
                    backoff: BackoffConfig {
                        init_backoff: Duration::from_millis(100),
                        max_backoff: Duration::from_secs(2),
                        base: 2.0,
                    },
                    max_retries: 3,
                    retry_timeout: Duration::from_secs(15),
                })
                .with_client_options(
                    ClientOptions::new()
                        .with_connect_timeout(Duration::from_secs(2))
                        .with_timeout(Duration::from_secs(20)),
                );
            if let Some(endpoint) = options.s3_endpoint.as_deref().filter(|e| !e.is_empty()) {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            let s3 = builder
                .build()
                .map_err(|e| StoreError::Config(e.to_string()))?;
            return Ok(MediaStore {
                store: Arc::new(s3),
                prefix: Path::from(prefix),
                kind: Kind::S3,
                description: format!("s3://{bucket}/{prefix}"),
            });
        }
        Err(StoreError::Config(format!(
            "{url:?} is not a media URL; use file://<dir>, s3://<bucket>/<prefix> or memory://"
        )))
    }

    /// An empty in-memory store.
    pub fn memory() -> MediaStore {
        MediaStore {
            store: Arc::new(InMemory::new()),
            prefix: Path::default(),
            kind: Kind::Memory,
            description: "memory://".into(),
        }
    }

    /// Which kind of store this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The store as configured, for logs.
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn path(&self, key: &str) -> Result<Path, StoreError> {
        let key = Path::parse(key).map_err(|_| StoreError::NotFound)?;
        if key.as_ref().is_empty() {
            return Err(StoreError::NotFound);
        }
        Ok(self.prefix.parts().chain(key.parts()).collect())
    }

    /// Writes an object. S3 objects get their content type and the immutable cache policy, so
    /// a CDN in front serves them as they are.
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let mut opts = PutOptions::default();
        if self.kind == Kind::S3 {
            let mut attributes = Attributes::new();
            attributes.insert(Attribute::ContentType, content_type.into());
            attributes.insert(Attribute::CacheControl, IMMUTABLE.into());
            opts.attributes = attributes;
        }
        self.store
            .put_opts(&path, PutPayload::from_bytes(bytes), opts)
            .await?;
        Ok(())
    }

    /// Reads a whole object.
    pub async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = self.path(key)?;
        Ok(self.store.get(&path).await?.bytes().await?)
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.store.head(&self.path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an object; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object whose key starts with `under` (a folder such as `img`).
    pub async fn list(&self, under: &str) -> Result<Vec<Listed>, StoreError> {
        let folder: Path = self
            .prefix
            .parts()
            .chain(Path::from(under).parts())
            .collect();
        let skip = self.prefix.parts().count();
        let mut stream = self.store.list(Some(&folder));
        let mut out = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta = meta?;
            let key: Vec<String> = meta
                .location
                .parts()
                .skip(skip)
                .map(|p| p.as_ref().to_string())
                .collect();
            out.push(Listed {
                key: key.join("/"),
                last_modified: meta.last_modified,
                size: meta.size,
            });
        }
        Ok(out)
    }
}

/// The content type of a stored key, by its extension (we only ever store these).
pub fn content_type_of(key: &str) -> Option<&'static str> {
    match key.rsplit_once('.')?.1 {
        "jpg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let opts = StoreOptions::default();
        assert!(MediaStore::open("ftp://x", &opts).is_err());
        assert!(MediaStore::open("s3://", &opts).is_err());
        assert_eq!(
            MediaStore::open("memory://", &opts).unwrap().kind(),
            Kind::Memory
        );
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}/media", dir.path().display());
        assert_eq!(MediaStore::open(&url, &opts).unwrap().kind(), Kind::Local);
        assert!(dir.path().join("media").is_dir());
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_of("img/ab.jpg"), Some("image/jpeg"));
        assert_eq!(content_type_of("img/ab.png"), Some("image/png"));
        assert_eq!(content_type_of("img/ab.html"), None);
        assert_eq!(content_type_of("img/ab"), None);
    }
}
