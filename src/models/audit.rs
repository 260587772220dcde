//! The moderation audit log: one row per moderator action (who, what, which target, why, when),
//! one per deleted account (no actor, no personal data: an opaque reference and counts), and one
//! per question the site hid pending review (no actor).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{audit_log, questions, users};
use crate::domain::Page;

/// Hiding a question.
pub const HIDE_QUESTION: &str = "hide_question";
/// Showing a hidden question again.
pub const UNHIDE_QUESTION: &str = "unhide_question";
/// Banning a user.
pub const BAN_USER: &str = "ban_user";
/// Lifting a ban.
pub const UNBAN_USER: &str = "unban_user";
/// The site hid a question pending review: enough trusted accounts flagged it (no actor).
pub const HIDE_PENDING_REVIEW: &str = "hide_pending_review";
/// Closing a question's open flags without acting on it.
pub const DISMISS_FLAGS: &str = "dismiss_flags";
/// Target kind of question actions.
pub const QUESTION: &str = "question";
/// Target kind of user actions.
pub const USER: &str = "user";
/// A member deleted their account (logged without an actor).
pub const DELETE_ACCOUNT: &str = "delete_account";
/// Target kind of an account deletion; its target id is an opaque reference, not the user id.
pub const ACCOUNT: &str = "account";
/// An admin added a breakdown segment (its target is the segment's id, the reason its key).
pub const ADD_SEGMENT: &str = "add_segment";
/// Target kind of a segment.
pub const SEGMENT: &str = "segment";

/// An audit entry to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAudit<'a> {
    /// The moderator; `None` for an account deletion, a question hidden pending review by its
    /// flags (the site's own action), and once a moderator's account is gone.
    pub actor_id: Option<i64>,
    /// One of the action constants above.
    pub action: &'a str,
    /// `question` or `user`.
    pub target_kind: &'a str,
    /// The target's id.
    pub target_id: i64,
    /// Why.
    pub reason: &'a str,
    /// When.
    pub created_at: NaiveDateTime,
}

/// A stored audit entry with its actor's username.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct AuditEntry {
    /// Primary key.
    pub id: i64,
    /// The moderator's username (`None`: no actor, or a deleted account).
    pub actor: Option<String>,
    /// The action.
    pub action: String,
    /// `question` or `user`.
    pub target_kind: String,
    /// The target's id.
    pub target_id: i64,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Stores entries.
pub fn record(conn: &mut AnyConnection, entries: &[NewAudit<'_>]) -> QueryResult<()> {
    for e in entries {
        diesel::insert_into(audit_log::table)
            .values(e)
            .execute(conn)?;
    }
    Ok(())
}

/// One page of the log, newest first (plus whether another page exists).
pub fn page(conn: &mut AnyConnection, page: Page) -> QueryResult<(Vec<AuditEntry>, bool)> {
    let mut rows: Vec<AuditEntry> = audit_log::table
        .left_join(users::table)
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .select((
            audit_log::id,
            users::username.nullable(),
            audit_log::action,
            audit_log::target_kind,
            audit_log::target_id,
            audit_log::reason,
            audit_log::created_at,
        ))
        .limit(Page::SIZE + 1)
        .offset(page.offset())
        .load(conn)?;
    let more = rows.len() as i64 > Page::SIZE;
    rows.truncate(Page::SIZE as usize);
    Ok((rows, more))
}

/// What the targets of `entries` are called: question titles and usernames, by (kind, id).
pub fn target_names(
    conn: &mut AnyConnection,
    entries: &[AuditEntry],
) -> QueryResult<std::collections::HashMap<(String, i64), String>> {
    let ids = |kind: &str| -> Vec<i64> {
        let mut ids: Vec<i64> = entries
            .iter()
            .filter(|e| e.target_kind == kind)
            .map(|e| e.target_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut names = std::collections::HashMap::new();
    let titles: Vec<(i64, String)> = questions::table
        .filter(questions::id.eq_any(ids(QUESTION)))
        .select((questions::id, questions::title))
        .load(conn)?;
    names.extend(
        titles
            .into_iter()
            .map(|(id, t)| ((QUESTION.to_string(), id), t)),
    );
    let users: Vec<(i64, String)> = users::table
        .filter(users::id.eq_any(ids(USER)))
        .select((users::id, users::username))
        .load(conn)?;
    names.extend(
        users
            .into_iter()
            .map(|(id, u)| ((USER.to_string(), id), format!("@{u}"))),
    );
    Ok(names)
}

/// Gives the entries of moderator `user_id` no actor (their account is being deleted); returns
/// how many.
pub fn forget_actor(conn: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    diesel::update(audit_log::table.filter(audit_log::actor_id.eq(user_id)))
        .set(audit_log::actor_id.eq(None::<i64>))
        .execute(conn)
}
