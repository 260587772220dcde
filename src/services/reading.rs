//! Cached reads (cache-aside). What is cached is the same for every visitor; nothing per visitor
//! is stored under a shared key.
//!
//! | key | value | fresh / kept stale | invalidated |
//! |---|---|---|---|
//! | `q:<id>` | the question, choices, tags, author ([`SharedPoll`]) | 5 min / 1 h | after an edit, close or delete commits |
//! | `c:<id>` | its counts (from the slotted counters) | 500 ms / 1 min | by time (a voter sees their own vote at once: see below) |
//! | `l:<gen>:<sort>:<window>:<tag>:<page>` | one page of a list | 2 s / 1 min | by time, and a new generation after a question is asked, edited, closed or deleted |
//! | `t:<gen>:<page>` | one page of the tag cloud | 30 s / 10 min | like lists |
//! | `lists-gen` | the current list generation | 1 day | replaced by those writes |
//!
//! Every entry is rebuilt by one caller at a time (`Cache::get_or_rebuild`: a lease, and the stale
//! value served meanwhile). A visitor whose ballot changed in the last [`OWN_VOTE_WINDOW`] reads
//! the counts from the database, so their own vote always shows; others see it within about a
//! second. Searches are not cached (unbounded keys).

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::Page;
use crate::error::{AppError, AppResult};
use crate::models::ballot;
use crate::models::counts::{self, Counts};
use crate::models::listing::{self, ListQuery, ListView};
use crate::models::poll::{self, PollView, SharedPoll};
use crate::models::tag::{self, TagRow};

const QUESTION_FRESH: Duration = Duration::from_secs(300);
const QUESTION_STALE: Duration = Duration::from_secs(3600);
const COUNTS_FRESH: Duration = Duration::from_millis(500);
const COUNTS_STALE: Duration = Duration::from_secs(60);
const LIST_FRESH: Duration = Duration::from_secs(2);
const LIST_STALE: Duration = Duration::from_secs(60);
const TAGS_FRESH: Duration = Duration::from_secs(30);
const TAGS_STALE: Duration = Duration::from_secs(600);
const GEN_KEY: &str = "lists-gen";
/// A ballot changed this recently makes its voter read fresh counts.
pub const OWN_VOTE_WINDOW: chrono::Duration = chrono::Duration::seconds(10);

fn question_key(id: i64) -> String {
    format!("q:{id}")
}

fn counts_key(id: i64) -> String {
    format!("c:{id}")
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}

fn not_found(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::NotFound => AppError::NotFound("There is no such question.".into()),
        e => e.into(),
    }
}

/// The question as `voter` sees it: shared parts and counts from the cache, the visitor's own
/// ballot from the database.
pub async fn poll_view(
    db: &Db,
    cache: &Cache,
    id: i64,
    voter: Option<String>,
) -> AppResult<PollView> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let now = crate::models::now();
        let shared = shared_poll(&db, &cache, id)?;
        let mine = match &voter {
            Some(v) => db.run_blocking(|c| Ok(ballot::ballot_of(c, id, v)?))?,
            None => None,
        };
        let own_recent = mine
            .as_ref()
            .is_some_and(|b| b.changed_at > now - OWN_VOTE_WINDOW);
        let counts = if own_recent {
            db.run_blocking(|c| Ok(counts::read(c, id)?))?
        } else {
            cached_counts(&db, &cache, id)?
        };
        Ok(poll::assemble(shared, mine.map(|b| b.choices), counts, now))
    })
    .await
}

/// What a visitor whose ballot is `mine` (read earlier) sees of question `id` now: the shared
/// parts and the counts from the cache, no database read when they are cached (the live stream's
/// tick).
pub async fn poll_view_with(
    db: &Db,
    cache: &Cache,
    id: i64,
    mine: Option<Vec<i64>>,
) -> AppResult<PollView> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let shared = shared_poll(&db, &cache, id)?;
        let counts = cached_counts(&db, &cache, id)?;
        Ok(poll::assemble(shared, mine, counts, crate::models::now()))
    })
    .await
}

/// The question as a voter sees it right after their vote committed with `choices`, given the
/// counts read after that commit (they include the vote): the shared parts come from the cache,
/// so usually nothing is read.
pub async fn poll_view_after_vote(
    db: &Db,
    cache: &Cache,
    id: i64,
    choices: Vec<i64>,
    counts: Counts,
) -> AppResult<PollView> {
    // Usually the question is in this process's memory: read here, no thread hop.
    let shared = match cache.peek_fresh::<SharedPoll>(&question_key(id)) {
        Some(shared) => shared,
        None => {
            let (db, cache) = (db.clone(), cache.clone());
            blocking(move || shared_poll(&db, &cache, id)).await?
        }
    };
    Ok(poll::assemble(
        shared,
        Some(choices),
        counts,
        crate::models::now(),
    ))
}

/// The canonical path of a visible question (`/q/<id>/<slug>`), from the cache.
pub async fn question_path(db: &Db, cache: &Cache, id: i64) -> AppResult<String> {
    if let Some(shared) = cache.peek_fresh::<SharedPoll>(&question_key(id)) {
        return Ok(shared.question.path());
    }
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || shared_poll(&db, &cache, id))
        .await
        .map(|shared| shared.question.path())
}

/// The parts of a question every visitor sees, from the cache (blocking).
fn shared_poll(db: &Db, cache: &Cache, id: i64) -> AppResult<SharedPoll> {
    cache.get_or_rebuild(&question_key(id), QUESTION_FRESH, QUESTION_STALE, || {
        db.run_blocking(|c| poll::load_shared(c, id).map_err(not_found))
    })
}

fn cached_counts(db: &Db, cache: &Cache, id: i64) -> AppResult<Counts> {
    cache.get_or_rebuild(&counts_key(id), COUNTS_FRESH, COUNTS_STALE, || {
        db.run_blocking(|c| Ok(counts::read(c, id)?))
    })
}

/// A question's counts (for the results endpoint and live updates), at most about a second old.
pub async fn counts(db: &Db, cache: &Cache, id: i64) -> AppResult<Counts> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || cached_counts(&db, &cache, id)).await
}

fn generation(cache: &Cache) -> String {
    if let Some(g) = cache.get_json::<String>(GEN_KEY) {
        return g;
    }
    let g = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    cache.set_json(GEN_KEY, &g, Duration::from_secs(86_400));
    g
}

/// One page of a list; searches go to the database every time.
pub async fn list(
    db: &Db,
    cache: &Cache,
    query: ListQuery,
    now: NaiveDateTime,
) -> AppResult<ListView> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let load = || db.run_blocking(|c| Ok(listing::list(c, &query, now)?));
        if query.search.is_some() {
            return load();
        }
        let key = format!(
            "l:{}:{}:{}:{}:{}",
            generation(&cache),
            query.sort.as_str(),
            query.window.as_str(),
            query.tag_id.unwrap_or(0),
            query.page.number()
        );
        cache.get_or_rebuild(&key, LIST_FRESH, LIST_STALE, load)
    })
    .await
}

/// One page of the tag cloud (tags by number of questions).
pub async fn popular_tags(db: &Db, cache: &Cache, page: Page) -> AppResult<(Vec<TagRow>, bool)> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let key = format!("t:{}:{}", generation(&cache), page.number());
        cache.get_or_rebuild(&key, TAGS_FRESH, TAGS_STALE, || {
            db.run_blocking(|c| Ok(tag::popular(c, page)?))
        })
    })
    .await
}

/// After a question's content or state changed (edit, close, delete): drop its cached copy and
/// start a new list generation. Call after the commit.
pub async fn question_changed(cache: &Cache, id: i64) {
    let cache = cache.clone();
    let _ = tokio::task::spawn_blocking(move || {
        cache.delete_many(&[question_key(id), counts_key(id)]);
        lists_changed_blocking(&cache);
    })
    .await;
}

/// After a question was asked: a new list generation (lists and tag cloud rebuild).
pub async fn lists_changed(cache: &Cache) {
    let cache = cache.clone();
    let _ = tokio::task::spawn_blocking(move || lists_changed_blocking(&cache)).await;
}

fn lists_changed_blocking(cache: &Cache) {
    let g = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    cache.set_json(GEN_KEY, &g, Duration::from_secs(86_400));
}
