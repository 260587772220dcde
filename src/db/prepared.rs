//! Statements the database server keeps prepared.
//!
//! Diesel keeps a connection's statements prepared (one `prepare` per connection, then only
//! `execute`) when their SQL has a fixed shape. It cannot for `eq_any`, whose SQL grows with the
//! list, nor for `sql_query`: each such statement is prepared, executed and closed again, three
//! round trips to MariaDB instead of one. On the vote path that was 1.01 prepare, 1.01 execute and
//! 1.01 close per vote.
//!
//! [`in_padded`] is `eq_any` whose list is padded to the next power of two by repeating its last
//! value (an `IN` list means the same with a value repeated): a handful of shapes per statement, so
//! Diesel caches each of them by its SQL and the server keeps them prepared.
//!
//! [`Statement`] is `sql_query` with fixed SQL that is kept prepared: its rows come as one JSON
//! array bound as a single parameter and read by the server's table function (MariaDB/MySQL
//! `JSON_TABLE`, SQLite `json_each`), so a multi-row write has one shape whatever its row count.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType, SingleValue, Text};

/// The length a list of `n` values is padded to: the next power of two (at least 1).
pub fn padded_len(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

/// `column IN (values…)`, the list padded to [`padded_len`] so that the statement keeps one of a
/// few shapes (and stays prepared). An empty list matches nothing, as `eq_any` does.
pub fn in_padded<C, T>(column: C, values: impl IntoIterator<Item = T>) -> InPadded<C, T>
where
    T: Clone,
{
    let mut values: Vec<T> = values.into_iter().collect();
    if let Some(last) = values.last().cloned() {
        values.resize(padded_len(values.len()), last);
    }
    InPadded { column, values }
}

/// See [`in_padded`].
#[derive(Debug, Clone)]
pub struct InPadded<C, T> {
    column: C,
    values: Vec<T>,
}

impl<C, T> Expression for InPadded<C, T>
where
    C: Expression,
{
    type SqlType = Bool;
}

impl<C, T, DB> QueryFragment<DB> for InPadded<C, T>
where
    DB: Backend + HasSqlType<C::SqlType>,
    C: Expression + QueryFragment<DB>,
    C::SqlType: SingleValue,
    T: ToSql<C::SqlType, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.values.is_empty() {
            // Matches nothing (`IN ()` is not valid SQL).
            out.push_sql("1 = 0");
            return Ok(());
        }
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<C::SqlType, T>(v)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// No static id: Diesel caches the statement by its SQL (one entry per padded length).
impl<C, T> QueryId for InPadded<C, T> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, T, QS> AppearsOnTable<QS> for InPadded<C, T> where C: AppearsOnTable<QS> {}

impl<C, T, QS> SelectableExpression<QS> for InPadded<C, T> where C: SelectableExpression<QS> {}

impl<C, T, GB> ValidGrouping<GB> for InPadded<C, T>
where
    C: ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

/// A statement with fixed SQL (kept prepared) and its bound values, in order.
#[derive(Debug, Clone)]
pub struct Statement {
    sql: &'static str,
    binds: Vec<Bind>,
}

#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

impl Statement {
    /// A statement of `sql`, whose `?`s are bound in order by [`Statement::int`] and
    /// [`Statement::text`].
    pub fn new(sql: &'static str) -> Statement {
        Statement {
            sql,
            binds: Vec::new(),
        }
    }

    /// Binds an integer.
    pub fn int(mut self, v: i64) -> Statement {
        self.binds.push(Bind::Int(v));
        self
    }

    /// Binds a string (e.g. the JSON array of a multi-row write).
    pub fn text(mut self, v: String) -> Statement {
        self.binds.push(Bind::Text(v));
        self
    }
}

impl<DB> QueryFragment<DB> for Statement
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Each `?` is where the backend's query builder writes its placeholder.
        let mut parts = self.sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        let mut binds = self.binds.iter();
        for part in parts {
            match binds.next() {
                Some(Bind::Int(v)) => out.push_bind_param::<BigInt, i64>(v)?,
                Some(Bind::Text(v)) => out.push_bind_param::<Text, String>(v)?,
                None => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        format!(
                            "a statement has more placeholders than values: {}",
                            self.sql
                        )
                        .into(),
                    ));
                }
            }
            out.push_sql(part);
        }
        if binds.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                format!(
                    "a statement has more values than placeholders: {}",
                    self.sql
                )
                .into(),
            ));
        }
        Ok(())
    }
}

/// No static id: cached by its SQL, which never changes.
impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> diesel::RunQueryDsl<Conn> for Statement {}

/// The SQL of the connection's backend.
pub fn by_backend(
    conn: &super::AnyConnection,
    mysql: &'static str,
    sqlite: &'static str,
) -> &'static str {
    match conn {
        #[cfg(feature = "mysql")]
        super::AnyConnection::Mysql(_) => {
            let _ = sqlite;
            mysql
        }
        super::AnyConnection::Sqlite(_) => {
            let _ = mysql;
            sqlite
        }
    }
}

/// A time as the backend stores it, for a JSON row (MySQL `DATETIME(6)`; on SQLite the text
/// Diesel writes, so that it compares and reads back the same).
pub fn timestamp(conn: &super::AnyConnection, t: chrono::NaiveDateTime) -> String {
    match conn {
        #[cfg(feature = "mysql")]
        super::AnyConnection::Mysql(_) => t.format("%F %T%.6f").to_string(),
        super::AnyConnection::Sqlite(_) => t.format("%F %T%.f").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_pad_to_powers_of_two() {
        let lens: Vec<usize> = (0..10).map(padded_len).collect();
        assert_eq!(lens, [1, 1, 2, 4, 4, 8, 8, 8, 8, 16]);
        let p = in_padded((), [3i64, 5, 7]);
        assert_eq!(p.values, [3, 5, 7, 7]);
        let empty = in_padded((), Vec::<i64>::new());
        assert!(empty.values.is_empty());
    }
}
