//! Security (OWASP ASVS 4.0.3 L2 review): the client address, credentials, tokens, two-factor
//! authentication, transport, shared limits, enumeration and the security log.

use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, extract_csrf, ip, json_of, proxy, question};

backend_tests!(
    forged_forwarding_headers_do_not_move_the_client,
    a_trusted_proxys_header_names_the_client,
    ipv6_clients_share_limits_per_64,
    csrf_tokens_differ_per_response_and_all_work,
    https_sites_get_secure_cookies_and_hsts,
    api_tokens_are_scoped_and_expire,
    api_tokens_stay_in_the_api,
    bad_token_forms_are_refused,
    a_password_change_revokes_every_other_way_in,
    reset_links_die_with_the_address_or_password_they_were_for,
    sensitive_changes_need_a_recent_login,
    two_factor_logins_take_each_code_once,
    two_factor_settings_renew_codes_and_turn_off,
    admins_enrol_before_the_admin_area,
    sign_up_never_says_an_address_is_taken,
);

/// A vote on `id` as a new voter, from `peer`, with extra headers; the status.
async fn vote_from(
    app: &TestApp,
    id: i64,
    choice: i64,
    peer: &str,
    headers: Vec<Header<'static>>,
) -> Status {
    let mut req = app
        .client
        .put(format!("/api/v1/questions/{id}/vote"))
        .header(ContentType::JSON)
        .remote(peer.parse().unwrap())
        .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
        .body(format!("{{\"choices\":[{choice}]}}"));
    for h in headers {
        req = req.header(h);
    }
    req.dispatch().await.status()
}

async fn forged_forwarding_headers_do_not_move_the_client(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("network_votes_per_day", 3))).await;
    let id = app
        .question(question("Stuffed by headers?").protection("network"))
        .await;
    let c = app.choices(id).await;
    // A client connecting directly (not a trusted proxy), rotating every forwarding header.
    let mut codes = Vec::new();
    for i in 1..=5 {
        let forged = vec![
            Header::new("X-Forwarded-For", format!("198.51.100.{i}")),
            Header::new("X-Real-IP", format!("203.0.113.{i}")),
            Header::new("Forwarded", format!("for=192.0.2.{i}")),
        ];
        codes.push(vote_from(&app, id, c[0], "203.0.113.200:4000", forged).await);
    }
    assert_eq!(
        codes,
        [
            Status::Ok,
            Status::Ok,
            Status::Ok,
            Status::TooManyRequests,
            Status::TooManyRequests
        ],
        "one network whatever the headers say"
    );
    // Through the trusted proxy, only its header (X-Real-IP) counts: a client's own
    // X-Forwarded-For that the proxy passed along changes nothing.
    let id2 = app
        .question(question("Stuffed through the proxy?").protection("network"))
        .await;
    let c2 = app.choices(id2).await;
    let mut codes = Vec::new();
    for i in 1..=4 {
        let headers = vec![
            ip("203.0.113.77"),
            Header::new("X-Forwarded-For", format!("198.51.100.{i}")),
        ];
        codes.push(vote_from(&app, id2, c2[0], &proxy().to_string(), headers).await);
    }
    assert_eq!(codes[3], Status::TooManyRequests, "{codes:?}");
    // And /metrics is not opened by claiming a loopback address.
    let r = app
        .client
        .get("/metrics")
        .remote("203.0.113.200:4000".parse().unwrap())
        .header(Header::new("X-Real-IP", "127.0.0.1"))
        .header(Header::new("X-Forwarded-For", "127.0.0.1"))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Forbidden);
}

async fn a_trusted_proxys_header_names_the_client(b: Backend) {
    // The proxy sets X-Forwarded-For (configured), so X-Real-IP from it means nothing.
    let app = TestApp::with(b, |f| {
        f.merge(("network_votes_per_day", 1))
            .merge(("client_ip_header", "X-Forwarded-For"))
    })
    .await;
    let id = app
        .question(question("Which header counts?").protection("network"))
        .await;
    let c = app.choices(id).await;
    let via = |xff: &str, real: &str| {
        vec![
            Header::new("X-Forwarded-For", xff.to_string()),
            Header::new("X-Real-IP", real.to_string()),
        ]
    };
    let peer = proxy().to_string();
    // Two clients named by the configured header: two networks, one ballot each.
    assert_eq!(
        vote_from(&app, id, c[0], &peer, via("198.51.100.1", "203.0.113.1")).await,
        Status::Ok
    );
    assert_eq!(
        vote_from(&app, id, c[0], &peer, via("198.51.100.2", "203.0.113.1")).await,
        Status::Ok
    );
    // The same client, whatever X-Real-IP says: its network's one ballot is spent.
    assert_eq!(
        vote_from(&app, id, c[0], &peer, via("198.51.100.1", "203.0.113.9")).await,
        Status::TooManyRequests
    );
    // A chain: the rightmost hop that is not the proxy (a client's own left entry is ignored).
    assert_eq!(
        vote_from(
            &app,
            id,
            c[0],
            &peer,
            via("192.0.2.50, 198.51.100.2", "203.0.113.1")
        )
        .await,
        Status::TooManyRequests
    );
}

async fn ipv6_clients_share_limits_per_64(b: Backend) {
    let app = TestApp::with(b, |f| {
        f.merge(("limits", "on")).merge(("limits_vote", "2/minute"))
    })
    .await;
    let id = app.question(question("From one /64?")).await;
    let c = app.choices(id).await;
    let mut codes = Vec::new();
    for addr in [
        "2001:db8:5:6::1",
        "2001:db8:5:6::2",
        "2001:db8:5:6:ffff:ffff:ffff:ffff",
    ] {
        let peer = format!("[{addr}]:4000");
        codes.push(vote_from(&app, id, c[0], &peer, vec![]).await);
    }
    assert_eq!(
        codes,
        [Status::Ok, Status::Ok, Status::TooManyRequests],
        "every address of one /64 is one client"
    );
    let other = vote_from(&app, id, c[0], "[2001:db8:5:7::1]:4000", vec![]).await;
    assert_eq!(other, Status::Ok, "another /64 is another client");
}

async fn csrf_tokens_differ_per_response_and_all_work(b: Backend) {
    let app = TestApp::new(b).await;
    let id = app.question(question("Masked tokens?")).await;
    let c = app.choices(id).await;
    let path = app.path(id).await;
    // The same visitor (the tracked client keeps the voter cookie) gets the page twice.
    let (_, first) = app.get(&path).await;
    let (_, second) = app.get(&path).await;
    let (t1, t2) = (
        extract_csrf(&first).unwrap(),
        extract_csrf(&second).unwrap(),
    );
    assert_ne!(t1, t2, "a fresh mask in every response (BREACH)");
    for (token, choice) in [(&t1, c[0]), (&t2, c[1])] {
        let r = app.post_vote(id, &[choice], token).await;
        assert_eq!(r.status(), Status::SeeOther, "both tokens are accepted");
    }
    let forged = app.post_vote(id, &[c[0]], "AAAA").await;
    assert_eq!(forged.status(), Status::Forbidden);
    // The content security policy forbids plugins.
    let r = app.client.get(path).dispatch().await;
    let csp = r
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap_or("")
        .to_string();
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(
        r.headers().get_one("Strict-Transport-Security").is_none(),
        "no HSTS over http"
    );
}

async fn https_sites_get_secure_cookies_and_hsts(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("public_url", "https://polls.example"))).await;
    let id = app.question(question("Served over TLS?")).await;
    let r = app.client.get(app.path(id).await).dispatch().await;
    assert_eq!(
        r.headers().get_one("Strict-Transport-Security"),
        Some("max-age=63072000; includeSubDomains")
    );
    let voter_cookie: Vec<String> = r
        .headers()
        .get("Set-Cookie")
        .filter(|c| c.starts_with("bb_voter="))
        .map(str::to_string)
        .collect();
    assert!(
        voter_cookie.iter().all(|c| c.contains("Secure")) && !voter_cookie.is_empty(),
        "{voter_cookie:?}"
    );
    assert!(app.state().config.auth.cookie_secure);
}

/// Makes an API token in the logged-in browser's settings; returns it.
async fn make_token(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let r = app.post_form("/settings", "/settings/tokens", fields).await;
    assert_eq!(r.status(), Status::Created, "{fields:?}");
    assert_eq!(
        r.headers().get_one("Cache-Control"),
        Some("no-store"),
        "a page showing a secret is never stored"
    );
    let page = r.into_string().await.unwrap();
    let start = page.find("value=\"bb_").expect("the token is shown") + "value=\"".len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// A request under the API with a bearer token: its status and JSON body.
async fn with_token(
    app: &TestApp,
    method: rocket::http::Method,
    uri: &str,
    token: &str,
    body: &str,
) -> (Status, serde_json::Value) {
    let r = app
        .client
        .req(method, uri.to_string())
        .header(ContentType::JSON)
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .body(body)
        .dispatch()
        .await;
    json_of(r).await
}

const ASK: &str = r#"{"title":"Asked with a personal token","choices":["Yes","No"]}"#;

async fn api_tokens_are_scoped_and_expire(b: Backend) {
    use rocket::http::Method::{Get, Post, Put};
    let app = TestApp::new(b).await;
    app.signup("scoper", "scoper@example.com", PASSWORD).await;
    app.verify_email("scoper").await;
    let reader = make_token(&app, &[("name", "reader"), ("scope", "read")]).await;
    let asker = make_token(
        &app,
        &[
            ("name", "asker"),
            ("scope", "ask"),
            ("scope", "vote"),
            ("days", "7"),
        ],
    )
    .await;
    let (_, settings) = app.get("/settings").await;
    assert!(settings.contains("reader") && settings.contains("read"));
    assert!(settings.contains("vote ask"), "scopes are listed");
    assert!(settings.contains("Expires"), "the expiry is listed");
    assert!(settings.contains(">never<"), "last use is listed");
    app.logout().await;

    let (s, v) = with_token(&app, Post, "/api/v1/questions", &reader, ASK).await;
    assert_eq!(s, Status::Forbidden, "a read token may not ask: {v}");
    assert_eq!(v["error"]["code"], "insufficient_scope");
    let (s, v) = with_token(&app, Post, "/api/v1/questions", &asker, ASK).await;
    assert_eq!(s, Status::Created, "{v}");
    let id = v["id"].as_i64().expect("the new question's id");
    let choice = v["choices"][0]["id"].as_i64().expect("a choice id");
    let ballot = format!("{{\"choices\":[{choice}]}}");
    let vote_uri = format!("/api/v1/questions/{id}/vote");
    let (s, v) = with_token(&app, Put, &vote_uri, &reader, &ballot).await;
    assert_eq!(s, Status::Forbidden, "a read token may not vote: {v}");
    let (s, v) = with_token(&app, Put, &vote_uri, &asker, &ballot).await;
    assert!(s.code < 300, "a vote token votes: {s} {v}");
    let (s, _) = with_token(&app, Get, "/api/v1/questions", &reader, "").await;
    assert_eq!(s, Status::Ok);

    // Seven days later the asker's token is dead.
    app.db
        .write(|c| {
            use beebeta::db::schema::api_tokens;
            use diesel::prelude::*;
            let past = beebeta::models::now() - chrono::Duration::seconds(1);
            diesel::update(api_tokens::table.filter(api_tokens::name.eq("asker")))
                .set(api_tokens::expires_at.eq(Some(past)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (s, v) = with_token(&app, Post, "/api/v1/questions", &asker, ASK).await;
    assert_eq!(s, Status::Unauthorized, "expired: {v}");
    assert_eq!(v["error"]["code"], "invalid_token");
    let (s, v) = with_token(&app, Put, &vote_uri, &asker, &ballot).await;
    assert_eq!(
        s,
        Status::Unauthorized,
        "an expired token is not an anonymous voter: {v}"
    );
    let (s, _) = with_token(&app, Post, "/api/v1/questions", "bb_forged", ASK).await;
    assert_eq!(s, Status::Unauthorized);
}

async fn api_tokens_stay_in_the_api(b: Backend) {
    let app = TestApp::new(b).await;
    crate::admin::login_admin(&app).await;
    let token = make_token(
        &app,
        &[
            ("name", "all"),
            ("scope", "read"),
            ("scope", "vote"),
            ("scope", "ask"),
        ],
    )
    .await;
    app.logout().await;
    let bearer = || Header::new("Authorization", format!("Bearer {token}"));
    for page in ["/settings", "/admin", "/ask"] {
        let r = app.client.get(page).header(bearer()).dispatch().await;
        assert_eq!(
            r.status(),
            Status::SeeOther,
            "{page}: a bearer token is no login on an HTML page"
        );
        assert!(
            r.headers()
                .get_one("Location")
                .unwrap_or("")
                .starts_with("/login"),
            "{page}"
        );
    }
    // Nor does it pass a form's CSRF binding.
    let r = app
        .client
        .post("/settings/tokens")
        .header(ContentType::Form)
        .header(bearer())
        .body("name=sneaky&scope=read")
        .dispatch()
        .await;
    assert!(r.status().code >= 300, "{}", r.status());
    let count: i64 = app
        .db
        .run(|c| {
            use beebeta::db::schema::api_tokens;
            use diesel::prelude::*;
            Ok(api_tokens::table.count().get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(count, 1, "no token was made");
}

async fn bad_token_forms_are_refused(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("picky", "picky@example.com", PASSWORD).await;
    app.verify_email("picky").await;
    for fields in [
        vec![("name", "none")],
        vec![("name", "admin"), ("scope", "admin")],
        vec![("name", "zero"), ("scope", "read"), ("days", "0")],
        vec![("name", "long"), ("scope", "read"), ("days", "366")],
        vec![("name", "word"), ("scope", "read"), ("days", "forever")],
        vec![("name", ""), ("scope", "read")],
    ] {
        let r = app
            .post_form("/settings", "/settings/tokens", &fields)
            .await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "{fields:?}");
        let page = r.into_string().await.unwrap();
        assert!(!page.contains("value=\"bb_"), "{fields:?}: no token made");
    }
    let make = make_token(
        &app,
        &[("name", "year"), ("scope", "read"), ("days", "365")],
    )
    .await;
    assert!(make.starts_with("bb_"));
}

/// Makes every session's last proof of who its user is `minutes` old.
pub(crate) async fn age_sessions(app: &TestApp, minutes: i64) {
    app.db
        .write(move |c| {
            use beebeta::db::schema::sessions;
            use diesel::prelude::*;
            let then = beebeta::models::now() - chrono::Duration::minutes(minutes);
            diesel::update(sessions::table)
                .set(sessions::authenticated_at.eq(Some(then)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Plants what an impostor may hold from before the rules: an identity linked while the email was
/// unverified and a live API token with every scope. Returns the token.
pub(crate) async fn plant_access(app: &TestApp, uid: i64, provider: &str, sub: &str) -> String {
    let (p, s) = (provider.to_string(), sub.to_string());
    app.db
        .write(move |c| {
            let new = beebeta::models::identity::NewIdentity {
                user_id: uid,
                provider: &p,
                subject: &s,
                email: None,
                verified: false,
                now: beebeta::models::now(),
            };
            Ok(beebeta::models::identity::link(c, &new)?)
        })
        .await
        .unwrap();
    beebeta::auth::session::create_api_token(
        &app.db,
        uid,
        "planted",
        beebeta::domain::Scopes::parse(["read vote ask"]).unwrap(),
        beebeta::domain::TokenLifetime::parse("").unwrap(),
    )
    .await
    .unwrap()
}

/// Asks for a reset link for `email`, follows it from the outbox and sets `password`.
pub(crate) async fn reset_password_by_mail(app: &TestApp, email: &str, password: &str) {
    let link = request_reset(app, email).await;
    set_password_by_link(app, &link, password).await
}

/// Asks for a reset link for `email`; the link's path from the outbox.
pub(crate) async fn request_reset(app: &TestApp, email: &str) -> String {
    let (_, page) = app.get("/reset").await;
    let csrf = extract_csrf(&page).unwrap();
    let r = app
        .client
        .post("/reset")
        .header(ContentType::Form)
        .body(crate::helpers::form_body(&[
            ("csrf_token", &csrf),
            ("email", email),
        ]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    crate::email::link(app, email, "/reset/confirm")
}

/// Sets a password with a reset link; panics unless it worked.
pub(crate) async fn set_password_by_link(app: &TestApp, link: &str, password: &str) {
    let status = try_reset_link(app, link, password).await;
    assert_eq!(status, Status::SeeOther, "the reset link works");
}

/// Tries a reset link: the status of setting `password` with it.
pub(crate) async fn try_reset_link(app: &TestApp, link: &str, password: &str) -> Status {
    let token = link.split("token=").nth(1).unwrap().to_string();
    let (_, form) = app.get(link).await;
    let csrf = extract_csrf(&form).unwrap_or_default();
    app.client
        .post("/reset/confirm")
        .header(ContentType::Form)
        .body(crate::helpers::form_body(&[
            ("csrf_token", &csrf),
            ("token", &token),
            ("password", password),
        ]))
        .dispatch()
        .await
        .status()
}

/// The number of live sessions of a user.
async fn sessions_of(app: &TestApp, uid: i64) -> usize {
    app.db
        .run(move |c| Ok(beebeta::models::session::for_user(c, uid, beebeta::models::now())?.len()))
        .await
        .unwrap()
}

/// Another device's session for `uid`.
async fn other_device(app: &TestApp, uid: i64) {
    app.db
        .write(move |c| {
            let now = beebeta::models::now();
            let row = beebeta::models::session::SessionRow {
                id: format!("{:064x}", rand::random::<u128>()),
                user_id: uid,
                created_at: now,
                last_seen_at: now,
                expires_at: now + chrono::Duration::days(1),
                user_agent: Some("Other device".into()),
                authenticated_at: Some(now),
            };
            Ok(beebeta::models::session::create(c, &row)?)
        })
        .await
        .unwrap();
}

fn mails_to(app: &TestApp, to: &str, subject: &str) -> usize {
    crate::email::outbox(app)
        .iter()
        .filter(|m| m.to == to && m.subject == subject)
        .count()
}

async fn a_password_change_revokes_every_other_way_in(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("smtp_url", "memory"))).await;
    app.signup("pat", "pat@example.com", PASSWORD).await;
    app.verify_email("pat").await;
    let uid = app.user_id("pat").await;
    let token = make_token(&app, &[("name", "ci"), ("scope", "ask")]).await;
    assert_eq!(
        mails_to(&app, "pat@example.com", "A new API token"),
        1,
        "new tokens are told"
    );
    let untrusted = plant_access(&app, uid, "mock", "impostor").await;
    app.db
        .write(move |c| {
            let new = beebeta::models::identity::NewIdentity {
                user_id: uid,
                provider: "mockgh",
                subject: "pat-own",
                email: None,
                verified: true,
                now: beebeta::models::now(),
            };
            Ok(beebeta::models::identity::link(c, &new)?)
        })
        .await
        .unwrap();
    other_device(&app, uid).await;
    assert_eq!(sessions_of(&app, uid).await, 2);

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
    assert_eq!(r.headers().get_one("Location"), Some("/settings"));
    drop(r);
    assert_eq!(
        sessions_of(&app, uid).await,
        1,
        "the other device is logged out"
    );
    let (s, page) = app.get("/settings").await;
    assert_eq!(s, Status::Ok, "this browser stays logged in");
    assert!(
        page.contains("Password changed"),
        "in the security activity"
    );
    assert!(page.contains("API token created"));
    for t in [&token, &untrusted] {
        let (s, _) = with_token(
            &app,
            rocket::http::Method::Post,
            "/api/v1/questions",
            t,
            ASK,
        )
        .await;
        assert_eq!(s, Status::Unauthorized, "every API token is revoked");
    }
    let providers: Vec<String> = app
        .db
        .run(move |c| {
            Ok(beebeta::models::identity::for_user(c, uid)?
                .into_iter()
                .map(|i| i.provider)
                .collect())
        })
        .await
        .unwrap();
    assert_eq!(
        providers,
        vec!["mockgh".to_string()],
        "only the identity linked while verified stays"
    );
    assert_eq!(
        mails_to(&app, "pat@example.com", "Your password was changed"),
        1
    );
    // A revoked token in use shows in the security activity.
    let (_, page) = app.get("/settings").await;
    assert!(page.contains("A revoked or expired API token was used"));

    // Logging out this browser too is a choice.
    let r = app
        .post_form(
            "/settings",
            "/settings/password",
            &[
                ("current_password", "a brand new passphrase"),
                ("password", "yet another passphrase"),
                ("logout_here", "true"),
            ],
        )
        .await;
    assert_eq!(r.headers().get_one("Location"), Some("/login"));
    drop(r);
    assert_eq!(sessions_of(&app, uid).await, 0);
}

async fn reset_links_die_with_the_address_or_password_they_were_for(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("smtp_url", "memory"))).await;
    app.signup("rex", "rex@example.com", PASSWORD).await;
    app.verify_email("rex").await;
    let before_email_change = request_reset(&app, "rex@example.com").await;
    let r = app
        .post_form(
            "/settings",
            "/settings/email",
            &[("email", "rex@new.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    assert_eq!(
        mails_to(&app, "rex@example.com", "Your email address was changed"),
        1,
        "the old address is told"
    );
    assert_eq!(
        try_reset_link(&app, &before_email_change, "an owner's new passphrase").await,
        Status::BadRequest,
        "a link to the old address dies with it"
    );
    app.verify_email("rex").await;
    app.login_as("rex", PASSWORD, "").await;
    let before_password_change = request_reset(&app, "rex@new.example").await;
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
    drop(r);
    assert_eq!(
        try_reset_link(&app, &before_password_change, "an owner's new passphrase").await,
        Status::BadRequest,
        "a password change kills reset links"
    );
    let fresh = request_reset(&app, "rex@new.example").await;
    set_password_by_link(&app, &fresh, "an owner's new passphrase").await;
    assert_eq!(
        mails_to(&app, "rex@new.example", "Your password was reset"),
        1
    );
}

async fn sensitive_changes_need_a_recent_login(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("sid", "sid@example.com", PASSWORD).await;
    app.verify_email("sid").await;
    age_sessions(&app, 11).await;
    let r = app
        .post_form(
            "/settings",
            "/settings/tokens",
            &[("name", "late"), ("scope", "read")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/confirm?next=%2Fsettings")
    );
    drop(r);
    let (s, page) = app.get("/confirm?next=%2Fsettings").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("Confirm it is you"));
    let r = app
        .post_form(
            "/confirm?next=%2Fsettings",
            "/confirm",
            &[("password", "not my password!"), ("next", "/settings")],
        )
        .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    drop(r);
    let r = app
        .post_form(
            "/confirm?next=%2Fsettings",
            "/confirm",
            &[("password", PASSWORD), ("next", "/settings")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/settings"));
    drop(r);
    make_token(&app, &[("name", "now"), ("scope", "read")]).await;
    let (_, page) = app.get("/settings").await;
    assert!(
        page.contains("Logged in"),
        "the sign-up's login is in the security activity"
    );
    assert!(
        page.contains("Failed login"),
        "so is the wrong password at /confirm"
    );
    // Off-site `next` is never followed.
    age_sessions(&app, 11).await;
    let r = app
        .post_form(
            "/confirm",
            "/confirm",
            &[("password", PASSWORD), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(r.headers().get_one("Location"), Some("/"));
}

/// Turns two-factor authentication on through the settings (the logged-in user's session is
/// recent); returns the authenticator's URI, the recovery codes shown and the code that
/// confirmed it.
pub(crate) async fn enrol(app: &TestApp, account: &str) -> (String, Vec<String>, String) {
    let (s, page) = app.get("/settings/two-factor").await;
    assert_eq!(s, Status::Ok, "{page}");
    assert!(page.contains("<svg"), "a QR code");
    let start = page
        .find("class=\"totp-secret\">")
        .expect("the secret for typing")
        + 20;
    let secret = &page[start..start + page[start..].find('<').unwrap()];
    let uri = format!("otpauth://totp/Beebeta:{account}?secret={secret}&issuer=Beebeta");
    let r = app
        .post_form(
            "/settings/two-factor",
            "/settings/two-factor",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "a wrong first code"
    );
    drop(r);
    let first = crate::helpers::totp_code(&uri, 0);
    let r = app
        .post_form(
            "/settings/two-factor",
            "/settings/two-factor",
            &[("code", &first)],
        )
        .await;
    assert_eq!(r.status(), Status::Created);
    assert_eq!(r.headers().get_one("Cache-Control"), Some("no-store"));
    let page = r.into_string().await.unwrap();
    let codes: Vec<String> = page
        .split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes");
    (uri, codes, first)
}

async fn two_factor_logins_take_each_code_once(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("smtp_url", "memory"))).await;
    app.signup("tess", "tess@example.com", PASSWORD).await;
    app.verify_email("tess").await;
    let (uri, codes, first) = enrol(&app, "tess").await;
    assert_eq!(
        mails_to(&app, "tess@example.com", "Two-factor authentication is on"),
        1
    );
    app.logout().await;

    // The password step alone logs nobody in.
    let r = app.login_as("tess", PASSWORD, "/settings").await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/login/2fa"));
    drop(r);
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::SeeOther, "not logged in between the steps");
    let (s, page) = app.get("/login/2fa").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("action=\"/login/2fa\""));
    assert!(page.contains("name=\"code\"") && page.contains("name=\"csrf_token\""));
    for wrong in ["", "not a code", "99999999999999999999"] {
        let r = app.second_factor(wrong).await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "{wrong:?}");
    }
    // The code that confirmed the enrolment (still inside the one step of clock skew allowed,
    // even if the half minute turned meanwhile) is used up.
    assert_eq!(
        app.second_factor(&first).await.status(),
        Status::UnprocessableEntity,
        "the code that confirmed the enrolment is used up"
    );
    let code = crate::helpers::totp_code(&uri, 1);
    let r = app.second_factor(&code).await;
    assert_eq!(r.status(), Status::SeeOther);
    assert_eq!(r.headers().get_one("Location"), Some("/settings"));
    drop(r);
    let (s, page) = app.get("/settings").await;
    assert_eq!(s, Status::Ok);
    assert!(
        page.contains("Failed login"),
        "wrong codes are in the security activity"
    );

    // The same code again (a replay within its window) is refused.
    app.logout().await;
    app.login_as("tess", PASSWORD, "").await;
    let r = app.second_factor(&code).await;
    assert_eq!(r.status(), Status::UnprocessableEntity, "a code works once");
    drop(r);
    // A recovery code works once, and says how many are left.
    let r = app.second_factor(&codes[3].to_uppercase()).await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    let (_, settings) = app.get("/settings").await;
    assert!(settings.contains("9 are left"), "{settings}");
    assert_eq!(
        mails_to(&app, "tess@example.com", "A recovery code was used"),
        1
    );
    app.logout().await;
    app.login_as("tess", PASSWORD, "").await;
    let r = app.second_factor(&codes[3]).await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "a recovery code works once"
    );
    drop(r);
    // Five wrong codes: back to the password.
    for _ in 0..4 {
        drop(app.second_factor("000000").await);
    }
    let (s, _) = app.get("/login/2fa").await;
    assert_eq!(s, Status::SeeOther, "the pending login is gone");
}

async fn two_factor_settings_renew_codes_and_turn_off(b: Backend) {
    let app = TestApp::with(b, |f| f.merge(("smtp_url", "memory"))).await;
    app.signup("uma", "uma@example.com", PASSWORD).await;
    // Unverified (after a change of address): no two-factor changes.
    app.unverify_email("uma").await;
    let (s, _) = app.get("/settings/two-factor").await;
    assert_eq!(s, Status::Forbidden);
    app.verify_email("uma").await;
    let (uri, old_codes, _) = enrol(&app, "uma").await;
    let (s, page) = app.get("/settings/two-factor").await;
    assert_eq!(s, Status::Ok);
    assert!(!page.contains("<svg"), "no new secret while it is on");
    let r = app
        .post_form(
            "/settings/two-factor",
            "/settings/two-factor/recovery-codes",
            &[("code", &old_codes[0])],
        )
        .await;
    assert_eq!(r.status(), Status::Created);
    let page = r.into_string().await.unwrap();
    let new_code = page
        .split("<li><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(mails_to(&app, "uma@example.com", "New recovery codes"), 1);
    // Changes need a recent login.
    age_sessions(&app, 11).await;
    let (s, _) = app.get("/settings/two-factor").await;
    assert_eq!(s, Status::SeeOther, "sent to confirm");
    app.post_form(
        "/confirm",
        "/confirm",
        &[("password", PASSWORD), ("next", "/settings")],
    )
    .await;
    let r = app
        .post_form(
            "/settings/two-factor",
            "/settings/two-factor/disable",
            &[("code", &old_codes[1])],
        )
        .await;
    assert_eq!(
        r.status(),
        Status::UnprocessableEntity,
        "old recovery codes stopped working"
    );
    drop(r);
    let r = app
        .post_form(
            "/settings/two-factor",
            "/settings/two-factor/disable",
            &[("code", &new_code)],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    drop(r);
    assert_eq!(
        mails_to(&app, "uma@example.com", "Two-factor authentication is off"),
        1
    );
    app.logout().await;
    let r = app.login_as("uma", PASSWORD, "/").await;
    assert_eq!(
        r.headers().get_one("Location"),
        Some("/"),
        "no second step any more"
    );
    drop(r);
    let _ = uri;
}

async fn admins_enrol_before_the_admin_area(b: Backend) {
    let app = TestApp::new(b).await;
    app.signup("vic", "vic@example.com", PASSWORD).await;
    app.verify_email("vic").await;
    let uid = app.user_id("vic").await;
    app.db
        .write(move |c| {
            Ok(beebeta::models::user::set_role(
                c,
                uid,
                beebeta::models::user::ROLE_ADMIN,
            )?)
        })
        .await
        .unwrap();
    for page in ["/admin", "/admin/reports"] {
        let r = app.client.get(page).dispatch().await;
        assert_eq!(r.status(), Status::SeeOther, "{page}");
        let to = r.headers().get_one("Location").unwrap().to_string();
        assert!(
            to.starts_with("/settings/two-factor?next=%2Fadmin"),
            "{page}: {to}"
        );
    }
    let (uri, _, _) = enrol(&app, "vic").await;
    let (s, _) = app.get("/admin").await;
    assert_eq!(s, Status::Ok, "enrolled admins get in");
    // Admins keep it on.
    let r = app
        .post_form(
            "/settings/two-factor",
            "/settings/two-factor/disable",
            &[("code", &crate::helpers::totp_code(&uri, 1))],
        )
        .await;
    assert_eq!(r.status(), Status::Forbidden);
}

/// POSTs the sign-up form; the response's status, `Location` and the page it leads to.
pub(crate) async fn sign_up_form(
    app: &TestApp,
    username: &str,
    email: &str,
) -> (Status, String, String) {
    let (_, page) = app.get("/signup").await;
    let csrf = extract_csrf(&page).unwrap();
    let r = app
        .client
        .post("/signup")
        .header(ContentType::Form)
        .body(crate::helpers::form_body(&[
            ("csrf_token", &csrf),
            ("username", username),
            ("email", email),
            ("password", "a perfectly fine passphrase"),
        ]))
        .dispatch()
        .await;
    let (status, to) = (
        r.status(),
        r.headers().get_one("Location").unwrap_or("").to_string(),
    );
    drop(r);
    let (_, landed) = app.get(&to).await;
    (status, to, landed.replace(email, "ADDRESS"))
}

async fn sign_up_never_says_an_address_is_taken(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.signup("owner", "owner@example.com", PASSWORD).await,
        Status::SeeOther
    );
    app.logout().await;
    let before = crate::email::outbox(&app).len();
    let taken = sign_up_form(&app, "squatter", "OWNER@example.com").await;
    let free = sign_up_form(&app, "newcomer", "new@example.com").await;
    assert_eq!(taken.0, Status::SeeOther);
    assert_eq!((taken.0, &taken.1), (free.0, &free.1), "the same answer");
    assert_eq!(taken.2, free.2, "the same page");
    assert!(free.2.contains("Check your inbox"));
    // Nobody is logged in and no account exists before the link is followed.
    let (s, _) = app.get("/settings").await;
    assert_eq!(s, Status::SeeOther);
    let users = |name: &'static str| {
        let db = app.db.clone();
        async move {
            db.run(move |c| Ok(beebeta::models::user::find_by_username(c, name)?))
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(!users("squatter").await && !users("newcomer").await);
    // The owner hears of the attempt; the newcomer gets the link.
    let sent = crate::email::outbox(&app);
    let notice = sent[before..]
        .iter()
        .find(|m| m.to.eq_ignore_ascii_case("owner@example.com"))
        .expect("the owner is told");
    assert_eq!(notice.subject, "Someone tried to sign up with your address");
    assert!(
        !notice.body.contains("/signup/confirm"),
        "no link for the squatter"
    );
    let link = app.signup_link("new@example.com", before).expect("a link");
    // A mail scanner opening the link makes nothing; the button does.
    let (s, _) = app.get(&link).await;
    assert_eq!(s, Status::Ok);
    assert!(!users("newcomer").await);
    assert_eq!(app.finish_signup(&link).await, Status::SeeOther);
    assert!(users("newcomer").await);
    let (s, page) = app.get("/settings").await;
    assert_eq!(s, Status::Ok);
    assert!(page.contains("verified"), "the link verified the address");
    assert_eq!(
        app.finish_signup(&link).await,
        Status::BadRequest,
        "a link works once"
    );
}
