//! Sitemaps for search engines: `/sitemap.xml`, an index of pages of at most `page_size`
//! (50,000) URLs each, `questions-<n>.xml` and `tags-<n>.xml`, page `n` listing ids
//! `(n-1)·size+1 ..= n·size`. So a million questions are 20 pages, and no request reads more
//! than one page's range of the table.
//!
//! | key | value | fresh / kept stale | invalidated |
//! |---|---|---|---|
//! | `sm:q:<k>`, `sm:t:<k>` | the entries of ids `k·1000+1 ..= (k+1)·1000` ([`CHUNK`]) | 5 min / 1 h | a question's chunk after it is edited, closed, hidden or deleted (`reading::question_changed`); new ones by time |
//! | `sm:index:<size>` | the index document (pages with something to list) | 5 min / 1 h | by time |
//!
//! A page is assembled from its chunks (each one primary-key range scan when missing) rather
//! than stored whole: 50,000 URLs are several megabytes, over memcached's item size. A question
//! hidden or deleted leaves its sitemap at once; a new one appears within 5 minutes.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::cache::Cache;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::models::sitemap::{self, SitemapEntry, SitemapKind};
use crate::services::document::{Document, escape_markup};
use crate::services::stale;

/// The most URLs a sitemap may list (sitemaps.org), and the default page size.
pub const MAX_URLS: i64 = 50_000;
/// Ids per cached chunk.
pub const CHUNK: i64 = 1_000;
const FRESH: Duration = Duration::from_secs(300);
const STALE: Duration = Duration::from_secs(3600);
/// The sitemaps XML namespace.
pub const NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

fn short(kind: SitemapKind) -> &'static str {
    match kind {
        SitemapKind::Questions => "q",
        SitemapKind::Tags => "t",
    }
}

/// The cache key of the chunk holding id `id` of `kind`.
fn chunk_key(kind: SitemapKind, id: i64) -> String {
    format!("sm:{}:{}", short(kind), (id - 1).max(0) / CHUNK)
}

/// Drops the cached sitemap chunk of question `id` (blocking; after it changed).
pub fn forget_question(cache: &Cache, id: i64) {
    cache.delete(&chunk_key(SitemapKind::Questions, id));
}

/// Where the sitemaps are: the public URL and the page size (1 to [`MAX_URLS`]).
#[derive(Debug, Clone)]
pub struct Site {
    /// The site's public URL, without a trailing `/`.
    pub base: String,
    /// URLs per sitemap page.
    pub page_size: i64,
}

impl Site {
    /// `base` and `page_size` (clamped to 1..=50,000).
    pub fn new(base: &str, page_size: i64) -> Site {
        Site {
            base: base.trim_end_matches('/').to_string(),
            page_size: page_size.clamp(1, MAX_URLS),
        }
    }

    /// The ids page `n` lists, or `None` past the id type.
    fn range(&self, n: i64) -> Option<(i64, i64)> {
        let hi = n.checked_mul(self.page_size)?;
        Some((hi - self.page_size + 1, hi))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}

/// The pages with something to list, by kind: `(kind, n)`.
fn pages(db: &Db, site: &Site) -> AppResult<Vec<(SitemapKind, i64)>> {
    let size = site.page_size;
    db.run_blocking(|c| {
        let mut pages = Vec::new();
        for kind in SitemapKind::ALL {
            let max = sitemap::max_id(c, kind)?;
            let count = (max + size - 1) / size;
            for n in 1..=count {
                let (lo, hi) = site.range(n).expect("within the largest id");
                if sitemap::any_in(c, kind, lo, hi)? {
                    pages.push((kind, n));
                }
            }
        }
        Ok(pages)
    })
}

/// The sitemap index (`/sitemap.xml`), from the cache.
pub async fn index(db: &Db, cache: &Cache, site: Site) -> AppResult<Document> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let key = format!("sm:index:{}", site.page_size);
        let rebuild = || {
            let pages = pages(&db, &site)?;
            let base = escape_markup(&site.base);
            let mut body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{NAMESPACE}\">\n"
            );
            for (kind, n) in pages {
                body.push_str(&format!(
                    "<sitemap><loc>{base}/sitemaps/{}-{n}.xml</loc></sitemap>\n",
                    kind.as_str()
                ));
            }
            body.push_str("</sitemapindex>\n");
            Ok(Document::new(body, None))
        };
        stale::kept(&cache, &key, FRESH, STALE, rebuild)
    })
    .await
}

/// Sitemap page `n` of `kind`, or `None` when it lists nothing (out of range, or every id of
/// its range hidden, deleted or unused).
pub async fn page(
    db: &Db,
    cache: &Cache,
    site: Site,
    kind: SitemapKind,
    n: i64,
) -> AppResult<Option<Document>> {
    let Some((lo, hi)) = site.range(n).filter(|_| n >= 1) else {
        return Ok(None);
    };
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        // Past the largest id: nothing to read (and no chunk keys to look up).
        let max = db.run_blocking(|c| Ok(sitemap::max_id(c, kind)?))?;
        if lo > max {
            return Ok(None);
        }
        let hi = hi.min(max);
        let mut entries: Vec<SitemapEntry> = Vec::new();
        let mut start = lo;
        while start <= hi {
            let chunk = (start - 1) / CHUNK;
            let (clo, chi) = (chunk * CHUNK + 1, (chunk + 1) * CHUNK);
            let rebuild = || db.run_blocking(|c| Ok(sitemap::entries(c, kind, clo, chi)?));
            let found: Vec<SitemapEntry> =
                stale::kept(&cache, &chunk_key(kind, start), FRESH, STALE, rebuild)?;
            entries.extend(found.into_iter().filter(|e| e.id >= lo && e.id <= hi));
            start = chi + 1;
        }
        if entries.is_empty() {
            return Ok(None);
        }
        Ok(Some(render(&site.base, &entries)))
    })
    .await
}

/// A `<urlset>` of `entries` (absolute, escaped URLs; `lastmod` in W3C format, UTC).
fn render(base: &str, entries: &[SitemapEntry]) -> Document {
    let base = escape_markup(base);
    let mut body = String::with_capacity(entries.len() * 120 + 200);
    body.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    body.push_str(&format!("<urlset xmlns=\"{NAMESPACE}\">\n"));
    let mut modified: Option<NaiveDateTime> = None;
    for e in entries {
        body.push_str("<url><loc>");
        body.push_str(&base);
        body.push_str(&escape_markup(&url_path(&e.path)));
        body.push_str("</loc>");
        if let Some(t) = e.lastmod {
            body.push_str(
                &t.format("<lastmod>%Y-%m-%dT%H:%M:%S+00:00</lastmod>")
                    .to_string(),
            );
            modified = modified.max(Some(t));
        }
        body.push_str("</url>\n");
    }
    body.push_str("</urlset>\n");
    Document::new(body, modified.map(|t| t.and_utc().timestamp()))
}

/// A path as a URL carries it: bytes outside printable ASCII, spaces and quotes
/// percent-encoded (sitemaps want URLs escaped; slugs are ASCII, tags may not be).
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_graphic() && b != b'"' && b != b'<' && b != b'>' && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_escaped() {
        assert_eq!(url_path("/t/c%23 é"), "/t/c%23%20%C3%A9");
    }

    #[test]
    fn pages_are_id_ranges() {
        let site = Site::new("http://x/", 3);
        assert_eq!(site.base, "http://x");
        assert_eq!(site.range(1), Some((1, 3)));
        assert_eq!(site.range(2), Some((4, 6)));
        assert_eq!(site.range(i64::MAX), None);
        assert_eq!(Site::new("", 0).page_size, 1);
        assert_eq!(Site::new("", 10_000_000).page_size, MAX_URLS);
        assert_eq!(chunk_key(SitemapKind::Questions, 1000), "sm:q:0");
        assert_eq!(chunk_key(SitemapKind::Questions, 1001), "sm:q:1");
    }
}
