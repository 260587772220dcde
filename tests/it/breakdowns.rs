//! Privacy-safe breakdowns (issue 19 point 3): results by one segment from verified-account
//! ballots only, every shown group at least k = 5 voters (smaller ones merged into "Other", which
//! is hidden in turn when under 5), on the page and in the API; the visibility rule; the author's
//! switch; members' answers on /settings (validated, never shown per person, exported, deleted
//! with the account); admins adding segments.

use diesel::prelude::*;
use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, json_of, question};

backend_tests!(
    k_rule_on_page_and_api_counts_verified_ballots_only,
    hidden_results_and_the_authors_switch_offer_no_breakdown,
    unknown_segments_are_404_with_links,
    answers_are_validated_private_exported_and_deleted,
    admins_add_segments_others_cannot,
    the_demo_shows_a_breakdown,
);

/// Signs `name` up (the tracked browser is then logged in as them) with a verified email.
async fn member(app: &TestApp, name: &str) -> i64 {
    let s = app
        .signup(name, &format!("{name}@example.com"), PASSWORD)
        .await;
    assert_eq!(s, Status::SeeOther, "{name} signs up");
    app.verify_email(name).await;
    app.user_id(name).await
}

/// Saves the logged-in member's answers through the settings form; returns the status.
async fn answer(app: &TestApp, answers: &[(&str, &str)]) -> Status {
    let fields: Vec<(String, &str)> = answers
        .iter()
        .map(|(k, v)| (format!("answers[{k}]"), *v))
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    app.post_form("/settings", "/settings/profile", &fields)
        .await
        .status()
}

/// Votes for the `n`th choice of `qid` as the tracked browser.
async fn vote(app: &TestApp, qid: i64, n: usize) {
    let c = app.choices(qid).await;
    let (s, _) = app
        .api_vote(qid, &format!("{{\"choices\":[{}]}}", c[n]))
        .await;
    assert!(s.class().is_success(), "vote on {qid}: {s}");
}

/// A verified member with these answers who votes for choice `n` of `qid`, then logs out.
async fn voter(app: &TestApp, name: &str, answers: &[(&str, &str)], qid: i64, n: usize) {
    member(app, name).await;
    assert_eq!(
        answer(app, answers).await,
        Status::SeeOther,
        "{name} answers"
    );
    vote(app, qid, n).await;
    assert_eq!(app.logout().await, Status::SeeOther);
}

async fn breakdown(app: &TestApp, qid: i64, by: &str) -> (Status, serde_json::Value) {
    let r = app
        .client
        .get(format!("/api/v1/questions/{qid}/breakdown?by={by}"))
        .dispatch()
        .await;
    json_of(r).await
}

fn values(doc: &serde_json::Value) -> Vec<(String, i64)> {
    doc["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["voters"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn answers_stored(app: &TestApp, uid: i64) -> i64 {
    app.db
        .run(move |c| {
            use beebeta::db::schema::profile_answers as pa;
            Ok(pa::table
                .filter(pa::user_id.eq(uid))
                .count()
                .get_result::<i64>(c)?)
        })
        .await
        .unwrap()
}

async fn k_rule_on_page_and_api_counts_verified_ballots_only(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Tea or coffee?").choices(&["Tea", "Coffee"]))
        .await;
    // Age: five 18-24 (shown), four 25-34 and one 35-44 (merged: "Other" has 5, shown).
    // Country: five FR (shown), three DE (hidden: 3 not shown), two who prefer not to say.
    for i in 0..5 {
        let n = if i < 3 { 0 } else { 1 };
        let name = format!("young{i}");
        voter(&app, &name, &[("age", "18-24"), ("country", "FR")], qid, n).await;
    }
    for i in 0..4 {
        let country = if i < 3 { "DE" } else { "" };
        let name = format!("mid{i}");
        voter(
            &app,
            &name,
            &[("age", "25-34"), ("country", country)],
            qid,
            0,
        )
        .await;
    }
    voter(&app, "older", &[("age", "35-44"), ("country", "")], qid, 1).await;
    // Neither an unverified account's ballot nor a cookie ballot counts (the cookie ballot last:
    // a browser's cookie ballot goes with it when it signs up).
    member(&app, "unverified").await;
    app.unverify_email("unverified").await;
    assert_eq!(
        answer(&app, &[("age", "18-24"), ("country", "FR")]).await,
        Status::SeeOther
    );
    vote(&app, qid, 0).await;
    app.logout().await;
    vote(&app, qid, 0).await;
    let (ballots, _) = app.ledger(qid).await;
    assert_eq!(ballots, 12);

    let (s, doc) = breakdown(&app, qid, "age").await;
    assert_eq!(s, Status::Ok, "{doc}");
    assert_eq!(doc["segment"], "age");
    assert_eq!(doc["k"], 5);
    assert_eq!(values(&doc), vec![("18-24".to_string(), 5)]);
    let young = &doc["values"][0]["choices"];
    assert_eq!(young[0]["votes"], 3);
    assert_eq!(young[1]["votes"], 2);
    assert_eq!(young[0]["percent"], 60.0);
    assert_eq!(doc["other"]["voters"], 5, "4 + 1 merged: {doc}");
    assert_eq!(doc["other"]["choices"][0]["votes"], 4);
    assert_eq!(doc["not_shown"], 0);

    let (s, doc) = breakdown(&app, qid, "country").await;
    assert_eq!(s, Status::Ok);
    assert_eq!(values(&doc), vec![("FR".to_string(), 5)]);
    assert!(doc["other"].is_null(), "3 DE voters are under k: {doc}");
    assert_eq!(doc["not_shown"], 3);

    let path = app.path(qid).await;
    let (s, page) = app.get(&path).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Break down by"), "offered under the results");
    assert!(!page.contains("breakdown-group"), "none until asked for");
    let (s, page) = app.get(&format!("{path}?by=country")).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Results by country"));
    assert!(page.contains("data-value=\"FR\""));
    assert!(page.contains("5 voters"));
    assert!(
        !page.contains("data-value=\"DE\""),
        "a group of 3 is never shown"
    );
    assert!(!page.contains("data-value=\"other\""));
    assert!(page.contains("3 voters not shown"));
    let (_, page) = app.get(&format!("{path}?by=age")).await;
    assert!(page.contains("data-value=\"18-24\""));
    assert!(page.contains("data-value=\"other\""));
    assert!(
        !page.contains("data-value=\"25-34\""),
        "4 voters merge into Other"
    );
}

async fn hidden_results_and_the_authors_switch_offer_no_breakdown(b: Backend) {
    let app = TestApp::new(b).await;
    let later = app
        .question(question("Shown after voting?").visibility("after_vote"))
        .await;
    let (s, doc) = breakdown(&app, later, "age").await;
    assert_eq!(s, Status::Forbidden);
    assert_eq!(doc["error"]["code"], "results_hidden", "{doc}");
    let path = app.path(later).await;
    let (s, page) = app.get(&format!("{path}?by=age")).await;
    assert_eq!(s, Status::Ok);
    assert!(!page.contains("Break down by"));
    assert!(!page.contains("Results by age"));
    vote(&app, later, 0).await;
    let (s, _) = breakdown(&app, later, "age").await;
    assert_eq!(s, Status::Ok, "visible once voted");

    member(&app, "author").await;
    let r = app
        .post_form(
            "/ask",
            "/ask",
            &[
                ("title", "No breakdowns here please?"),
                ("choice", "Yes"),
                ("choice", "No"),
                ("kind", "single"),
                ("results_visibility", "always"),
                ("duplicate_protection", "browser"),
                ("breakdowns", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let to = r.headers().get_one("Location").unwrap().to_string();
    drop(r);
    let off: i64 = to.split('/').nth(2).unwrap().parse().unwrap();
    let (s, page) = app.get(&format!("/q/{off}/edit")).await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("name=\"breakdowns\" value=\"1\">"),
        "unticked"
    );
    let (s, doc) = breakdown(&app, off, "age").await;
    assert_eq!(s, Status::Conflict);
    assert_eq!(doc["error"]["code"], "breakdowns_off");
    let (_, page) = app.get(&to).await;
    assert!(!page.contains("Break down by"));
    let (s, _) = app.get(&format!("{to}?by=age")).await;
    assert_eq!(s, Status::Conflict);

    // Ticked (the hidden 0 and the box's 1): on.
    let r = app
        .post_form(
            "/ask",
            "/ask",
            &[
                ("title", "Breakdowns welcome here?"),
                ("choice", "Yes"),
                ("choice", "No"),
                ("breakdowns", "0"),
                ("breakdowns", "1"),
            ],
        )
        .await;
    let to = r.headers().get_one("Location").unwrap().to_string();
    drop(r);
    let (_, page) = app.get(&to).await;
    assert!(page.contains("Break down by"));
}

async fn unknown_segments_are_404_with_links(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Which segment?")).await;
    let path = app.path(qid).await;
    let (s, page) = app.get(&format!("{path}?by=shoe-size")).await;
    assert_eq!(s, Status::NotFound);
    assert!(page.contains("shoe-size"));
    assert!(
        page.contains(&format!("{path}?by=age")),
        "links what exists"
    );
    assert!(page.contains(&format!("{path}?by=country")));
    let (s, doc) = breakdown(&app, qid, "shoe-size").await;
    assert_eq!(s, Status::NotFound, "{doc}");
    let (s, _) = breakdown(&app, 999_999, "age").await;
    assert_eq!(s, Status::NotFound);
}

async fn answers_are_validated_private_exported_and_deleted(b: Backend) {
    let app = TestApp::new(b).await;
    let uid = member(&app, "private").await;
    let (s, page) = app.get("/settings").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Profile answers (optional)"));
    assert!(page.contains("Prefer not to say"));
    assert!(page.contains("never shown"));

    assert_eq!(
        answer(&app, &[("age", "99-100")]).await,
        Status::UnprocessableEntity
    );
    assert_eq!(
        answer(&app, &[("age", "18-24"), ("shoe", "42")]).await,
        Status::UnprocessableEntity
    );
    assert_eq!(
        answers_stored(&app, uid).await,
        0,
        "nothing stored on refusal"
    );
    let r = app
        .client
        .post("/settings/profile")
        .header(ContentType::Form)
        .body("answers%5Bage%5D=18-24")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden, "no CSRF token");
    drop(r);
    assert_eq!(answers_stored(&app, uid).await, 0);

    assert_eq!(
        answer(&app, &[("age", "45-54"), ("country", "NZ")]).await,
        Status::SeeOther
    );
    assert_eq!(answers_stored(&app, uid).await, 2);
    let (_, page) = app.get("/settings").await;
    assert!(page.contains("<option value=\"NZ\" selected>"));
    // Prefer not to say removes one answer.
    assert_eq!(answer(&app, &[("country", "")]).await, Status::SeeOther);
    assert_eq!(answers_stored(&app, uid).await, 1);

    let (s, profile) = app.get("/u/private").await;
    assert_eq!(s, Status::Ok);
    assert!(!profile.contains("45–54") && !profile.contains("45-54"));

    let r = app.client.get("/settings/export").dispatch().await;
    let doc: serde_json::Value = serde_json::from_str(&r.into_string().await.unwrap()).unwrap();
    let answers = doc["profile_answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["segment"], "age");
    assert_eq!(answers[0]["value"], "45-54");
    assert_eq!(answers[0]["label"], "45–54");

    let r = app
        .post_form(
            "/settings",
            "/settings/delete",
            &[("password", PASSWORD), ("questions", "keep")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    assert_eq!(
        answers_stored(&app, uid).await,
        0,
        "deleted with the account"
    );
}

async fn admins_add_segments_others_cannot(b: Backend) {
    let app = TestApp::new(b).await;
    member(&app, "plain").await;
    let (s, _) = app.get("/admin/segments").await;
    assert_eq!(s, Status::Forbidden);
    let r = app
        .post_form(
            "/settings",
            "/admin/segments",
            &[
                ("key", "region"),
                ("label", "Region"),
                ("values", "n = North\ns = South"),
            ],
        )
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    drop(r);
    app.logout().await;

    crate::admin::login_admin(&app).await;
    let (s, page) = app.get("/admin/segments").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Age band") && page.contains("Country"));
    assert!(!page.contains("Region"), "the refused form stored nothing");
    let add = |values: &'static str, key: &'static str| {
        let app = &app;
        async move {
            app.post_form(
                "/admin/segments",
                "/admin/segments",
                &[("key", key), ("label", "Region"), ("values", values)],
            )
            .await
            .status()
        }
    };
    assert_eq!(add("north", "region").await, Status::UnprocessableEntity);
    assert_eq!(add("a\nb", "Not a key!").await, Status::UnprocessableEntity);
    assert_eq!(
        add("a\nb", "age").await,
        Status::UnprocessableEntity,
        "taken"
    );
    assert_eq!(
        add("north = North\nsouth = South", "region").await,
        Status::SeeOther
    );
    let (_, page) = app.get("/admin/segments").await;
    assert!(page.contains("<code>region</code>"));
    let (_, audit) = app.get("/admin/audit").await;
    assert!(audit.contains("add segment"));
    let (_, settings) = app.get("/settings").await;
    assert!(settings.contains("name=\"answers[region]\""));
    let qid = app.question(question("By region?")).await;
    let (s, doc) = breakdown(&app, qid, "region").await;
    assert_eq!(s, Status::Ok, "{doc}");
    assert_eq!(doc["values"].as_array().unwrap().len(), 0);
}

async fn the_demo_shows_a_breakdown(b: Backend) {
    let app = TestApp::new(b).await;
    let db = app.db.clone();
    rocket::tokio::task::spawn_blocking(move || beebeta::services::demo::seed_demo(&db))
        .await
        .unwrap()
        .unwrap();
    let qid: i64 = app
        .db
        .run(|c| {
            use beebeta::db::schema::questions as q;
            Ok(q::table
                .filter(q::title.eq("Tabs or spaces for indentation?"))
                .select(q::id)
                .first(c)?)
        })
        .await
        .unwrap();
    for by in ["age", "country"] {
        let (s, doc) = breakdown(&app, qid, by).await;
        assert_eq!(s, Status::Ok);
        let shown = values(&doc);
        assert!(shown.len() >= 2, "{by}: {doc}");
        assert!(shown.iter().all(|(_, n)| *n >= 5));
    }
    let (_, doc) = breakdown(&app, qid, "country").await;
    assert!(doc["not_shown"].as_i64().unwrap() > 0 || doc["other"].is_object());
    let path = app.path(qid).await;
    let (_, page) = app.get(&format!("{path}?by=age")).await;
    assert!(page.contains("Results by age band"));
}
