//! Rendered question pages shared by the visitors who would all see the same page: anonymous
//! (no session), no ballot on that question, no flash message. Rendering the page with Tera
//! costs more than everything else a page view does, and a viral question is read mostly by
//! such visitors, so each app server renders it once per version of its data and hands the
//! same HTML to all of them.
//!
//! The only per-visitor part of those pages is the CSRF token of the vote form. The page is
//! rendered with a placeholder in its place (random per process, so no question text can
//! contain it) and each response replaces the placeholder with the visitor's own token.
//!
//! Entries are keyed by question id plus a hash of everything the page shows (question,
//! choices, tags, author, status, counts), so a new count or an edit makes a new key at once;
//! a short TTL bounds how long relative times ("3 minutes ago") can lag and frees entries.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use crate::models::poll::PollView;

/// How long a rendered page is reused.
const PAGE_TTL: Duration = Duration::from_secs(2);
/// How long a page is served by its address alone, before its data is even read again.
pub const RECENT_TTL: Duration = Duration::from_secs(1);
/// Bytes of rendered pages kept per app server.
const CAPACITY_BYTES: u64 = 16 << 20;

/// The rendered pages of this app server.
pub struct PageCache {
    pages: moka::sync::Cache<u64, Arc<String>>,
    /// The last page rendered for an address (list identity, or question id and slug), kept
    /// [`RECENT_TTL`]: a visitor with nothing of their own on the page gets it without the
    /// page's data being read at all. This adds at most a second to how stale such a page can
    /// be (the data it was built from is itself cached for a second or two).
    recent: moka::sync::Cache<u64, Arc<String>>,
    placeholder: String,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new()
    }
}

impl PageCache {
    /// An empty cache with a fresh placeholder.
    pub fn new() -> PageCache {
        PageCache {
            pages: moka::sync::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|_: &u64, v: &Arc<String>| u32::try_from(v.len() + 64).unwrap_or(u32::MAX))
                .time_to_live(PAGE_TTL)
                .build(),
            recent: moka::sync::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|_: &u64, v: &Arc<String>| u32::try_from(v.len() + 64).unwrap_or(u32::MAX))
                .time_to_live(RECENT_TTL)
                .build(),
            placeholder: format!("csrf-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// What pages are rendered with in place of the visitor's CSRF token.
    pub fn placeholder(&self) -> &str {
        &self.placeholder
    }

    /// Whether `view` can be served from shared HTML to a visitor without a session.
    pub fn shareable(view: &PollView) -> bool {
        view.my_choices.is_none()
    }

    /// The key of the page showing `view`.
    pub fn key(view: &PollView) -> u64 {
        let mut h = DefaultHasher::new();
        view.question.id.hash(&mut h);
        format!("{view:?}").hash(&mut h);
        h.finish()
    }

    /// The key of an address: any hashable description of what was asked for.
    pub fn address(parts: impl Hash) -> u64 {
        let mut h = DefaultHasher::new();
        parts.hash(&mut h);
        h.finish()
    }

    /// The page last rendered for `address` (within [`RECENT_TTL`]), with `token` in place of
    /// the placeholder.
    pub fn recent(&self, address: u64, token: &str) -> Option<String> {
        self.recent
            .get(&address)
            .map(|html| html.replace(&self.placeholder, token))
    }

    /// Remembers the page (rendered with the placeholder) last rendered for `address`.
    pub fn remember(&self, address: u64, html: &Arc<String>) {
        self.recent.insert(address, Arc::clone(html));
    }

    /// The page under `key` as stored (with the placeholder, if it has one).
    pub fn get_stored(&self, key: u64) -> Option<Arc<String>> {
        self.pages.get(&key)
    }

    /// Keeps `html` (rendered with the placeholder); returns it shared.
    pub fn insert_shared(&self, key: u64, html: String) -> Arc<String> {
        let html = Arc::new(html);
        self.pages.insert(key, Arc::clone(&html));
        html
    }

    /// Forgets every page of this server (after a question is hidden: its page must not be
    /// served by address any more).
    pub fn clear(&self) {
        self.pages.invalidate_all();
        self.recent.invalidate_all();
    }

    /// Puts the visitor's token into a stored page.
    pub fn personalise(&self, html: &str, token: &str) -> String {
        html.replace(&self.placeholder, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_is_replaced_by_each_visitors_token() {
        let cache = PageCache::new();
        let html = format!(
            "<form><input name=csrf_token value=\"{0}\"></form><form value=\"{0}\">",
            cache.placeholder()
        );
        let first = cache.personalise(&cache.insert_shared(7, html), "token-a");
        assert_eq!(
            first,
            "<form><input name=csrf_token value=\"token-a\"></form><form value=\"token-a\">"
        );
        let second = cache.personalise(&cache.get_stored(7).expect("kept"), "token-b");
        assert!(second.contains("token-b") && !second.contains("token-a"));
        assert!(!second.contains(cache.placeholder()));
        assert!(cache.get_stored(8).is_none());
        assert_ne!(PageCache::new().placeholder(), cache.placeholder());
    }

    #[test]
    fn recent_pages_are_served_by_address_for_a_second() {
        let cache = PageCache::new();
        let a = PageCache::address(("question", 7, "slug"));
        assert_ne!(a, PageCache::address(("question", 7, "other")));
        assert!(cache.recent(a, "t").is_none());
        let stored = cache.insert_shared(1, format!("<p>{}</p>", cache.placeholder()));
        cache.remember(a, &stored);
        assert_eq!(cache.recent(a, "tok").as_deref(), Some("<p>tok</p>"));
        std::thread::sleep(RECENT_TTL + Duration::from_millis(200));
        assert!(cache.recent(a, "tok").is_none(), "gone after RECENT_TTL");
        assert!(cache.get_stored(1).is_some(), "the keyed page lives longer");
    }
}
