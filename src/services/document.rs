//! [`Document`]: a finished XML document (a feed, a sitemap) as the cache keeps it, with the
//! validators conditional requests compare.

use sha2::{Digest, Sha256};

/// A finished feed or sitemap document with what conditional requests compare.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    /// The XML.
    pub body: String,
    /// A strong validator of the body (`"<hex>"`, quotes included).
    pub etag: String,
    /// When the content last changed (unix seconds), where known.
    pub modified: Option<i64>,
}

impl Document {
    /// A document with its ETag (the first 128 bits of the body's SHA-256).
    pub fn new(body: String, modified: Option<i64>) -> Document {
        let digest = Sha256::digest(body.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Document {
            body,
            etag: format!("\"{hex}\""),
            modified,
        }
    }
}
