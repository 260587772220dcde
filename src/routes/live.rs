//! `GET /q/<id>/live`: live results as Server-Sent Events.
//!
//! Each stream polls the question's counts through the shared cache twice a second (so it reports
//! votes cast on any app server, with no in-process pub/sub; no database read per tick while the
//! counts are cached) and sends a `results` event only when they changed and only while the
//! results are visible to this visitor. Streams per server are bounded in all
//! (`live_max_streams`, 503 past it) and per client address (`live_streams_per_client`, 429 past
//! it), and end at shutdown.

use std::time::Duration;

use rocket::response::stream::{Event, EventStream};
use rocket::{Shutdown, get, routes};
use serde::Serialize;

use crate::auth::client_ip::ClientIp;
use crate::auth::voter::KnownVoter;
use crate::domain::{ResultsVisibility, TrustView};
use crate::error::{AppError, AppResult};
use crate::routes::json::Results;
use crate::routes::params::Qid;
use crate::services::reading;
use crate::state::AppState;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![live]
}

#[derive(Serialize)]
struct LiveResults<'a> {
    status: &'a str,
    #[serde(flatten)]
    results: Results,
}

/// How often a stream looks at the counts (cached for 500 ms; with the 500 ms near cache, a vote on
/// any server shows within 1.5 s).
const TICK: Duration = Duration::from_millis(500);

/// `?trust=verified` streams the results of verified accounts only (with every level's totals).
#[get("/q/<id>/live?<trust>")]
async fn live(
    app: &AppState,
    voter: KnownVoter,
    ip: ClientIp,
    id: Qid,
    trust: Option<&str>,
    mut shutdown: Shutdown,
) -> AppResult<EventStream![Event + 'static]> {
    let trust = TrustView::from_query(trust)?;
    let slot = app.live.acquire(ip.key())?;
    // 404 for a question that does not exist, before the stream starts.
    let voter = voter.0.map(|v| v.key());
    let first = app.poll_view(*id, voter.clone()).await?.value;
    let (db, cache, id) = (app.db.clone(), app.cache.clone(), id.get());
    Ok(EventStream! {
        let _slot = slot;
        let mut last = None;
        // The visitor's ballot is read once; it changes only by their own action, which the page
        // shows itself. While it is the reason the results are hidden ("after you vote"), it is
        // read again each tick, so the stream starts once they voted.
        let waits_for_ballot = |v: &crate::models::poll::PollView| {
            v.results.is_none()
                && v.my_choices.is_none()
                && v.question.visibility() == ResultsVisibility::AfterVote
        };
        let mut reread = voter.is_some() && waits_for_ballot(&first);
        let mut mine = first.my_choices;
        let mut tick = rocket::tokio::time::interval(TICK);
        loop {
            rocket::tokio::select! {
                _ = tick.tick() => {}
                _ = &mut shutdown => break,
            }
            let read = if reread {
                reading::poll_view(&db, &cache, id, voter.clone()).await
            } else {
                reading::poll_view_with(&db, &cache, id, mine.clone()).await
            };
            let view = match read {
                Ok(v) if v.saved.is_none() => v.value,
                // A saved copy (the database failed) has nothing new: wait for the next tick.
                Ok(_) => continue,
                // Deleted meanwhile: end the stream. Other failures: try again next tick.
                Err(AppError::NotFound(_)) => break,
                Err(_) => continue,
            };
            if reread {
                mine = view.my_choices.clone();
                reread = waits_for_ballot(&view);
            }
            let Some(counts) = view.results else { continue };
            // One event per change (of the counts, a ranked question's rounds or the status; not
            // of when they were read).
            let now = Some((view.status, counts, view.runoff));
            if now == last {
                continue;
            }
            let Some((status, counts, runoff)) = &now else { continue };
            let body = LiveResults {
                status: status.as_str(),
                results: Results::new(counts, &view.choices, trust)
                    .with_runoff(runoff.as_ref().map(|r| r.view(trust))),
            };
            let Ok(json) = serde_json::to_string(&body) else { continue };
            yield Event::data(json).event("results");
            last = now;
        }
    }
    .heartbeat(Duration::from_secs(15)))
}
