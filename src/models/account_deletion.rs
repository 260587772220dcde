//! Deleting an account (GDPR article 17), in the caller's transaction: the account and every way
//! into it go (sessions, API tokens, identities, email links, two-factor state and recovery codes,
//! the security log); its ballots stay, anonymised, so no result changes; its questions stay
//! without an author (shown as by "[deleted]") or are deleted as the author's own Delete does it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    api_tokens, email_tokens, identities, media, questions, recovery_codes, security_events,
    sessions, users,
};
use crate::db::{Abort, AnyConnection};
use crate::domain::deletion::{DeletionRefusal, QuestionsAfter, check_deletion};
use crate::models::user::{self, ROLE_ADMIN};
use crate::models::{audit, tag};

/// What a deletion removed, changed and kept: counts and question ids, nothing personal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Sessions ended.
    pub sessions: usize,
    /// API tokens deleted.
    pub tokens: usize,
    /// Linked identities deleted.
    pub identities: usize,
    /// Email links (verification, reset) deleted.
    pub email_links: usize,
    /// Recovery codes deleted.
    pub recovery_codes: usize,
    /// Security log entries deleted.
    pub security_events: usize,
    /// Ballots kept, anonymised.
    pub ballots: usize,
    /// Flags kept (the moderation queue's counts stay), anonymised and without their text.
    pub flags: usize,
    /// Uploads kept without an owner (those no question uses go at the next `media gc`).
    pub uploads: usize,
    /// Moderation entries kept without their actor.
    pub audit_entries: usize,
    /// Profile answers deleted (segments for breakdowns).
    pub profile_answers: usize,
    /// The member's questions that stay, without an author.
    pub kept: Vec<i64>,
    /// The member's questions deleted now (those deleted before are in neither list).
    pub deleted: Vec<i64>,
}

/// Removes account `user_id` (see the module doc); the last admin is refused. Run it inside a
/// write transaction (`db::transaction`): it either happens whole or not at all. Diesel's
/// `NotFound` when the account is already gone.
pub fn remove(
    c: &mut AnyConnection,
    user_id: i64,
    questions_after: QuestionsAfter,
    now: NaiveDateTime,
) -> Result<Removed, Abort<DeletionRefusal>> {
    let account = user::find(c, user_id)?;
    let other_admins: i64 = users::table
        .filter(users::role.eq(ROLE_ADMIN))
        .filter(users::id.ne(user_id))
        .filter(users::banned_at.is_null())
        .count()
        .get_result(c)?;
    check_deletion(account.is_admin(), other_admins).map_err(Abort::Refused)?;

    let (kept, deleted) = release_questions(c, user_id, questions_after, now)?;
    let removed = Removed {
        ballots: anonymise_ballots(c, user_id)?,
        flags: anonymise_flags(c, user_id)?,
        sessions: diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id)))
            .execute(c)?,
        tokens: diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id)))
            .execute(c)?,
        identities: diesel::delete(identities::table.filter(identities::user_id.eq(user_id)))
            .execute(c)?,
        email_links: diesel::delete(email_tokens::table.filter(email_tokens::user_id.eq(user_id)))
            .execute(c)?,
        recovery_codes: diesel::delete(
            recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)),
        )
        .execute(c)?,
        security_events: diesel::delete(
            security_events::table.filter(security_events::user_id.eq(user_id)),
        )
        .execute(c)?,
        uploads: diesel::update(media::table.filter(media::owner_id.eq(user_id)))
            .set(media::owner_id.eq(None::<i64>))
            .execute(c)?,
        audit_entries: audit::forget_actor(c, user_id)?,
        profile_answers: crate::models::segment::delete_for_user(c, user_id)?,
        kept,
        deleted,
    };
    // The row holds the username, email, password hash and TOTP secret and replay step.
    diesel::delete(users::table.find(user_id)).execute(c)?;
    Ok(removed)
}

/// Takes the author off every question of `user_id`: with `Keep` they stay listed, marked
/// `author_deleted`; with `Delete` those not yet deleted are deleted softly, as the author's own
/// Delete does (tag counts follow for those that were listed). Returns (kept, deleted now).
fn release_questions(
    c: &mut AnyConnection,
    user_id: i64,
    after: QuestionsAfter,
    now: NaiveDateTime,
) -> QueryResult<(Vec<i64>, Vec<i64>)> {
    type State = (i64, Option<NaiveDateTime>, Option<NaiveDateTime>);
    let own: Vec<State> = questions::table
        .filter(questions::author_id.eq(user_id))
        .select((questions::id, questions::hidden_at, questions::deleted_at))
        .load(c)?;
    let (mut kept, mut deleted) = (Vec::new(), Vec::new());
    for (id, hidden_at, deleted_at) in own {
        match after {
            _ if deleted_at.is_some() => {}
            QuestionsAfter::Keep => kept.push(id),
            QuestionsAfter::Delete => {
                if hidden_at.is_none() {
                    // Tags count the questions neither hidden nor deleted.
                    tag::uncount(c, id)?;
                }
                deleted.push(id);
            }
        }
    }
    if !deleted.is_empty() {
        diesel::update(questions::table.filter(questions::id.eq_any(&deleted)))
            .set((
                questions::deleted_at.eq(Some(now)),
                questions::updated_at.eq(now),
            ))
            .execute(c)?;
    }
    diesel::update(questions::table.filter(questions::author_id.eq(user_id)))
        .set((
            questions::author_id.eq(None::<i64>),
            questions::author_deleted.eq(true),
        ))
        .execute(c)?;
    Ok((kept, deleted))
}

/// Cuts the member's ballots loose in one statement: the voter key `u:<id>` becomes `d:<ballot
/// id>` (unique per ballot, so the unique key holds, and it says nothing the ballot's own id does
/// not), the account and the network hash are cleared. Question, choices, trust level and times
/// stay, so every count (all votes, and by trust) is what it was. Returns the ballots changed.
fn anonymise_ballots(c: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    anonymise(c, "ballots", "ip_hash", user_id)
}

/// Cuts the member's flags loose like their ballots and drops what they wrote: the reason still
/// counts in the moderation queue, but no longer as a trusted account's flag. Returns the flags
/// changed.
fn anonymise_flags(c: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    anonymise(c, "flags", "details", user_id)
}

/// In `table`, the rows of `user_id` get the voter key `d:<row id>`, no account and no `private`
/// column. Both names are this module's constants, never input.
fn anonymise(
    c: &mut AnyConnection,
    table: &'static str,
    private: &'static str,
    user_id: i64,
) -> QueryResult<usize> {
    use diesel::sql_types::BigInt;
    let key = match c {
        AnyConnection::Sqlite(_) => "'d:' || id",
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "CONCAT('d:', id)",
    };
    diesel::sql_query(format!(
        "UPDATE {table} SET voter = {key}, user_id = NULL, {private} = NULL WHERE user_id = ?"
    ))
    .bind::<BigInt, _>(user_id)
    .execute(c)
}
