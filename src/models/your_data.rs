//! A member's own rows, read for "Download my data" (GDPR articles 15 and 20): exactly the rows
//! that are theirs, each table read once (no query per question or ballot). Secrets are never
//! selected: no password hash, TOTP secret, recovery-code, token, session or email-link hashes.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    api_tokens, ballots, choices, email_tokens, flags, identities, media, questions,
    security_events, sessions, votes,
};
use crate::models::choice::ChoiceRow;
use crate::models::question::QuestionRow;
use crate::models::security_event::SecurityEventRow;
use crate::models::user::{self, UserRow};
use crate::models::{counts, tag, two_factor};

/// Ids per `IN (...)` list: well under SQLite's and MySQL's limits on bound parameters.
const CHUNK: usize = 500;

/// One of the member's ballots, with its question.
#[derive(Debug, Clone, Queryable)]
pub struct BallotExport {
    /// The ballot's id.
    pub id: i64,
    /// The question's id.
    pub question_id: i64,
    /// The question's title.
    pub question_title: String,
    /// The question's slug (for its address).
    pub question_slug: String,
    /// How the ballot was protected (`cookie`, `network`, `account`, `verified`).
    pub trust: String,
    /// The keyed hash of the network it came from, as stored (never an address).
    pub network: Option<String>,
    /// When it was cast.
    pub cast_at: NaiveDateTime,
    /// When it was last changed.
    pub changed_at: NaiveDateTime,
}

/// A browser session (without its id, the hash of the cookie's token).
#[derive(Debug, Clone, Queryable)]
pub struct SessionExport {
    /// The browser's User-Agent at login.
    pub user_agent: Option<String>,
    /// Login time.
    pub created_at: NaiveDateTime,
    /// Last request seen.
    pub last_seen_at: NaiveDateTime,
    /// Absolute expiry.
    pub expires_at: NaiveDateTime,
}

/// A linked identity at a login provider.
#[derive(Debug, Clone, Queryable)]
pub struct IdentityExport {
    /// Provider name.
    pub provider: String,
    /// The provider's id (subject or login) for the member.
    pub subject: String,
    /// The email the provider reported.
    pub email: Option<String>,
    /// When it was linked.
    pub linked_at: NaiveDateTime,
}

/// An API token's metadata (never the token or its hash).
#[derive(Debug, Clone, Queryable)]
pub struct TokenExport {
    /// The member's label.
    pub name: String,
    /// The token's first characters, as the settings page shows them.
    pub hint: String,
    /// What it may do.
    pub scopes: String,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// End of its life.
    pub expires_at: Option<NaiveDateTime>,
    /// Last use.
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

/// An email link sent to the member (verification or reset), without its token's hash.
#[derive(Debug, Clone, Queryable)]
pub struct EmailLinkExport {
    /// `verify` or `reset`.
    pub purpose: String,
    /// The address it was sent to.
    pub email: String,
    /// When it was sent.
    pub created_at: NaiveDateTime,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
    /// When it was used.
    pub used_at: Option<NaiveDateTime>,
}

/// A flag the member raised on a question.
#[derive(Debug, Clone, Queryable)]
pub struct FlagExport {
    /// The question flagged.
    pub question_id: i64,
    /// Its title.
    pub title: String,
    /// `spam`, `abuse`, `misleading`, `duplicate` or `other`.
    pub reason: String,
    /// What they wrote.
    pub details: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
    /// When a moderator (or the site) closed it.
    pub resolved_at: Option<NaiveDateTime>,
    /// How it was closed.
    pub resolution: Option<String>,
}

/// An uploaded image.
#[derive(Debug, Clone, Queryable)]
pub struct UploadExport {
    /// Its upload id.
    pub id: String,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Stored size of its renditions.
    pub bytes: i64,
    /// When it was uploaded.
    pub created_at: NaiveDateTime,
}

/// Everything stored about one member, as read for the export.
#[derive(Debug, Clone)]
pub struct MemberRows {
    /// The account.
    pub user: UserRow,
    /// Unused recovery codes (how many, never which).
    pub recovery_codes_left: i64,
    /// Their questions in every state (visible, closed, hidden, deleted), oldest first.
    pub questions: Vec<QuestionRow>,
    /// The choices of those questions, by question, in display order.
    pub choices: HashMap<i64, Vec<ChoiceRow>>,
    /// The tags of those questions, by question.
    pub tags: HashMap<i64, Vec<String>>,
    /// The ballots cast on those questions, by question (from the counters: exact, unlike the
    /// list counter `vote_count`).
    pub ballot_counts: HashMap<i64, i64>,
    /// Their ballots, oldest first.
    pub ballots: Vec<BallotExport>,
    /// The chosen choices' labels, by ballot id, in display order.
    pub chosen: HashMap<i64, Vec<String>>,
    /// Their live sessions.
    pub sessions: Vec<SessionExport>,
    /// Their linked identities.
    pub identities: Vec<IdentityExport>,
    /// Their API tokens (revoked and expired ones too).
    pub tokens: Vec<TokenExport>,
    /// Their security log, oldest first.
    pub security_events: Vec<SecurityEventRow>,
    /// The email links sent to them.
    pub email_links: Vec<EmailLinkExport>,
    /// Their uploads.
    pub uploads: Vec<UploadExport>,
    /// The flags they raised, oldest first.
    pub flags: Vec<FlagExport>,
    /// Their optional profile answers.
    pub profile_answers: Vec<crate::models::segment::AnswerExport>,
}

/// Reads every row of member `user_id` (Diesel's `NotFound` when there is no such account).
pub fn member_rows(conn: &mut AnyConnection, user_id: i64) -> QueryResult<MemberRows> {
    let user = user::find(conn, user_id)?;
    let recovery_codes_left = two_factor::codes_left(conn, user_id)?;
    let questions: Vec<QuestionRow> = questions::table
        .filter(questions::author_id.eq(user_id))
        .order((questions::created_at.asc(), questions::id.asc()))
        .select(QuestionRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = questions.iter().map(|q| q.id).collect();
    let mut choices_by: HashMap<i64, Vec<ChoiceRow>> = HashMap::new();
    let mut tags = HashMap::new();
    let mut ballot_counts = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<ChoiceRow> = choices::table
            .filter(choices::question_id.eq_any(chunk))
            .order((choices::question_id.asc(), choices::position.asc()))
            .select(ChoiceRow::as_select())
            .load(conn)?;
        for c in rows {
            choices_by.entry(c.question_id).or_default().push(c);
        }
        tags.extend(tag::names_for(conn, chunk)?);
        ballot_counts.extend(counts::ballot_totals(conn, chunk)?);
    }
    // Every account ballot has `user_id` set (with the voter key `u:<id>`): the index finds them.
    let ballots: Vec<BallotExport> = ballots::table
        .inner_join(questions::table)
        .filter(ballots::user_id.eq(user_id))
        .order((ballots::created_at.asc(), ballots::id.asc()))
        .select((
            ballots::id,
            ballots::question_id,
            questions::title,
            questions::slug,
            ballots::trust,
            ballots::ip_hash,
            ballots::created_at,
            ballots::updated_at,
        ))
        .load(conn)?;
    let picked: Vec<(i64, String)> = votes::table
        .inner_join(ballots::table)
        .inner_join(choices::table)
        .filter(ballots::user_id.eq(user_id))
        .order((votes::ballot_id.asc(), choices::position.asc()))
        .select((votes::ballot_id, choices::label))
        .load(conn)?;
    let mut chosen: HashMap<i64, Vec<String>> = HashMap::new();
    for (ballot, label) in picked {
        chosen.entry(ballot).or_default().push(label);
    }
    Ok(MemberRows {
        recovery_codes_left,
        questions,
        choices: choices_by,
        tags,
        ballot_counts,
        ballots,
        chosen,
        sessions: sessions::table
            .filter(sessions::user_id.eq(user_id))
            .order(sessions::created_at.asc())
            .select((
                sessions::user_agent,
                sessions::created_at,
                sessions::last_seen_at,
                sessions::expires_at,
            ))
            .load(conn)?,
        identities: identities::table
            .filter(identities::user_id.eq(user_id))
            .order(identities::id.asc())
            .select((
                identities::provider,
                identities::subject,
                identities::email,
                identities::created_at,
            ))
            .load(conn)?,
        tokens: api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .order(api_tokens::id.asc())
            .select((
                api_tokens::name,
                api_tokens::hint,
                api_tokens::scopes,
                api_tokens::created_at,
                api_tokens::expires_at,
                api_tokens::last_used_at,
                api_tokens::revoked_at,
            ))
            .load(conn)?,
        security_events: security_events::table
            .filter(security_events::user_id.eq(user_id))
            .order((security_events::created_at.asc(), security_events::id.asc()))
            .select(SecurityEventRow::as_select())
            .load(conn)?,
        email_links: email_tokens::table
            .filter(email_tokens::user_id.eq(user_id))
            .order(email_tokens::created_at.asc())
            .select((
                email_tokens::purpose,
                email_tokens::email,
                email_tokens::created_at,
                email_tokens::expires_at,
                email_tokens::used_at,
            ))
            .load(conn)?,
        uploads: media::table
            .filter(media::owner_id.eq(user_id))
            .order(media::created_at.asc())
            .select((
                media::id,
                media::width,
                media::height,
                media::bytes,
                media::created_at,
            ))
            .load(conn)?,
        flags: flags::table
            .inner_join(questions::table)
            .filter(flags::user_id.eq(user_id))
            .order((flags::created_at.asc(), flags::id.asc()))
            .select((
                flags::question_id,
                questions::title,
                flags::reason,
                flags::details,
                flags::created_at,
                flags::resolved_at,
                flags::resolution,
            ))
            .load(conn)?,
        profile_answers: crate::models::segment::answers_for_export(conn, user_id)?,
        user,
    })
}
