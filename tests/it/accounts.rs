//! Accounts: sign-up, login, logout, sessions, admin guard, ballots moving to the account.

use rocket::http::{ContentType, Cookie, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, form_body, question};

backend_tests!(
    login_detours_say_why_as_information,
    signup_login_and_logout,
    signup_refusals_store_nothing,
    login_refusals_look_the_same,
    sessions_are_revocable_and_renewed_at_login,
    login_redirects_only_to_local_paths,
    admin_area_is_closed_to_others,
    anonymous_ballots_move_to_the_account,
    settings_change_password_and_email,
);

async fn users(app: &TestApp) -> i64 {
    app.db
        .run(|c| Ok(beebeta::models::user::site_totals(c)?.0))
        .await
        .unwrap()
}

async fn signup_login_and_logout(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.signup("alice", "Alice@Example.com", PASSWORD).await,
        Status::SeeOther
    );
    let (_, home) = app.get("/").await;
    assert!(home.contains("@alice"), "the header shows the user");
    assert!(home.contains("action=\"/logout\""));
    let (s, settings) = app.get("/settings").await;
    assert_eq!(s, Status::Ok);
    assert!(
        settings.contains("alice@example.com"),
        "emails are stored lowercase"
    );
    assert_eq!(app.logout().await, Status::SeeOther);
    let r = app.client.get("/settings").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/login?next=%2Fsettings")
    );
    // Log in again, by username and by email.
    let r = app.login_as("alice", PASSWORD, "/settings").await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/settings"));
    assert_eq!(app.logout().await, Status::SeeOther);
    let r = app.login_as("ALICE@example.com", PASSWORD, "").await;
    assert_eq!(r.status(), Status::SeeOther);
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::Ok);
    // Logging out needs the token.
    let r = app
        .client
        .post("/logout")
        .header(ContentType::Form)
        .body("")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::Ok, "still logged in");
    // The password is stored as Argon2id.
    let hash = app
        .db
        .run(|c| {
            Ok(beebeta::models::user::find_by_username(c, "alice")?
                .unwrap()
                .password_hash)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
}

async fn signup_refusals_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.signup("bob", "bob@example.com", PASSWORD).await,
        Status::SeeOther
    );
    assert_eq!(app.logout().await, Status::SeeOther);
    let before = users(&app).await;
    let cases = [
        ("BOB", "other@example.com", PASSWORD, "username is taken"),
        ("carol", "carol@example.com", "short", "at least 12"),
        ("carol", "carol@example.com", "elevenchars", "at least 12"),
        (
            "dave",
            "carol.w@example.com",
            "Carol.W@example.com!",
            "your email",
        ),
        ("carol", "carol@example.com", "qwerty123456", "most common"),
        ("carol", "carol@example.com", "Password1234", "most common"),
        (
            "carol",
            "carol@example.com",
            "carol-has-a-pass",
            "must not contain",
        ),
        ("carol", "not-an-email", PASSWORD, "valid email"),
        ("c", "carol@example.com", PASSWORD, "3 to 32"),
        ("carol", &"x".repeat(300), PASSWORD, "valid email"),
    ];
    for (name, email, password, expect) in cases {
        let (_, page) = app.get("/signup").await;
        let token = crate::helpers::extract_csrf(&page).unwrap();
        let r = app
            .client
            .post("/signup")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &token),
                ("username", name),
                ("email", email),
                ("password", password),
            ]))
            .dispatch()
            .await;
        assert_eq!(
            r.status(),
            Status::UnprocessableEntity,
            "{name} {email} {password}"
        );
        let body = r.into_string().await.unwrap();
        assert!(
            body.contains(expect),
            "{name}/{email}/{password}: expected “{expect}”"
        );
        if name != "c" && email.len() < 100 {
            assert!(body.contains(&format!("value=\"{}\"", name)), "input kept");
        }
    }
    assert_eq!(users(&app).await, before, "nothing stored");
    let r = app
        .client
        .post("/signup")
        .header(ContentType::Form)
        .body(form_body(&[
            ("username", "dave"),
            ("email", "dave@example.com"),
            ("password", PASSWORD),
        ]))
        .dispatch()
        .await;
    assert_eq!(
        r.status(),
        Status::Forbidden,
        "sign-up needs the CSRF token"
    );
    assert_eq!(users(&app).await, before);
}

async fn login_refusals_look_the_same(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("erin", "erin@example.com", PASSWORD).await;
    app.logout().await;
    let wrong = app.login_as("erin", "not the password at all", "").await;
    assert_eq!(wrong.status(), Status::UnprocessableEntity);
    let wrong = wrong.into_string().await.unwrap();
    let unknown = app.login_as("nobody-here", PASSWORD, "").await;
    assert_eq!(unknown.status(), Status::UnprocessableEntity);
    let unknown = unknown.into_string().await.unwrap();
    assert!(wrong.contains("Wrong username or password."));
    assert!(unknown.contains("Wrong username or password."));
    let r = app.login_as("", "", "").await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let r = app
        .client
        .post("/login")
        .header(ContentType::Form)
        .body(form_body(&[("username", "erin"), ("password", PASSWORD)]))
        .dispatch()
        .await;
    assert_eq!(
        r.status(),
        Status::Forbidden,
        "login CSRF: a login form without the token is refused"
    );
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::SeeOther, "not logged in");
    // A banned user cannot log in.
    let id = app.user_id("erin").await;
    app.db
        .write(move |c| {
            use beebeta::db::schema::users;
            use diesel::prelude::*;
            diesel::update(users::table.find(id))
                .set(users::banned_at.eq(Some(beebeta::models::now())))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let r = app.login_as("erin", PASSWORD, "").await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    assert!(r.into_string().await.unwrap().contains("suspended"));
}

async fn sessions_are_revocable_and_renewed_at_login(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("frank", "frank@example.com", PASSWORD).await;
    let first = app
        .client
        .cookies()
        .get("bb_session")
        .map(|c| c.value().to_string())
        .unwrap();
    let r = app.login_as("frank", PASSWORD, "").await;
    assert_eq!(r.status(), Status::SeeOther);
    let second = app
        .client
        .cookies()
        .get("bb_session")
        .map(|c| c.value().to_string())
        .unwrap();
    assert_ne!(first, second, "a new session id at login");
    // The replaced session no longer works.
    let r = app
        .client
        .get("/settings")
        .cookie(Cookie::new("bb_session", first.clone()))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther, "old session was ended");
    // A forged session cookie is just "logged out".
    let r = app
        .client
        .get("/settings")
        .cookie(Cookie::new("bb_session", "forged-token"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let r = app
        .client
        .get("/settings")
        .cookie(Cookie::new("bb_session", "x".repeat(5000)))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    // Log out everywhere revokes the current token.
    let r = app
        .post_form("/settings", "/settings/sessions/revoke-all", &[])
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let r = app
        .client
        .get("/settings")
        .cookie(Cookie::new("bb_session", second))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther, "revoked everywhere");
    // Expired sessions are refused: age the only session past the idle limit.
    app.login_as("frank", PASSWORD, "").await;
    app.db
        .write(|c| {
            use beebeta::db::schema::sessions;
            use diesel::prelude::*;
            let old = beebeta::models::now() - chrono::Duration::days(8);
            diesel::update(sessions::table)
                .set(sessions::last_seen_at.eq(old))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::SeeOther, "idle sessions expire");
}

async fn login_redirects_only_to_local_paths(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("gina", "gina@example.com", PASSWORD).await;
    for (next, expect) in [
        ("/q/12/x?y=1", "/q/12/x?y=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ] {
        app.logout().await;
        let r = app.login_as("gina", PASSWORD, next).await;
        assert_eq!(r.status(), Status::SeeOther, "{next}");
        assert_eq!(r.headers().get_one("Location"), Some(expect), "{next}");
    }
}

async fn admin_area_is_closed_to_others(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/admin").dispatch().await;
    assert_eq!(
        r.status(),
        Status::SeeOther,
        "anonymous visitors are sent to log in"
    );
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/login?next=%2Fadmin")
    );
    app.signup("henry", "henry@example.com", PASSWORD).await;
    let (s, body) = app.get("/admin").await;
    assert_eq!(s, Status::Forbidden);
    assert!(body.contains("for admins"));
    app.logout().await;
    let out = app
        .create_admin("boss", "boss@example.com", "a long admin passphrase")
        .await
        .unwrap();
    assert_eq!(out.message, "created admin boss");
    let uri = out.otpauth_uri.clone().expect("two-factor is turned on");
    assert!(
        out.to_string().lines().any(|l| l == uri),
        "the URI on its own line: {out}"
    );
    let r = app
        .login_as("boss", "a long admin passphrase", "/admin")
        .await;
    assert_eq!(r.headers().get_one("Location"), Some("/login/2fa"));
    drop(r);
    let r = app.second_factor(&crate::helpers::totp_code(&uri, 0)).await;
    assert_eq!(r.headers().get_one("Location"), Some("/admin"));
    drop(r);
    let (s, body) = app.get("/admin").await;
    assert_eq!(s, Status::Ok);
    assert!(body.contains("Admin"));
    // Promoting an existing user.
    let out = app
        .create_admin("henry", "henry@example.com", "")
        .await
        .unwrap();
    assert_eq!(out.message, "henry is now an admin");
    assert!(
        out.otpauth_uri.is_some(),
        "a promoted admin is enrolled too"
    );
    let again = app
        .create_admin("henry", "henry@example.com", "")
        .await
        .unwrap();
    assert_eq!(again.otpauth_uri, None, "an enrolment is never replaced");
    let err = app
        .create_admin("ivan", "ivan@example.com", "short")
        .await
        .unwrap_err();
    assert!(err.contains("at least 12"));
}

async fn anonymous_ballots_move_to_the_account(b: Backend) {
    let app = TestApp::new(b).await;
    let q1 = app
        .question(question("First question voted anonymously"))
        .await;
    let q2 = app
        .question(question("Second question voted twice over"))
        .await;
    let members = app
        .question(question("Members only question for the test").protection("account"))
        .await;
    let c1 = app.choices(q1).await;
    let c2 = app.choices(q2).await;
    let cm = app.choices(members).await;
    app.api_vote(q1, &format!("{{\"choices\":[{}]}}", c1[0]))
        .await;
    let (s, _) = app
        .api_vote(members, &format!("{{\"choices\":[{}]}}", cm[0]))
        .await;
    assert_eq!(s, Status::Unauthorized);
    app.signup("jane", "jane@example.com", PASSWORD).await;
    let uid = app.user_id("jane").await;
    let voter_of = |qid: i64| {
        app.db.run(move |c| {
            use beebeta::db::schema::ballots;
            use diesel::prelude::*;
            Ok(ballots::table
                .filter(ballots::question_id.eq(qid))
                .select((ballots::voter, ballots::trust))
                .load::<(String, String)>(c)?)
        })
    };
    assert_eq!(
        voter_of(q1).await.unwrap(),
        vec![(format!("u:{uid}"), "verified".to_string())],
        "the ballot moved (a sign-up's address is verified by its link)"
    );
    assert_eq!(app.ledger(q1).await, (1, vec![(c1[0], 1)]));
    // Logged in, the account votes (also on members-only questions).
    let (s, _) = app
        .api_vote(q2, &format!("{{\"choices\":[{}]}}", c2[1]))
        .await;
    assert_eq!(s, Status::Ok);
    let (s, _) = app
        .api_vote(members, &format!("{{\"choices\":[{}]}}", cm[1]))
        .await;
    assert_eq!(s, Status::Ok);
    // Logged out, the same browser votes again anonymously: two ballots for a moment...
    app.logout().await;
    app.api_vote(q2, &format!("{{\"choices\":[{}]}}", c2[2]))
        .await;
    assert_eq!(app.ledger(q2).await.0, 2);
    // ...until the login: the account's ballot stands, the anonymous one is dropped.
    app.login_as("jane", PASSWORD, "").await;
    assert_eq!(app.ledger(q2).await, (1, vec![(c2[1], 1)]));
    assert_eq!(app.ledger(q1).await, (1, vec![(c1[0], 1)]));
}

async fn settings_change_password_and_email(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("kate", "kate@example.com", PASSWORD).await;
    app.signup("other", "taken@example.com", PASSWORD).await;
    app.logout().await;
    app.login_as("kate", PASSWORD, "").await;
    // An unverified address (after a change) may be someone else's: no credential changes until
    // it is confirmed.
    app.unverify_email("kate").await;
    for (action, fields) in [
        (
            "/settings/password",
            [
                ("current_password", PASSWORD),
                ("password", "a brand new passphrase"),
            ],
        ),
        (
            "/settings/email",
            [("email", "kate@elsewhere.example"), ("password", PASSWORD)],
        ),
    ] {
        let r = app.post_form("/settings", action, &fields).await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "{action}");
        let page = r.into_string().await.unwrap();
        assert!(
            page.contains("Confirm your email address first"),
            "{action}"
        );
    }
    app.verify_email("kate").await;
    let r = app
        .post_form(
            "/settings",
            "/settings/password",
            &[
                ("current_password", "wrong one here"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    assert!(
        r.into_string()
            .await
            .unwrap()
            .contains("current password is wrong")
    );
    let r = app
        .post_form(
            "/settings",
            "/settings/password",
            &[("current_password", PASSWORD), ("password", "qwertyuiop")],
        )
        .await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "common passwords are refused"
    );
    let r = app
        .post_form(
            "/settings",
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let r = app
        .post_form(
            "/settings",
            "/settings/email",
            &[
                ("email", "taken@example.com"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    assert!(
        r.into_string()
            .await
            .unwrap()
            .contains("Another account uses that email")
    );
    let r = app
        .post_form(
            "/settings",
            "/settings/email",
            &[
                ("email", "kate@new.example"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    app.logout().await;
    let r = app
        .login_as("kate@new.example", "a brand new passphrase", "")
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let (_, page) = app.get("/settings").await;
    assert!(page.contains("kate@new.example"));
    assert!(page.contains("Log out everywhere") || page.contains("revoke-all"));
}

mod tokens {
    use super::*;

    backend_tests!(api_tokens_authenticate_until_revoked);

    async fn api_tokens_authenticate_until_revoked(b: Backend) {
        use rocket::http::Header;
        let app = TestApp::new(b).await;
        app.signup("tokenuser", "tokenuser@example.com", PASSWORD)
            .await;
        app.verify_email("tokenuser").await;
        let r = app
            .post_form(
                "/settings",
                "/settings/tokens",
                &[("name", "my script"), ("scope", "read"), ("scope", "ask")],
            )
            .await;
        assert_eq!(r.status(), Status::Created);
        let page = r.into_string().await.unwrap();
        let start = page
            .find("value=\"bb_")
            .expect("the new token is shown once")
            + "value=\"".len();
        let token = page[start..start + page[start..].find('"').unwrap()].to_string();
        let (_, settings) = app.get("/settings").await;
        assert!(!settings.contains(&token), "never shown again");
        assert!(settings.contains("my script"));
        let stored: Vec<String> = app
            .db
            .run(|c| {
                use beebeta::db::schema::api_tokens;
                use diesel::prelude::*;
                Ok(api_tokens::table.select(api_tokens::token_hash).load(c)?)
            })
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0], token, "only a hash is stored");
        app.logout().await;
        let ask = |auth: String| {
            let client = &app.client;
            async move {
                client
                    .post("/api/v1/questions")
                    .header(ContentType::JSON)
                    .header(Header::new("Authorization", auth))
                    .body(r#"{"title":"Asked with a personal token","choices":["Yes","No"]}"#)
                    .dispatch()
                    .await
                    .status()
            }
        };
        assert_eq!(ask(format!("Bearer {token}")).await, Status::Created);
        assert_eq!(ask("Bearer bb_forged".into()).await, Status::Unauthorized);
        assert_eq!(ask(format!("Basic {token}")).await, Status::Unauthorized);
        app.login_as("tokenuser", PASSWORD, "").await;
        let (_, settings) = app.get("/settings").await;
        let i = settings.find("/settings/tokens/").expect("a revoke form");
        let id: String = settings[i + "/settings/tokens/".len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let r = app
            .post_form("/settings", &format!("/settings/tokens/{id}/revoke"), &[])
            .await;
        assert_eq!(r.status(), Status::SeeOther);
        app.logout().await;
        assert_eq!(
            ask(format!("Bearer {token}")).await,
            Status::Unauthorized,
            "revoked"
        );
        let r = app
            .post_form(
                "/settings",
                "/settings/tokens",
                &[("name", "x"), ("scope", "read")],
            )
            .await;
        assert_eq!(r.status(), Status::SeeOther, "logged out: sent to log in");
    }
}

mod login_limits {
    use super::*;

    backend_tests!(failed_logins_back_off_per_account);

    async fn failed_logins_back_off_per_account(b: Backend) {
        let app = TestApp::with(b, |f| {
            f.merge(("limits", "on")).merge(("limits_signup", "2/hour"))
        })
        .await;
        assert_eq!(
            app.signup("lena", "lena@example.com", PASSWORD).await,
            Status::SeeOther
        );
        app.logout().await;
        for _ in 0..5 {
            let r = app.login_as("lena", "wrong password!!", "").await;
            assert_eq!(r.status(), Status::UnprocessableEntity);
        }
        let r = app.login_as("lena", PASSWORD, "").await;
        assert_eq!(
            r.status(),
            Status::TooManyRequests,
            "the account backs off, even for the right password"
        );
        assert!(r.headers().get_one("Retry-After").is_some());
        // Sign-ups per client address (2/hour here): the third from one address is refused.
        let signup = |name: &'static str| {
            let app = &app;
            async move {
                let (_, page) = app.get("/signup").await;
                let token = crate::helpers::extract_csrf(&page).unwrap();
                let email = format!("{name}@example.com");
                app.client
                    .post("/signup")
                    .header(ContentType::Form)
                    .remote("203.0.113.80:5555".parse().unwrap())
                    .body(form_body(&[
                        ("csrf_token", &token),
                        ("username", name),
                        ("email", &email),
                        ("password", PASSWORD),
                    ]))
                    .dispatch()
                    .await
                    .status()
            }
        };
        assert_eq!(signup("mona").await, Status::SeeOther);
        assert_eq!(signup("nina").await, Status::SeeOther);
        assert_eq!(signup("olga").await, Status::TooManyRequests);
    }
}

/// A page that needs an account sends a visitor to log in with the reason styled as information,
/// not as a success; the login page on its own shows no notice.
async fn login_detours_say_why_as_information(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.client.get("/ask").dispatch().await;
    assert_eq!(r.status(), Status::SeeOther);
    let to = r.headers().get_one("Location").unwrap().to_string();
    let (s, page) = app.get(&to).await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains(
            "<div class=\"notice notice-info\" role=\"status\">Please log in to continue.</div>"
        ),
        "{page}"
    );
    let (_, page) = app.get("/login").await;
    assert!(!page.contains("class=\"notice "), "{page}");
}
