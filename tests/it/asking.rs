//! Asking and managing questions, by form (without JavaScript) and through the API.

use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, extract_csrf, form_body, json_of};

backend_tests!(
    asking_needs_an_account,
    ask_by_form_with_rows_added_and_removed,
    ask_form_refusals_keep_input_and_store_nothing,
    ask_through_the_api,
    edit_close_and_delete,
    tag_autocomplete,
);

async fn count_questions(app: &TestApp) -> i64 {
    app.db
        .run(|c| Ok(beebeta::models::user::site_totals(c)?.1))
        .await
        .unwrap()
}

fn ask_fields<'a>(
    title: &'a str,
    choices: &'a [&'a str],
    tags: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("title", title),
        ("description", "Some context for the question."),
        ("tags", tags),
        ("kind", "single"),
        ("results_visibility", "always"),
        ("duplicate_protection", "browser"),
        ("action", "submit"),
    ];
    for c in choices {
        f.push(("choice", c));
    }
    f
}

async fn asking_needs_an_account(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/ask").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/login?next=%2Fask"));
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(r#"{"title":"Is this allowed anonymously?","choices":["Yes","No"]}"#)
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert_eq!(s, Status::Unauthorized);
    assert_eq!(v["error"]["code"], "login_required");
    assert_eq!(count_questions(&app).await, 0);
}

async fn ask_by_form_with_rows_added_and_removed(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("asker", "asker@example.com", PASSWORD).await;
    let (s, page) = app.get("/ask").await;
    assert_eq!(s, Status::Ok);
    let token = extract_csrf(&page).unwrap();
    let post = |fields: Vec<(&str, &str)>| {
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend(fields);
        let body = form_body(&all);
        let client = &app.client;
        async move {
            client
                .post("/ask")
                .header(ContentType::Form)
                .body(body)
                .dispatch()
                .await
        }
    };
    // "Add a choice" re-shows the form with one more row and the input kept.
    let mut f = ask_fields(
        "Which fruit is the best of all?",
        &["Apple", "Pear"],
        "Food, Fruit",
    );
    f.retain(|(k, _)| *k != "action");
    f.push(("action", "add_choice"));
    let r = post(f).await;
    assert_eq!(r.status(), Status::Ok);
    let html = r.into_string().await.unwrap();
    assert_eq!(html.matches("name=\"choice\"").count(), 3);
    assert!(html.contains("value=\"Which fruit is the best of all?\""));
    let mut f = ask_fields(
        "Which fruit is the best of all?",
        &["Apple", "Pear", "Plum"],
        "Food, Fruit",
    );
    f.retain(|(k, _)| *k != "action");
    f.push(("action", "remove_choice:1"));
    let r = post(f).await;
    let html = r.into_string().await.unwrap();
    assert_eq!(html.matches("name=\"choice\"").count(), 2);
    assert!(html.contains("value=\"Plum\"") && !html.contains("value=\"Pear\""));
    // Publish.
    let r = post(ask_fields(
        "Which fruit is the best of all?",
        &["Apple", "Pear", "Plum"],
        "Food, Fresh Fruit, food",
    ))
    .await;
    assert_eq!(r.status(), Status::SeeOther);
    let location = r.headers().get_one("Location").unwrap().to_string();
    assert!(location.starts_with("/q/") && location.ends_with("/which-fruit-is-the-best-of-all"));
    let (_, page) = app.get(&location).await;
    assert!(page.contains("Your question is live."));
    assert!(
        page.contains("Your question"),
        "the author sees the manage toolbar"
    );
    let (_, tag_page) = app.get("/t/fresh-fruit").await;
    assert!(
        tag_page.contains("Which fruit is the best of all?"),
        "tags are normalised"
    );
    let (_, profile) = app.get("/u/asker").await;
    assert!(profile.contains("Which fruit is the best of all?"));
    let (s, _) = app.get("/u/nobody-at-all").await;
    assert_eq!(s, Status::NotFound);
}

async fn ask_form_refusals_keep_input_and_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("careful", "careful@example.com", PASSWORD).await;
    let eleven: Vec<String> = (1..=11).map(|i| format!("Choice {i}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    let long_title = "t".repeat(10 * 1024);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            ask_fields("Only one choice is not a poll", &["Lonely"], ""),
            "2 to 10 choices",
        ),
        (
            ask_fields("Eleven choices are too many here", &eleven, ""),
            "2 to 10 choices",
        ),
        (
            ask_fields(
                "Six tags are one too many here",
                &["A", "B"],
                "a, b, c, d, e, f",
            ),
            "at most 5 tags",
        ),
        (
            ask_fields(&long_title, &["A", "B"], ""),
            "at most 200 characters",
        ),
        (
            ask_fields("Short", &["A", "B"], ""),
            "at least 10 characters",
        ),
        (
            ask_fields("Two identical choices are refused", &["Same", "same"], ""),
            "appears twice",
        ),
    ];
    for (fields, expect) in cases {
        let r = app.post_form("/ask", "/ask", &fields).await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "{expect}");
        let html = r.into_string().await.unwrap();
        assert!(html.contains(expect), "{expect}");
        assert!(
            html.contains("Some context for the question."),
            "input kept"
        );
    }
    let mut bad = ask_fields("A closing date in the past is wrong", &["A", "B"], "");
    bad.push(("closes_at", "2001-01-01T10:00"));
    let r = app.post_form("/ask", "/ask", &bad).await;
    assert!(
        r.into_string()
            .await
            .unwrap()
            .contains("must be in the future")
    );
    let mut bad = ask_fields("A closing date that is not a date", &["A", "B"], "");
    bad.push(("closes_at", "soon"));
    let r = app.post_form("/ask", "/ask", &bad).await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let mut bad = ask_fields("Limits that make no sense at all", &["A", "B", "C"], "");
    bad.retain(|(k, _)| *k != "kind");
    bad.extend([
        ("kind", "multiple"),
        ("min_choices", "3"),
        ("max_choices", "2"),
    ]);
    let r = app.post_form("/ask", "/ask", &bad).await;
    assert!(r.into_string().await.unwrap().contains("minimum"));
    let mut bad = ask_fields("An unknown visibility value here", &["A", "B"], "");
    bad.retain(|(k, _)| *k != "results_visibility");
    bad.push(("results_visibility", "sometimes"));
    let r = app.post_form("/ask", "/ask", &bad).await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let r = app
        .client
        .post("/ask")
        .header(ContentType::Form)
        .body(form_body(&ask_fields(
            "No token means no question",
            &["A", "B"],
            "",
        )))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    assert_eq!(count_questions(&app).await, 0, "nothing stored");
}

async fn ask_through_the_api(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("apiuser", "apiuser@example.com", PASSWORD).await;
    let body = r#"{"title":"Which API style do you prefer?","description":"Be honest","choices":["REST","GraphQL","gRPC"],
        "tags":["API","Web Dev"],"kind":"multiple","min_choices":1,"max_choices":2,"closes_at":"CLOSES",
        "results_visibility":"after_vote","duplicate_protection":"network"}"#;
    let closes = (chrono::Utc::now() + chrono::Duration::days(365))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let body = body.replace("CLOSES", &closes);
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(body.clone())
        .dispatch()
        .await;
    let location = r.headers().get_one("Location").map(str::to_string);
    let (s, v) = json_of(r).await;
    assert_eq!(s, Status::Created);
    let id = v["id"].as_i64().unwrap();
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/questions/{id}").as_str())
    );
    assert_eq!(v["kind"], "multiple");
    assert_eq!(v["max_choices"], 2);
    assert_eq!(v["tags"], serde_json::json!(["api", "web-dev"]));
    assert_eq!(v["results_visibility"], "after_vote");
    assert_eq!(v["protection"], "network");
    assert_eq!(v["closes_at"], closes.as_str());
    assert_eq!(v["author"], "apiuser");
    let (_, got) = json_of(
        app.client
            .get(format!("/api/v1/questions/{id}"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(got["title"], v["title"]);
    let cases = [
        (
            r#"{"title":"Short","choices":["A"]}"#,
            vec!["title", "choices"],
        ),
        (
            r#"{"title":"Six tags are too many here","choices":["A","B"],"tags":["a","b","c","d","e","f"]}"#,
            vec!["tags"],
        ),
        (
            r#"{"title":"A bad closing time here","choices":["A","B"],"closes_at":"tomorrow"}"#,
            vec!["closes_at"],
        ),
        (
            r#"{"title":"Bad enum values here too","choices":["A","B"],"kind":"poll","duplicate_protection":"none"}"#,
            vec!["kind", "duplicate_protection"],
        ),
    ];
    for (body, fields) in cases {
        let r = app
            .client
            .post("/api/v1/questions")
            .header(ContentType::JSON)
            .body(body)
            .dispatch()
            .await;
        let (s, v) = json_of(r).await;
        assert_eq!(s, Status::UnprocessableEntity, "{body}");
        assert_eq!(v["error"]["code"], "validation_failed");
        for f in fields {
            assert!(v["error"]["fields"][f].is_string(), "{body}: field {f}");
        }
    }
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(r#"{"title":"x","choices":["A","B"],"colour":"red"}"#)
        .dispatch()
        .await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "unknown fields are refused"
    );
    assert_eq!(count_questions(&app).await, 1);
}

async fn edit_close_and_delete(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("owner", "owner@example.com", PASSWORD).await;
    let r = app
        .post_form(
            "/ask",
            "/ask",
            &ask_fields("A question that will be edited", &["One", "Two"], "edits"),
        )
        .await;
    let path = r.headers().get_one("Location").unwrap().to_string();
    let id: i64 = path.split('/').nth(2).unwrap().parse().unwrap();
    let (s, form) = app.get(&format!("/q/{id}/edit")).await;
    assert_eq!(s, Status::Ok);
    assert!(form.contains("value=\"A question that will be edited\""));
    let r = app
        .post_form(
            &format!("/q/{id}/edit"),
            &format!("/q/{id}/edit"),
            &ask_fields(
                "A question that was edited now",
                &["Uno", "Dos", "Tres"],
                "edited",
            ),
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some(format!("/q/{id}/a-question-that-was-edited-now").as_str())
    );
    assert_eq!(app.choices(id).await.len(), 3);
    let (_, tags) = app.get("/tags").await;
    assert!(
        tags.contains("edited") && !tags.contains(">edits<"),
        "tag counts follow the edit"
    );
    // Another user may not edit, close or delete it.
    app.logout().await;
    app.signup("intruder", "intruder@example.com", PASSWORD)
        .await;
    let (s, _) = app.get(&format!("/q/{id}/edit")).await;
    assert_eq!(s, Status::Forbidden);
    let r = app
        .post_form("/", &format!("/q/{id}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    // A vote locks editing.
    let c = app.choices(id).await;
    app.api_vote(id, &format!("{{\"choices\":[{}]}}", c[0]))
        .await;
    assert_eq!(app.logout().await, Status::SeeOther);
    assert_eq!(
        app.login_as("owner", PASSWORD, "").await.status(),
        Status::SeeOther
    );
    let (s, body) = app.get(&format!("/q/{id}/edit")).await;
    assert_eq!(s, Status::Conflict);
    assert!(body.contains("already has votes"));
    let r = app
        .post_form(
            &app.path(id).await,
            &format!("/q/{id}/edit"),
            &ask_fields("Trying to edit after a vote", &["A", "B"], ""),
        )
        .await;
    assert_eq!(r.status(), Status::Conflict);
    // Close, then delete.
    let canonical = app.path(id).await;
    let r = app
        .post_form(&canonical, &format!("/q/{id}/close"), &[("confirm", "yes")])
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let (s, v) = app
        .api_vote(id, &format!("{{\"choices\":[{}]}}", c[1]))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (Status::Conflict, Some("question_closed"))
    );
    let r = app
        .post_form(&canonical, &format!("/q/{id}/close"), &[("confirm", "yes")])
        .await;
    assert_eq!(r.status(), Status::Conflict, "already closed");
    let r = app
        .post_form(
            &canonical,
            &format!("/q/{id}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let (s, _) = app.get(&canonical).await;
    assert_eq!(s, Status::NotFound, "deleted questions are gone");
    let (_, profile) = app.get("/u/owner").await;
    assert!(!profile.contains(&format!("href=\"/q/{id}/")), "not listed");
    assert!(profile.contains("Your question “A question that was edited now” was deleted."));
    let (_, tags) = app.get("/api/v1/tags").await;
    assert!(
        !tags.contains("\"edited\""),
        "deleted questions no longer count on tags"
    );
}

async fn tag_autocomplete(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("tagger", "tagger@example.com", PASSWORD).await;
    app.post_form(
        "/ask",
        "/ask",
        &ask_fields(
            "Tagged with travel and trains",
            &["A", "B"],
            "travel, trains, food",
        ),
    )
    .await;
    let (_, v) = json_of(app.client.get("/api/v1/tags?prefix=tra").dispatch().await).await;
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["trains", "travel"]);
    let (s, v) = json_of(app.client.get("/api/v1/tags?prefix=%25").dispatch().await).await;
    assert_eq!(s, Status::Ok);
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        0,
        "wildcards are literal"
    );
}
