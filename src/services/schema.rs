//! Migrations with the data steps some of them need: the schema comes from `migrations/`, the
//! rows that must be computed by the app (search documents) are written here, right after.

use crate::db::Db;
use crate::models::search;

/// Versions of the migrations that leave the search index empty (`000013_search` creates it,
/// `000014_search_words` drops its rows when the folding changed), as Diesel reports them
/// (without the dashes).
const SEARCH_MIGRATIONS: [&str; 2] = ["20261206000013", "20261206000014"];

/// Applies pending migrations, then indexes existing questions for search when one of the
/// migrations that empty the index was among them; returns how many migrations ran.
pub fn migrate(db: &Db) -> Result<usize, String> {
    let versions = db.migrate_versions()?;
    if versions.iter().any(|v| {
        let v = v.replace('-', "");
        SEARCH_MIGRATIONS.iter().any(|m| v.starts_with(m))
    }) {
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
