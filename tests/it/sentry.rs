//! Sentry reporting, end to end: the real binary with `BEEBETA_SENTRY_DSN` pointing at a local
//! receiver standing in for Sentry's envelope endpoint (`POST /api/<project>/envelope/`). Runs on
//! SQLite only: it checks the process (startup, shutdown, the transport), not the database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::SECRET;

/// One received envelope: request path and body.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A Sentry stand-in that answers 200 to every envelope and keeps them.
fn receiver() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Received = Arc::default();
    let store = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(envelope) = read_request(stream) {
                store.lock().unwrap().push(envelope);
            }
        }
    });
    (port, got)
}

/// A Sentry that accepts connections and never answers.
fn black_hole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

fn read_request(stream: TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut length, mut gzip) = (0usize, false);
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        gzip |= h.starts_with("content-encoding:") && h.contains("gzip");
    }
    let mut raw = vec![0u8; length];
    reader.read_exact(&mut raw).ok()?;
    let body = if gzip {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .ok()?;
        s
    } else {
        String::from_utf8_lossy(&raw).into_owned()
    };
    let mut stream = stream;
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    Some((path, body))
}

/// The app binary, serving on a free port with Sentry at `sentry_port`.
struct Server {
    child: Child,
    port: u16,
    release: String,
    environment: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(sentry_port: u16) -> Server {
        Server::start_with(sentry_port, &[])
    }

    /// A server with more environment settings.
    fn start_with(sentry_port: u16, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let release = format!("beebeta@itest-{}", &tag[..8]);
        let environment = format!("itest-{}", &tag[8..16]);
        let child = Command::new(env!("CARGO_BIN_EXE_beebeta"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("BEEBETA_CONFIG", dir.path().join("none.toml"))
            .env(
                "BEEBETA_DATABASE_URL",
                format!("sqlite://{}", dir.path().join("t.db").display()),
            )
            .env("BEEBETA_SECRET_KEY", SECRET)
            .env("BEEBETA_SEED_DEMO", "false")
            .env("BEEBETA_HOT_REFRESH_SECS", "0")
            .env("BEEBETA_MEDIA", "memory://")
            .env("BEEBETA_LOG_FILTER", "warn")
            .env(
                "BEEBETA_SENTRY_DSN",
                format!("http://publickey@127.0.0.1:{sentry_port}/42"),
            )
            .env("BEEBETA_SENTRY_TEST_ROUTE", "true")
            .env("BEEBETA_RELEASE", &release)
            .env("BEEBETA_ENVIRONMENT", &environment)
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the beebeta binary starts");
        let server = Server {
            child,
            port,
            release,
            environment,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.request("GET /healthz", &[], "").map(|r| r.0) != Some(200) {
            assert!(Instant::now() < deadline, "the server came up");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Sends one request (`"METHOD /path"`); returns (status, the response's X-Request-Id).
    fn request(&self, line: &str, headers: &[(&str, &str)], body: &str) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let mut req = format!("{line} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        s.write_all(req.as_bytes()).ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let status = out.split_whitespace().nth(1)?.parse().ok()?;
        let id = out
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("x-request-id")
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default();
        Some((status, id))
    }

    /// Sends SIGTERM and returns how long the process took to exit.
    fn stop(mut self) -> Duration {
        let started = Instant::now();
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let deadline = started + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not stop within 30 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        started.elapsed()
    }
}

/// A test that fails before `stop` still ends its server (a child is not killed on drop).
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until `n` envelopes arrived (or 10 s passed); returns them all.
fn wait_for(got: &Received, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().unwrap().len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    got.lock().unwrap().clone()
}

#[test]
fn a_forced_error_sends_one_scrubbed_envelope() {
    let (sentry_port, got) = receiver();
    let server = Server::start(sentry_port);
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (cookie, auth, form, query) = (
        format!("cookie{tag}"),
        format!("auth{tag}"),
        format!("form{tag}"),
        format!("query{tag}"),
    );
    let request_id = format!("itest-{tag}");
    let (status, echoed) = server
        .request(
            &format!("POST /_sentry/fail/4242?token={query}"),
            &[
                ("Cookie", &format!("session={cookie}")),
                ("Authorization", &format!("Bearer {auth}")),
                ("X-Request-Id", &request_id),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &format!("secret={form}"),
        )
        .expect("the server answers");
    assert_eq!(status, 500);
    assert_eq!(echoed, request_id);

    let envelopes = wait_for(&got, 1);
    // Anything else (a second event for the same error) would arrive by now.
    std::thread::sleep(Duration::from_millis(1500));
    let envelopes_later = got.lock().unwrap().clone();
    assert_eq!(envelopes.len(), 1, "one envelope: {envelopes:?}");
    assert_eq!(
        envelopes_later.len(),
        1,
        "exactly one envelope: {:?}",
        envelopes_later
            .iter()
            .map(|(p, b)| format!("{p}: {}", b.chars().take(600).collect::<String>()))
            .collect::<Vec<_>>()
    );
    let (path, body) = &envelopes[0];
    assert_eq!(path, "/api/42/envelope/");
    assert!(body.contains("\"type\":\"event\""), "{body}");
    assert!(
        body.contains("/_sentry/fail/<n>"),
        "the route template: {body}"
    );
    assert!(body.contains(&request_id), "the request id");
    assert!(body.contains(&server.release), "the release");
    assert!(body.contains(&server.environment), "the environment");
    for secret in [&cookie, &auth, &form, &query] {
        assert!(!body.contains(secret.as_str()), "{secret} leaked: {body}");
    }
    assert!(!body.contains("fail/4242"), "no raw URL with ids");

    // A panic in a handler is ONE event: the 500 it became, with the route, the request id and
    // the panic's message.
    let (status, _) = server
        .request(
            "GET /_sentry/panic",
            &[("X-Request-Id", &format!("panic-{tag}"))],
            "",
        )
        .unwrap();
    assert_eq!(status, 500);
    let all = wait_for(&got, 2);
    std::thread::sleep(Duration::from_millis(1500));
    let later = got.lock().unwrap().clone();
    assert_eq!(later.len(), 2, "one envelope for the panic: {later:?}");
    let (_, body) = &all[1];
    assert!(body.contains("forced panic"), "the panic message: {body}");
    assert!(body.contains("/_sentry/panic"), "the route: {body}");
    assert!(
        body.contains(&format!("panic-{tag}")),
        "the request id: {body}"
    );
    assert!(body.contains(&server.release), "the release: {body}");

    // An error-level log outside a request is one event, with its message and fields.
    let (status, _) = server.request("POST /_sentry/log", &[], "").unwrap();
    assert_eq!(status, 200);
    let all = wait_for(&got, 3);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        got.lock().unwrap().len(),
        3,
        "one envelope for the log: {all:?}"
    );
    let (_, body) = &all[2];
    assert!(body.contains("forced error log"), "the message: {body}");
    assert!(body.contains("beebeta::jobs"), "the logger: {body}");
    assert!(body.contains(&server.release), "the release: {body}");

    let took = server.stop();
    eprintln!("shutdown with a working Sentry took {took:?}");
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
}

#[test]
fn a_black_holed_sentry_slows_neither_requests_nor_shutdown() {
    let server = Server::start(black_hole());
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let started = Instant::now();
        let (status, _) = server
            .request(
                &format!("POST /_sentry/fail/{n}"),
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "secret=x",
            )
            .unwrap();
        assert_eq!(status, 500);
        slowest = slowest.max(started.elapsed());
    }
    eprintln!("slowest of 20 failing requests with a black-holed Sentry: {slowest:?}");
    assert!(
        slowest < Duration::from_millis(500),
        "a request waited for Sentry: {slowest:?}"
    );

    let took = server.stop();
    eprintln!("shutdown with a black-holed Sentry took {took:?}");
    assert!(took < Duration::from_millis(3500), "shutdown took {took:?}");
}

#[derive(diesel::QueryableByName)]
struct ChoiceOf {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    question_id: i64,
}

#[test]
fn a_database_outage_is_one_event_not_one_per_request() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, RunQueryDsl};
    let (sentry_port, got) = receiver();
    let server = Server::start_with(
        sentry_port,
        &[
            ("BEEBETA_SEED_DEMO", "true"),
            ("BEEBETA_DB_WRITE_TIMEOUT_MS", "300"),
        ],
    );
    // Another process holds SQLite's write lock: every vote gives up after 300 ms.
    let path = server._dir.path().join("t.db");
    let mut c = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    let choice: ChoiceOf = diesel::sql_query("SELECT id, question_id FROM choices LIMIT 1")
        .get_result(&mut c)
        .unwrap();
    c.batch_execute("BEGIN IMMEDIATE").unwrap();
    let body = format!("{{\"choices\":[{}]}}", choice.id);
    let line = format!("PUT /api/v1/questions/{}/vote", choice.question_id);
    let json = [("Content-Type", "application/json")];
    for _ in 0..8 {
        let (status, _) = server.request(&line, &json, &body).expect("an answer");
        assert_eq!(status, 503);
    }
    c.batch_execute("ROLLBACK").unwrap();
    wait_for(&got, 1);
    // Anything else would have arrived by now.
    std::thread::sleep(Duration::from_secs(2));
    let all = got.lock().unwrap().clone();
    assert_eq!(all.len(), 1, "one event for the outage: {all:?}");
    assert!(all[0].1.contains("database unavailable"), "{}", all[0].1);
    assert!(!all[0].1.contains("503 on"), "no per-request 5xx event");
    server.stop();
}
