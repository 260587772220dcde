//! Request ids, `/metrics` content and who may read it.

use rocket::http::{Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, ip, proxy, question};

const OUTSIDE: &str = "203.0.113.7:5555";

async fn request_ids_are_echoed_when_sane(backend: Backend) {
    let app = TestApp::new(backend).await;
    let sane = format!("edge-{}_x", uuid::Uuid::new_v4().simple());
    let r = app
        .client
        .get("/healthz")
        .header(Header::new("X-Request-Id", sane.clone()))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.headers().get_one("X-Request-Id"), Some(sane.as_str()));

    let too_long = "a".repeat(65);
    for bad in [
        "has space",
        "semi;colon",
        "new\u{7f}line",
        too_long.as_str(),
    ] {
        let r = app
            .client
            .get("/healthz")
            .header(Header::new("X-Request-Id", bad.to_string()))
            .dispatch()
            .await;
        let got = r
            .headers()
            .get_one("X-Request-Id")
            .expect("an id")
            .to_string();
        assert_ne!(got, bad, "an unsafe incoming id is replaced");
        assert!(uuid::Uuid::parse_str(&got).is_ok(), "a fresh uuid: {got}");
    }

    let mut seen = std::collections::HashSet::new();
    for uri in ["/healthz", "/", "/no/such/page"] {
        let r = app.client.get(uri).dispatch().await;
        let id = r
            .headers()
            .get_one("X-Request-Id")
            .expect("every response has an id");
        assert!(uuid::Uuid::parse_str(id).is_ok());
        assert!(seen.insert(id.to_string()), "ids differ between requests");
    }
}

/// Reads a counter or gauge sample (`name{labels} value`) from a scrape.
fn sample(scrape: &str, name: &str, labels_contain: &[&str]) -> Option<f64> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels_contain.iter().all(|s| l.contains(s)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let r = app.client.get("/metrics").remote(proxy()).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert!(
        r.content_type()
            .is_some_and(|ct| ct.top() == "text" && ct.sub() == "plain")
    );
    r.into_string().await.unwrap()
}

async fn metrics_count_requests_by_route_template(backend: Backend) {
    let app = TestApp::new(backend).await;
    let qid = app
        .question(question("Which server metrics matter most?"))
        .await;
    let path = app.path(qid).await;
    let before = scrape(&app).await;
    let route_label = "route=\"/q/<id>/<slug>\"";
    let ok = ["method=\"GET\"", route_label, "status=\"200\""];
    let count_before = sample(&before, "beebeta_http_requests_total", &ok).unwrap_or(0.0);
    for _ in 0..3 {
        let (status, _) = app.get(&path).await;
        assert_eq!(status, Status::Ok);
    }
    let (status, _) = app.get("/q/999999999/nothing-here").await;
    assert_eq!(status, Status::NotFound);

    let after = scrape(&app).await;
    let count_after = sample(&after, "beebeta_http_requests_total", &ok).expect("counted");
    // The recorder is per process and other tests run at once: at least our three.
    assert!(
        count_after >= count_before + 3.0,
        "{count_before} -> {count_after}"
    );
    assert!(
        sample(&after, "beebeta_http_request_duration_seconds_count", &ok)
            .is_some_and(|n| n >= 3.0)
    );
    assert!(after.contains("beebeta_http_request_duration_seconds_bucket{"));
    assert!(
        sample(
            &after,
            "beebeta_http_requests_total",
            &[route_label, "status=\"404\""]
        )
        .is_some()
    );
    // Look at the names and labels only: a sample's value may hold any digits.
    let raw: Vec<&str> = after
        .lines()
        .map(|l| l.rsplit_once(' ').map_or(l, |(labels, _)| labels))
        .filter(|l| l.contains(&format!("{path}\"")) || l.contains("999999999"))
        .collect();
    assert!(
        raw.is_empty(),
        "labels hold route templates, never raw paths: {raw:?}"
    );
    assert!(
        !after.contains("route=\"/metrics\""),
        "scrapes are not counted"
    );

    let connections = sample(&after, "beebeta_db_pool_connections", &[]).expect("pool gauge");
    let idle = sample(&after, "beebeta_db_pool_idle", &[]).expect("idle gauge");
    assert!(connections >= 1.0 && idle <= connections);
    for name in [
        "beebeta_cache_hits_total",
        "beebeta_cache_misses_total",
        "beebeta_cache_errors_total",
    ] {
        assert!(sample(&after, name, &[]).is_some(), "{name} is exported");
    }
    if cfg!(target_os = "linux") {
        let rss = sample(&after, "beebeta_process_resident_memory_bytes", &[]).expect("rss");
        assert!(rss > 1_000_000.0);
    }
}

async fn metrics_are_refused_outside_the_allow_list(backend: Backend) {
    let app = TestApp::new(backend).await;
    let outside = app
        .client
        .get("/metrics")
        .remote(OUTSIDE.parse().unwrap())
        .dispatch()
        .await;
    assert_eq!(outside.status(), Status::Forbidden);
    let body = outside.into_string().await.unwrap_or_default();
    assert!(!body.contains("beebeta_http_requests_total"));

    // Through the trusted local proxy, the client is the address it reports.
    let proxied = app
        .client
        .get("/metrics")
        .remote(proxy())
        .header(ip("203.0.113.7"))
        .dispatch()
        .await;
    assert_eq!(proxied.status(), Status::Forbidden);
    let unknown = app.client.get("/metrics").dispatch().await;
    assert_eq!(
        unknown.status(),
        Status::Forbidden,
        "no address, no metrics"
    );

    let custom = TestApp::with(backend, |f| f.merge(("metrics_allow", "203.0.113.0/24"))).await;
    let allowed = custom
        .client
        .get("/metrics")
        .remote(OUTSIDE.parse().unwrap())
        .dispatch()
        .await;
    assert_eq!(allowed.status(), Status::Ok);
    let local = custom
        .client
        .get("/metrics")
        .remote(proxy())
        .dispatch()
        .await;
    assert_eq!(local.status(), Status::Forbidden);
}

async fn sentry_test_routes_are_off_by_default(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (status, _) = app.get("/_sentry/panic").await;
    assert_eq!(status, Status::NotFound);
    let on = TestApp::with(backend, |f| f.merge(("sentry_test_route", true))).await;
    let r = on
        .client
        .post("/_sentry/fail/7")
        .header(rocket::http::ContentType::Form)
        .body("secret=x")
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::InternalServerError);
}

backend_tests!(
    request_ids_are_echoed_when_sane,
    metrics_count_requests_by_route_template,
    metrics_are_refused_outside_the_allow_list,
    sentry_test_routes_are_off_by_default,
);

/// A first start on the embedded defaults (empty SQLite database, demo content seeded) logs no
/// error and no Rocket warning, says where it serves in one info line, and keeps the report
/// rebuilds out of the default log.
#[test]
fn a_first_start_logs_quietly() {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::process::Command;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("out.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_beebeta"))
        .current_dir(dir.path())
        .env("BEEBETA_CONFIG", dir.path().join("none.toml"))
        .env(
            "BEEBETA_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("first.db").display()),
        )
        .env("BEEBETA_SECRET_KEY", crate::helpers::SECRET)
        .env("BEEBETA_MEDIA", "memory://")
        .env_remove("BEEBETA_LOG_FILTER")
        .env_remove("BEEBETA_SEED_DEMO")
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("the beebeta binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let healthy = || {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        use std::io::Write;
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut r = String::new();
        let _ = s.read_to_string(&mut r);
        r.starts_with("HTTP/1.1 200")
    };
    while !healthy() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server came up");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The report refresher builds its reports right after launch.
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("seeded demo content"),
        "a first start: {text}"
    );
    assert!(!text.contains("ERROR"), "no error on a first start: {text}");
    assert!(
        !text.contains("has launched"),
        "Rocket's WARN launch line is filtered: {text}"
    );
    assert!(
        !text.contains("report built"),
        "report rebuilds log at debug: {text}"
    );
    let serving: Vec<&str> = text.lines().filter(|l| l.contains("serving")).collect();
    assert_eq!(serving.len(), 1, "{text}");
    assert!(serving[0].contains("INFO"), "{text}");
    assert!(
        serving[0].contains(&format!("http://127.0.0.1:{port}")),
        "{text}"
    );
}
