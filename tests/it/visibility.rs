//! One results-visibility rule on every surface (issue 18, point 7): every setting (always, after
//! vote, after close) × every state of the visitor (not voted, voted, question closed) × every
//! surface that shows a question gives the answer of `domain::poll::results_visible`; a hidden
//! question is gone from all of them.
//!
//! Surfaces that carry results: the question page, the API's question and results, the embed, the
//! live stream and the CSV and JSON downloads. Surfaces that never carry per-choice results (the
//! share card, oEmbed, the feed entry) are checked to say nothing of them, so they cannot
//! contradict the rule either.

use std::time::Duration;

use beebeta::domain::poll::results_visible;
use beebeta::domain::{PollStatus, ResultsVisibility};
use beebeta::models;
use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;
use rocket::tokio::io::AsyncReadExt;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    one_rule_on_every_surface,
    hidden_questions_are_gone_everywhere
);

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    NotVoted,
    Voted,
    Closed,
}

/// Whether a `results` event arrives on the live stream within `within`.
async fn live_sends_results(r: &mut LocalResponse<'_>, within: Duration) -> bool {
    let deadline = rocket::tokio::time::Instant::now() + within;
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(rocket::tokio::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        match rocket::tokio::time::timeout(left, r.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return seen.contains("event:results"),
            Ok(Ok(n)) => {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                if seen.contains("event:results") {
                    return true;
                }
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The share card's descriptions (`og:description`, `twitter:description`).
fn share_card(page: &str) -> Vec<String> {
    page.lines()
        .filter(|l| l.contains("og:description") || l.contains("twitter:description"))
        .map(str::to_string)
        .collect()
}

async fn one_rule_on_every_surface(b: Backend) {
    let app = TestApp::new(b).await;
    let mut checked = 0;
    for visibility in ResultsVisibility::ALL.iter().copied() {
        for state in [State::NotVoted, State::Voted, State::Closed] {
            let title = format!("Visibility {} when {:?}?", visibility.as_str(), state);
            let mut q = question(&title)
                .choices(&["Red", "Blue"])
                .visibility(visibility.as_str());
            if state == State::Closed {
                q = q.closed();
            }
            let id = app.question(q).await;
            let choices = app.choices(id).await;
            let path = app.path(id).await;
            // This browser gets its voter cookie from the page, as a visitor would.
            let (status, _) = app.get(&path).await;
            assert_eq!(status, Status::Ok);
            if state != State::Closed {
                app.vote_as_stranger(id, choices[0]).await;
                app.vote_as_stranger(id, choices[0]).await;
            }
            if state == State::Voted {
                let (s, body) = app
                    .api_vote(id, &format!("{{\"choices\":[{}]}}", choices[1]))
                    .await;
                assert_eq!(s, Status::Ok, "{body}");
            }
            let status = match state {
                State::Closed => PollStatus::Closed,
                _ => PollStatus::Open,
            };
            let want = results_visible(visibility, state == State::Voted, status);
            let case = format!(
                "{} / {state:?} (results visible: {want})",
                visibility.as_str()
            );

            // The question page.
            let (_, page) = app.get(&path).await;
            assert_eq!(page.contains("class=\"result-list\""), want, "page, {case}");
            // The API's question and results.
            let (s, q) = crate::helpers::json_of(
                app.client
                    .get(format!("/api/v1/questions/{id}"))
                    .dispatch()
                    .await,
            )
            .await;
            assert_eq!(s, Status::Ok);
            assert_eq!(!q["results"].is_null(), want, "API question, {case}: {q}");
            let (s, r) = crate::helpers::json_of(
                app.client
                    .get(format!("/api/v1/questions/{id}/results"))
                    .dispatch()
                    .await,
            )
            .await;
            let expect = if want { Status::Ok } else { Status::Forbidden };
            assert_eq!(s, expect, "API results, {case}: {r}");
            // The embed.
            let (s, embed) = app.get(&format!("/q/{id}/embed")).await;
            assert_eq!(s, Status::Ok);
            assert_eq!(
                embed.contains("class=\"result-list\""),
                want,
                "embed, {case}"
            );
            // The downloads.
            for ext in ["csv", "json"] {
                let (s, body) = app.get(&format!("/q/{id}/results.{ext}")).await;
                assert_eq!(s, expect, "results.{ext}, {case}: {body}");
            }
            // The live stream.
            let mut r = app.client.get(format!("/q/{id}/live")).dispatch().await;
            assert_eq!(r.status(), Status::Ok);
            let within = Duration::from_millis(if want { 5000 } else { 1500 });
            assert_eq!(
                live_sends_results(&mut r, within).await,
                want,
                "live stream, {case}"
            );
            drop(r);
            // Surfaces that never carry per-choice results.
            for line in share_card(&page) {
                assert!(!line.contains('%'), "share card, {case}: {line}");
            }
            let url = urlencode(&format!("http://beebeta.test{path}"));
            let (s, oembed) = app.get(&format!("/oembed?url={url}")).await;
            assert_eq!(s, Status::Ok, "oEmbed, {case}");
            assert!(
                !oembed.contains("Red") && !oembed.contains("\"votes\""),
                "oEmbed, {case}: {oembed}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9);
    // The feed lists the questions and none of their results.
    let (s, feed) = app.get("/feed.atom").await;
    assert_eq!(s, Status::Ok);
    assert!(
        feed.contains("Visibility after_close when Voted?"),
        "{feed}"
    );
    assert!(!feed.contains("Red") && !feed.contains("votes"), "{feed}");
}

async fn hidden_questions_are_gone_everywhere(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Hidden from every surface?").choices(&["Yes", "No"]))
        .await;
    let path = app.path(id).await;
    app.db
        .write(move |c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            diesel::update(questions::table.find(id))
                .set(questions::hidden_at.eq(Some(models::now())))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let url = urlencode(&format!("http://beebeta.test{path}"));
    for uri in [
        path.clone(),
        format!("/q/{id}"),
        format!("/api/v1/questions/{id}"),
        format!("/api/v1/questions/{id}/results"),
        format!("/q/{id}/embed"),
        format!("/q/{id}/results.csv"),
        format!("/q/{id}/results.json"),
        format!("/q/{id}/qr.svg"),
        format!("/q/{id}/live"),
        format!("/oembed?url={url}"),
    ] {
        let (s, _) = app.get(&uri).await;
        assert_eq!(s, Status::NotFound, "{uri}");
    }
    let (_, feed) = app.get("/feed.atom").await;
    assert!(!feed.contains("Hidden from every surface"), "{feed}");
    let (s, sitemap) = app.get("/sitemaps/questions-1.xml").await;
    assert!(
        s == Status::NotFound || !sitemap.contains(&format!("/q/{id}/")),
        "{s}: {sitemap}"
    );
    let (_, list) = app.get("/new").await;
    assert!(!list.contains("Hidden from every surface"), "{list}");
}
