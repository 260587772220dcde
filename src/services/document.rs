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

/// `&`, `<`, `>`, `"` and `'` as entities: text or an attribute value in XML or HTML.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_markup;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape_markup("a&b<c>'\""), "a&amp;b&lt;c&gt;&apos;&quot;");
    }
}
