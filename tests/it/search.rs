//! Full-text search on both backends (InnoDB FULLTEXT, SQLite FTS5): ranking on a small fixed
//! corpus, phrases and prefixes, short words, what is folded in (choices, tags), filters and
//! pages, hidden questions, the index following edits, the backfill, the suggestions, and bad
//! queries answered with a message.

use rocket::http::Status;

use beebeta::domain::{DraftInput, Page, QuestionDraft, SearchSort, SearchTerms, StatusFilter};
use beebeta::models;
use beebeta::models::search::SearchFilter;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, json_of, question};

backend_tests!(
    ranking_puts_title_and_all_words_first,
    phrases_prefixes_and_short_words,
    choices_tags_and_descriptions_are_found,
    filters_sorts_and_pages,
    hidden_and_deleted_questions_never_appear,
    the_index_follows_edits_and_the_backfill_fills_it,
    the_migration_indexes_existing_questions,
    suggestions_for_the_search_box,
    bad_queries_get_a_message,
    every_plan_gives_the_same_answer,
    a_miss_offers_to_ask_it,
    concurrent_questions_with_shared_new_words_all_land,
);

/// Ids found for `q` (relevance order, first page), through the model.
async fn ids(app: &TestApp, q: &str, sort: SearchSort) -> Vec<i64> {
    let terms = SearchTerms::parse(q).unwrap().unwrap();
    let filter = SearchFilter {
        tag_id: None,
        status: None,
        window: beebeta::domain::Window::All,
        sort,
        page: Page::first(),
    };
    let now = models::now();
    app.db
        .run(move |c| Ok(models::search::find(c, &terms, &filter, now)?))
        .await
        .unwrap()
}

/// Titles on the search page for `uri`, in order.
async fn titles(app: &TestApp, uri: &str) -> Vec<String> {
    let (s, body) = json_of(app.client.get(uri.to_string()).dispatch().await).await;
    assert_eq!(s, Status::Ok, "{uri}: {body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

async fn ranking_puts_title_and_all_words_first(b: Backend) {
    let app = TestApp::new(b).await;
    // Oldest first, so "newest" ties would favour the wrong ones.
    let some_in_title = app
        .question(question("Is solar power the future?").age_days(5))
        .await;
    let all_in_body = app
        .question(
            question("Energy at home: what do you use?")
                .description("Solar panels and heat pumps, or gas heating?")
                .age_days(4),
        )
        .await;
    let all_in_title = app
        .question(question("Would you put solar panels on your roof?").age_days(3))
        .await;
    let unrelated = app
        .question(question("Which board game is the best?").age_days(2))
        .await;
    let some_in_body = app
        .question(
            question("Rooftop gardens in cities")
                .description("Plants instead of panels?")
                .age_days(1),
        )
        .await;
    let found = ids(&app, "solar panels", SearchSort::Relevance).await;
    assert_eq!(
        found,
        vec![all_in_title, all_in_body, some_in_title, some_in_body],
        "all words in the title, all words anywhere, then some words (title above body)"
    );
    assert!(!found.contains(&unrelated));
    // new and top list only questions holding every word.
    let newest = ids(&app, "solar panels", SearchSort::New).await;
    assert_eq!(newest, vec![all_in_title, all_in_body]);
    // Popularity breaks ties: two equal titles, the voted one first.
    let a = app
        .question(question("Tabs or spaces for indentation?").age_days(2))
        .await;
    let bq = app
        .question(question("Tabs or spaces for indentation?").age_days(3))
        .await;
    let choice = app.choices(bq).await[0];
    let (s, _) = app
        .api_vote(bq, &format!("{{\"choices\":[{choice}]}}"))
        .await;
    assert_eq!(s, Status::Ok);
    app.ledger(bq).await;
    assert_eq!(
        ids(&app, "indentation", SearchSort::Relevance).await,
        vec![bq, a]
    );
    assert_eq!(ids(&app, "indentation", SearchSort::Top).await, vec![bq, a]);
    assert_eq!(ids(&app, "indentation", SearchSort::New).await, vec![a, bq]);
}

async fn phrases_prefixes_and_short_words(b: Backend) {
    let app = TestApp::new(b).await;
    let eu = app
        .question(question("Should the EU tax kerosene for flights?"))
        .await;
    let work = app
        .question(question("Is remote work here to stay after all?"))
        .await;
    let apart = app
        .question(question("Work from home or remote offices?"))
        .await;
    let ai = app
        .question(question("Will AI write most code by 2030?"))
        .await;
    // Short words (under InnoDB's three-letter minimum) are found, alone or with others.
    assert_eq!(ids(&app, "EU tax", SearchSort::Relevance).await, vec![eu]);
    assert_eq!(ids(&app, "eu", SearchSort::Relevance).await, vec![eu]);
    assert_eq!(ids(&app, "AI", SearchSort::New).await, vec![ai]);
    // The last word is a prefix; earlier ones are whole words.
    assert_eq!(ids(&app, "keros", SearchSort::Relevance).await, vec![eu]);
    assert_eq!(ids(&app, "flight", SearchSort::Relevance).await, vec![eu]);
    assert!(ids(&app, "keros tax ", SearchSort::New).await.is_empty());
    // A quoted phrase: the words next to each other, in order.
    assert_eq!(
        ids(&app, "\"remote work\"", SearchSort::Relevance).await,
        vec![work]
    );
    let both = ids(&app, "remote work", SearchSort::New).await;
    assert_eq!(both.len(), 2);
    assert!(both.contains(&work) && both.contains(&apart));
    // Stop words do not narrow, but a phrase keeps them.
    assert_eq!(
        ids(&app, "what about kerosene", SearchSort::New).await,
        vec![eu]
    );
    assert_eq!(
        ids(&app, "\"here to stay\"", SearchSort::Relevance).await,
        vec![work]
    );
    assert!(
        ids(&app, "\"to stay here\"", SearchSort::Relevance)
            .await
            .is_empty()
    );
    // Case, accents and punctuation fold away.
    assert_eq!(ids(&app, "KEROSENE!!", SearchSort::New).await, vec![eu]);
    let cafe = app.question(question("Café culture in Paris")).await;
    assert_eq!(ids(&app, "cafe", SearchSort::New).await, vec![cafe]);
    assert_eq!(ids(&app, "CAFÉ", SearchSort::New).await, vec![cafe]);
    // Through the page, the phrase is echoed and found.
    let (s, body) = app.get("/search?q=%22remote+work%22").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Is remote work here to stay after all?"));
    assert!(!body.contains("Work from home or remote offices?"));
}

async fn choices_tags_and_descriptions_are_found(b: Backend) {
    let app = TestApp::new(b).await;
    let by_choice = app
        .question(question("Best breakfast drink?").choices(&["Espresso", "Matcha", "Juice"]))
        .await;
    let by_tag = app
        .question(question("Favourite season of the year?").tags(&["weather-talk"]))
        .await;
    let by_description = app
        .question(question("Morning habits").description("Think tea, coffee, or juice"))
        .await;
    assert_eq!(
        ids(&app, "matcha", SearchSort::Relevance).await,
        vec![by_choice]
    );
    assert_eq!(
        ids(&app, "weather", SearchSort::Relevance).await,
        vec![by_tag]
    );
    assert_eq!(
        ids(&app, "COFFEE", SearchSort::Relevance).await,
        vec![by_description]
    );
    let juice = ids(&app, "juice", SearchSort::Relevance).await;
    assert_eq!(juice.len(), 2);
}

async fn filters_sorts_and_pages(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..25 {
        app.question(
            question(&format!("Dinner idea number {i}: pasta tonight?"))
                .tags(&[if i % 2 == 0 { "even" } else { "odd" }])
                .age_days(30 - i),
        )
        .await;
    }
    let closed = app
        .question(question("Closed poll about pasta shapes").closed())
        .await;
    // Pages of 20, like the other lists.
    let (s, body) = json_of(
        app.client
            .get("/api/v1/questions?q=pasta&sort=new")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(body["items"].as_array().unwrap().len(), 20);
    assert_eq!(body["next_page"], 2);
    let page2 = titles(&app, "/api/v1/questions?q=pasta&sort=new&page=2").await;
    assert_eq!(page2.len(), 6);
    assert!(page2.iter().all(|t| t.contains("pasta")));
    // Newest first: the closed poll (2 hours old) leads.
    let first = titles(&app, "/api/v1/questions?q=pasta&sort=new").await;
    assert_eq!(first[0], "Closed poll about pasta shapes");
    // Status.
    let open = titles(&app, "/api/v1/questions?q=pasta&status=open&sort=new").await;
    assert!(!open.iter().any(|t| t.starts_with("Closed")));
    let only_closed = titles(&app, "/api/v1/questions?q=pasta&status=closed").await;
    assert_eq!(
        only_closed,
        vec!["Closed poll about pasta shapes".to_string()]
    );
    // Tag.
    let even = titles(&app, "/api/v1/questions?q=pasta&tag=even&page=1").await;
    assert_eq!(even.len(), 13);
    // Window: asked in the last 7 days (the one 6 days old, and the closed poll).
    let week = titles(&app, "/api/v1/questions?q=pasta&window=week&sort=new").await;
    assert_eq!(
        week,
        vec![
            "Closed poll about pasta shapes".to_string(),
            "Dinner idea number 24: pasta tonight?".to_string()
        ]
    );
    let (s, _) = json_of(
        app.client
            .get("/api/v1/questions?q=pasta&tag=no-such-tag")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::NotFound);
    // The same on the page; its links keep the filters.
    let (s, body) = app
        .get("/search?q=pasta&tag=even&status=open&sort=new")
        .await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Dinner idea number 24"));
    assert!(!body.contains("Dinner idea number 23:"));
    assert!(body.contains("<option value=\"open\" selected>"));
    let (_, body) = app.get("/search?q=pasta&sort=new").await;
    assert!(
        body.contains("/search?q=pasta&sort=new&page=2"),
        "next page link"
    );
    assert!(body.contains("Next →"));
    let (s, body) = app.get("/search?q=pasta&tag=no-such-tag").await;
    assert_eq!(
        s,
        Status::Ok,
        "an unknown tag narrows to nothing on the page"
    );
    assert!(body.contains("No questions match"));
    // Bad filter values are refused with their reason.
    for (uri, code) in [
        ("/api/v1/questions?q=pasta&sort=hot", "invalid_sort"),
        ("/api/v1/questions?q=pasta&status=pending", "invalid_status"),
        ("/api/v1/questions?status=open", "invalid_status"),
        ("/api/v1/questions?q=pasta&window=year", "invalid_window"),
    ] {
        let (s, body) = json_of(app.client.get(uri).dispatch().await).await;
        assert_eq!(s, Status::BadRequest, "{uri}");
        assert_eq!(body["error"]["code"], code, "{uri}");
    }
    let (s, body) = app.get("/search?q=pasta&status=maybe").await;
    assert_eq!(s, Status::NotFound, "a status that does not exist");
    assert!(
        body.contains("Only open questions"),
        "links the statuses there are"
    );
    let _ = closed;
}

async fn hidden_and_deleted_questions_never_appear(b: Backend) {
    let app = TestApp::new(b).await;
    let shown = app
        .question(question("Visible question about volcanoes"))
        .await;
    let hidden = app
        .question(question("Hidden question about volcanoes"))
        .await;
    let deleted = app
        .question(question("Deleted question about volcanoes"))
        .await;
    let now = models::now();
    app.db
        .write(move |c| {
            models::moderation::set_hidden(c, hidden, true, now)?;
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            diesel::update(questions::table.find(deleted))
                .set(questions::deleted_at.eq(Some(now)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    for sort in [SearchSort::Relevance, SearchSort::New, SearchSort::Top] {
        assert_eq!(ids(&app, "volcanoes", sort).await, vec![shown], "{sort:?}");
    }
    let (_, body) = app.get("/search?q=volcanoes").await;
    assert!(body.contains("Visible question") && !body.contains("Hidden question"));
    assert!(!body.contains("Deleted question"));
    let (_, body) = json_of(
        app.client
            .get("/api/v1/search/suggest?q=volc")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

async fn the_index_follows_edits_and_the_backfill_fills_it(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Original wording about llamas"))
        .await;
    assert_eq!(ids(&app, "llamas", SearchSort::New).await, vec![id]);
    // An edit replaces the indexed text.
    let now = models::now();
    app.db
        .write(move |c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            let uid = models::user::create(
                c,
                &models::user::NewUser {
                    username: "editor",
                    email: "editor@example.com",
                    password_hash: None,
                    role: models::user::ROLE_USER,
                    created_at: now,
                },
            )?;
            diesel::update(questions::table.find(id))
                .set(questions::author_id.eq(Some(uid)))
                .execute(c)?;
            let draft = QuestionDraft::parse(
                DraftInput {
                    author_id: Some(uid),
                    title: "New wording about alpacas",
                    description: "",
                    kind: "single",
                    results_visibility: "always",
                    protection: "browser",
                    choices: vec!["Yes", "No"],
                    tags: vec!["animals"],
                    ..DraftInput::default()
                },
                now,
            )
            .expect("valid draft");
            let r = models::question::update(c, id, uid, &draft, now)?;
            assert!(r.is_ok(), "{r:?}");
            Ok(())
        })
        .await
        .unwrap();
    assert!(ids(&app, "llamas", SearchSort::New).await.is_empty());
    assert_eq!(ids(&app, "alpacas", SearchSort::New).await, vec![id]);
    // Rows lost (or a database from before the index): the backfill indexes them again.
    let other = app
        .question(question("Second question about alpacas"))
        .await;
    app.db
        .write(|c| Ok(models::search::clear(c)?))
        .await
        .unwrap();
    assert!(ids(&app, "alpacas", SearchSort::New).await.is_empty());
    let db = app.db.clone();
    let n =
        rocket::tokio::task::spawn_blocking(move || beebeta::services::schema::reindex(&db, false))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(n, 2);
    assert_eq!(ids(&app, "alpacas", SearchSort::New).await, vec![other, id]);
    let db = app.db.clone();
    let again =
        rocket::tokio::task::spawn_blocking(move || beebeta::services::schema::reindex(&db, false))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(again, 0, "nothing left to index");
    word_counts_match_the_rows(&app).await;
    let db = app.db.clone();
    let all =
        rocket::tokio::task::spawn_blocking(move || beebeta::services::schema::reindex(&db, true))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(all, 2);
    word_counts_match_the_rows(&app).await;
}

async fn suggestions_for_the_search_box(b: Backend) {
    let app = TestApp::with(b, |f| {
        f.merge(("limits", "on"))
            .merge(("limits_suggest", "12/minute"))
    })
    .await;
    for i in 0..10 {
        app.question(question(&format!(
            "Gardening question {i}: tomatoes or peppers?"
        )))
        .await;
    }
    let popular = app
        .question(question("Which tomato variety tastes best?"))
        .await;
    let choice = app.choices(popular).await[0];
    app.api_vote(popular, &format!("{{\"choices\":[{choice}]}}"))
        .await;
    app.ledger(popular).await;
    app.question(question("Peppers only: how hot can you go?").description("tomatoes"))
        .await;
    let suggest = |q: &str| {
        let uri = format!("/api/v1/search/suggest?q={q}");
        let client = &app.client;
        async move {
            let remote = "192.0.2.40:6000".parse().unwrap();
            json_of(client.get(uri).remote(remote).dispatch().await).await
        }
    };
    let (s, body) = suggest("tomat").await;
    assert_eq!(s, Status::Ok);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 8, "at most 8");
    assert_eq!(
        items[0]["title"], "Which tomato variety tastes best?",
        "most voted first"
    );
    assert_eq!(
        items[0]["url"],
        format!("/q/{popular}/which-tomato-variety-tastes-best")
    );
    assert!(
        items
            .iter()
            .all(|i| !i["title"].as_str().unwrap().starts_with("Peppers")),
        "titles only"
    );
    let (_, body) = suggest("gardening%20question%203").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    for nothing in ["", "%20", "%2B%2B%2B"] {
        let (s, body) = suggest(nothing).await;
        assert_eq!(s, Status::Ok, "{nothing}");
        assert!(body["items"].as_array().unwrap().is_empty(), "{nothing}");
    }
    let (s, body) = suggest(&"x".repeat(10_000)).await;
    assert_eq!(s, Status::BadRequest);
    assert_eq!(body["error"]["code"], "invalid_query");
    // Rate-limited per client address (12/minute here; 2 counted so far: empty and symbol-only
    // texts are answered before the limiter).
    for i in 0..10 {
        assert_eq!(suggest("pepp").await.0, Status::Ok, "suggestion {}", i + 3);
    }
    let (s, body) = suggest("pepp").await;
    assert_eq!(s, Status::TooManyRequests);
    assert_eq!(body["error"]["code"], "rate_limited");
}

async fn bad_queries_get_a_message(b: Backend) {
    let app = TestApp::new(b).await;
    app.question(question("A question about anything at all"))
        .await;
    // Empty: the search page, no error.
    for uri in ["/search", "/search?q=", "/search?q=%20%20"] {
        let (s, body) = app.get(uri).await;
        assert_eq!(s, Status::Ok, "{uri}");
        assert!(body.contains("What are you looking for?"), "{uri}");
    }
    // Only operators.
    let (s, body) = app.get("/search?q=%2B-*%28%29%22%22~%3C%3E").await;
    assert_eq!(s, Status::BadRequest);
    assert!(body.contains("at least one word"), "{body}");
    let (s, body) = json_of(
        app.client
            .get("/api/v1/questions?q=%2B%2B%2B%20---")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::BadRequest);
    assert_eq!(body["error"]["code"], "no_words");
    // 10,000 characters.
    let long = "a".repeat(10_000);
    let (s, body) = app.get(&format!("/search?q={long}")).await;
    assert_eq!(s, Status::BadRequest);
    assert!(body.contains("at most 200 characters"));
    // Odd but valid: unbalanced quotes, operators around words, InnoDB syntax, SQL.
    for q in [
        "%22anything",
        "anything%22%22%22",
        "%2Banything%20-at%20~all*",
        "%40distance%203%20anything",
        "%27%3B%20DROP%20TABLE%20questions%3B%20--",
        "anything%20%28at%20%28all",
    ] {
        let (s, _) = app.get(&format!("/search?q={q}")).await;
        assert_eq!(s, Status::Ok, "{q}");
        let (s, _) = json_of(
            app.client
                .get(format!("/api/v1/questions?q={q}"))
                .dispatch()
                .await,
        )
        .await;
        assert_eq!(s, Status::Ok, "{q}");
    }
    let (_, body) = app.get("/search?q=%2Banything%20-at%20~all*").await;
    assert!(body.contains("A question about anything at all"));
    // Every word of the longest query (200 characters, 40 words) is fine too.
    let many = (0..40)
        .map(|i| format!("w{i:02}"))
        .collect::<Vec<_>>()
        .join(" ");
    let (s, _) = app
        .get(&format!("/search?q={}", many.replace(' ', "+")))
        .await;
    assert_eq!(s, Status::Ok);
    // Nothing stored was touched.
    let (_, body) = app.get("/new").await;
    assert!(body.contains("A question about anything at all"));
    let _ = StatusFilter::Open;
}

async fn the_migration_indexes_existing_questions(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app
        .question(question(
            "Asked before search existed: narwhals or unicorns?",
        ))
        .await;
    // Take the database back to before the search migration: its tables gone, not recorded.
    let down = match b {
        Backend::Sqlite => {
            include_str!("../../migrations/sqlite/2026-12-06-000013_search/down.sql")
        }
        #[cfg(feature = "mysql")]
        Backend::Mysql => include_str!("../../migrations/mysql/2026-12-06-000013_search/down.sql"),
    };
    app.db
        .write(move |c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute(down)?;
            c.batch_execute(
                "DELETE FROM __diesel_schema_migrations WHERE version LIKE '2026%12%06%000013%'",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let db = app.db.clone();
    let applied =
        rocket::tokio::task::spawn_blocking(move || beebeta::services::schema::migrate(&db))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(applied, 1);
    assert_eq!(ids(&app, "narwhals", SearchSort::New).await, vec![id]);
    let (_, body) = app.get("/search?q=unicorn").await;
    assert!(body.contains("Asked before search existed"));
}

/// Every plan (walk the list's index, ask the full-text index, the planner's choice) gives the
/// same answer, for every sort, page and filter, and the suggestions too.
async fn every_plan_gives_the_same_answer(b: Backend) {
    use models::search::Plan;
    let app = TestApp::new(b).await;
    let vocab = [
        "solar", "panels", "energy", "garden", "city", "eu", "tax", "pasta", "pizza", "remote",
        "work", "home",
    ];
    let mut seed = 7u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut ids = Vec::new();
    for i in 0..90 {
        let title: Vec<&str> = (0..4).map(|_| vocab[next(vocab.len())]).collect();
        let description: Vec<&str> = (0..next(3)).map(|_| vocab[next(vocab.len())]).collect();
        let mut q = question(&format!("Question {i}: {}?", title.join(" ")))
            .description(&description.join(" "))
            .age_days(i64::from(i % 30));
        if i % 3 == 0 {
            q = q.tags(&["three"]);
        }
        if i % 7 == 0 {
            q = q.closed();
        }
        ids.push(app.question(q).await);
    }
    // Votes with ties (the walk resumes after the last (votes, id) it saw); two hidden.
    let votes: Vec<(i64, i64)> = ids.iter().map(|id| (*id, (id * 37) % 5)).collect();
    let hide = [ids[3], ids[40]];
    app.db
        .write(move |c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            for (id, v) in &votes {
                diesel::update(questions::table.find(*id))
                    .set(questions::vote_count.eq(*v))
                    .execute(c)?;
            }
            diesel::update(questions::table.filter(questions::id.eq_any(hide)))
                .set(questions::hidden_at.eq(Some(models::now())))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let tag_id: i64 = app
        .db
        .run(|c| {
            use beebeta::db::schema::tags;
            use diesel::prelude::*;
            Ok(tags::table
                .filter(tags::name.eq("three"))
                .select(tags::id)
                .first(c)?)
        })
        .await
        .unwrap();
    let queries = [
        "solar",
        "solar panels",
        "eu tax",
        "pa",
        "pizza wor",
        "\"remote work\"",
        "home garden city",
        "tax pizza energy solar",
        "nothing",
    ];
    let mut second_pages = 0;
    for q in queries {
        for sort in [SearchSort::Relevance, SearchSort::New, SearchSort::Top] {
            for (tag, status) in [
                (None, None),
                (Some(tag_id), None),
                (None, Some(StatusFilter::Open)),
            ] {
                for page in ["1", "2", "3"] {
                    let filter = SearchFilter {
                        tag_id: tag,
                        status,
                        window: beebeta::domain::Window::All,
                        sort,
                        page: Page::from_query(Some(page)).unwrap(),
                    };
                    let terms = SearchTerms::parse(q).unwrap().unwrap();
                    let now = models::now();
                    let found = app
                        .db
                        .run(move |c| {
                            let mut out = Vec::new();
                            for plan in [Plan::Walk, Plan::Index, Plan::Cheapest] {
                                out.push(models::search::find_with(c, &terms, &filter, now, plan)?);
                            }
                            Ok(out)
                        })
                        .await
                        .unwrap();
                    assert_eq!(
                        found[0], found[1],
                        "{q} {sort:?} {tag:?} {status:?} page {page}: walk and index"
                    );
                    assert_eq!(
                        found[0], found[2],
                        "{q} {sort:?} {tag:?} {status:?} page {page}: chosen plan"
                    );
                    assert!(!found[0].iter().any(|id| hide.contains(id)));
                    if page == "2" && !found[0].is_empty() {
                        second_pages += 1;
                    }
                }
            }
        }
        let terms = SearchTerms::parse(q).unwrap().unwrap();
        let suggested = app
            .db
            .run(move |c| {
                let mut out = Vec::new();
                for plan in [Plan::Walk, Plan::Index, Plan::Cheapest] {
                    out.push(models::search::suggest_with(c, &terms, 8, plan)?);
                }
                Ok(out)
            })
            .await
            .unwrap();
        assert_eq!(suggested[0], suggested[1], "{q}: suggestions");
        assert_eq!(suggested[0], suggested[2], "{q}: suggestions");
    }
    assert!(
        second_pages >= 10,
        "the corpus fills second pages ({second_pages})"
    );
    // Relevance on the corpus, by hand: "solar panels" lists every question holding both words
    // in its title before any holding only one.
    let found = ids_of(&app, "solar panels").await;
    let titles = app
        .db
        .run(move |c| {
            use beebeta::db::schema::questions;
            use diesel::prelude::*;
            let rows: Vec<(i64, String)> = questions::table
                .filter(questions::id.eq_any(&found))
                .select((questions::id, questions::title))
                .load(c)?;
            let map: std::collections::HashMap<i64, String> = rows.into_iter().collect();
            Ok(found
                .iter()
                .map(|id| map[id].to_lowercase())
                .collect::<Vec<_>>())
        })
        .await
        .unwrap();
    let both = |t: &String| t.contains("solar") && t.contains("panels");
    let first_without = titles.iter().position(|t| !both(t)).unwrap_or(titles.len());
    assert!(first_without > 0, "some titles hold both words");
    assert!(
        titles[first_without..].iter().all(|t| !both(t)),
        "{titles:?}"
    );
    word_counts_match_the_rows(&app).await;
}

async fn ids_of(app: &TestApp, q: &str) -> Vec<i64> {
    ids(app, q, SearchSort::Relevance).await
}

/// `search_words` holds, for every indexed word, the questions whose search row holds it
/// anywhere and in the title, and under the empty word the number of rows.
async fn word_counts_match_the_rows(app: &TestApp) {
    use std::collections::{BTreeMap, BTreeSet};
    let (expected, stored) = app
        .db
        .run(|c| {
            use beebeta::db::schema::question_search;
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                word: String,
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                questions: i64,
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                titles: i64,
            }
            let rows: Vec<(String, String)> = question_search::table
                .select((question_search::title, question_search::body))
                .load(c)?;
            let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for (title, body) in &rows {
                let in_title: BTreeSet<&str> = title.split_whitespace().collect();
                let anywhere: BTreeSet<&str> = title
                    .split_whitespace()
                    .chain(body.split_whitespace())
                    .collect();
                for w in anywhere {
                    let e = expected.entry(w.to_string()).or_default();
                    e.0 += 1;
                    e.1 += i64::from(in_title.contains(w));
                }
            }
            let n = rows.len() as i64;
            expected.insert(String::new(), (n, n));
            let stored: BTreeMap<String, (i64, i64)> = diesel::sql_query(
                "SELECT word, questions, titles FROM search_words \
                 WHERE questions <> 0 OR titles <> 0",
            )
            .load::<Row>(c)?
            .into_iter()
            .map(|r| (r.word, (r.questions, r.titles)))
            .collect();
            Ok((expected, stored))
        })
        .await
        .unwrap();
    assert!(expected.len() > 1, "the corpus has words");
    assert_eq!(stored, expected);
}

/// A search that finds nothing says so with the words typed and offers to ask them: the asking
/// form starts with them as the title (after logging in, for a visitor).
async fn a_miss_offers_to_ask_it(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, body) = app.get("/search?q=Flying%20cars%20by%202040").await;
    assert_eq!(s, Status::Ok);
    assert!(
        body.contains("No questions match “Flying cars by 2040”"),
        "{body}"
    );
    assert!(
        body.contains("href=\"/ask?title=Flying%20cars%20by%202040\""),
        "{body}"
    );
    let r = app
        .client
        .get("/ask?title=Flying%20cars%20by%202040")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/login?next=%2Fask%3Ftitle%3DFlying%2520cars%2520by%25202040"),
        "a visitor comes back to the filled form"
    );
    app.signup("curious", "curious@example.com", crate::helpers::PASSWORD)
        .await;
    let (s, page) = app.get("/ask?title=Flying%20cars%20by%202040").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("value=\"Flying cars by 2040\""), "{page}");
    let (_, page) = app.get("/ask").await;
    assert!(!page.contains("Flying cars"));
    // Too long a title is only a starting point: cut to the field's 200 characters.
    let (s, page) = app.get(&format!("/ask?title={}", "x".repeat(10_000))).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains(&format!("value=\"{}\"", "x".repeat(200))));
    assert!(!page.contains(&"x".repeat(201)));
}

/// Questions asked at the same moment that share words no question had before (and new tags):
/// each creation upserts the same `search_words` rows (and tags) in its own transaction. All of
/// them land (no deadlock, nor a lost update of a shared count), and the counts match the rows.
async fn concurrent_questions_with_shared_new_words_all_land(b: Backend) {
    const N: usize = 24;
    let app = TestApp::new(b).await;
    let created = futures::future::join_all((0..N).map(|i| {
        let q = question(&format!(
            "Zebra quantum marmalade {} number {i}?",
            ["north", "south", "east", "west"][i % 4]
        ))
        .description(&format!("Kumquat xylophone {i} and tangerine"))
        .tags(&["zebras", &format!("batch-{}", i % 3)]);
        app.question(q)
    }))
    .await;
    assert_eq!(created.len(), N);
    word_counts_match_the_rows(&app).await;
    let (s, body) = json_of(
        app.client
            .get("/api/v1/questions?q=zebra+quantum&sort=new&page=2")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(s, Status::Ok);
    assert_eq!(body["items"].as_array().unwrap().len(), N - 20, "{body}");
    let mut found = ids(&app, "zebra quantum", SearchSort::New).await;
    found.truncate(20);
    assert!(found.iter().all(|id| created.contains(id)), "{found:?}");
    let (s, body) = app.get("/t/zebras").await;
    assert_eq!(s, Status::Ok);
    assert_eq!(
        body.matches("Zebra quantum marmalade").count(),
        20,
        "a full first page"
    );
}
