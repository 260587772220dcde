//! Stale-if-error for cached reads: an entry is kept `cache_stale_if_error_secs` past its
//! freshness, and served when its rebuild fails because the database is unavailable. Used by
//! `services::reading` (which also reports what was a saved copy) and, for value-only reads, by
//! the breakdown segments, feeds and sitemaps ([`kept`]).

use std::time::Duration;

use crate::cache::{Cache, Keep};
use crate::error::{AppError, AppResult};

/// Whether an error means the database is unavailable (then saved data may be served).
pub fn unavailable(e: &AppError) -> bool {
    matches!(e, AppError::DbUnavailable(_))
}

/// How long an entry is fresh, served stale while one caller rebuilds it, and kept for a failing
/// rebuild.
pub fn keep(cache: &Cache, fresh_for: Duration, stale_for: Duration) -> Keep {
    Keep {
        fresh_for,
        stale_for,
        saved_for: cache.saved_for(),
    }
}

/// A cached value with stale-if-error, for callers that want only the value: when `rebuild`
/// fails because the database is unavailable, the value kept under `key` is served if there is
/// one.
pub fn kept<T: serde::Serialize + serde::de::DeserializeOwned>(
    cache: &Cache,
    key: &str,
    fresh_for: Duration,
    stale_for: Duration,
    rebuild: impl FnOnce() -> AppResult<T>,
) -> AppResult<T> {
    let keep = keep(cache, fresh_for, stale_for);
    Ok(cache
        .get_or_rebuild_saved(key, keep, rebuild, unavailable)?
        .value)
}
