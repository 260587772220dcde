//! Full-text search over questions, with the database doing the matching: InnoDB `FULLTEXT`
//! indexes on MariaDB/MySQL, an FTS5 table on SQLite (migration `000013_search`). The one
//! place that knows the two query languages; everything else calls [`find`] and [`suggest`].
//!
//! Each question has one row in `question_search`: its title's words, and the words of its
//! description, choice labels and tag names (`domain::SearchDocument`, folded by the app so both
//! backends split words alike). The write path replaces the row when a question is created or
//! edited ([`replace`]); `beebeta migrate` indexes questions that have none ([`backfill`]).
//!
//! Ranking (`sort=relevance`): every question holding any of the words is a result, ordered by
//! tiers — every word in the title, then every word anywhere, then some word in the title, then
//! some word anywhere — and within each by votes, then newest. `new` and `top` list only
//! questions holding every word, by date or by votes. Hidden and deleted questions keep their
//! rows but never match (every plan joins `questions`).
//!
//! How the questions are found is chosen per search (`Planner`) from how many questions hold
//! each word (`search_words`, kept with the rows): the engine's index for the rarest word, or a
//! walk down the list's own index that stops at a full page. The engine only narrows: every
//! plan checks the rows with the same `LIKE` expressions over the folded words (`Checks`), so
//! the plan changes the cost of a search, never its answer. Why: the engines' cost grows with
//! the questions holding a word whatever the `LIMIT` (InnoDB ranks and sorts every match), and a
//! common word is in a fifth of a million questions (bench/README.md, "Search").

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::AnyConnection;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::db::schema::{choices, question_search, questions};
use crate::domain::search::index_word;
use crate::domain::{Page, SearchDocument, SearchSort, SearchTerms, StatusFilter, Term, Window};
use crate::models::bulk::quote;
use crate::models::tag;

/// Narrowing and order of a search.
#[derive(Debug, Clone)]
pub struct SearchFilter {
    /// Only questions with this tag.
    pub tag_id: Option<i64>,
    /// Only open, or only closed, questions.
    pub status: Option<StatusFilter>,
    /// Only questions asked within this window.
    pub window: Window,
    /// Order.
    pub sort: SearchSort,
    /// Which page.
    pub page: Page,
}

/// A question offered while typing in the search box.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, QueryableByName)]
pub struct Suggestion {
    /// The question's id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its title.
    #[diesel(sql_type = Text)]
    pub title: String,
    /// Its slug.
    #[diesel(sql_type = Text)]
    pub slug: String,
}

/// Replaces a question's search row (call it in the transaction that stores the question).
pub fn replace(
    conn: &mut AnyConnection,
    question_id: i64,
    doc: &SearchDocument,
) -> QueryResult<()> {
    let old: Option<(String, String)> = question_search::table
        .find(question_id)
        .select((question_search::title, question_search::body))
        .first(conn)
        .optional()?;
    let mut counts = WordCounts::default();
    if let Some((title, body)) = &old {
        counts.add(title, body, -1);
        diesel::delete(question_search::table.find(question_id)).execute(conn)?;
    }
    diesel::insert_into(question_search::table)
        .values((
            question_search::question_id.eq(question_id),
            question_search::title.eq(&doc.title),
            question_search::body.eq(&doc.body),
        ))
        .execute(conn)?;
    counts.add(&doc.title, &doc.body, 1);
    counts.store(conn)
}

/// Replaces the search rows of these questions with their stored text, read back from their
/// rows (the backfill).
pub fn index(conn: &mut AnyConnection, question_ids: &[i64]) -> QueryResult<()> {
    for chunk in question_ids.chunks(500) {
        let docs = documents(conn, chunk)?;
        let old: Vec<(String, String)> = question_search::table
            .filter(question_search::question_id.eq_any(chunk))
            .select((question_search::title, question_search::body))
            .load(conn)?;
        let mut counts = WordCounts::default();
        for (title, body) in &old {
            counts.add(title, body, -1);
        }
        counts.store(conn)?;
        diesel::delete(question_search::table.filter(question_search::question_id.eq_any(chunk)))
            .execute(conn)?;
        insert(conn, &docs)?;
    }
    Ok(())
}

/// Indexes every question that has no search row yet, `batch` at a time; returns how many.
/// Run by `beebeta migrate` after the migration that creates the index, and by
/// `beebeta search-reindex`.
pub fn backfill(conn: &mut AnyConnection, batch: i64) -> QueryResult<usize> {
    let mut done = 0;
    let mut after = 0i64;
    loop {
        let ids: Vec<i64> = questions::table
            .left_join(question_search::table)
            .filter(question_search::question_id.is_null())
            .filter(questions::id.gt(after))
            .order(questions::id.asc())
            .select(questions::id)
            .limit(batch)
            .load(conn)?;
        let Some(last) = ids.last() else {
            return Ok(done);
        };
        after = *last;
        crate::db::write_transaction(conn, |c| index(c, &ids))?;
        done += ids.len();
    }
}

/// Drops every search row and word count (then [`backfill`] rebuilds them): after a change to
/// how text is folded.
pub fn clear(conn: &mut AnyConnection) -> QueryResult<usize> {
    conn.batch_execute("DELETE FROM search_words")?;
    diesel::delete(question_search::table).execute(conn)
}

/// Changes to `search_words`: per indexed word, the questions gained or lost (holding it
/// anywhere, and in their title); the empty word counts the documents.
#[derive(Default)]
struct WordCounts(BTreeMap<String, (i64, i64)>);

impl WordCounts {
    /// A document's words (each once) and the document itself, `delta` each.
    fn add(&mut self, title: &str, body: &str, delta: i64) {
        let in_title: BTreeSet<&str> = title.split(' ').filter(|w| !w.is_empty()).collect();
        let anywhere: BTreeSet<&str> = in_title
            .iter()
            .copied()
            .chain(body.split(' ').filter(|w| !w.is_empty()))
            .collect();
        for w in anywhere {
            let e = self.0.entry(w.to_string()).or_default();
            e.0 += delta;
            if in_title.contains(w) {
                e.1 += delta;
            }
        }
        let e = self.0.entry(String::new()).or_default();
        e.0 += delta;
        e.1 += delta;
    }

    /// Adds the changes to the stored counts, in word order (so writers that share words lock
    /// their rows in the same order).
    fn store(self, conn: &mut AnyConnection) -> QueryResult<()> {
        let rows: Vec<(String, (i64, i64))> =
            self.0.into_iter().filter(|(_, d)| *d != (0, 0)).collect();
        let dialect = Dialect::of(conn);
        for chunk in rows.chunks(500) {
            let values: Vec<String> = chunk
                .iter()
                .map(|(w, (d, t))| format!("({}, {d}, {t})", quote(w)))
                .collect();
            conn.batch_execute(&format!(
                "INSERT INTO search_words (word, questions, titles) VALUES {} {}",
                values.join(","),
                dialect.add_on_conflict()
            ))?;
        }
        Ok(())
    }
}

/// The documents of these questions, from their rows.
fn documents(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, SearchDocument)>> {
    let rows: Vec<(i64, String, Option<String>)> = questions::table
        .filter(questions::id.eq_any(ids))
        .select((questions::id, questions::title, questions::description))
        .load(conn)?;
    let mut labels: HashMap<i64, Vec<String>> = HashMap::new();
    for (qid, label) in choices::table
        .filter(choices::question_id.eq_any(ids))
        .order((choices::question_id, choices::position))
        .select((choices::question_id, choices::label))
        .load::<(i64, String)>(conn)?
    {
        labels.entry(qid).or_default().push(label);
    }
    let mut tag_names = tag::names_for(conn, ids)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, description)| {
            let l = labels.remove(&id).unwrap_or_default();
            let t = tag_names.remove(&id).unwrap_or_default();
            let doc = SearchDocument::new(
                &title,
                description.as_deref(),
                l.iter().map(String::as_str),
                t.iter().map(String::as_str),
            );
            (id, doc)
        })
        .collect())
}

/// Inserts search rows with multi-row statements (the backfill and `beebeta generate`). The
/// texts hold only letters, digits, `_` and spaces (`domain::search::words`), so they are written
/// as literals (`bulk::quote`).
pub fn insert(conn: &mut AnyConnection, docs: &[(i64, SearchDocument)]) -> QueryResult<()> {
    let mut counts = WordCounts::default();
    for (_, d) in docs {
        counts.add(&d.title, &d.body, 1);
    }
    for chunk in docs.chunks(500) {
        let mut sql =
            String::from("INSERT INTO question_search (question_id, title, body) VALUES ");
        for (i, (id, d)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("({id}, {}, {})", quote(&d.title), quote(&d.body)));
        }
        conn.batch_execute(&sql)?;
    }
    counts.store(conn)
}

/// One page of results: up to `Page::SIZE + 1` question ids, in order (the extra one says a
/// next page exists).
pub fn find(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    filter: &SearchFilter,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    find_with(conn, terms, filter, now, Plan::Cheapest)
}

/// How a search finds its questions (see `Planner`); every plan gives the same answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The cheaper of the two for each tier, from the words' counts (what the site runs).
    Cheapest,
    /// Always walk the list's index, however long it takes, in small steps (so a test's few
    /// questions take several).
    Walk,
    /// Always ask the full-text index.
    Index,
}

/// As [`find`], with the plan chosen by the caller (the tests compare them).
pub fn find_with(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    filter: &SearchFilter,
    now: NaiveDateTime,
    plan: Plan,
) -> QueryResult<Vec<i64>> {
    let planner = Planner::new(conn, terms.terms(), plan)?;
    let offset = usize::try_from(filter.page.offset()).unwrap_or(0);
    let need = offset + Page::SIZE as usize + 1;
    let phases = match filter.sort {
        SearchSort::Relevance if terms.terms().len() > 1 => {
            vec![Tier::AllInTitle, Tier::All, Tier::SomeInTitle, Tier::Some]
        }
        // One word: "some" is "all".
        SearchSort::Relevance => vec![Tier::AllInTitle, Tier::All],
        SearchSort::New | SearchSort::Top => vec![Tier::Every],
    };
    let order = match filter.sort {
        SearchSort::New => Walk::Newest,
        _ => Walk::Votes,
    };
    let mut ids = Vec::new();
    for tier in phases {
        if ids.len() >= need {
            break;
        }
        let phase = Phase {
            tier,
            order,
            need: need - ids.len(),
        };
        ids.extend(planner.run(conn, &phase, filter, now)?);
    }
    Ok(ids.split_off(offset.min(ids.len())))
}

/// Up to `limit` visible questions whose title holds every word (the last as a prefix), most
/// voted first: what the search box offers while typing.
pub fn suggest(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    limit: i64,
) -> QueryResult<Vec<Suggestion>> {
    suggest_with(conn, terms, limit, Plan::Cheapest)
}

/// As [`suggest`], with the plan chosen by the caller.
pub fn suggest_with(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    limit: i64,
    plan: Plan,
) -> QueryResult<Vec<Suggestion>> {
    let planner = Planner::new(conn, terms.terms(), plan)?;
    let filter = SearchFilter {
        tag_id: None,
        status: None,
        window: Window::All,
        sort: SearchSort::Top,
        page: Page::first(),
    };
    let phase = Phase {
        tier: Tier::AllInTitle,
        order: Walk::Votes,
        need: usize::try_from(limit).unwrap_or(0),
    };
    let ids = planner.run(conn, &phase, &filter, NaiveDateTime::MIN)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<i64, Suggestion> = questions::table
        .filter(questions::id.eq_any(&ids))
        .select((questions::id, questions::title, questions::slug))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, title, slug)| (id, Suggestion { id, title, slug }))
        .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Cost of one document the full-text engine matches (found in its lists, then read back by
/// its id and checked), and of one question a walk examines (an index entry, its search row
/// read and checked), in microseconds: measured at a million questions on MariaDB
/// (bench/README.md, "Search"). Only their ratio matters.
const ENGINE_COST: f64 = 4.5;
const WALK_COST: f64 = 1.7;
/// Cost of one entry of a word's list the engine reads to intersect it with another's.
const LIST_COST: f64 = 0.45;
/// How far the planner trusts its guess of a tier's share, which assumes the words
/// independent. They are not: at a million generated questions two common title words from
/// different places are together in a tenth of the titles the guess expects, two from the same
/// phrasing in ten to thirty times as many. So a walk is tried whenever it could be cheaper
/// within that factor, with a budget of the engine's price divided by it: a walk that was
/// right ends at once; one that was wrong costs a quarter more than the engine alone.
const WALK_DOUBT: f64 = 4.0;
/// Questions a walk examines per statement, at first (it doubles up to `WALK_CHUNK_MAX`).
const WALK_CHUNK: usize = 256;
const WALK_CHUNK_MAX: usize = 8192;

/// How a search finds its questions, chosen for each tier from how common its words are
/// (`search_words`): the engine's index — whose cost grows with the documents holding the
/// words, whatever the `LIMIT` — or, when the tier's questions are common, a walk down the
/// list's own index (most voted or newest first) checking each question's search row, which
/// stops as soon as the page is full. A walk has a budget, a quarter of the engine's cost; past
/// it the engine answers. Every plan checks the rows with the same expressions (`Checks`), so the
/// plan never changes the answer, only its cost.
struct Planner {
    dialect: Dialect,
    plan: Plan,
    /// The row checks every plan applies.
    checks: Checks,
    terms: Vec<Term>,
    /// Per term, questions holding it anywhere and in their title (estimates for prefixes and
    /// phrases).
    anywhere: Vec<f64>,
    in_title: Vec<f64>,
    /// Indexed questions.
    docs: f64,
}

/// The relevance tiers (see the module's documentation), and all the questions holding every
/// word (`new` and `top`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    AllInTitle,
    All,
    SomeInTitle,
    Some,
    Every,
}

impl Tier {
    /// Whether the engine looks in titles only (else the whole document), and whether every
    /// word is required (else any).
    fn index(self) -> (bool, bool) {
        match self {
            Tier::AllInTitle => (true, true),
            Tier::All | Tier::Every => (false, true),
            Tier::SomeInTitle => (true, false),
            Tier::Some => (false, false),
        }
    }
}

/// One step of a search: up to `need` questions of one tier, in the walk's order.
struct Phase {
    tier: Tier,
    order: Walk,
    need: usize,
}

/// The order of a list and the index a walk follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// `questions_visible_top`.
    Votes,
    /// `questions_visible_new`.
    Newest,
}

impl Walk {
    fn key(self) -> &'static str {
        match self {
            Walk::Votes => "vote_count",
            Walk::Newest => "created_at",
        }
    }
}

/// Where a walk goes on from: the last question it examined.
#[derive(Debug, Clone, Copy)]
enum Cursor {
    Votes(i64, i64),
    Newest(NaiveDateTime, i64),
}

impl Planner {
    fn new(conn: &mut AnyConnection, terms: &[Term], plan: Plan) -> QueryResult<Planner> {
        let dialect = Dialect::of(conn);
        let mut words: Vec<String> = vec![String::new()];
        for t in terms {
            match t {
                Term::Word {
                    word,
                    prefix: false,
                } => words.push(index_word(word)),
                Term::Word { prefix: true, .. } => {}
                Term::Phrase(ws) => words.extend(ws.iter().map(|w| index_word(w))),
            }
        }
        let counts = word_counts(conn, &words)?;
        let count = |w: &str| {
            counts
                .get(w)
                .map(|(a, t)| (*a as f64, *t as f64))
                .unwrap_or((0.0, 0.0))
        };
        let docs = count("").0;
        let (mut anywhere, mut in_title) = (Vec::new(), Vec::new());
        for t in terms {
            let (a, ti) = match t {
                Term::Word {
                    word,
                    prefix: false,
                } => count(&index_word(word)),
                Term::Word { word, prefix: true } => prefix_count(conn, word, docs)?,
                Term::Phrase(ws) => ws
                    .iter()
                    .map(|w| count(&index_word(w)))
                    .fold((f64::INFINITY, f64::INFINITY), |(a, t), (wa, wt)| {
                        (a.min(wa), t.min(wt))
                    }),
            };
            anywhere.push(a);
            in_title.push(ti);
        }
        Ok(Planner {
            dialect,
            plan,
            checks: Checks::new(dialect, terms),
            terms: terms.to_vec(),
            anywhere,
            in_title,
            docs,
        })
    }

    /// The questions of one phase, in order, at most `phase.need`.
    fn run(
        &self,
        conn: &mut AnyConnection,
        phase: &Phase,
        filter: &SearchFilter,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<i64>> {
        if phase.need == 0 {
            return Ok(Vec::new());
        }
        match self.plan {
            Plan::Index => return self.engine(conn, phase, filter, now),
            Plan::Walk => {
                let ids = self.walk(conn, phase, filter, now, f64::INFINITY, 4)?;
                return Ok(ids.unwrap_or_default());
            }
            Plan::Cheapest => {}
        }
        let (engine, walk) = self.costs(phase);
        tracing::debug!(tier = ?phase.tier, engine, walk, "search plan");
        if walk < engine * WALK_DOUBT {
            let budget = engine / (WALK_COST * WALK_DOUBT);
            if let Some(ids) = self.walk(conn, phase, filter, now, budget, WALK_CHUNK)? {
                return Ok(ids);
            }
            tracing::debug!(tier = ?phase.tier, "search plan: the walk ran out of budget");
        }
        self.engine(conn, phase, filter, now)
    }

    /// The expected cost of the engine and of a walk (microseconds, see `ENGINE_COST`). The
    /// share of questions in each tier is guessed from the words' shares as if they were
    /// independent; a wrong guess costs at most the walk's budget.
    fn costs(&self, phase: &Phase) -> (f64, f64) {
        let n = self.docs;
        let (engine, _) = self.engine_terms(phase);
        if n <= 0.0 || engine <= 0.0 {
            // No counts (or no question holds a word): the engine finds that at once.
            return (engine, f64::INFINITY);
        }
        let share = |c: &f64| (c / n).clamp(0.0, 1.0);
        let every = |cs: &[f64]| cs.iter().map(share).product::<f64>();
        let some = |cs: &[f64]| 1.0 - cs.iter().map(|c| 1.0 - share(c)).product::<f64>();
        let all_in_title = every(&self.in_title);
        let all_anywhere = every(&self.anywhere);
        let some_in_title = some(&self.in_title);
        let rate = match phase.tier {
            Tier::AllInTitle => all_in_title,
            Tier::All => all_anywhere - all_in_title,
            Tier::Every => all_anywhere,
            Tier::SomeInTitle => some_in_title - all_anywhere,
            Tier::Some => some(&self.anywhere) - some_in_title - all_anywhere,
        };
        let rows = (phase.need as f64 / rate.max(1e-9)).min(n);
        (engine, WALK_COST * rows)
    }

    /// What the engine is asked for a phase, and its expected cost: for every word, either the
    /// rarest word alone (each document holding it is read back and checked) or all of them
    /// (the engine intersects its lists, reading each, and reads back only the documents in
    /// all, guessed as if the words were independent), whichever is cheaper; for some word,
    /// every list.
    fn engine_terms(&self, phase: &Phase) -> (f64, &[Term]) {
        let n = self.docs.max(0.0);
        let (titles, all) = phase.tier.index();
        let counts = if titles {
            &self.in_title
        } else {
            &self.anywhere
        };
        let listed: f64 = counts.iter().map(|c| c.min(n)).sum();
        if !all || self.terms.len() < 2 {
            return (ENGINE_COST * listed, &self.terms[..]);
        }
        let rarest = (0..self.terms.len())
            .min_by(|a, b| counts[*a].total_cmp(&counts[*b]))
            .unwrap_or(0);
        let alone = ENGINE_COST * counts[rarest].min(n);
        let together = if n > 0.0 {
            n * counts
                .iter()
                .map(|c| (c / n).clamp(0.0, 1.0))
                .product::<f64>()
        } else {
            0.0
        };
        let intersect = LIST_COST * listed + ENGINE_COST * together;
        if alone <= intersect {
            (alone, &self.terms[rarest..=rarest])
        } else {
            (intersect, &self.terms[..])
        }
    }

    /// Walks the phase's index from the top, `budget` questions at most, `chunk` in the first
    /// statement (doubling); `None` when the budget ran out first.
    fn walk(
        &self,
        conn: &mut AnyConnection,
        phase: &Phase,
        filter: &SearchFilter,
        now: NaiveDateTime,
        budget: f64,
        mut chunk: usize,
    ) -> QueryResult<Option<Vec<i64>>> {
        let hit = self.checks.holds(phase.tier, "s");
        let key = phase.order.key();
        let mut found = Vec::new();
        let mut after: Option<Cursor> = None;
        let mut examined = 0usize;
        loop {
            let mut q = Query::default();
            q.push(&format!(
                "SELECT w.id AS id, w.{key} AS {key}, {} AS hit \
                 FROM (SELECT q.id, q.{key} FROM questions q \
                 WHERE q.hidden_at IS NULL AND q.deleted_at IS NULL",
                self.dialect
                    .integer_of(&format!("CASE WHEN {hit} THEN 1 ELSE 0 END"))
            ));
            filters(&mut q, filter, now);
            if let Some(c) = after {
                q.push(&format!(" AND (q.{key} < ? OR (q.{key} = ? AND q.id < ?))"));
                let (k, id) = match c {
                    Cursor::Votes(v, id) => (Arg::Int(v), id),
                    Cursor::Newest(t, id) => (Arg::Time(t), id),
                };
                q.arg(k.clone());
                q.arg(k);
                q.arg(Arg::Int(id));
            }
            q.push(&format!(
                " ORDER BY q.{key} DESC, q.id DESC LIMIT {chunk}) w \
                 LEFT JOIN question_search s ON s.question_id = w.id \
                 ORDER BY w.{key} DESC, w.id DESC"
            ));
            let rows: Vec<(i64, Cursor, bool)> = match phase.order {
                Walk::Votes => q
                    .boxed()
                    .load::<WalkedByVotes>(conn)?
                    .into_iter()
                    .map(|r| (r.id, Cursor::Votes(r.vote_count, r.id), r.hit == 1))
                    .collect(),
                Walk::Newest => q
                    .boxed()
                    .load::<WalkedByDate>(conn)?
                    .into_iter()
                    .map(|r| (r.id, Cursor::Newest(r.created_at, r.id), r.hit == 1))
                    .collect(),
            };
            examined += rows.len();
            let end = rows.len() < chunk;
            if let Some((_, c, _)) = rows.last() {
                after = Some(*c);
            }
            found.extend(rows.into_iter().filter(|r| r.2).map(|r| r.0));
            if end || found.len() >= phase.need {
                found.truncate(phase.need);
                return Ok(Some(found));
            }
            if examined as f64 >= budget {
                return Ok(None);
            }
            chunk = (chunk * 2).min(WALK_CHUNK_MAX);
        }
    }

    /// Asks the full-text index for the questions that may be in the phase's tier (titles or
    /// whole documents holding every word or the rarest, or any word: `engine_terms`), and
    /// checks and orders them.
    fn engine(
        &self,
        conn: &mut AnyConnection,
        phase: &Phase,
        filter: &SearchFilter,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<i64>> {
        let (titles, all) = phase.tier.index();
        let hit = self.checks.holds(phase.tier, "s");
        let key = phase.order.key();
        let mut q = Query::default();
        q.push("SELECT q.id AS id ");
        q.push(self.dialect.matching(titles));
        let (_, terms) = self.engine_terms(phase);
        q.arg(Arg::Text(self.dialect.expression(terms, all, titles)));
        q.push(" AND q.hidden_at IS NULL AND q.deleted_at IS NULL");
        filters(&mut q, filter, now);
        q.push(&format!(
            " AND {hit} ORDER BY q.{key} DESC, q.id DESC LIMIT {}",
            phase.need
        ));
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        Ok(q.boxed()
            .load::<Id>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect())
    }
}

/// A question a walk by votes examined, and whether it is in the phase's tier.
#[derive(QueryableByName)]
struct WalkedByVotes {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    vote_count: i64,
    #[diesel(sql_type = BigInt)]
    hit: i64,
}

/// A question a walk by date examined, and whether it is in the phase's tier.
#[derive(QueryableByName)]
struct WalkedByDate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    hit: i64,
}

/// Questions holding each of these indexed words, anywhere and in their title (the empty
/// word: all indexed questions).
fn word_counts(
    conn: &mut AnyConnection,
    words: &[String],
) -> QueryResult<HashMap<String, (i64, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        word: String,
        #[diesel(sql_type = BigInt)]
        questions: i64,
        #[diesel(sql_type = BigInt)]
        titles: i64,
    }
    let list: Vec<String> = words.iter().map(|w| quote(w)).collect();
    let rows = diesel::sql_query(format!(
        "SELECT word, questions, titles FROM search_words WHERE word IN ({})",
        list.join(",")
    ))
    .load::<Row>(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.word, (r.questions, r.titles)))
        .collect())
}

/// Words a prefix may stand for before the planner counts it as matching everything.
const PREFIX_WORDS: i64 = 1000;

/// Questions holding a word that starts with `prefix`, anywhere and in their title (at most
/// `docs`: the sums over the words, so questions holding two of them count twice).
fn prefix_count(conn: &mut AnyConnection, prefix: &str, docs: f64) -> QueryResult<(f64, f64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        words: i64,
        #[diesel(sql_type = BigInt)]
        questions: i64,
        #[diesel(sql_type = BigInt)]
        titles: i64,
    }
    let int = Dialect::of(conn).integer();
    let row = diesel::sql_query(format!(
        "SELECT COUNT(*) AS words, CAST(COALESCE(SUM(questions), 0) AS {int}) AS questions, \
         CAST(COALESCE(SUM(titles), 0) AS {int}) AS titles \
         FROM (SELECT questions, titles FROM search_words WHERE word >= ? AND word < ? LIMIT {}) p",
        PREFIX_WORDS + 1
    ))
    .bind::<Text, _>(prefix)
    .bind::<Text, _>(format!("{prefix}\u{10ffff}"))
    .get_result::<Row>(conn)?;
    Ok(if row.words > PREFIX_WORDS {
        (docs, docs)
    } else {
        (
            (row.questions as f64).min(docs),
            (row.titles as f64).min(docs),
        )
    })
}

/// The SQL that checks a question's search row against the terms, on the folded text both
/// backends compare byte for byte (`LIKE` on space-separated words): the same checks for every
/// plan.
struct Checks {
    dialect: Dialect,
    patterns: Vec<String>,
}

impl Checks {
    fn new(dialect: Dialect, terms: &[Term]) -> Checks {
        // `!` escapes `_` (the padding of short words); words hold nothing else LIKE reads.
        let escape = |w: &str| w.replace('_', "!_");
        let patterns = terms
            .iter()
            .map(|t| match t {
                Term::Word { word, prefix: true } => format!("% {}%", escape(word)),
                Term::Word { word, .. } => format!("% {} %", escape(&index_word(word))),
                Term::Phrase(ws) => {
                    let ws: Vec<String> = ws.iter().map(|w| escape(&index_word(w))).collect();
                    format!("% {} %", ws.join(" "))
                }
            })
            .collect();
        Checks { dialect, patterns }
    }

    fn like(&self, column: &str, pattern: &str) -> String {
        format!(
            "{} LIKE {} ESCAPE '!'",
            self.dialect.spaced(column),
            quote(pattern)
        )
    }

    /// Whether the search row `s` is in the tier (`NULL`, so false, without a row).
    fn holds(&self, tier: Tier, s: &str) -> String {
        let title: Vec<String> = self
            .patterns
            .iter()
            .map(|p| self.like(&format!("{s}.title"), p))
            .collect();
        let anywhere: Vec<String> = self
            .patterns
            .iter()
            .zip(&title)
            .map(|(p, t)| format!("({t} OR {})", self.like(&format!("{s}.body"), p)))
            .collect();
        let all_in_title = format!("({})", title.join(" AND "));
        let all_anywhere = format!("({})", anywhere.join(" AND "));
        let some_in_title = format!("({})", title.join(" OR "));
        let some_anywhere = format!("({})", anywhere.join(" OR "));
        match tier {
            Tier::AllInTitle => all_in_title,
            Tier::All => format!("{all_anywhere} AND NOT {all_in_title}"),
            Tier::Every => all_anywhere,
            Tier::SomeInTitle => format!("{some_in_title} AND NOT {all_anywhere}"),
            Tier::Some => {
                format!("{some_anywhere} AND NOT {some_in_title} AND NOT {all_anywhere}")
            }
        }
    }
}

/// The tag, status and window conditions.
fn filters(q: &mut Query, filter: &SearchFilter, now: NaiveDateTime) {
    if let Some(tag_id) = filter.tag_id {
        q.push(" AND EXISTS (SELECT 1 FROM question_tags t WHERE t.question_id = q.id AND t.tag_id = ?)");
        q.arg(Arg::Int(tag_id));
    }
    match filter.status {
        None => {}
        Some(StatusFilter::Open) => {
            q.push(" AND q.closed_at IS NULL AND (q.closes_at IS NULL OR q.closes_at > ?)");
            q.arg(Arg::Time(now));
        }
        Some(StatusFilter::Closed) => {
            q.push(" AND (q.closed_at IS NOT NULL OR q.closes_at <= ?)");
            q.arg(Arg::Time(now));
        }
    }
    if let Some(since) = filter.window.since(now) {
        q.push(" AND q.created_at >= ?");
        q.arg(Arg::Time(since));
    }
}

/// The two full-text query languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// InnoDB `MATCH … AGAINST (… IN BOOLEAN MODE)`.
    #[cfg(feature = "mysql")]
    Innodb,
    /// SQLite FTS5 `MATCH`.
    Fts5,
}

impl Dialect {
    fn of(conn: &AnyConnection) -> Dialect {
        match conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(_) => Dialect::Innodb,
            AnyConnection::Sqlite(_) => Dialect::Fts5,
        }
    }

    /// The engine's query for these terms, all of them required or any of them, over the whole
    /// document or (`titles`) the titles only.
    fn expression(self, terms: &[Term], all: bool, titles: bool) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => {
                // Words are letters, digits and `_`: nothing in them is an operator. The
                // `MATCH`'s columns choose the index (`matching`).
                let parts: Vec<String> = terms
                    .iter()
                    .map(|t| {
                        let term = match t {
                            Term::Word { word, prefix: true } => format!("{word}*"),
                            Term::Word { word, .. } => index_word(word),
                            Term::Phrase(ws) => {
                                let ws: Vec<String> = ws.iter().map(|w| index_word(w)).collect();
                                format!("\"{}\"", ws.join(" "))
                            }
                        };
                        if all || terms.len() == 1 {
                            format!("+{term}")
                        } else {
                            term
                        }
                    })
                    .collect();
                parts.join(" ")
            }
            Dialect::Fts5 => {
                let parts: Vec<String> = terms
                    .iter()
                    .map(|t| match t {
                        Term::Word { word, prefix: true } => format!("\"{word}\" *"),
                        Term::Word { word, .. } => format!("\"{word}\""),
                        Term::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
                    })
                    .collect();
                let e = parts.join(if all { " AND " } else { " OR " });
                if titles { format!("title : ({e})") } else { e }
            }
        }
    }

    /// `FROM` the index joined to questions (`q`) and their search rows (`s`), `WHERE` the
    /// index matches the next argument: over titles only, or over the whole document. (FTS5
    /// puts the column filter into the expression instead: see [`Dialect::expression`].)
    #[cfg_attr(not(feature = "mysql"), allow(unused_variables))]
    fn matching(self, titles: bool) -> &'static str {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb if titles => {
                "FROM question_search s JOIN questions q ON q.id = s.question_id \
                 WHERE MATCH (s.title) AGAINST (? IN BOOLEAN MODE)"
            }
            #[cfg(feature = "mysql")]
            Dialect::Innodb => {
                "FROM question_search s JOIN questions q ON q.id = s.question_id \
                 WHERE MATCH (s.title, s.body) AGAINST (? IN BOOLEAN MODE)"
            }
            // CROSS JOIN: SQLite keeps this order (the index first). Left to choose, the
            // bundled SQLite walked `questions` for the ORDER BY and asked FTS5 row by row.
            Dialect::Fts5 => {
                "FROM question_fts CROSS JOIN questions q ON q.id = question_fts.rowid \
                 CROSS JOIN question_search s ON s.question_id = q.id WHERE question_fts MATCH ?"
            }
        }
    }

    /// A text column with a space before and after (so `LIKE '% word %'` finds its first and
    /// last words too).
    fn spaced(self, column: &str) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => format!("CONCAT(' ', {column}, ' ')"),
            Dialect::Fts5 => format!("(' ' || {column} || ' ')"),
        }
    }

    /// The end of an `INSERT INTO search_words` that adds to the counts already there.
    fn add_on_conflict(self) -> &'static str {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => {
                "ON DUPLICATE KEY UPDATE questions = questions + VALUES(questions), \
                 titles = titles + VALUES(titles)"
            }
            Dialect::Fts5 => {
                "ON CONFLICT (word) DO UPDATE SET questions = questions + excluded.questions, \
                 titles = titles + excluded.titles"
            }
        }
    }

    /// The 64-bit integer type of a `CAST`.
    fn integer(self) -> &'static str {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => "SIGNED",
            Dialect::Fts5 => "INTEGER",
        }
    }

    /// An integer expression typed as a 64-bit integer.
    fn integer_of(self, expr: &str) -> String {
        format!("CAST({expr} AS {})", self.integer())
    }
}

/// A bound value.
#[derive(Clone)]
enum Arg {
    Text(String),
    Int(i64),
    Time(NaiveDateTime),
}

/// SQL text with its arguments in order.
#[derive(Default)]
struct Query {
    sql: String,
    args: Vec<Arg>,
}

impl Query {
    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    fn arg(&mut self, a: Arg) {
        self.args.push(a);
    }

    fn boxed(
        self,
    ) -> diesel::query_builder::BoxedSqlQuery<
        'static,
        <AnyConnection as Connection>::Backend,
        diesel::query_builder::SqlQuery,
    > {
        let mut query = diesel::sql_query(self.sql).into_boxed();
        for a in self.args {
            query = match a {
                Arg::Text(s) => query.bind::<Text, _>(s),
                Arg::Int(n) => query.bind::<BigInt, _>(n),
                Arg::Time(t) => query.bind::<Timestamp, _>(t),
            };
        }
        query
    }
}
