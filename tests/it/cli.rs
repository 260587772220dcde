//! The demo seed and the synthetic generator load consistent data.

use beebeta::cli::generate;
use beebeta::services::demo;
use rocket::http::Status;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(
    demo_seed_looks_alive,
    generator_is_reproducible_and_consistent
);

async fn demo_seed_looks_alive(b: Backend) {
    let app = TestApp::new(b).await;
    let db = app.db.clone();
    let n = rocket::tokio::task::spawn_blocking(move || demo::seed_demo(&db))
        .await
        .unwrap()
        .unwrap();
    assert!(n >= 40, "about forty questions ({n})");
    let (s, v) = crate::helpers::json_of(app.client.get("/api/v1/tags").dispatch().await).await;
    assert_eq!(s, Status::Ok);
    assert!(
        v["items"].as_array().unwrap().len() >= 10,
        "ten or more tags"
    );
    let (_, v) = crate::helpers::json_of(
        app.client
            .get("/api/v1/questions?sort=top&window=month")
            .dispatch()
            .await,
    )
    .await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert!(items[0]["total_votes"].as_i64().unwrap() > 0);
    let (_, v) =
        crate::helpers::json_of(app.client.get("/api/v1/questions").dispatch().await).await;
    let hot_first = v["items"][0]["id"].as_i64().unwrap();
    // Each seeded question's counter equals its ledger.
    for id in 1..=n as i64 {
        app.ledger(id).await;
    }
    let (s, page) = app.get(&format!("/q/{hot_first}")).await;
    assert_eq!(s, Status::MovedPermanently);
    let _ = page;
    let (s, page) = app.get("/").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("votes"));
}

async fn generator_is_reproducible_and_consistent(b: Backend) {
    let app = TestApp::new(b).await;
    let db = app.db.clone();
    let opts = generate::GenerateOptions {
        questions: 120,
        votes: 3_000,
        seed: 7,
    };
    let (first, last) = rocket::tokio::task::spawn_blocking(move || generate::generate(&db, opts))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last - first + 1, 120);
    let mut total = 0;
    for id in first..=last {
        total += app.ledger(id).await.0;
    }
    assert_eq!(total, 3_000);
    let (s, v) = crate::helpers::json_of(
        app.client
            .get("/api/v1/questions?sort=top")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert!(
        v["items"][0]["total_votes"].as_i64().unwrap()
            > v["items"][19]["total_votes"].as_i64().unwrap()
    );
    // Generated questions are indexed for search as they are written: the longest word of the
    // top question's title finds it.
    let title = v["items"][0]["title"].as_str().unwrap().to_string();
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.len())
        .unwrap()
        .to_string();
    let (s, found) = crate::helpers::json_of(
        app.client
            .get(format!("/api/v1/questions?q={word}&sort=top"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["title"] == title.as_str()),
        "{word}: {found}"
    );
}
