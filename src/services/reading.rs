//! Cached reads (cache-aside). What is cached is the same for every visitor; nothing per visitor
//! is stored under a shared key.
//!
//! | key | value | fresh / kept stale | invalidated |
//! |---|---|---|---|
//! | `q:<id>` | the question, choices, tags, author ([`SharedPoll`]) | 5 min / 1 h | after an edit, close or delete commits |
//! | `ct:<id>` | its counts, in all and per trust level (from the slotted counters) | 500 ms / 1 min | by time (a voter sees their own vote at once: see below) |
//! | `rk:<id>` | a ranked question's instant-runoff count (from the ranking counters) | 500 ms / 1 min | like the counts |
//! | `l:<gen>:<sort>:<window>:<tag>:<page>` | one page of a list | 2 s / 1 min | by time, and a new generation after a question is asked, edited, closed or deleted |
//! | `t:<gen>:<page>` | one page of the tag cloud | 30 s / 10 min | like lists |
//! | `tag:<gen>:<name>` | a tag (or that there is none) | 30 s / 10 min | like lists |
//! | `s:<gen>:<sort>:<status>:<window>:<tag>:<page>:<words>` | one page of search results | `cache_search_secs` (30 s) / 1 min | like lists |
//! | `sg:<gen>:<words>` | the search box's suggestions | `cache_search_secs` (30 s) / 1 min | like lists |
//! | `lists-gen` | the current list generation | 1 day | replaced by those writes |
//!
//! Feeds (`services::feeds`) key on the list generation too; a changed question also drops its
//! sitemap chunk (`services::sitemaps`).
//!
//! Every entry is rebuilt by one caller at a time (`Cache::get_or_rebuild`: a lease, and the stale
//! value served meanwhile).
//!
//! Stale-if-error: entries are kept `stale_if_error_secs` (10 min) past their freshness. When a
//! rebuild fails because the database is unavailable, the kept value is served instead and the
//! answer says so ([`Read::saved`]: pages show a "saved copy" note, responses carry `Age`); a
//! visitor's own parts (their ballot) that cannot be read are left out. A visitor whose ballot changed in the last [`OWN_VOTE_WINDOW`] reads
//! the counts from the database, so their own vote always shows; others see it within about a
//! second. Search keys hold the query's folded words (`SearchTerms::key`, at most 200
//! characters typed); memcached gets a hash of keys that are long or not ASCII.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::cache::Cache;
use crate::db::{Db, Work};
use crate::domain::{Kind, Page, SearchTerms};
use crate::error::{AppError, AppResult, search_too_broad};
use crate::models::counts::{self, Counts};
use crate::models::listing::{self, ListQuery, ListView};
use crate::models::poll::{self, PollView, SharedPoll};
use crate::models::search::{self, SearchFilter, Suggestion};
use crate::models::tag::{self, TagRow};
use crate::models::{ballot, ranking};
use crate::services::stale::{keep, unavailable};

const QUESTION_FRESH: Duration = Duration::from_secs(300);
const QUESTION_STALE: Duration = Duration::from_secs(3600);
const COUNTS_FRESH: Duration = Duration::from_millis(500);
const COUNTS_STALE: Duration = Duration::from_secs(60);
const LIST_FRESH: Duration = Duration::from_secs(2);
const LIST_STALE: Duration = Duration::from_secs(60);
const TAGS_FRESH: Duration = Duration::from_secs(30);
const TAGS_STALE: Duration = Duration::from_secs(600);
/// Questions offered while typing in the search box.
pub const SUGGESTIONS: i64 = 8;
const GEN_KEY: &str = "lists-gen";
/// A ballot changed this recently makes its voter read fresh counts.
pub const OWN_VOTE_WINDOW: chrono::Duration = chrono::Duration::seconds(10);

/// What a read gives: the value, and whether some of it is a saved copy because the database
/// failed.
#[derive(Debug, Clone)]
pub struct Read<T> {
    /// The value.
    pub value: T,
    /// `Some` when the database failed and saved data (or nothing of the visitor's own) was used.
    pub saved: Option<SavedCopy>,
}

/// A read answered from saved data while the database failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedCopy {
    /// When the oldest saved part was built (unix ms).
    pub built_ms: u64,
    /// The visitor's own parts (their ballot) could not be read and are left out.
    pub personal_left_out: bool,
}

impl SavedCopy {
    /// Seconds since the oldest part was built (the `Age` header).
    pub fn age_secs(&self) -> u64 {
        let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
        now.saturating_sub(self.built_ms) / 1000
    }

    fn now() -> SavedCopy {
        SavedCopy {
            built_ms: chrono::Utc::now().timestamp_millis().max(0) as u64,
            personal_left_out: false,
        }
    }

    /// Both: the older build, personal parts left out if either left them out.
    fn and(self, other: SavedCopy) -> SavedCopy {
        SavedCopy {
            built_ms: self.built_ms.min(other.built_ms),
            personal_left_out: self.personal_left_out || other.personal_left_out,
        }
    }
}

/// Collects what of a read was saved.
#[derive(Default)]
struct Saved(Option<SavedCopy>);

impl Saved {
    fn add(&mut self, copy: SavedCopy) {
        self.0 = Some(match self.0 {
            Some(old) => old.and(copy),
            None => copy,
        });
    }

    /// `value` with what was collected.
    fn read<T>(self, value: T) -> Read<T> {
        Read {
            value,
            saved: self.0,
        }
    }
}

impl<T> Read<T> {
    /// The value with nothing saved.
    pub fn fresh(value: T) -> Read<T> {
        Read { value, saved: None }
    }
}

/// A cached read with stale-if-error. A stale value served while another caller rebuilds it is
/// a saved copy too when the database's read breaker is open: that rebuild is failing.
fn cached<T: serde::Serialize + serde::de::DeserializeOwned>(
    db: &Db,
    cache: &Cache,
    saved: &mut Saved,
    key: &str,
    fresh_for: Duration,
    stale_for: Duration,
    rebuild: impl FnOnce() -> AppResult<T>,
) -> AppResult<T> {
    let served =
        cache.get_or_rebuild_saved(key, keep(cache, fresh_for, stale_for), rebuild, unavailable)?;
    let down = || db.health().is_open(Work::Read);
    if let Some(built_ms) = served.saved.or(served.stale.filter(|_| down())) {
        saved.add(SavedCopy {
            built_ms,
            personal_left_out: false,
        });
    }
    Ok(served.value)
}

fn question_key(id: i64) -> String {
    format!("q:{id}")
}

/// A question's counts. (`ct:`: counts with their trust levels; servers of the version before kept
/// counts without them under `c:`, which this version never reads.)
fn counts_key(id: i64) -> String {
    format!("ct:{id}")
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
/// ballot from the database. When the database fails: saved parts, and no ballot.
pub async fn poll_view(
    db: &Db,
    cache: &Cache,
    id: i64,
    voter: Option<String>,
) -> AppResult<Read<PollView>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let now = crate::models::now();
        let mut saved = Saved::default();
        let shared = shared_poll(&db, &cache, &mut saved, id)?;
        let mine = match &voter {
            Some(v) => match db.run_blocking(|c| Ok(ballot::ballot_of(c, id, v)?)) {
                Ok(mine) => mine,
                Err(e) if unavailable(&e) => {
                    saved.add(SavedCopy {
                        personal_left_out: true,
                        ..SavedCopy::now()
                    });
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let own_recent = mine
            .as_ref()
            .is_some_and(|b| b.changed_at > now - OWN_VOTE_WINDOW);
        let counts = match own_recent {
            true => match db.run_blocking(|c| Ok(counts::read(c, id)?)) {
                Err(e) if unavailable(&e) => cached_counts(&db, &cache, &mut saved, id)?,
                other => other?,
            },
            false => cached_counts(&db, &cache, &mut saved, id)?,
        };
        let mut view = poll::assemble(shared, mine.map(|b| b.choices), counts, now);
        add_runoff(&db, &cache, &mut saved, &mut view, own_recent)?;
        Ok(saved.read(view))
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
) -> AppResult<Read<PollView>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let mut saved = Saved::default();
        let shared = shared_poll(&db, &cache, &mut saved, id)?;
        let counts = cached_counts(&db, &cache, &mut saved, id)?;
        let mut view = poll::assemble(shared, mine, counts, crate::models::now());
        add_runoff(&db, &cache, &mut saved, &mut view, false)?;
        Ok(saved.read(view))
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
            blocking(move || shared_poll(&db, &cache, &mut Saved::default(), id)).await?
        }
    };
    let view = poll::assemble(shared, Some(choices), counts, crate::models::now());
    if view.question.kind() != Kind::Ranked || view.results.is_none() {
        return Ok(view);
    }
    // A ranked question's rounds come from the cache like everyone's (at most about a second
    // old; the counts above include this vote): reading them fresh for every vote made ranked
    // votes about 4x slower than others in the bench.
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let mut view = view;
        add_runoff(&db, &cache, &mut Saved::default(), &mut view, false)?;
        Ok(view)
    })
    .await
}

/// Adds a ranked question's instant-runoff count to a view that shows results: from the cache
/// (`rk:<id>`, kept like the counts), or read now (`fresh`: the visitor's own vote must show).
fn add_runoff(
    db: &Db,
    cache: &Cache,
    saved: &mut Saved,
    view: &mut PollView,
    fresh: bool,
) -> AppResult<()> {
    if view.question.kind() != Kind::Ranked || view.results.is_none() {
        return Ok(());
    }
    let id = view.question.id;
    let choices: Vec<i64> = view.choices.iter().map(|c| c.id).collect();
    let build = || db.run_blocking(|c| Ok(ranking::count(c, id, &choices)?));
    view.runoff = Some(match fresh {
        true => build()?,
        false => cached(
            db,
            cache,
            saved,
            &format!("rk:{id}"),
            COUNTS_FRESH,
            COUNTS_STALE,
            build,
        )?,
    });
    Ok(())
}

/// The canonical path of a visible question (`/q/<id>/<slug>`), from the cache.
pub async fn question_path(db: &Db, cache: &Cache, id: i64) -> AppResult<String> {
    if let Some(shared) = cache.peek_fresh::<SharedPoll>(&question_key(id)) {
        return Ok(shared.question.path());
    }
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || shared_poll(&db, &cache, &mut Saved::default(), id))
        .await
        .map(|shared| shared.question.path())
}

/// The parts of a question every visitor sees, from the cache (blocking).
fn shared_poll(db: &Db, cache: &Cache, saved: &mut Saved, id: i64) -> AppResult<SharedPoll> {
    let key = question_key(id);
    cached(
        db,
        cache,
        saved,
        &key,
        QUESTION_FRESH,
        QUESTION_STALE,
        || db.run_blocking(|c| poll::load_shared(c, id).map_err(not_found)),
    )
}

fn cached_counts(db: &Db, cache: &Cache, saved: &mut Saved, id: i64) -> AppResult<Counts> {
    let key = counts_key(id);
    cached(db, cache, saved, &key, COUNTS_FRESH, COUNTS_STALE, || {
        db.run_blocking(|c| Ok(counts::read(c, id)?))
    })
}

/// A question's counts (for the results endpoint and live updates), at most about a second old.
pub async fn counts(db: &Db, cache: &Cache, id: i64) -> AppResult<Read<Counts>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let mut saved = Saved::default();
        let counts = cached_counts(&db, &cache, &mut saved, id)?;
        Ok(saved.read(counts))
    })
    .await
}

/// The current list generation (a new one after every write that changes a list; feeds key on
/// it too).
pub(crate) fn generation(cache: &Cache) -> String {
    if let Some(g) = cache.get_json::<String>(GEN_KEY) {
        return g;
    }
    let g = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    cache.set_json(GEN_KEY, &g, Duration::from_secs(86_400));
    g
}

/// One page of a list.
pub async fn list(
    db: &Db,
    cache: &Cache,
    query: ListQuery,
    now: NaiveDateTime,
) -> AppResult<Read<ListView>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let load = || db.run_blocking(|c| Ok(listing::list(c, &query, now)?));
        let key = format!(
            "l:{}:{}:{}:{}:{}",
            generation(&cache),
            query.sort.as_str(),
            query.window.as_str(),
            query.tag_id.unwrap_or(0),
            query.page.number()
        );
        let mut saved = Saved::default();
        let list = cached(&db, &cache, &mut saved, &key, LIST_FRESH, LIST_STALE, load)?;
        Ok(saved.read(list))
    })
    .await
}

/// One page of search results, cached briefly (a query that goes viral is run once a few
/// seconds per site, not once per visitor).
pub async fn search(
    db: &Db,
    cache: &Cache,
    fresh_for: Duration,
    terms: SearchTerms,
    filter: SearchFilter,
    now: NaiveDateTime,
) -> AppResult<Read<ListView>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let key = || {
            format!(
                "s:{}:{}:{}:{}:{}:{}:{}",
                generation(&cache),
                filter.sort.as_str(),
                filter.status.map_or("any", |s| s.as_str()),
                filter.window.as_str(),
                filter.tag_id.unwrap_or(0),
                filter.page.number(),
                terms.key()
            )
        };
        cached_search(&db, &cache, key, fresh_for, || {
            db.run_blocking(|c| listing::search(c, &terms, &filter, now).map_err(search_too_broad))
        })
    })
    .await
}

/// Questions whose title holds what is being typed in the search box, cached briefly.
pub async fn suggest(
    db: &Db,
    cache: &Cache,
    fresh_for: Duration,
    terms: SearchTerms,
) -> AppResult<Read<Vec<Suggestion>>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let key = || format!("sg:{}:{}", generation(&cache), terms.key());
        cached_search(&db, &cache, key, fresh_for, || {
            db.run_blocking(|c| search::suggest(c, &terms, SUGGESTIONS).map_err(search_too_broad))
        })
    })
    .await
}

/// A search's read: from the cache for `fresh_for` (kept stale like lists), or straight from
/// the database when `fresh_for` is zero (`cache_search_secs = 0`; the key is not even built).
fn cached_search<T: serde::Serialize + serde::de::DeserializeOwned>(
    db: &Db,
    cache: &Cache,
    key: impl FnOnce() -> String,
    fresh_for: Duration,
    load: impl FnOnce() -> AppResult<T>,
) -> AppResult<Read<T>> {
    if fresh_for.is_zero() {
        return load().map(Read::fresh);
    }
    let mut saved = Saved::default();
    let value = cached(db, cache, &mut saved, &key(), fresh_for, LIST_STALE, load)?;
    Ok(saved.read(value))
}

/// One page of the tag cloud (tags by number of questions), and whether there are more.
pub async fn popular_tags(
    db: &Db,
    cache: &Cache,
    page: Page,
) -> AppResult<Read<(Vec<TagRow>, bool)>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let key = format!("t:{}:{}", generation(&cache), page.number());
        let mut saved = Saved::default();
        let tags = cached(
            &db,
            &cache,
            &mut saved,
            &key,
            TAGS_FRESH,
            TAGS_STALE,
            || db.run_blocking(|c| Ok(tag::popular(c, page)?)),
        )?;
        Ok(saved.read(tags))
    })
    .await
}

/// A tag by name (`None`: no such tag), cached like the tag cloud.
pub async fn tag_named(
    db: &Db,
    cache: &Cache,
    name: crate::domain::TagName,
) -> AppResult<Read<Option<TagRow>>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        let key = format!("tag:{}:{}", generation(&cache), name.as_str());
        let mut saved = Saved::default();
        let row = cached(
            &db,
            &cache,
            &mut saved,
            &key,
            TAGS_FRESH,
            TAGS_STALE,
            || db.run_blocking(|c| Ok(tag::find(c, &name)?)),
        )?;
        Ok(saved.read(row))
    })
    .await
}

/// After a question's content or state changed (edit, close, delete): drop its cached copy and
/// start a new list generation. Call after the commit.
pub async fn question_changed(cache: &Cache, id: i64) {
    let cache = cache.clone();
    let _ = tokio::task::spawn_blocking(move || {
        cache.delete_many(&[question_key(id), counts_key(id)]);
        crate::services::sitemaps::forget_question(&cache, id);
        lists_changed_blocking(&cache);
    })
    .await;
}

/// After several questions changed at once (an account deletion): [`question_changed`] for all
/// of them, in one blocking task and with one new list generation.
pub async fn questions_changed(cache: &Cache, ids: &[i64]) {
    let (cache, ids) = (cache.clone(), ids.to_vec());
    let _ = tokio::task::spawn_blocking(move || {
        let keys: Vec<String> = ids
            .iter()
            .flat_map(|id| [question_key(*id), counts_key(*id)])
            .collect();
        cache.delete_many(&keys);
        for id in &ids {
            crate::services::sitemaps::forget_question(&cache, *id);
        }
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
