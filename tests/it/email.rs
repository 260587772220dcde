//! Email links: verification and password reset (in-memory outbox), and a real SMTP round trip.

use rocket::http::{ContentType, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, extract_csrf, form_body};

backend_tests!(
    verification_links_work_once,
    password_reset_links_work_once_and_log_out_everywhere
);

async fn app(b: Backend) -> TestApp {
    TestApp::with(b, |f| f.merge(("smtp_url", "memory"))).await
}

pub(crate) fn outbox(app: &TestApp) -> Vec<beebeta::mail::Sent> {
    app.state().mailer.outbox()
}

/// The path and query of the link in a message to `to`.
pub(crate) fn link(app: &TestApp, to: &str, path: &str) -> String {
    let sent = outbox(app);
    let mail = sent
        .iter()
        .rev()
        .find(|m| m.to == to)
        .unwrap_or_else(|| panic!("a message to {to}"));
    let start = mail
        .body
        .find(&format!("http://beebeta.test{path}?token="))
        .expect("a link")
        + "http://beebeta.test".len();
    mail.body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

async fn verified(app: &TestApp, name: &str) -> bool {
    let n = name.to_string();
    app.db
        .run(move |c| {
            Ok(beebeta::models::user::find_by_username(c, &n)?
                .unwrap()
                .email_verified_at
                .is_some())
        })
        .await
        .unwrap()
}

async fn verification_links_work_once(b: Backend) {
    let app = app(b).await;
    app.signup("vera", "vera@example.com", PASSWORD).await;
    assert!(
        verified(&app, "vera").await,
        "the sign-up link verified the address"
    );
    assert_eq!(outbox(&app)[0].subject, "Finish signing up");
    // A new address needs its own confirmation.
    let r = app
        .post_form(
            "/settings",
            "/settings/email",
            &[("email", "vera@mid.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    assert!(!verified(&app, "vera").await);
    let path = link(&app, "vera@mid.example", "/verify");
    assert!(
        outbox(&app)
            .iter()
            .any(|m| m.to == "vera@mid.example" && m.subject == "Confirm your email address")
    );
    let (s, page) = app.get(&path).await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("email address is confirmed"));
    assert!(verified(&app, "vera").await);
    let (s, page) = app.get(&path).await;
    assert_eq!(s, Status::BadRequest, "single use");
    assert!(page.contains("already used"));
    for bad in ["/verify", "/verify?token=", "/verify?token=forged"] {
        let (s, _) = app.get(bad).await;
        assert_eq!(s, Status::BadRequest, "{bad}");
    }
    // Another new address; an old link for it expires.
    let r = app
        .post_form(
            "/settings",
            "/settings/email",
            &[("email", "vera@new.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert!(!verified(&app, "vera").await);
    let path = link(&app, "vera@new.example", "/verify");
    app.db
        .write(|c| {
            use beebeta::db::schema::email_tokens;
            use diesel::prelude::*;
            let past = beebeta::models::now() - chrono::Duration::minutes(1);
            diesel::update(email_tokens::table)
                .set(email_tokens::expires_at.eq(past))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (s, _) = app.get(&path).await;
    assert_eq!(s, Status::BadRequest, "expired");
    let r = app.post_form("/settings", "/settings/verify", &[]).await;
    assert_eq!(r.status(), Status::SeeOther);
    let (s, _) = app.get(&link(&app, "vera@new.example", "/verify")).await;
    assert_eq!(s, Status::Ok);
    assert!(verified(&app, "vera").await);
}

async fn password_reset_links_work_once_and_log_out_everywhere(b: Backend) {
    let app = app(b).await;
    app.signup("rita", "rita@example.com", PASSWORD).await;
    let before = outbox(&app).len();
    app.logout().await;
    let request = |email: &'static str| {
        let app = &app;
        async move {
            let (_, page) = app.get("/reset").await;
            let token = extract_csrf(&page).unwrap();
            let r = app
                .client
                .post("/reset")
                .header(ContentType::Form)
                .body(form_body(&[("csrf_token", &token), ("email", email)]))
                .dispatch()
                .await;
            (r.status(), r.into_string().await.unwrap())
        }
    };
    let (s, unknown) = request("nobody@example.com").await;
    assert_eq!(s, Status::Ok);
    assert_eq!(outbox(&app).len(), before, "no mail for an unknown address");
    let (s, known) = request("RITA@example.com").await;
    assert_eq!(s, Status::Ok);
    assert_eq!(unknown, known, "the same answer either way");
    let path = link(&app, "rita@example.com", "/reset/confirm");
    let token = path.split("token=").nth(1).unwrap().to_string();
    let (s, form) = app.get(&path).await;
    assert_eq!(s, Status::Ok);
    let csrf = extract_csrf(&form).unwrap();
    let post = |password: &'static str, token: String| {
        let app = &app;
        let csrf = csrf.clone();
        async move {
            app.client
                .post("/reset/confirm")
                .header(ContentType::Form)
                .body(form_body(&[
                    ("csrf_token", &csrf),
                    ("token", &token),
                    ("password", password),
                ]))
                .dispatch()
                .await
        }
    };
    let r = post("password1", token.clone()).await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "weak passwords are refused"
    );
    let r = post("a fresh new passphrase", token.clone()).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/login"));
    let r = post("another new passphrase", token.clone()).await;
    assert_eq!(r.status(), Status::BadRequest, "single use");
    let (s, _) = app.get(&path).await;
    assert_eq!(s, Status::BadRequest);
    let sessions = app
        .db
        .run(|c| Ok(beebeta::models::user::site_totals(c)?.3))
        .await
        .unwrap();
    assert_eq!(sessions, 0, "every session ended");
    assert_eq!(
        app.login_as("rita", PASSWORD, "").await.status(),
        Status::UnprocessableEntity
    );
    assert_eq!(
        app.login_as("rita", "a fresh new passphrase", "")
            .await
            .status(),
        Status::SeeOther
    );
    let r = post("x", "forged".into()).await;
    assert_eq!(
        r.status(),
        Status::Forbidden,
        "logged in now: the anonymous form's token no longer matches"
    );
}

/// A real SMTP server on loopback (aiosmtpd, started by `.ci/run`) receives the verification
/// email; the link in it works.
#[rocket::async_test]
#[ignore = "needs an SMTP server: BEEBETA_TEST_SMTP_URL and BEEBETA_TEST_SMTP_MAILDIR (.ci/run starts aiosmtpd)"]
async fn verification_email_goes_through_real_smtp() {
    let url = std::env::var("BEEBETA_TEST_SMTP_URL")
        .expect("BEEBETA_TEST_SMTP_URL, e.g. smtp://127.0.0.1:2525");
    let maildir = std::path::PathBuf::from(
        std::env::var("BEEBETA_TEST_SMTP_MAILDIR").expect("BEEBETA_TEST_SMTP_MAILDIR"),
    );
    let app = TestApp::with(Backend::Sqlite, |f| f.merge(("smtp_url", url.clone()))).await;
    let email = format!("smtp-{}@example.com", uuid::Uuid::new_v4().simple());
    assert_eq!(
        app.signup("smtpuser", &email, PASSWORD).await,
        Status::SeeOther
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let body = loop {
        let found = std::fs::read_dir(maildir.join("new"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|m| m.contains(&email));
        if let Some(m) = found {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the email arrived at the SMTP server"
        );
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(body.contains("Subject: Finish signing up"));
    // Quoted-printable: soft line breaks and `=3D` for `=`.
    let unfolded = body
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = unfolded
        .find("http://beebeta.test/signup/confirm?token=")
        .expect("a link")
        + "http://beebeta.test".len();
    let path: String = unfolded[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert_eq!(app.finish_signup(&path).await, Status::SeeOther);
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::Ok, "the link made the account");
}
