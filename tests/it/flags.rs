//! Flagging (issue 19, point 2): the form and the API thank the flagger and store one flag per
//! voter; bad input, a missing CSRF token and the rate limit store nothing; the admin queue's
//! order, contents and actions (dismiss here, hide and ban through moderation, all audited);
//! hiding pending review from distinct verified accounts only; analytics; the demo's flags.

use rocket::http::{ContentType, Status};

use crate::admin::{login_admin, login_admin_again, moderate};
use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, json_of, question};

backend_tests!(
    form_and_api_flags_thank_and_store_once_per_voter,
    bad_flags_and_missing_tokens_store_nothing,
    flags_are_rate_limited_per_client,
    admin_queue_orders_and_acts_through_moderation,
    verified_accounts_hide_a_question_pending_review,
    flags_reach_the_analytics_sinks,
    the_demo_has_flags,
);

const THANKS: &str = "Thank you for the report";

/// The queue's mark on a question hidden pending review.
const PENDING: &str = "<span class=\"badge badge-warn\">hidden pending review</span>";

/// The flags stored: (question, voter, user id, reason, details, resolution).
type FlagRow = (
    i64,
    String,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
);

async fn flags(app: &TestApp) -> Vec<FlagRow> {
    app.db
        .run(|c| {
            use beebeta::db::schema::flags as f;
            use diesel::prelude::*;
            Ok(f::table
                .order(f::id.asc())
                .select((
                    f::question_id,
                    f::voter,
                    f::user_id,
                    f::reason,
                    f::details,
                    f::resolution,
                ))
                .load(c)?)
        })
        .await
        .unwrap()
}

/// The audit log: (actor, action, target, reason).
async fn audit(app: &TestApp) -> Vec<(Option<i64>, String, i64, String)> {
    app.db
        .run(|c| {
            use beebeta::db::schema::audit_log as a;
            use diesel::prelude::*;
            Ok(a::table
                .order(a::id.asc())
                .select((a::actor_id, a::action, a::target_id, a::reason))
                .load(c)?)
        })
        .await
        .unwrap()
}

/// Flags `qid` through the API as a new anonymous voter from `addr`: status and body.
async fn api_flag(app: &TestApp, qid: i64, body: &str, addr: &str) -> (Status, serde_json::Value) {
    let r = app
        .client
        .post(format!("/api/v1/questions/{qid}/flags"))
        .header(ContentType::JSON)
        .remote(format!("{addr}:4000").parse().unwrap())
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(body)
        .dispatch()
        .await;
    json_of(r).await
}

/// Flags `qid` with the question page's form as the tracked browser: status and `Location`.
async fn form_flag(app: &TestApp, qid: i64, fields: &[(&str, &str)]) -> (Status, Option<String>) {
    let path = app.path(qid).await;
    let r = app
        .post_form(&path, &format!("/q/{qid}/flag"), fields)
        .await;
    let to = r.headers().get_one("Location").map(str::to_string);
    (r.status(), to)
}

async fn form_and_api_flags_thank_and_store_once_per_voter(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Is this a fair question?")).await;
    let path = app.path(qid).await;
    let (_, page) = app.get(&path).await;
    assert!(page.contains("<summary>Flag this question</summary>"));
    assert!(page.contains(&format!("action=\"/q/{qid}/flag\"")));
    for reason in ["spam", "abuse", "misleading", "duplicate", "other"] {
        assert!(page.contains(&format!("name=\"reason\" value=\"{reason}\"")));
    }
    assert!(page.contains("<label for=\"flag-details\">"));
    let (_, embed) = app.get(&format!("/q/{qid}/embed")).await;
    assert!(!embed.contains("Flag this question"), "not on the embed");

    let (s, to) = form_flag(&app, qid, &[("reason", "spam"), ("details", "")]).await;
    assert_eq!((s, to.as_deref()), (Status::SeeOther, Some(path.as_str())));
    let (_, page) = app.get(&path).await;
    assert!(page.contains(THANKS), "the flash thanks the flagger");
    assert!(!page.contains("1 flag"), "and says nothing of other flags");
    // A second flag by the same voter: the same thanks, nothing new stored.
    let (s, _) = form_flag(&app, qid, &[("reason", "abuse"), ("details", "rude")]).await;
    assert_eq!(s, Status::SeeOther);
    let (_, page) = app.get(&path).await;
    assert!(page.contains(THANKS));
    let rows = flags(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].0,
            rows[0].3.as_str(),
            rows[0].4.as_deref(),
            rows[0].5.as_deref()
        ),
        (qid, "spam", None, None),
        "the first flag stands"
    );
    assert!(
        rows[0].1.starts_with("c:"),
        "an anonymous voter's cookie key"
    );

    // The API, as another voter: 202 and a thank-you only.
    let body = r#"{"reason": "other", "details": "Asked yesterday too."}"#;
    let (s, json) = api_flag(&app, qid, body, "10.0.0.1").await;
    assert_eq!(s, Status::Accepted);
    assert!(json["message"].as_str().unwrap().starts_with(THANKS));
    assert_eq!(
        json.as_object().unwrap().len(),
        1,
        "nothing but the thanks: {json}"
    );
    let rows = flags(&app).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[1].3.as_str(), rows[1].4.as_deref()),
        ("other", Some("Asked yesterday too."))
    );
    // A signed-in account flags under its account.
    app.signup("flora", "flora@example.com", PASSWORD).await;
    let uid = app.user_id("flora").await;
    let (s, _) = form_flag(&app, qid, &[("reason", "duplicate")]).await;
    assert_eq!(s, Status::SeeOther);
    let (s, _) = form_flag(&app, qid, &[("reason", "misleading")]).await;
    assert_eq!(s, Status::SeeOther, "again: thanked");
    let rows = flags(&app).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[2].1.clone(), rows[2].2),
        (format!("u:{uid}"), Some(uid))
    );
    // The OpenAPI document lists the endpoint.
    let (_, doc) = app.get("/api/v1/openapi.json").await;
    assert!(doc.contains("/api/v1/questions/{id}/flags"));
}

async fn bad_flags_and_missing_tokens_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let qid = app.question(question("Flag me badly?")).await;
    let long = "x".repeat(501);
    for fields in [
        vec![("reason", "rude")],
        vec![],
        vec![("reason", "other")],
        vec![("reason", "other"), ("details", "   ")],
        vec![("reason", "spam"), ("details", long.as_str())],
    ] {
        let (s, _) = form_flag(&app, qid, &fields).await;
        assert_eq!(s, Status::UnprocessableEntity, "{fields:?}");
    }
    let path = app.path(qid).await;
    let r = app
        .post_form(&path, &format!("/q/{qid}/flag"), &[("reason", "rude")])
        .await;
    let page = r.into_string().await.unwrap();
    assert!(page.contains("Choose why you are flagging"), "a clear page");

    for (body, code) in [
        (r#"{"reason": "rude"}"#, "reason"),
        (r#"{"reason": "other"}"#, "details"),
        (
            &*format!(r#"{{"reason": "abuse", "details": "{long}"}}"#),
            "details",
        ),
    ] {
        let (s, json) = api_flag(&app, qid, body, "10.0.0.2").await;
        assert_eq!(s, Status::UnprocessableEntity, "{body}");
        assert!(json["error"]["fields"][code].is_string(), "{json}");
    }
    let (s, json) = api_flag(&app, qid, r#"{"details": "x"}"#, "10.0.0.2").await;
    assert_eq!(s, Status::UnprocessableEntity, "no reason: {json}");
    let r = app
        .client
        .post(format!("/api/v1/questions/{qid}/flags"))
        .header(ContentType::Form)
        .body("reason=spam")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::UnsupportedMediaType);

    // Unknown and hidden questions are 404s.
    let (s, _) = api_flag(&app, 999_999, r#"{"reason": "spam"}"#, "10.0.0.2").await;
    assert_eq!(s, Status::NotFound);
    let (s, _) = app.get("/q/abc/flag").await;
    assert!(
        s == Status::NotFound || s == Status::MethodNotAllowed,
        "{s}"
    );

    // The form without a token, or with another visitor's, is refused.
    let r = app
        .client
        .post(format!("/q/{qid}/flag"))
        .header(ContentType::Form)
        .body("reason=spam")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    let other = app.csrf_for(&uuid::Uuid::new_v4().to_string());
    let r = app
        .client
        .post(format!("/q/{qid}/flag"))
        .header(ContentType::Form)
        .body(format!("reason=spam&csrf_token={other}"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    assert!(flags(&app).await.is_empty(), "nothing stored on refusal");
}

async fn flags_are_rate_limited_per_client(b: Backend) {
    let app = TestApp::with(b, |f| {
        f.merge(("limits", "on")).merge(("limits_flag", "2/minute"))
    })
    .await;
    let a = app.question(question("First to flag?")).await;
    let c = app.question(question("Second to flag?")).await;
    let spam = r#"{"reason": "spam"}"#;
    assert_eq!(
        api_flag(&app, a, spam, "10.1.0.1").await.0,
        Status::Accepted
    );
    assert_eq!(
        api_flag(&app, c, spam, "10.1.0.1").await.0,
        Status::Accepted
    );
    let r = app
        .client
        .post(format!("/api/v1/questions/{a}/flags"))
        .header(ContentType::JSON)
        .remote("10.1.0.1:4000".parse().unwrap())
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(spam)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::TooManyRequests);
    assert!(r.headers().get_one("Retry-After").is_some());
    // Another client is not held back.
    assert_eq!(
        api_flag(&app, a, spam, "10.1.0.2").await.0,
        Status::Accepted
    );
    assert_eq!(
        flags(&app).await.len(),
        3,
        "the refused flag was not stored"
    );
}

async fn admin_queue_orders_and_acts_through_moderation(b: Backend) {
    let app = TestApp::new(b).await;
    let one = app.question(question("Flagged once?")).await;
    let older = app.question(question("Flagged thrice early?")).await;
    let newer = app.question(question("Flagged thrice late?")).await;
    let clean = app.question(question("Never flagged?")).await;
    app.signup("mallory", "mallory@example.com", PASSWORD).await;
    let mallory = app.user_id("mallory").await;
    app.set_author(newer, mallory).await;
    app.logout().await;

    let spam = r#"{"reason": "spam"}"#;
    let script = r#"{"reason": "other", "details": "<script>alert(1)</script> fake"}"#;
    api_flag(&app, one, r#"{"reason": "duplicate"}"#, "10.2.0.1").await;
    for body in [spam, spam, script] {
        assert_eq!(
            api_flag(&app, older, body, "10.2.0.2").await.0,
            Status::Accepted
        );
    }
    for body in [spam, r#"{"reason": "abuse"}"#, spam] {
        assert_eq!(
            api_flag(&app, newer, body, "10.2.0.3").await.0,
            Status::Accepted
        );
    }

    // Visitors and members may not see the queue.
    let r = app.client.get("/admin/flags").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther, "anonymous: to log in");
    drop(r);
    app.login_as("mallory", PASSWORD, "/").await;
    assert_eq!(app.get("/admin/flags").await.0, Status::Forbidden);
    let r = app
        .post_form(
            "/",
            &format!("/admin/flags/{one}/dismiss"),
            &[("reason", "x")],
        )
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    drop(r);
    app.logout().await;

    login_admin(&app).await;
    let admin = app.user_id("boss").await;
    let (s, page) = app.get("/admin/flags").await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("aria-current=\"page\">Flags</a>"),
        "in the admin nav"
    );
    let at = |t: &str| page.find(t).unwrap_or_else(|| panic!("{t} listed"));
    assert!(at("Flagged thrice late?") < at("Flagged thrice early?"));
    assert!(at("Flagged thrice early?") < at("Flagged once?"));
    assert!(!page.contains("Never flagged?"));
    assert!(page.contains("spam: 2") && page.contains("abuse: 1"));
    assert!(page.contains("other: 1") && page.contains("duplicate: 1"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; fake"));
    assert!(!page.contains("<script>alert(1)"), "details are escaped");
    let _ = clean;

    // Dismiss: the flags close, audited; the question stays.
    let s = moderate(
        &app,
        "/admin/flags",
        &format!("/admin/flags/{one}/dismiss"),
        &[("reason", "not a duplicate")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    let (_, page) = app.get("/admin/flags").await;
    assert!(page.contains("The flag on “Flagged once?” is dismissed."));
    assert!(!page.contains(">Flagged once?</a>"));
    assert_eq!(app.get(&app.path(one).await).await.0, Status::Ok);
    let s = moderate(
        &app,
        "/admin/flags",
        &format!("/admin/flags/{one}/dismiss"),
        &[("reason", "")],
    )
    .await;
    assert_eq!(s, Status::BadRequest, "a reason is required");

    // Hide through moderation: without confirmation it only asks.
    let hide = format!("/admin/questions/{older}/hide");
    let r = app
        .post_form(
            "/admin/flags",
            &hide,
            &[("reason", "spam wave"), ("back", "/admin/flags?page=1")],
        )
        .await;
    assert_eq!(r.status(), Status::Ok);
    assert!(
        r.into_string()
            .await
            .unwrap()
            .contains("Hide “Flagged thrice early?”?")
    );
    let s = moderate(
        &app,
        "/admin/flags",
        &hide,
        &[("reason", "spam wave"), ("back", "/admin/flags?page=1")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    assert_eq!(app.get(&app.path(clean).await).await.0, Status::Ok);
    // Ban the author through moderation: their questions' flags close.
    let ban = format!("/admin/users/{mallory}/ban");
    let s = moderate(
        &app,
        "/admin/flags",
        &ban,
        &[("reason", "abusive polls"), ("hide_questions", "true")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    let (_, page) = app.get("/admin/flags").await;
    assert!(page.contains("No open flags."), "{page}");

    let resolutions: Vec<(i64, Option<String>)> =
        flags(&app).await.into_iter().map(|r| (r.0, r.5)).collect();
    for (q, res) in &resolutions {
        let want = if *q == one {
            "dismissed"
        } else if *q == older {
            "hidden"
        } else {
            "banned"
        };
        assert_eq!(res.as_deref(), Some(want), "question {q}");
    }
    let log = audit(&app).await;
    assert_eq!(
        log,
        [
            (
                Some(admin),
                "dismiss_flags".into(),
                one,
                "not a duplicate".into()
            ),
            (
                Some(admin),
                "hide_question".into(),
                older,
                "spam wave".into()
            ),
            (
                Some(admin),
                "ban_user".into(),
                mallory,
                "abusive polls".into()
            ),
            (
                Some(admin),
                "hide_question".into(),
                newer,
                "abusive polls".into()
            ),
        ]
    );
    let (_, page) = app.get("/admin/audit").await;
    assert!(page.contains("dismiss flags"));
}

async fn verified_accounts_hide_a_question_pending_review(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("flags_hide_threshold", 2))).await;
    let qid = app
        .question(question("Should this be hidden?").tags(&["review"]))
        .await;
    let other = app.question(question("Should this stay?")).await;
    let keep = app.question(question("Keep this hidden?")).await;
    let path = app.path(qid).await;
    let keep_path = app.path(keep).await;
    // Warm the caches, as visitors would.
    assert!(app.get("/new").await.1.contains("Should this be hidden?"));
    assert_eq!(app.get(&path).await.0, Status::Ok);

    // Anonymous flags do not count, however many.
    for i in 0..3 {
        let (s, _) = api_flag(&app, qid, r#"{"reason": "abuse"}"#, &format!("10.3.0.{i}")).await;
        assert_eq!(s, Status::Accepted);
    }
    // Nor does an account without a verified email.
    app.signup("una", "una@example.com", PASSWORD).await;
    app.unverify_email("una").await;
    assert_eq!(
        form_flag(&app, qid, &[("reason", "abuse")]).await.0,
        Status::SeeOther
    );
    app.logout().await;
    // Nor does one verified account twice, nor a flag on another question.
    app.signup("vera", "vera@example.com", PASSWORD).await;
    assert_eq!(
        form_flag(&app, qid, &[("reason", "abuse")]).await.0,
        Status::SeeOther
    );
    assert_eq!(
        form_flag(&app, qid, &[("reason", "spam")]).await.0,
        Status::SeeOther
    );
    assert_eq!(
        form_flag(&app, other, &[("reason", "spam")]).await.0,
        Status::SeeOther
    );
    assert_eq!(
        form_flag(&app, keep, &[("reason", "spam")]).await.0,
        Status::SeeOther
    );
    app.logout().await;
    assert_eq!(app.get(&path).await.0, Status::Ok, "still visible");
    assert!(audit(&app).await.is_empty());

    // A second verified account: hidden pending review, by the site.
    app.signup("walt", "walt@example.com", PASSWORD).await;
    let (s, to) = form_flag(&app, qid, &[("reason", "abuse")]).await;
    assert_eq!((s, to.as_deref()), (Status::SeeOther, Some(path.as_str())));
    assert_eq!(
        form_flag(&app, keep, &[("reason", "spam")]).await.0,
        Status::SeeOther
    );
    app.logout().await;
    assert_eq!(app.get(&path).await.0, Status::NotFound);
    assert!(!app.get("/new").await.1.contains("Should this be hidden?"));
    assert!(
        !app.get("/t/review")
            .await
            .1
            .contains("Should this be hidden?")
    );
    assert_eq!(app.get(&app.path(other).await).await.0, Status::Ok);
    assert_eq!(app.get(&keep_path).await.0, Status::NotFound);
    let log = audit(&app).await;
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].0, log[0].1.as_str(), log[0].2),
        (None, "hide_pending_review", qid)
    );
    assert_eq!(
        (log[1].0, log[1].1.as_str(), log[1].2),
        (None, "hide_pending_review", keep)
    );
    assert!(log[0].3.contains("flagged by 2 verified accounts"));
    // Hidden questions take no more flags.
    let (s, _) = api_flag(&app, qid, r#"{"reason": "spam"}"#, "10.3.1.1").await;
    assert_eq!(s, Status::NotFound);

    // The queue lists it first, pending review, with unhide and keep-hidden.
    let uri = login_admin(&app).await;
    let (_, page) = app.get("/admin/flags").await;
    let pending = page.find(PENDING).expect("marked");
    assert!(pending < page.find("Should this stay?").unwrap());
    assert!(page.contains(&format!("action=\"/admin/questions/{qid}/unhide\"")));
    assert!(page.contains("Keep hidden"));
    assert!(!page.contains(&format!("action=\"/admin/flags/{qid}/dismiss\"")));
    let (_, audit_page) = app.get("/admin/audit").await;
    assert!(audit_page.contains("the site"), "the site's own action");
    // Unhide through moderation: visible again, the flags resolved.
    let s = moderate(
        &app,
        "/admin/flags",
        &format!("/admin/questions/{qid}/unhide"),
        &[("reason", "fair question"), ("back", "/admin/flags")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    app.logout().await;
    assert_eq!(app.get(&path).await.0, Status::Ok);
    let open = flags(&app)
        .await
        .into_iter()
        .filter(|r| r.0 == qid && r.5.is_none())
        .count();
    assert_eq!(open, 0);
    assert!(
        flags(&app)
            .await
            .iter()
            .filter(|r| r.0 == qid)
            .all(|r| r.5.as_deref() == Some("unhidden"))
    );
    // Keep the other hidden (an already hidden question: no confirmation needed, the form says
    // yes): it stays hidden, its flags resolved, recorded as the admin's hide.
    login_admin_again(&app, &uri).await;
    let s = moderate(
        &app,
        "/admin/flags",
        &format!("/admin/questions/{keep}/hide"),
        &[("reason", "abusive indeed"), ("back", "/admin/flags")],
    )
    .await;
    assert_eq!(s, Status::SeeOther);
    let (_, page) = app.get("/admin/flags").await;
    assert!(page.contains("“Keep this hidden?” stays hidden; its flags are resolved."));
    assert!(!page.contains(&format!("id=\"flagged-{keep}\"")), "{page}");
    assert!(
        page.contains(&format!("id=\"flagged-{other}\"")),
        "untouched"
    );
    assert_eq!(app.get(&keep_path).await.0, Status::NotFound);
    let admin = app.user_id("boss").await;
    let log = audit(&app).await;
    assert_eq!(
        log.last().unwrap(),
        &(
            Some(admin),
            "hide_question".into(),
            keep,
            "abusive indeed".into()
        )
    );
    assert!(
        flags(&app)
            .await
            .iter()
            .filter(|r| r.0 == keep)
            .all(|r| r.5.as_deref() == Some("hidden"))
    );
}

async fn flags_reach_the_analytics_sinks(b: Backend) {
    let (receiver, url) = crate::analytics::Receiver::start().await;
    let app = TestApp::with(b, |f| {
        f.merge(("analytics_url", url))
            .merge(("flags_hide_threshold", 1))
    })
    .await;
    let qid = app.question(question("Worth an event?")).await;
    api_flag(
        &app,
        qid,
        r#"{"reason": "misleading", "details": "secret words"}"#,
        "10.4.0.1",
    )
    .await;
    form_flag(&app, qid, &[("reason", "duplicate")]).await;
    // A repeat stores nothing and is no event (as an unchanged vote).
    let (s, _) = form_flag(&app, qid, &[("reason", "abuse")]).await;
    assert_eq!(s, Status::SeeOther);
    app.signup("ida", "ida@example.com", PASSWORD).await;
    let uid = app.user_id("ida").await;
    form_flag(&app, qid, &[("reason", "spam")]).await;
    crate::analytics::analytics(&app).flush().await;
    let events = receiver.received();
    let flagged: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "question_flagged")
        .map(|e| &e["properties"])
        .collect();
    assert_eq!(flagged.len(), 3, "{events:?}");
    assert_eq!(flagged[0]["question_id"], qid);
    assert_eq!(flagged[0]["reason"], "misleading");
    assert!(
        !events
            .iter()
            .any(|e| e.to_string().contains("secret words")),
        "no details"
    );
    assert_eq!(flagged[1]["reason"], "duplicate");
    assert_eq!(flagged[2]["reason"], "spam");
    assert_eq!(flagged[2]["distinct_id"], format!("u:{uid}"));
    let hidden: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "question_hidden")
        .map(|e| &e["properties"])
        .collect();
    assert_eq!(hidden.len(), 1, "hidden pending review: {events:?}");
    assert_eq!(hidden[0]["question_id"], qid);
    assert!(hidden[0].get("actor_id").is_none(), "by the site");
}

async fn the_demo_has_flags(b: Backend) {
    let app = TestApp::new(b).await;
    let db = app.db.clone();
    rocket::tokio::task::spawn_blocking(move || beebeta::services::demo::seed_demo(&db))
        .await
        .unwrap()
        .unwrap();
    let rows = flags(&app).await;
    assert!(rows.len() >= 5, "{rows:?}");
    assert!(rows.iter().all(|r| r.5.is_none() && r.2.is_none()));
    login_admin(&app).await;
    let (s, page) = app.get("/admin/flags").await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("misleading: 3") && page.contains("duplicate: 2"),
        "{page}"
    );
    assert!(!page.contains(PENDING));
}
