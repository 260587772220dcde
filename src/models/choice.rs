//! Choices of a question.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::choices;

/// A stored choice.
#[derive(
    Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = choices)]
pub struct ChoiceRow {
    /// Primary key.
    pub id: i64,
    /// The question it belongs to.
    pub question_id: i64,
    /// Display order, from 0.
    pub position: i32,
    /// The text.
    pub label: String,
    /// Its image (an upload id), if any.
    #[serde(default)]
    pub image_id: Option<String>,
}

/// A choice to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = choices)]
pub struct NewChoice<'a> {
    /// The question it belongs to.
    pub question_id: i64,
    /// Display order.
    pub position: i32,
    /// The text.
    pub label: &'a str,
    /// Its image (an upload id), if any.
    pub image_id: Option<&'a str>,
}

/// The choices of a question in display order.
pub fn for_question(conn: &mut AnyConnection, question_id: i64) -> QueryResult<Vec<ChoiceRow>> {
    choices::table
        .filter(choices::question_id.eq(question_id))
        .order(choices::position.asc())
        .select(ChoiceRow::as_select())
        .load(conn)
}
