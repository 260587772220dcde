//! Moderation: hide/unhide, ban/unban, the audit log, CSRF, reasons and unknown targets.

use rocket::http::{ContentType, Cookie, Status};

use super::{audit_actions, login_admin, login_admin_again, moderate};
use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, form_body, question};

backend_tests!(
    hiding_a_question_removes_it_everywhere_until_unhidden,
    banning_ends_sessions_and_blocks_login_and_votes,
    moderation_needs_csrf_a_reason_and_a_known_target,
);

async fn hiding_a_question_removes_it_everywhere_until_unhidden(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app
        .question(question("Is this spam?").tags(&["spammy"]))
        .await;
    let other = app
        .question(question("A fine question?").tags(&["spammy"]))
        .await;
    let path = app.path(qid).await;
    let count = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let n = beebeta::domain::TagName::parse("spammy").unwrap();
            db.run(move |c| Ok(beebeta::models::tag::find(c, &n)?.unwrap().question_count))
                .await
                .unwrap()
        }
    };
    assert_eq!(count(&app).await, 2);
    let (_, page) = app.get(&path).await;
    assert!(page.contains("Is this spam?"));
    let uri = login_admin(&app).await;
    let (_, home) = app.get("/new").await;
    assert!(home.contains("Is this spam?"));

    let s = moderate(
        &app,
        "/admin/questions",
        &format!("/admin/questions/{qid}/hide"),
        &[("reason", "spam, obviously")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    let (_, list) = app.get("/admin/questions").await;
    assert!(
        list.contains("“Is this spam?” is hidden."),
        "the flash names the question"
    );
    for page in ["/new", "/", "/t/spammy", "/search?q=spam"] {
        let (_, body) = app.get(page).await;
        assert!(!body.contains("Is this spam?"), "{page}");
    }
    let (_, tag_page) = app.get("/t/spammy").await;
    assert!(tag_page.contains("A fine question?"));
    assert_eq!(count(&app).await, 1, "tag counts count visible questions");
    assert_eq!(app.get(&path).await.0, Status::NotFound);
    assert_eq!(
        app.get(&format!("/api/v1/questions/{qid}")).await.0,
        Status::NotFound
    );
    assert_eq!(
        app.get(&format!("/api/v1/questions/{other}")).await.0,
        Status::Ok
    );
    // Anonymous visitors, who get shared cached pages, see the 404 too.
    app.logout().await;
    assert_eq!(app.get(&path).await.0, Status::NotFound);
    login_admin_again(&app, &uri).await;
    // Hiding twice changes nothing and records nothing.
    moderate(
        &app,
        "/admin/questions",
        &format!("/admin/questions/{qid}/hide"),
        &[("reason", "again")],
    )
    .await;
    let s = moderate(
        &app,
        "/admin/questions",
        &format!("/admin/questions/{qid}/unhide"),
        &[("reason", "appeal accepted")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    assert_eq!(app.get(&path).await.0, Status::Ok);
    let (_, home) = app.get("/new").await;
    assert!(home.contains("Is this spam?"));
    assert_eq!(count(&app).await, 2);
    let log = audit_actions(&app).await;
    assert_eq!(
        log,
        [
            (
                "hide_question".to_string(),
                "question".to_string(),
                qid,
                "spam, obviously".to_string()
            ),
            (
                "unhide_question".into(),
                "question".into(),
                qid,
                "appeal accepted".into()
            ),
        ]
    );
    let (_, audit) = app.get("/admin/audit").await;
    assert!(
        audit.contains("@boss")
            && audit.contains("hide question")
            && audit.contains("spam, obviously")
    );
}

async fn banning_ends_sessions_and_blocks_login_and_votes(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("mallory", "mallory@example.com", PASSWORD).await;
    let uid = app.user_id("mallory").await;
    let mine = app.question(question("Mallory's question?")).await;
    let target = app
        .question(question("Members only?").protection("account"))
        .await;
    app.set_author(mine, uid).await;
    let session = app
        .client
        .cookies()
        .get("bb_session")
        .unwrap()
        .value()
        .to_string();
    let token = app.csrf_from_page(target).await;
    let choice = app.choices(target).await[0];
    // Another admin session in the same browser; Mallory's session stays valid until the ban.
    let uri = login_admin(&app).await;
    let s = moderate(
        &app,
        "/admin/users",
        &format!("/admin/users/{uid}/ban"),
        &[("reason", "vote brigading"), ("hide_questions", "true")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    let (_, users) = app.get("/admin/users").await;
    assert!(
        users.contains("is banned and logged out everywhere. 1 of their questions were hidden.")
    );
    let sessions: i64 = app
        .db
        .run(move |c| {
            use beebeta::db::schema::sessions as s;
            use diesel::prelude::*;
            Ok(s::table.filter(s::user_id.eq(uid)).count().get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the ban ended her sessions");
    assert_eq!(app.get(&app.path(target).await).await.0, Status::Ok);
    let (_, home) = app.get("/new").await;
    assert!(!home.contains("Mallory&#x27;s question?") && !home.contains("Mallory's question?"));
    // Her old cookie no longer logs her in, and her vote is not counted.
    let r = app
        .client
        .get("/settings")
        .cookie(Cookie::new("bb_session", session.clone()))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let r = app
        .client
        .post(format!("/q/{target}/vote"))
        .cookie(Cookie::new("bb_session", session))
        .header(ContentType::Form)
        .body(format!("csrf_token={token}&choice={choice}"))
        .dispatch()
        .await;
    assert!(r.status().code >= 400, "refused: {}", r.status());
    assert_eq!(app.ledger(target).await.0, 0, "no ballot");
    app.logout().await;
    let r = app.login_as("mallory", PASSWORD, "/").await;
    assert_ne!(r.status(), Status::SeeOther, "a banned user cannot log in");
    // Admins cannot be banned; unbanning lets her back in.
    login_admin_again(&app, &uri).await;
    let boss = app.user_id("boss").await;
    let s = moderate(
        &app,
        "/admin/users",
        &format!("/admin/users/{boss}/ban"),
        &[("reason", "x")],
    )
    .await;
    assert_eq!(s, Status::Conflict);
    let s = moderate(
        &app,
        "/admin/users",
        &format!("/admin/users/{uid}/unban"),
        &[("reason", "served")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    let actions: Vec<(String, i64)> = audit_actions(&app)
        .await
        .into_iter()
        .map(|(a, _, id, _)| (a, id))
        .collect();
    assert_eq!(
        actions,
        [
            ("ban_user".to_string(), uid),
            ("hide_question".into(), mine),
            ("unban_user".into(), uid)
        ]
    );
    app.logout().await;
    let r = app.login_as("mallory", PASSWORD, "/").await;
    assert_eq!(r.status(), Status::SeeOther, "unbanned");
}

async fn moderation_needs_csrf_a_reason_and_a_known_target(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Protected question?")).await;
    login_admin(&app).await;
    let r = app
        .client
        .post(format!("/admin/questions/{qid}/hide"))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", "forged"), ("reason", "x")]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    let (s, body) = (r.status(), r.into_string().await.unwrap());
    assert_eq!(s, Status::Forbidden);
    assert!(body.contains("did not come from this site"));
    let (s, body) = {
        let r = app
            .post_form(
                "/admin/questions",
                &format!("/admin/questions/{qid}/hide"),
                &[("reason", "  ")],
            )
            .await;
        (r.status(), r.into_string().await.unwrap())
    };
    assert_eq!(s, Status::BadRequest);
    assert!(body.contains("Say why"));
    let s = moderate(
        &app,
        "/admin/questions",
        &format!("/admin/questions/{qid}/hide"),
        &[],
    )
    .await;
    assert_eq!(s, Status::BadRequest, "no reason field");
    assert_eq!(
        app.get(&app.path(qid).await).await.0,
        Status::Ok,
        "still visible"
    );
    for action in [
        "/admin/questions/999999/hide",
        "/admin/questions/0/unhide",
        "/admin/questions/abc/hide",
        "/admin/users/999999/ban",
        "/admin/users/999999/unban",
    ] {
        let s = moderate(&app, "/admin/questions", action, &[("reason", "r")]).await;
        assert_eq!(s, Status::NotFound, "{action}");
    }
    assert!(audit_actions(&app).await.is_empty());
}
