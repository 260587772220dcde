//! The `Tracker` request guard: the caller's ids and the request's coarse context, so a handler
//! emits an event with one call (`track.emit(Event::vote_cast(qid, &choices))`).

use rocket::request::{FromRequest, Outcome, Request};

use super::event::{Event, UaFamily, referrer_domain};
use super::pipeline::Analytics;
use crate::auth::{Voter, session, voter::VOTER_COOKIE};
use crate::models::ballot::VoteOutcome;

/// Emits events with this request's context. Infallible; does nothing if analytics is not managed.
#[derive(Clone)]
pub struct Tracker {
    analytics: Option<Analytics>,
    user_id: Option<i64>,
    distinct_id: String,
    route: Option<String>,
    referrer: Option<String>,
    ua: UaFamily,
}

impl Tracker {
    /// Emits `event` with this request's context; the subject's user id, else the caller's, is
    /// its `distinct_id`.
    pub fn emit(&self, mut event: Event) {
        let Some(analytics) = &self.analytics else {
            return;
        };
        if event.user_id.is_none() && event.actor_id.is_none() {
            event.user_id = self.user_id;
        }
        event.distinct_id = match event.user_id {
            Some(u) => format!("u:{u}"),
            None => self.distinct_id.clone(),
        };
        event.route = self.route.clone();
        event.referrer = self.referrer.clone();
        event.ua = self.ua;
        analytics.emit(event);
    }

    /// Emits the event of a committed vote: cast or changed (an identical re-submission, which
    /// wrote nothing, is no event).
    pub fn vote(&self, question_id: i64, outcome: VoteOutcome, choices: &[i64]) {
        match outcome {
            VoteOutcome::Created => self.emit(Event::vote_cast(question_id, choices)),
            VoteOutcome::Changed => self.emit(Event::vote_changed(question_id, choices)),
            VoteOutcome::Unchanged => {}
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Tracker {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let analytics = req.rocket().state::<Analytics>().cloned();
        let user_id = session::current(req).await.map(|u| u.user.id);
        // A voter cookie issued earlier in this request (by the `Voter` guard) is pending.
        let cookie = Voter::cookie_id(req.cookies()).or_else(|| {
            let c = req.cookies().get_pending(VOTER_COOKIE)?;
            uuid::Uuid::parse_str(c.value()).ok().map(|u| u.to_string())
        });
        let distinct_id = match (user_id, cookie) {
            (Some(u), _) => format!("u:{u}"),
            (None, Some(c)) => format!("c:{c}"),
            (None, None) => format!("r:{}", uuid::Uuid::new_v4()),
        };
        Outcome::Success(Tracker {
            analytics,
            user_id,
            distinct_id,
            route: req.route().map(|r| r.uri.path().to_string()),
            referrer: referrer_domain(req.headers().get_one("Referer")),
            ua: UaFamily::of(req.headers().get_one("User-Agent")),
        })
    }
}
