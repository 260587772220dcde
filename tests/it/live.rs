//! Live results (`/q/<id>/live`, Server-Sent Events): events when counts change, only when the
//! results are visible, a bounded number of streams, and streams that end at shutdown.

use std::time::Duration;

use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;
use rocket::tokio::io::AsyncReadExt;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    events_follow_votes,
    hidden_results_send_nothing,
    results_follow_the_visitors_own_vote,
    streams_are_bounded_and_end_at_shutdown,
);

/// Reads from a stream until `want` shows up in what was read, or `within` passes.
pub(crate) async fn read_until(
    r: &mut LocalResponse<'_>,
    want: &str,
    within: Duration,
) -> (bool, String) {
    let mut seen = String::new();
    let deadline = rocket::tokio::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(rocket::tokio::time::Instant::now());
        if left.is_zero() {
            return (false, seen);
        }
        match rocket::tokio::time::timeout(left, r.read(&mut buf)).await {
            Ok(Ok(0)) => return (seen.contains(want), seen),
            Ok(Ok(n)) => {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                if seen.contains(want) {
                    return (true, seen);
                }
            }
            Ok(Err(_)) | Err(_) => return (seen.contains(want), seen),
        }
    }
}

async fn events_follow_votes(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Watched live")).await;
    let c = app.choices(id).await;
    let mut r = app.client.get(format!("/q/{id}/live")).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.content_type(), Some(ContentType::EventStream));
    assert_eq!(r.headers().get_one("X-Accel-Buffering"), Some("no"));
    let (ok, first) = read_until(&mut r, "\"total\":0", Duration::from_secs(5)).await;
    assert!(ok, "the current results come first: {first}");
    assert!(first.contains("event:results"), "{first}");
    app.vote_as_stranger(id, c[0]).await;
    app.vote_as_stranger(id, c[0]).await;
    let (ok, next) = read_until(&mut r, "\"total\":2", Duration::from_secs(6)).await;
    assert!(ok, "votes from others arrive within seconds: {next}");
    assert!(
        next.contains(&format!(
            "{{\"id\":{},\"votes\":2,\"percent\":100.0}}",
            c[0]
        )),
        "{next}"
    );
    // Nothing changes: no further event (at most one per change).
    let (more, rest) = read_until(&mut r, "event:results", Duration::from_millis(2500)).await;
    assert!(!more, "no event without a change: {rest}");

    let (s, _) = app.get("/q/999999/live").await;
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.get("/q/abc/live").await;
    assert!(s.code >= 400 && s.code < 500);
}

async fn hidden_results_send_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Results after you vote").visibility("after_vote"))
        .await;
    let c = app.choices(id).await;
    app.vote_as_stranger(id, c[1]).await;
    let mut r = app.client.get(format!("/q/{id}/live")).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    let (got, seen) = read_until(&mut r, "event:results", Duration::from_millis(2500)).await;
    assert!(!got, "a visitor who has not voted gets no results: {seen}");
}

async fn results_follow_the_visitors_own_vote(b: Backend) {
    // The stream reads the visitor's ballot once, and again while it is what hides the results:
    // voting (in this browser, with this cookie) starts the events.
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Results once you vote").visibility("after_vote"))
        .await;
    let c = app.choices(id).await;
    let cookie = uuid::Uuid::new_v4().to_string();
    let mut r = app
        .client
        .get(format!("/q/{id}/live"))
        .private_cookie(("bb_voter", cookie.clone()))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    let (got, seen) = read_until(&mut r, "event:results", Duration::from_millis(1200)).await;
    assert!(!got, "no results before voting: {seen}");
    let voted = app
        .client
        .put(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .private_cookie(("bb_voter", cookie))
        .body(format!("{{\"choices\":[{}]}}", c[0]))
        .dispatch()
        .await;
    assert_eq!(voted.status(), Status::Ok);
    let (got, seen) = read_until(&mut r, "\"total\":1", Duration::from_secs(5)).await;
    assert!(got, "the results arrive once the visitor voted: {seen}");
}

async fn streams_are_bounded_and_end_at_shutdown(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("live_max_streams", 1))).await;
    let id = app.question(question("Only one watcher")).await;
    let mut first = app.client.get(format!("/q/{id}/live")).dispatch().await;
    assert_eq!(first.status(), Status::Ok);
    let (ok, _) = read_until(&mut first, "event:results", Duration::from_secs(5)).await;
    assert!(ok);
    let second = app.client.get(format!("/q/{id}/live")).dispatch().await;
    assert_eq!(
        second.status(),
        Status::ServiceUnavailable,
        "past the limit"
    );
    drop(second);
    app.client.rocket().shutdown().notify();
    let (_, rest) = read_until(&mut first, "never", Duration::from_secs(5)).await;
    let mut buf = [0u8; 64];
    let end = rocket::tokio::time::timeout(Duration::from_secs(3), first.read(&mut buf)).await;
    assert!(
        matches!(end, Ok(Ok(0))),
        "the stream ended at shutdown (after: {rest:?})"
    );
}
