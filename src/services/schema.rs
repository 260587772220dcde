//! Migrations with the data steps some of them need: the schema comes from `migrations/`, the
//! rows that must be computed by the app (search documents) are written here, right after.

use crate::db::Db;
use crate::models::search;

/// Version of the migration that creates the search index (`migrations/*/2026-12-06-000013_search`),
/// as Diesel reports it (without the dashes).
const SEARCH_MIGRATION: &str = "20261206000013";

/// Applies pending migrations, then indexes existing questions for search when that migration
/// was among them; returns how many migrations ran.
pub fn migrate(db: &Db) -> Result<usize, String> {
    let versions = db.migrate_versions()?;
    if versions
        .iter()
        .any(|v| v.replace('-', "").starts_with(SEARCH_MIGRATION))
    {
        let n = reindex(db, false)?;
        tracing::info!(questions = n, "existing questions indexed for search");
    }
    Ok(versions.len())
}

/// Indexes questions that have no search row (`all`: drops every row first and indexes all);
/// returns how many were indexed.
pub fn reindex(db: &Db, all: bool) -> Result<usize, String> {
    db.background_blocking(|c| {
        if all {
            search::clear(c)?;
        }
        Ok(search::backfill(c, 500)?)
    })
    .map_err(|e| format!("indexing questions for search failed: {e}"))
}
