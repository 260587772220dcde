//! Security (OWASP ASVS 4.0.3 L2 review): the client address, credentials, tokens, two-factor
//! authentication, transport, shared limits, enumeration and the security log.

use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, extract_csrf, ip, proxy, question};

backend_tests!(
    forged_forwarding_headers_do_not_move_the_client,
    a_trusted_proxys_header_names_the_client,
    ipv6_clients_share_limits_per_64,
    csrf_tokens_differ_per_response_and_all_work,
    https_sites_get_secure_cookies_and_hsts,
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
