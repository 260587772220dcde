//! "Your data" (issue 19): the export holds exactly the member's rows and no secret; deleting an
//! account removes it and every way into it, keeps its ballots anonymised (the ledger's totals
//! before = after), keeps or deletes its questions, is refused with a wrong proof, without CSRF
//! and for the last admin, and is logged without personal data.

use diesel::prelude::*;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, question, totp_code};

backend_tests!(
    export_holds_exactly_the_members_rows,
    export_needs_a_login,
    deletion_keeps_ballots_anonymised_and_questions_as_deleted,
    deletion_can_delete_the_questions,
    wrong_proof_or_missing_csrf_deletes_nothing,
    same_email_signs_up_again_as_a_new_account,
    last_admin_cannot_delete_themselves,
    accounts_without_a_password_confirm_otherwise,
);

/// Signs `name` up (the tracked browser is then logged in as them), with a verified email.
async fn member(app: &TestApp, name: &str) -> i64 {
    let s = app
        .signup(name, &format!("{name}@example.com"), PASSWORD)
        .await;
    assert_eq!(s, Status::SeeOther, "{name} signs up");
    app.verify_email(name).await;
    app.user_id(name).await
}

/// Creates an API token as the logged-in member; returns it.
async fn token(app: &TestApp, name: &str) -> String {
    let r = app
        .post_form(
            "/settings",
            "/settings/tokens",
            &[("name", name), ("scope", "read"), ("scope", "vote")],
        )
        .await;
    assert_eq!(r.status(), Status::Created);
    let page = r.into_string().await.unwrap();
    let start = page.find("value=\"bb_").expect("the new token") + "value=\"".len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// Votes for the `n`th choice of `qid` as the tracked browser.
async fn vote(app: &TestApp, qid: i64, n: usize) {
    let c = app.choices(qid).await;
    let (s, _) = app
        .api_vote(qid, &format!("{{\"choices\":[{}]}}", c[n]))
        .await;
    assert!(s.class().is_success(), "vote on {qid}: {s}");
}

/// The export of the logged-in member, parsed, with the raw body.
async fn export(app: &TestApp) -> (serde_json::Value, String) {
    let r = app.client.get("/settings/export").dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.content_type(), Some(ContentType::JSON));
    assert_eq!(r.headers().get_one("Cache-Control"), Some("no-store"));
    let disposition = r
        .headers()
        .get_one("Content-Disposition")
        .unwrap()
        .to_string();
    let body = r.into_string().await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let name = doc["profile"]["username"].as_str().unwrap();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"beebeta-{name}-data.json\"")
    );
    (doc, body)
}

fn ids(v: &serde_json::Value, path: &[&str]) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| path.iter().fold(x, |x, p| &x[*p]).as_i64().unwrap())
        .collect();
    out.sort_unstable();
    out
}

/// The session cookie of the tracked browser.
fn session_cookie(app: &TestApp) -> String {
    app.client
        .cookies()
        .get("bb_session")
        .map(|c| c.value().to_string())
        .expect("logged in")
}

/// Rows of `table` whose user column is `uid`, for the tables tied to an account.
async fn rows_of(app: &TestApp, uid: i64) -> Vec<(&'static str, i64)> {
    app.db
        .run(move |c| {
            use beebeta::db::schema::*;
            let n = |r: QueryResult<i64>| r.unwrap();
            Ok(vec![
                (
                    "users",
                    n(users::table.filter(users::id.eq(uid)).count().get_result(c)),
                ),
                (
                    "sessions",
                    n(sessions::table
                        .filter(sessions::user_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
                (
                    "api_tokens",
                    n(api_tokens::table
                        .filter(api_tokens::user_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
                (
                    "identities",
                    n(identities::table
                        .filter(identities::user_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
                (
                    "email_tokens",
                    n(email_tokens::table
                        .filter(email_tokens::user_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
                (
                    "security_events",
                    n(security_events::table
                        .filter(security_events::user_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
                (
                    "recovery_codes",
                    n(recovery_codes::table
                        .filter(recovery_codes::user_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
                (
                    "ballots",
                    n(ballots::table
                        .filter(
                            ballots::user_id
                                .eq(uid)
                                .or(ballots::voter.eq(format!("u:{uid}"))),
                        )
                        .count()
                        .get_result(c)),
                ),
                (
                    "questions",
                    n(questions::table
                        .filter(questions::author_id.eq(uid))
                        .count()
                        .get_result(c)),
                ),
            ])
        })
        .await
        .unwrap()
}

fn none_left(rows: &[(&'static str, i64)]) {
    for (table, n) in rows {
        assert_eq!(*n, 0, "no {table} row of the deleted account");
    }
}

/// The audit log: (actor, action, target kind, target id, reason).
async fn audit(app: &TestApp) -> Vec<(Option<i64>, String, String, i64, String)> {
    app.db
        .run(|c| {
            use beebeta::db::schema::audit_log as a;
            Ok(a::table
                .order(a::id.asc())
                .select((
                    a::actor_id,
                    a::action,
                    a::target_kind,
                    a::target_id,
                    a::reason,
                ))
                .load(c)?)
        })
        .await
        .unwrap()
}

async fn delete<'a>(app: &'a TestApp, fields: &[(&str, &str)]) -> LocalResponse<'a> {
    app.post_form("/settings", "/settings/delete", fields).await
}

async fn export_holds_exactly_the_members_rows(b: Backend) {
    let app = TestApp::new(b).await;
    let shared = app
        .question(question("Shared question?").tags(&["shared"]))
        .await;

    let alice = member(&app, "alice").await;
    let qa = app
        .question(
            question("Alice asks?")
                .choices(&["Yes", "No"])
                .tags(&["mine"]),
        )
        .await;
    app.set_author(qa, alice).await;
    vote(&app, shared, 0).await;
    vote(&app, qa, 1).await;
    let alice_token = token(&app, "alice script").await;
    app.logout().await;

    let bob = member(&app, "bob").await;
    let qb = app.question(question("Bob asks something?")).await;
    app.set_author(qb, bob).await;
    vote(&app, shared, 1).await;
    vote(&app, qa, 0).await;
    let bob_token = token(&app, "bob script").await;
    let qa_path = app.path(qa).await;
    let r = app
        .post_form(
            &qa_path,
            &format!("/q/{qa}/flag"),
            &[("reason", "misleading"), ("details", "bob thinks so")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);

    let (doc, body) = export(&app).await;
    assert_eq!(doc["flags"].as_array().unwrap().len(), 1, "bob's flag");
    assert_eq!(doc["flags"][0]["question_id"], qa);
    assert_eq!(doc["flags"][0]["reason"], "misleading");
    assert_eq!(doc["flags"][0]["details"], "bob thinks so");
    assert_eq!(doc["format"], "beebeta-member-data/1");
    assert_eq!(doc["profile"]["username"], "bob");
    assert_eq!(doc["profile"]["email"], "bob@example.com");
    assert_eq!(doc["profile"]["email_verified"], true);
    assert_eq!(doc["profile"]["two_factor"], false);
    assert_eq!(ids(&doc["questions"], &["id"]), vec![qb]);
    assert_eq!(ids(&doc["ballots"], &["question", "id"]), {
        let mut v = vec![shared, qa];
        v.sort_unstable();
        v
    });
    let on_qa = doc["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["question"]["id"] == qa)
        .unwrap();
    assert_eq!(on_qa["question"]["title"], "Alice asks?");
    assert_eq!(on_qa["choices"], serde_json::json!(["Yes"]));
    assert_eq!(doc["api_tokens"].as_array().unwrap().len(), 1);
    assert_eq!(doc["api_tokens"][0]["name"], "bob script");
    assert!(!doc["sessions"].as_array().unwrap().is_empty());
    assert!(!doc["security_events"].as_array().unwrap().is_empty());
    // Alice's question (title, address) is in bob's ballot; nothing else of hers.
    for hers in ["\"alice\"", "alice@example.com", "alice script"] {
        assert!(
            !body.contains(hers),
            "nothing of alice's in bob's export: {hers}"
        );
    }
    for secret in [
        &alice_token,
        &bob_token,
        "$argon2",
        "token_hash",
        "password_hash",
        "totp_secret",
        "code_hash",
    ] {
        assert!(!body.contains(secret), "no secret in the export: {secret}");
    }

    app.logout().await;
    let r = app.login_as("alice", PASSWORD, "").await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (doc, body) = export(&app).await;
    assert_eq!(doc["profile"]["username"], "alice");
    let q = &doc["questions"][0];
    assert_eq!(ids(&doc["questions"], &["id"]), vec![qa]);
    assert_eq!(q["title"], "Alice asks?");
    assert_eq!(q["status"], "open");
    assert_eq!(q["tags"], serde_json::json!(["mine"]));
    assert_eq!(q["choices"][1]["label"], "No");
    assert_eq!(q["ballots"], 2);
    assert_eq!(ids(&doc["ballots"], &["question", "id"]).len(), 2);
    assert_eq!(
        doc["flags"],
        serde_json::json!([]),
        "bob's flag is not alice's"
    );
    assert!(!body.contains("bob"), "nothing of bob's");
    assert!(!body.contains(&alice_token));
}

async fn export_needs_a_login(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/settings/export").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert!(
        r.headers()
            .get_one("Location")
            .unwrap()
            .starts_with("/login")
    );
    let r = app
        .client
        .get("/settings/export")
        .header(Header::new("Authorization", "Bearer bb_forged"))
        .dispatch()
        .await;
    assert_ne!(r.status(), Status::Ok, "a token is no browser session");
}

/// Alice (who asks `qa`) and visitors vote; returns (alice's id, qa, others' question, alice's
/// token, alice's session cookie). The browser stays logged in as alice.
async fn alice_with_votes(app: &TestApp) -> (i64, i64, i64, String, String) {
    let other = app
        .question(question("Other question?").choices(&["A", "B", "C"]))
        .await;
    let visitor = app.sibling(|f| f).await;
    vote(&visitor, other, 2).await;
    drop(visitor);
    let alice = member(app, "alice").await;
    let qa = app
        .question(
            question("Alice asks?")
                .choices(&["Yes", "No"])
                .tags(&["mine"]),
        )
        .await;
    app.set_author(qa, alice).await;
    vote(app, other, 0).await;
    vote(app, qa, 0).await;
    let tok = token(app, "alice script").await;
    app.logout().await;
    member(app, "carol").await;
    vote(app, other, 0).await;
    vote(app, qa, 1).await;
    app.logout().await;
    let r = app.login_as("alice", PASSWORD, "").await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    (alice, qa, other, tok, session_cookie(app))
}

async fn assert_old_access_refused(app: &TestApp, cookie: String, tok: &str, qid: i64) {
    let r = app
        .client
        .get("/settings")
        .cookie(Cookie::new("bb_session", cookie))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther, "the old session is gone");
    let r = app
        .client
        .get(format!("/api/v1/questions/{qid}"))
        .header(Header::new("Authorization", format!("Bearer {tok}")))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Unauthorized, "the API token is refused");
}

async fn deletion_keeps_ballots_anonymised_and_questions_as_deleted(b: Backend) {
    let app = TestApp::new(b).await;
    let (alice, qa, other, tok, cookie) = alice_with_votes(&app).await;
    let before = (app.ledger(other).await, app.ledger(qa).await);
    assert_eq!(before.0.0, 3);
    let other_path = app.path(other).await;
    let r = app
        .post_form(
            &other_path,
            &format!("/q/{other}/flag"),
            &[("reason", "other"), ("details", "alice wrote this")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    // Seen (and cached) with its author before.
    let (_, page) = app.get(&app.path(qa).await).await;
    assert!(page.contains("@alice"));
    let (_, list) = app.get("/new").await;
    assert!(list.contains("@alice"));

    let r = delete(&app, &[("password", PASSWORD), ("questions", "keep")]).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/"));
    let cleared = r
        .headers()
        .get("Set-Cookie")
        .any(|c| c.starts_with("bb_session=;"));
    assert!(cleared, "the session cookie is cleared");
    drop(r);

    let after = (app.ledger(other).await, app.ledger(qa).await);
    assert_eq!(before, after, "every count and total is what it was");
    none_left(&rows_of(&app, alice).await);
    let voters: Vec<(String, Option<i64>, Option<String>, String)> = app
        .db
        .run(move |c| {
            use beebeta::db::schema::ballots;
            Ok(ballots::table
                .filter(ballots::voter.like("d:%"))
                .select((
                    ballots::voter,
                    ballots::user_id,
                    ballots::ip_hash,
                    ballots::trust,
                ))
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(voters.len(), 2, "alice's two ballots stay, anonymised");
    let flags: Vec<(String, Option<i64>, String, Option<String>)> = app
        .db
        .run(move |c| {
            use beebeta::db::schema::flags;
            Ok(flags::table
                .filter(flags::question_id.eq(other))
                .select((flags::voter, flags::user_id, flags::reason, flags::details))
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(flags.len(), 1, "the flag still counts in the queue");
    let (voter, user, reason, details) = &flags[0];
    assert!(voter.starts_with("d:"), "{voter}");
    assert_eq!((user, reason.as_str(), details), (&None, "other", &None));
    for (_, user, network, trust) in &voters {
        assert_eq!((user, network), (&None, &None));
        assert_eq!(trust, "verified", "the trust level stays");
    }

    let (s, page) = app.get(&app.path(qa).await).await;
    assert_eq!(s, Status::Ok, "the question stays");
    assert!(page.contains("[deleted]"), "shown as by [deleted]");
    assert!(!page.contains("@alice"));
    let (_, list) = app.get("/new").await;
    assert!(list.contains("Alice asks?") && list.contains("[deleted]"));
    assert!(!list.contains("@alice"));
    let (s, _) = app.get("/u/alice").await;
    assert_eq!(s, Status::NotFound);

    assert_old_access_refused(&app, cookie, &tok, other).await;

    let log = audit(&app).await;
    assert_eq!(log.len(), 1);
    let (actor, action, kind, target, reason) = &log[0];
    assert_eq!(
        (actor, action.as_str(), kind.as_str()),
        (&None, "delete_account", "account")
    );
    assert_ne!(*target, alice, "an opaque reference, not the account's id");
    assert!(
        reason.contains("1 kept")
            && reason.contains("ballots anonymised: 2")
            && reason.contains("flags anonymised: 1"),
        "{reason}"
    );
    for personal in ["alice", "example.com", "Alice asks"] {
        assert!(!reason.contains(personal), "{reason}");
    }
}

async fn deletion_can_delete_the_questions(b: Backend) {
    let app = TestApp::new(b).await;
    let (alice, qa, other, tok, cookie) = alice_with_votes(&app).await;
    let before = app.ledger(other).await;
    let path = app.path(qa).await;
    let (_, tag_page) = app.get("/t/mine").await;
    assert!(tag_page.contains("Alice asks?"));

    let r = delete(&app, &[("password", PASSWORD), ("questions", "delete")]).await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);

    assert_eq!(app.ledger(other).await, before, "others' results unchanged");
    none_left(&rows_of(&app, alice).await);
    let (s, _) = app.get(&path).await;
    assert_eq!(s, Status::NotFound, "the question is gone");
    let (_, list) = app.get("/new").await;
    assert!(!list.contains("Alice asks?"));
    let count: i64 = app
        .db
        .run(|c| {
            use beebeta::db::schema::tags;
            Ok(tags::table
                .filter(tags::name.eq("mine"))
                .select(tags::question_count)
                .first(c)?)
        })
        .await
        .unwrap();
    assert_eq!(count, 0, "the tag no longer counts it");
    assert_old_access_refused(&app, cookie, &tok, other).await;
    let log = audit(&app).await;
    assert!(log[0].4.contains("0 kept, 1 deleted"), "{}", log[0].4);
}

async fn wrong_proof_or_missing_csrf_deletes_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let (alice, _, _, _, _) = alice_with_votes(&app).await;
    let before = rows_of(&app, alice).await;

    let r = delete(
        &app,
        &[("password", "not the password"), ("questions", "keep")],
    )
    .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let page = r.into_string().await.unwrap();
    assert!(page.contains("The password is wrong"));
    assert!(
        page.contains("action=\"/settings/delete\""),
        "the form again"
    );

    let r = delete(&app, &[("questions", "keep")]).await;
    assert_eq!(r.status(), Status::UnprocessableEntity, "no password");
    drop(r);
    let r = delete(&app, &[("password", PASSWORD), ("questions", "everything")]).await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "keep or delete only"
    );
    drop(r);

    let r = app
        .client
        .post("/settings/delete")
        .header(ContentType::Form)
        .body(crate::helpers::form_body(&[
            ("password", PASSWORD),
            ("questions", "keep"),
        ]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden, "no CSRF token");
    drop(r);
    let r = app
        .client
        .post("/settings/delete")
        .header(ContentType::Form)
        .body(crate::helpers::form_body(&[
            ("csrf_token", "forged"),
            ("password", PASSWORD),
            ("questions", "keep"),
        ]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden, "a wrong CSRF token");
    drop(r);

    assert_eq!(rows_of(&app, alice).await, before, "nothing was deleted");
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::Ok, "still logged in");
    assert!(audit(&app).await.is_empty());
}

async fn same_email_signs_up_again_as_a_new_account(b: Backend) {
    let app = TestApp::new(b).await;
    let (alice, _, other, _, _) = alice_with_votes(&app).await;
    let r = delete(&app, &[("password", PASSWORD), ("questions", "keep")]).await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let before = app.ledger(other).await;

    // The username is free again, and the address too.
    let again = member(&app, "alice").await;
    assert_ne!(again, alice, "a new account");
    let (doc, _) = export(&app).await;
    assert_eq!(doc["profile"]["email"], "alice@example.com");
    assert!(
        doc["ballots"].as_array().unwrap().is_empty(),
        "none of the old ballots"
    );
    assert!(doc["questions"].as_array().unwrap().is_empty());
    // It may vote again on the question its old account voted on: that is a new voter.
    vote(&app, other, 1).await;
    assert_eq!(app.ledger(other).await.0, before.0 + 1);
}

async fn last_admin_cannot_delete_themselves(b: Backend) {
    let app = TestApp::new(b).await;
    let uri = crate::admin::login_admin(&app).await;
    let boss = app.user_id("boss").await;
    let admin_pass = "a long admin passphrase";
    let r = delete(&app, &[("password", admin_pass), ("questions", "keep")]).await;
    assert_eq!(r.status(), Status::Conflict);
    assert!(r.into_string().await.unwrap().contains("only admin"));
    assert_eq!(rows_of(&app, boss).await[0], ("users", 1), "still there");

    // With a second admin, the first may go; their moderation entries stay, without an actor.
    let qid = app.question(question("Moderated question?")).await;
    let status = crate::admin::moderate(
        &app,
        "/admin/questions",
        &format!("/admin/questions/{qid}/hide"),
        &[("reason", "spam")],
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    app.create_admin("deputy", "deputy@example.com", "another admin passphrase")
        .await
        .unwrap();
    let _ = uri;
    let r = delete(&app, &[("password", admin_pass), ("questions", "keep")]).await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    none_left(&rows_of(&app, boss).await);
    let log = audit(&app).await;
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].0, log[0].1.as_str()), (None, "hide_question"));
    assert_eq!(log[1].1, "delete_account");
}

async fn accounts_without_a_password_confirm_otherwise(b: Backend) {
    let app = TestApp::new(b).await;
    // A provider-only account (no password) without two-factor: a recent login, then the
    // confirmation page.
    let dora = member(&app, "dora").await;
    let drop_password = |uid: i64| {
        app.db.write(move |c| {
            use beebeta::db::schema::users;
            diesel::update(users::table.find(uid))
                .set(users::password_hash.eq(None::<String>))
                .execute(c)?;
            Ok(())
        })
    };
    drop_password(dora).await.unwrap();
    let r = delete(&app, &[("questions", "keep")]).await;
    assert_eq!(r.status(), Status::Ok, "the confirmation page");
    let page = r.into_string().await.unwrap();
    assert!(page.contains("Delete your account?") && page.contains("name=\"confirm\""));
    assert_eq!(rows_of(&app, dora).await[0], ("users", 1));
    // A stale login must be confirmed first.
    app.db
        .write(move |c| {
            use beebeta::db::schema::sessions;
            let old = beebeta::models::now() - chrono::Duration::hours(1);
            diesel::update(sessions::table.filter(sessions::user_id.eq(dora)))
                .set((
                    sessions::authenticated_at.eq(Some(old)),
                    sessions::created_at.eq(old),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let r = delete(&app, &[("questions", "keep"), ("confirm", "yes")]).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert!(
        r.headers()
            .get_one("Location")
            .unwrap()
            .starts_with("/confirm?next=")
    );
    drop(r);
    assert_eq!(rows_of(&app, dora).await[0], ("users", 1), "not deleted");
    app.db
        .write(move |c| {
            use beebeta::db::schema::sessions;
            diesel::update(sessions::table.filter(sessions::user_id.eq(dora)))
                .set(sessions::authenticated_at.eq(Some(beebeta::models::now())))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let r = delete(&app, &[("questions", "keep"), ("confirm", "yes")]).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/"));
    drop(r);
    none_left(&rows_of(&app, dora).await);

    // No password but two-factor: a code of the authenticator app.
    let eve = member(&app, "eve").await;
    drop_password(eve).await.unwrap();
    let keys = app.state().keys.clone();
    let uri = app
        .db
        .write(move |c| {
            Ok(
                beebeta::services::two_factor::enrol_now(c, &keys, eve, "eve")?
                    .expect("enrolled")
                    .0,
            )
        })
        .await
        .unwrap();
    let real: u32 = totp_code(&uri, 0).parse().unwrap();
    let wrong = format!("{:06}", (real + 500_000) % 1_000_000);
    let r = delete(&app, &[("questions", "delete"), ("code", &wrong)]).await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    assert!(r.into_string().await.unwrap().contains("code is not right"));
    assert_eq!(rows_of(&app, eve).await[0], ("users", 1));
    let r = delete(
        &app,
        &[("questions", "delete"), ("code", &totp_code(&uri, 0))],
    )
    .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    none_left(&rows_of(&app, eve).await);
}
