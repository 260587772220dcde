//! The shape of "Download my data": one JSON document with everything stored about the member,
//! built from `models::your_data::MemberRows`. Times are UTC, RFC 3339. Secrets never appear:
//! the rows read hold none (no password, TOTP, token, session or link hashes).

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::models::security_event::Kind;
use crate::models::your_data::MemberRows;
use crate::routes::views::{device_name, iso};

/// The version of this document's shape.
pub const FORMAT: &str = "beebeta-member-data/1";

/// The whole export.
#[derive(Debug, Serialize)]
pub struct Export {
    format: &'static str,
    site: String,
    exported_at: String,
    profile: Profile,
    questions: Vec<Question>,
    ballots: Vec<Ballot>,
    sessions: Vec<Session>,
    identities: Vec<Identity>,
    api_tokens: Vec<Token>,
    security_events: Vec<Event>,
    email_links: Vec<EmailLink>,
    uploads: Vec<Upload>,
    flags: Vec<Flag>,
    profile_answers: Vec<ProfileAnswer>,
}

#[derive(Debug, Serialize)]
struct Flag {
    question_id: i64,
    question_url: String,
    question_title: String,
    reason: String,
    details: Option<String>,
    flagged_at: String,
    resolved_at: Option<String>,
    resolution: Option<String>,
}

/// An optional answer to a segment (used only in breakdowns, never shown per person).
#[derive(Debug, Serialize)]
struct ProfileAnswer {
    segment: String,
    segment_label: String,
    value: String,
    label: Option<String>,
    updated_at: String,
}

#[derive(Debug, Serialize)]
struct Profile {
    username: String,
    email: String,
    email_verified: bool,
    email_verified_at: Option<String>,
    created_at: String,
    role: String,
    password_set: bool,
    two_factor: bool,
    two_factor_since: Option<String>,
    recovery_codes_left: i64,
    banned_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Question {
    id: i64,
    url: String,
    title: String,
    description: Option<String>,
    kind: String,
    min_choices: i32,
    max_choices: i32,
    results_visibility: String,
    duplicate_protection: String,
    /// `open`, `closed`, `hidden` (by a moderator) or `deleted`.
    status: &'static str,
    created_at: String,
    closes_at: Option<String>,
    closed_at: Option<String>,
    hidden_at: Option<String>,
    deleted_at: Option<String>,
    ballots: i64,
    choices: Vec<Choice>,
    tags: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Choice {
    id: i64,
    label: String,
}

#[derive(Debug, Serialize)]
struct BallotQuestion {
    id: i64,
    title: String,
    url: String,
}

#[derive(Debug, Serialize)]
struct Ballot {
    question: BallotQuestion,
    choices: Vec<String>,
    trust: String,
    network: Option<String>,
    cast_at: String,
    changed_at: String,
}

#[derive(Debug, Serialize)]
struct Session {
    device: Option<String>,
    user_agent: Option<String>,
    created_at: String,
    last_seen_at: String,
    expires_at: String,
}

#[derive(Debug, Serialize)]
struct Identity {
    provider: String,
    subject: String,
    email: Option<String>,
    linked_at: String,
}

#[derive(Debug, Serialize)]
struct Token {
    name: String,
    hint: String,
    scopes: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Event {
    kind: String,
    what: &'static str,
    detail: Option<String>,
    network: Option<String>,
    user_agent: Option<String>,
    at: String,
}

#[derive(Debug, Serialize)]
struct EmailLink {
    purpose: String,
    email: String,
    sent_at: String,
    expires_at: String,
    used_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Upload {
    id: String,
    width: i32,
    height: i32,
    bytes: i64,
    uploaded_at: String,
}

fn opt(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(iso)
}

impl Export {
    /// The document for `rows`, with absolute links on `site` (the public URL), at `now`.
    pub fn of(rows: MemberRows, site: &str, now: NaiveDateTime) -> Export {
        let site = site.trim_end_matches('/').to_string();
        let MemberRows {
            user,
            recovery_codes_left,
            questions,
            mut choices,
            mut tags,
            ballot_counts,
            ballots,
            mut chosen,
            sessions,
            identities,
            tokens,
            security_events,
            email_links,
            uploads,
            flags,
            profile_answers,
        } = rows;
        let questions = questions
            .into_iter()
            .map(|q| {
                let status = if q.deleted_at.is_some() {
                    "deleted"
                } else if q.hidden_at.is_some() {
                    "hidden"
                } else {
                    q.status(now).as_str()
                };
                Question {
                    id: q.id,
                    url: format!("{site}{}", q.path()),
                    status,
                    created_at: iso(q.created_at),
                    closes_at: opt(q.closes_at),
                    closed_at: opt(q.closed_at),
                    hidden_at: opt(q.hidden_at),
                    deleted_at: opt(q.deleted_at),
                    ballots: ballot_counts.get(&q.id).copied().unwrap_or(0),
                    choices: choices
                        .remove(&q.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| Choice {
                            id: c.id,
                            label: c.label,
                        })
                        .collect(),
                    tags: tags.remove(&q.id).unwrap_or_default(),
                    title: q.title,
                    description: q.description,
                    kind: q.kind,
                    min_choices: q.min_choices,
                    max_choices: q.max_choices,
                    results_visibility: q.results_visibility,
                    duplicate_protection: q.protection,
                }
            })
            .collect();
        let ballots = ballots
            .into_iter()
            .map(|b| Ballot {
                question: BallotQuestion {
                    id: b.question_id,
                    url: format!(
                        "{site}{}",
                        crate::models::question::path_of(b.question_id, &b.question_slug)
                    ),
                    title: b.question_title,
                },
                choices: chosen.remove(&b.id).unwrap_or_default(),
                trust: b.trust,
                network: b.network,
                cast_at: iso(b.cast_at),
                changed_at: iso(b.changed_at),
            })
            .collect();
        Export {
            format: FORMAT,
            exported_at: iso(now),
            profile: Profile {
                email_verified: user.email_verified_at.is_some(),
                email_verified_at: opt(user.email_verified_at),
                created_at: iso(user.created_at),
                password_set: user.password_hash.is_some(),
                two_factor: user.two_factor(),
                two_factor_since: opt(user.totp_enabled_at),
                recovery_codes_left,
                banned_at: opt(user.banned_at),
                username: user.username,
                email: user.email,
                role: user.role,
            },
            questions,
            ballots,
            sessions: sessions
                .into_iter()
                .map(|s| Session {
                    device: s.user_agent.as_deref().and_then(device_name),
                    user_agent: s.user_agent,
                    created_at: iso(s.created_at),
                    last_seen_at: iso(s.last_seen_at),
                    expires_at: iso(s.expires_at),
                })
                .collect(),
            identities: identities
                .into_iter()
                .map(|i| Identity {
                    provider: i.provider,
                    subject: i.subject,
                    email: i.email,
                    linked_at: iso(i.linked_at),
                })
                .collect(),
            api_tokens: tokens
                .into_iter()
                .map(|t| Token {
                    name: t.name,
                    hint: t.hint,
                    scopes: t.scopes,
                    created_at: iso(t.created_at),
                    expires_at: opt(t.expires_at),
                    last_used_at: opt(t.last_used_at),
                    revoked_at: opt(t.revoked_at),
                })
                .collect(),
            security_events: security_events
                .into_iter()
                .map(|e| Event {
                    what: Kind::describe(&e.kind),
                    kind: e.kind,
                    detail: e.detail,
                    network: e.network,
                    user_agent: e.user_agent,
                    at: iso(e.created_at),
                })
                .collect(),
            email_links: email_links
                .into_iter()
                .map(|l| EmailLink {
                    purpose: l.purpose,
                    email: l.email,
                    sent_at: iso(l.created_at),
                    expires_at: iso(l.expires_at),
                    used_at: opt(l.used_at),
                })
                .collect(),
            uploads: uploads
                .into_iter()
                .map(|u| Upload {
                    id: u.id,
                    width: u.width,
                    height: u.height,
                    bytes: u.bytes,
                    uploaded_at: iso(u.created_at),
                })
                .collect(),
            flags: flags
                .into_iter()
                .map(|f| Flag {
                    question_url: format!("{site}/q/{}", f.question_id),
                    question_id: f.question_id,
                    question_title: f.title,
                    reason: f.reason,
                    details: f.details,
                    flagged_at: iso(f.created_at),
                    resolved_at: opt(f.resolved_at),
                    resolution: f.resolution,
                })
                .collect(),
            profile_answers: profile_answers
                .into_iter()
                .map(|a| ProfileAnswer {
                    segment: a.segment,
                    segment_label: a.segment_label,
                    value: a.value,
                    label: a.label,
                    updated_at: iso(a.updated_at),
                })
                .collect(),
            site,
        }
    }
}
