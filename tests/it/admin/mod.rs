//! The admin area: guard, dashboard and reports from builder-inserted rollups, CSV exports, bad
//! report input, moderation (hide/unhide, ban/unban), the audit log and CSRF refusal.

use beebeta::models::report::{self, SiteHour};
use chrono::{NaiveDateTime, Timelike};
use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, extract_csrf, form_body, question};

mod moderation;
mod reports;

backend_tests!(guard_sends_anonymous_to_login_and_refuses_users);

const ADMIN_PASS: &str = "a long admin passphrase";

/// Creates the admin `boss` and logs the tracked browser in as them (password, then a code of
/// the authenticator `create-admin` enrolled); returns the authenticator's `otpauth://` URI.
pub(crate) async fn login_admin(app: &TestApp) -> String {
    let created = app
        .create_admin("boss", "boss@example.com", ADMIN_PASS)
        .await
        .unwrap();
    let uri = created
        .otpauth_uri
        .expect("admins get two-factor authentication");
    let r = app.login_as("boss", ADMIN_PASS, "/admin").await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/login/2fa"));
    drop(r);
    let r = app.second_factor(&crate::helpers::totp_code(&uri, 0)).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/admin"));
    uri
}

/// Logs `boss` in again within the same half minute: the current code was used (no replay), so
/// the next step's (accepted: one step of clock skew).
pub(crate) async fn login_admin_again(app: &TestApp, uri: &str) {
    let r = app.login_as("boss", ADMIN_PASS, "/admin").await;
    assert_eq!(r.headers().get_one("Location"), Some("/login/2fa"));
    drop(r);
    let r = app.second_factor(&crate::helpers::totp_code(uri, 1)).await;
    assert_eq!(r.headers().get_one("Location"), Some("/admin"));
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn this_hour() -> NaiveDateTime {
    let now = beebeta::models::now();
    now.with_minute(0)
        .unwrap()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap()
}

async fn site_hour(app: &TestApp, row: SiteHour) {
    app.db
        .write(move |c| Ok(report::insert_site_hour(c, &row)?))
        .await
        .unwrap();
}

async fn question_stats(app: &TestApp, at: NaiveDateTime, qid: i64, views: i64, votes: i64) {
    app.db
        .write(move |c| Ok(report::insert_question(c, at, qid, views, votes)?))
        .await
        .unwrap();
}

async fn tag_id(app: &TestApp, name: &str) -> i64 {
    let n = beebeta::domain::TagName::parse(name).unwrap();
    app.db
        .run(move |c| Ok(beebeta::models::tag::find(c, &n)?.unwrap().id))
        .await
        .unwrap()
}

/// POSTs a moderation form with the token of the admin page `page`.
pub(crate) async fn moderate(
    app: &TestApp,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Status {
    // Confirmed, as the dialog or the confirmation page sends it (a hide or a ban asks first).
    let mut all = fields.to_vec();
    all.push(("confirm", "yes"));
    app.post_form(page, action, &all).await.status()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, i64, String)> {
    app.db
        .run(|c| {
            use beebeta::db::schema::audit_log as a;
            use diesel::prelude::*;
            Ok(a::table
                .order(a::id.asc())
                .select((a::action, a::target_kind, a::target_id, a::reason))
                .load(c)?)
        })
        .await
        .unwrap()
}

async fn guard_sends_anonymous_to_login_and_refuses_users(b: Backend) {
    let app = TestApp::new(b).await;
    let pages = [
        "/admin",
        "/admin/reports?window=day",
        "/admin/questions",
        "/admin/users",
        "/admin/audit",
    ];
    for page in pages {
        let r = app.client.get(page).dispatch().await;
        assert_eq!(r.status(), Status::SeeOther, "{page}");
        assert!(
            r.headers()
                .get_one("Location")
                .unwrap()
                .starts_with("/login?next=%2Fadmin"),
            "{page}"
        );
    }
    app.signup("henry", "henry@example.com", PASSWORD).await;
    for page in pages {
        let (s, body) = app.get(page).await;
        assert_eq!(s, Status::Forbidden, "{page}");
        assert!(body.contains("for admins"), "{page}");
    }
    let qid = app.question(question("Guarded question?")).await;
    let (_, page) = app.get("/settings").await;
    let token = extract_csrf(&page).unwrap();
    let r = app
        .client
        .post(format!("/admin/questions/{qid}/hide"))
        .header(ContentType::Form)
        .body(form_body(&[("csrf_token", &token), ("reason", "x")]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    app.logout().await;
    login_admin(&app).await;
    for page in pages {
        let (s, body) = app.get(page).await;
        assert_eq!(s, Status::Ok, "{page}");
        assert!(
            body.contains("href=\"/admin/audit\""),
            "admin nav on {page}"
        );
    }
    let (_, home) = app.get("/").await;
    assert!(home.contains("href=\"/admin\""), "header link for admins");
}
