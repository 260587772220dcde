//! [`Cached`]: a document shared by every visitor (a feed, a sitemap) answered with its
//! validators (`ETag`, `Last-Modified`), `304 Not Modified` when the request's `If-None-Match`
//! or, without one, `If-Modified-Since` says the client has it, and a public `Cache-Control`.

use std::io::Cursor;

use chrono::DateTime;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use crate::services::document::Document;

/// A shared document and how it is served.
pub struct Cached {
    /// The document and its validators.
    pub doc: Document,
    /// Its type.
    pub content_type: ContentType,
    /// How long shared caches and clients may keep it (seconds).
    pub max_age: u32,
}

impl Cached {
    /// Whether the request's conditional headers match this document (RFC 9110 §13.2.2:
    /// `If-None-Match` when present, else `If-Modified-Since`).
    fn not_modified(&self, req: &Request<'_>) -> bool {
        if let Some(tags) = req.headers().get_one("If-None-Match") {
            return tags.split(',').map(str::trim).any(|t| {
                // A weak comparison, as the RFC wants for If-None-Match.
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == self.doc.etag
            });
        }
        match (
            req.headers().get_one("If-Modified-Since"),
            self.doc.modified,
        ) {
            (Some(since), Some(modified)) => DateTime::parse_from_rfc2822(since.trim())
                .is_ok_and(|since| since.timestamp() >= modified),
            _ => false,
        }
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) of unix seconds.
pub fn http_date(secs: i64) -> Option<String> {
    DateTime::from_timestamp(secs, 0).map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

impl<'r> Responder<'r, 'static> for Cached {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let not_modified = self.not_modified(req);
        let mut res = Response::build();
        res.header(Header::new("ETag", self.doc.etag))
            .header(Header::new(
                "Cache-Control",
                format!("public, max-age={}", self.max_age),
            ));
        if let Some(date) = self.doc.modified.and_then(http_date) {
            res.header(Header::new("Last-Modified", date));
        }
        if not_modified {
            res.status(Status::NotModified);
        } else {
            let body = self.doc.body;
            res.header(self.content_type)
                .sized_body(body.len(), Cursor::new(body));
        }
        res.ok()
    }
}
