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
//! tiers — all words in the title, then all words anywhere, then the rest — and within each by
//! the engine's score with title words weighing four times the others, then votes, then newest.
//! `new` and `top` list only questions holding every word, by date or by votes. Hidden and
//! deleted questions keep their rows but never match (the query joins `questions`).

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::AnyConnection;
use std::collections::HashMap;

use crate::db::schema::{choices, question_search, questions};
#[cfg(feature = "mysql")]
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
    diesel::delete(question_search::table.find(question_id)).execute(conn)?;
    diesel::insert_into(question_search::table)
        .values((
            question_search::question_id.eq(question_id),
            question_search::title.eq(&doc.title),
            question_search::body.eq(&doc.body),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the search rows of these questions with their stored text, read back from their
/// rows (the backfill).
pub fn index(conn: &mut AnyConnection, question_ids: &[i64]) -> QueryResult<()> {
    for chunk in question_ids.chunks(500) {
        let docs = documents(conn, chunk)?;
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

/// Drops every search row (then [`backfill`] rebuilds them): after a change to how text is
/// folded.
pub fn clear(conn: &mut AnyConnection) -> QueryResult<usize> {
    diesel::delete(question_search::table).execute(conn)
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
    Ok(())
}

/// One page of results: up to `Page::SIZE + 1` question ids, in order (the extra one says a
/// next page exists).
pub fn find(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    filter: &SearchFilter,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let dialect = Dialect::of(conn);
    let all = dialect.expression(terms.terms(), true);
    let mut q = Query::default();
    let ranked = filter.sort == SearchSort::Relevance;
    let matched = if ranked {
        dialect.expression(terms.terms(), false)
    } else {
        all.clone()
    };
    q.push(&dialect.select_matching());
    q.arg(Arg::Text(matched));
    q.push(" AND q.hidden_at IS NULL AND q.deleted_at IS NULL");
    filters(&mut q, filter, now);
    match filter.sort {
        SearchSort::Relevance => dialect.order_by_relevance(&mut q, terms.terms()),
        SearchSort::New => q.push(" ORDER BY q.created_at DESC, q.id DESC"),
        SearchSort::Top => q.push(" ORDER BY q.vote_count DESC, q.id DESC"),
    }
    q.push(" LIMIT ? OFFSET ?");
    q.arg(Arg::Int(Page::SIZE + 1));
    q.arg(Arg::Int(filter.page.offset()));
    q.ids(conn)
}

/// Up to `limit` visible questions whose title holds every word (the last as a prefix), most
/// voted first: what the search box offers while typing.
pub fn suggest(
    conn: &mut AnyConnection,
    terms: &SearchTerms,
    limit: i64,
) -> QueryResult<Vec<Suggestion>> {
    let dialect = Dialect::of(conn);
    let mut q = Query::default();
    q.push("SELECT q.id AS id, q.title AS title, q.slug AS slug");
    q.push(&dialect.title_matching());
    q.arg(Arg::Text(dialect.title_expression(terms.terms(), true)));
    q.push(" AND q.hidden_at IS NULL AND q.deleted_at IS NULL ORDER BY q.vote_count DESC, q.id DESC LIMIT ?");
    q.arg(Arg::Int(limit));
    q.boxed().load::<Suggestion>(conn)
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
    /// document.
    fn expression(self, terms: &[Term], all: bool) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => {
                // Words are letters, digits and `_`: nothing in them is an operator.
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
                        // One term: "all" and "any" are the same search, written the same
                        // way so that InnoDB runs it once for every MATCH that names it.
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
                parts.join(if all { " AND " } else { " OR " })
            }
        }
    }

    /// As [`Dialect::expression`], over titles only: on InnoDB the `MATCH`'s columns choose the
    /// title index, FTS5 takes a column filter.
    fn title_expression(self, terms: &[Term], all: bool) -> String {
        let e = self.expression(terms, all);
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => e,
            Dialect::Fts5 => format!("title : ({e})"),
        }
    }

    /// `FROM` the index joined to questions, `WHERE` it matches the next argument.
    fn select_matching(self) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => "SELECT q.id AS id FROM question_search s \
                 JOIN questions q ON q.id = s.question_id \
                 WHERE MATCH (s.title, s.body) AGAINST (? IN BOOLEAN MODE)"
                .into(),
            Dialect::Fts5 => "SELECT q.id AS id FROM question_fts \
                 JOIN questions q ON q.id = question_fts.rowid \
                 WHERE question_fts MATCH ?"
                .into(),
        }
    }

    /// As [`Dialect::select_matching`] (without the `SELECT`), matching titles only.
    fn title_matching(self) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => " FROM question_search s JOIN questions q ON q.id = s.question_id \
                 WHERE MATCH (s.title) AGAINST (? IN BOOLEAN MODE)"
                .into(),
            Dialect::Fts5 => " FROM question_fts JOIN questions q ON q.id = question_fts.rowid \
                 WHERE question_fts MATCH ?"
                .into(),
        }
    }

    /// `ORDER BY` the ranking described in the module's documentation.
    fn order_by_relevance(self, q: &mut Query, terms: &[Term]) {
        let title_all = self.title_expression(terms, true);
        let all = self.expression(terms, true);
        match self {
            #[cfg(feature = "mysql")]
            Dialect::Innodb => {
                let any = self.expression(terms, false);
                q.push(
                    " ORDER BY MATCH (s.title) AGAINST (? IN BOOLEAN MODE) > 0 DESC, \
                     MATCH (s.title, s.body) AGAINST (? IN BOOLEAN MODE) > 0 DESC, \
                     4 * MATCH (s.title) AGAINST (? IN BOOLEAN MODE) \
                       + MATCH (s.title, s.body) AGAINST (? IN BOOLEAN MODE) DESC, \
                     q.vote_count DESC, q.id DESC",
                );
                q.arg(Arg::Text(title_all));
                q.arg(Arg::Text(all));
                q.arg(Arg::Text(any.clone()));
                q.arg(Arg::Text(any));
            }
            Dialect::Fts5 => {
                // The sub-selects run once each (they do not depend on the row). bm25 is lower
                // for better matches; the title column weighs four times the body.
                q.push(
                    " ORDER BY q.id IN (SELECT rowid FROM question_fts WHERE question_fts MATCH ?) DESC, \
                     q.id IN (SELECT rowid FROM question_fts WHERE question_fts MATCH ?) DESC, \
                     bm25(question_fts, 4.0, 1.0), q.vote_count DESC, q.id DESC",
                );
                q.arg(Arg::Text(title_all));
                q.arg(Arg::Text(all));
            }
        }
    }
}

/// A bound value.
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

    fn ids(self, conn: &mut AnyConnection) -> QueryResult<Vec<i64>> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        Ok(self
            .boxed()
            .load::<Id>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect())
    }
}
