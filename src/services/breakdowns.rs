//! Privacy-safe breakdowns (issue 19): a question's results by one segment, counted from
//! verified-account ballots only, every shown group at least `k` = 5 voters
//! (`domain::segment::group`); members' own answers on `/settings`; segments added by admins.
//!
//! | key | value | fresh / kept stale | invalidated |
//! |---|---|---|---|
//! | `segments` | every segment | 30 s / 10 min | after an admin adds one |
//! | `bd:<question>:<segment>` | the breakdown ([`Breakdown`]) | 5 s / 1 min | by time |

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cache::Cache;
use crate::db::{Db, write_transaction};
use crate::domain::segment::{self as rule, Tally};
use crate::domain::{SegmentDraft, SegmentValue};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::audit::{self, NewAudit};
use crate::models::segment::{self, SegmentRow};
use crate::models::{self};
use crate::services::stale;

const SEGMENTS_KEY: &str = "segments";
const SEGMENTS_FRESH: Duration = Duration::from_secs(30);
const SEGMENTS_STALE: Duration = Duration::from_secs(600);
const BREAKDOWN_FRESH: Duration = Duration::from_secs(5);
const BREAKDOWN_STALE: Duration = Duration::from_secs(60);

/// One shown group of a breakdown: a segment value (or "Other") with at least `k` voters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    /// The value (`other` for the merged group).
    pub value: String,
    /// Its label.
    pub label: String,
    /// Distinct verified voters.
    pub voters: i64,
    /// Votes by choice, in the question's choice order (every choice, zeros included).
    pub votes: Vec<(i64, i64)>,
}

/// A question's results by one segment, as may be shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Breakdown {
    /// The segment's key.
    pub segment: String,
    /// The segment's label.
    pub label: String,
    /// The values with at least `k` voters, in the segment's order.
    pub values: Vec<Group>,
    /// The smaller values merged, when together they reach `k`.
    pub other: Option<Group>,
    /// Verified voters with an answer who are in no shown group.
    pub not_shown: i64,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}

/// Every segment, in display order (cached).
pub async fn segments(db: &Db, cache: &Cache) -> AppResult<Vec<SegmentRow>> {
    let (db, cache) = (db.clone(), cache.clone());
    blocking(move || {
        // Stale-if-error: the question page offers the segments, and its saved copy must not
        // fail for want of them while the database is down.
        stale::kept(&cache, SEGMENTS_KEY, SEGMENTS_FRESH, SEGMENTS_STALE, || {
            db.run_blocking(|c| Ok(segment::all(c)?))
        })
    })
    .await
}

fn group_of(value: &str, label: String, tally: &Tally, choice_ids: &[i64]) -> Group {
    Group {
        value: value.to_string(),
        label,
        voters: tally.voters,
        votes: choice_ids
            .iter()
            .map(|id| (*id, tally.votes.get(id).copied().unwrap_or(0)))
            .collect(),
    }
}

/// The breakdown of question `question_id` (whose choices are `choice_ids`, in order) by
/// `segment`, cached briefly. The caller has checked that its results are visible and that its
/// author allows breakdowns.
pub async fn breakdown(
    db: &Db,
    cache: &Cache,
    question_id: i64,
    segment: SegmentRow,
    choice_ids: Vec<i64>,
) -> AppResult<Breakdown> {
    let (db, cache) = (db.clone(), cache.clone());
    let key = format!("bd:{question_id}:{}", segment.seg_key);
    blocking(move || {
        cache.get_or_rebuild(&key, BREAKDOWN_FRESH, BREAKDOWN_STALE, || {
            let sid = segment.id;
            let tallies = db.run_blocking(move |c| Ok(segment::tallies(c, question_id, sid)?))?;
            let order = segment.values();
            let grouped = rule::group(&order, &tallies);
            let label_of = |v: &str| {
                order
                    .iter()
                    .find(|o| o.value == v)
                    .map(|o| o.label.clone())
                    .unwrap_or_else(|| v.to_string())
            };
            Ok(Breakdown {
                values: grouped
                    .shown
                    .iter()
                    .map(|(v, t)| group_of(v, label_of(v), t, &choice_ids))
                    .collect(),
                other: grouped
                    .other
                    .as_ref()
                    .map(|t| group_of(rule::OTHER, "Other".into(), t, &choice_ids)),
                not_shown: grouped.not_shown,
                segment: segment.seg_key,
                label: segment.label,
            })
        })
    })
    .await
}

/// One segment with a member's answer, for the settings form.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answerable {
    /// The segment's key (the form field is `answer.<key>`).
    pub key: String,
    /// Its label.
    pub label: String,
    /// Its values.
    pub values: Vec<SegmentValue>,
    /// The member's answer, if any.
    pub answer: Option<String>,
}

/// Every segment with the member's answer.
pub async fn answers_of(db: &Db, cache: &Cache, user_id: i64) -> AppResult<Vec<Answerable>> {
    let all = segments(db, cache).await?;
    let mine: BTreeMap<i64, String> = db
        .run(move |c| Ok(segment::answers_of(c, user_id)?))
        .await?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .map(|s| Answerable {
            answer: mine.get(&s.id).cloned(),
            values: s.values(),
            key: s.seg_key,
            label: s.label,
        })
        .collect())
}

/// Saves a member's answers from the settings form: `given` maps segment keys to a value, or
/// `""` for "prefer not to say". An unknown segment or value refuses the whole form (nothing is
/// stored); segments not in `given` keep their answer.
pub async fn set_answers(
    db: &Db,
    cache: &Cache,
    user_id: i64,
    given: BTreeMap<String, String>,
) -> AppResult<()> {
    let all = segments(db, cache).await?;
    let mut answers = Vec::new();
    for (key, value) in &given {
        let Some(s) = all.iter().find(|s| &s.seg_key == key) else {
            return Err(AppError::field(
                "answers",
                format!("There is no question “{key}” to answer."),
            ));
        };
        let value = value.trim();
        if value.is_empty() {
            answers.push((s.id, None));
        } else if s.label_of(value).is_some() {
            answers.push((s.id, Some(value.to_string())));
        } else {
            return Err(AppError::field(
                "answers",
                format!("“{value}” is not one of the answers to “{}”.", s.label),
            ));
        }
    }
    let now = models::now();
    db.write(move |c| {
        write_transaction(c, |c| segment::set_answers(c, user_id, &answers, now))?;
        Ok(())
    })
    .await
}

/// Adds a segment (an admin's), audit-logged in the same transaction; a key in use is refused.
pub async fn add_segment(
    db: &Db,
    cache: &Cache,
    admin_id: i64,
    key: &str,
    label: &str,
    values: &str,
) -> AppResult<i64> {
    let draft = SegmentDraft::parse(key, label, values).map_err(|e| {
        let field = match e.code {
            "invalid_key" => "key",
            "invalid_label" => "label",
            _ => "values",
        };
        let mut fields = FieldErrors::new();
        fields.insert(field, e.message);
        AppError::fields(fields)
    })?;
    let now = models::now();
    let id = db
        .write(move |c| {
            if segment::find_by_key(c, &draft.key)?.is_some() {
                return Err(AppError::field(
                    "key",
                    format!("There is already a segment “{}”.", draft.key),
                ));
            }
            Ok(write_transaction(c, |c| {
                let id = segment::create(c, &draft, now)?;
                audit::record(
                    c,
                    &[NewAudit {
                        actor_id: Some(admin_id),
                        action: audit::ADD_SEGMENT,
                        target_kind: audit::SEGMENT,
                        target_id: id,
                        reason: &draft.key,
                        created_at: now,
                    }],
                )?;
                Ok::<_, diesel::result::Error>(id)
            })?)
        })
        .await?;
    cache.delete(SEGMENTS_KEY);
    Ok(id)
}
