//! The test app: the real Rocket from `app::build`, on a database created for each test
//! (a temporary SQLite file, or a fresh MariaDB database dropped afterwards), plus data builders.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beebeta::auth::Keys;
use beebeta::config::{Config, Settings};
use beebeta::db::Db;
use beebeta::domain::{DraftInput, QuestionDraft};
use beebeta::models;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

/// A fixed 64-byte secret (base64) so tests can compute CSRF tokens.
pub const SECRET: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";

enum Cleanup {
    /// A second app server on another's database: that one cleans up.
    Sibling,
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    #[cfg(feature = "mysql")]
    Mysql {
        server_url: String,
        name: String,
    },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        #[cfg(feature = "mysql")]
        if let Cleanup::Mysql { server_url, name } = self {
            use diesel::Connection;
            use diesel::connection::SimpleConnection;
            if let Ok(mut c) = diesel::MysqlConnection::establish(server_url) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"));
            }
        }
    }
}

/// A memcached child process on a free loopback port, killed when dropped.
pub struct Memcached {
    child: Child,
    port: u16,
}

impl Memcached {
    pub fn start() -> Memcached {
        let port = free_port();
        let child = Command::new("memcached")
            .args([
                "-l",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "0",
                "-m",
                "16",
            ])
            // Ignored unless run as root, which memcached refuses without it.
            .args(["-u", "nobody"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the memcached binary (apt-get install memcached)");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "memcached starts");
            std::thread::sleep(Duration::from_millis(20));
        }
        Memcached { child, port }
    }

    pub fn url(&self) -> String {
        format!("memcache://127.0.0.1:{}", self.port)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings every test app starts from, on the database at `url`.
fn base_settings(url: String) -> Figment {
    let secret_file = std::env::temp_dir().join(format!(
        "beebeta-test-{}.secret",
        uuid::Uuid::new_v4().simple()
    ));
    Figment::new()
        .merge(("database_url", url))
        .merge(("secret_key", SECRET))
        .merge(("secret_file", secret_file.display().to_string()))
        .merge(("seed_demo", false))
        .merge(("hot_refresh_secs", 0))
        .merge(("report_refresh_secs", 0))
        .merge(("db_pool_size", 24))
        .merge(("db_acquire_timeout_ms", 30_000))
        .merge(("public_url", "http://beebeta.test"))
        .merge(("log_filter", "warn"))
        .merge(("limits", "off"))
        .merge(("media", "memory://"))
        .merge(("smtp_url", "memory"))
        .merge(("port", 0))
}

/// A running app for one test.
pub struct TestApp {
    /// A client that keeps cookies like a browser.
    pub client: Client,
    /// Direct database access for setup and ledger checks.
    pub db: Db,
    /// The app's configuration.
    pub cfg: Config,
    _cleanup: Cleanup,
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    #[cfg(feature = "mysql")]
    Mysql,
}

impl TestApp {
    /// An app on `backend` with default test settings.
    pub async fn new(backend: Backend) -> TestApp {
        TestApp::with(backend, |f| f).await
    }

    /// An app on `backend`; `configure` may add settings.
    pub async fn with(backend: Backend, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, Cleanup::Sqlite(dir))
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => {
                use diesel::Connection;
                use diesel::connection::SimpleConnection;
                let server_url = std::env::var("BEEBETA_TEST_MYSQL_URL").expect(
                    "the mysql feature's tests need BEEBETA_TEST_MYSQL_URL, e.g. mysql://root@127.0.0.1:3306/test",
                );
                let name = format!("beebeta_t_{}", uuid::Uuid::new_v4().simple());
                let mut c = diesel::MysqlConnection::establish(&server_url)
                    .expect("connect to the MySQL test server");
                c.batch_execute(&format!(
                    "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                ))
                .expect("create the test database");
                let base = server_url
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or(server_url.clone());
                (
                    format!("{base}/{name}"),
                    Cleanup::Mysql { server_url, name },
                )
            }
        };
        TestApp::start(base_settings(url), configure, None, cleanup).await
    }

    /// A second app server on this one's database and cache (this one's in-process cache
    /// itself, or the same memcached), as production runs N servers; give `configure` the
    /// settings the first one got. Drop it before the first one.
    pub async fn sibling(&self, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
        let cache = &self.state().cache;
        let shared = cache.is_in_process().then(|| cache.clone());
        let figment = base_settings(self.cfg.database.url.clone());
        TestApp::start(figment, configure, shared, Cleanup::Sibling).await
    }

    async fn start(
        figment: Figment,
        configure: impl FnOnce(Figment) -> Figment,
        cache: Option<beebeta::cache::Cache>,
        cleanup: Cleanup,
    ) -> TestApp {
        let settings = Settings::from_figment(configure(figment)).expect("settings");
        let cfg = settings.app.clone();
        let db = Db::connect(&cfg.database).expect("db");
        let rocket = beebeta::app::build_with_cache(settings, cache).expect("app builds");
        let client = Client::tracked(rocket).await.expect("valid rocket");
        TestApp {
            client,
            db,
            cfg,
            _cleanup: cleanup,
        }
    }

    /// The app's shared services (what the handlers take).
    pub fn state(&self) -> &beebeta::state::AppState {
        self.client
            .rocket()
            .state::<beebeta::state::AppState>()
            .expect("the app state is managed")
    }

    /// The CSRF token of a voter id (the uuid in the voter cookie).
    pub fn csrf_for(&self, voter_uuid: &str) -> String {
        Keys::new(&self.cfg.site.secret_bytes()).csrf_token(&format!("c:{voter_uuid}"))
    }

    /// Creates a question from a builder; returns its id.
    pub async fn question(&self, b: QuestionBuilder) -> i64 {
        let created = models::now() - chrono::Duration::seconds(b.age_secs);
        let input = DraftInput {
            author_id: None,
            title: &b.title,
            description: &b.description,
            kind: b.kind,
            min_choices: b.min,
            max_choices: b.max,
            results_visibility: b.visibility,
            protection: b.protection,
            closes_at: b
                .closes_in_secs
                .map(|s| created + chrono::Duration::seconds(s)),
            choices: b.choices.iter().map(|s| s.as_str()).collect(),
            tags: b.tags.iter().map(|s| s.as_str()).collect(),
            ..DraftInput::default()
        };
        let draft = QuestionDraft::parse(input, created).expect("valid question");
        self.db
            .write(move |c| Ok(models::question::create(c, &draft, created)?))
            .await
            .expect("question stored")
    }

    /// Choice ids of a question in display order.
    pub async fn choices(&self, qid: i64) -> Vec<i64> {
        self.db
            .run(move |c| Ok(models::choice::for_question(c, qid)?))
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect()
    }

    /// The canonical path of a question.
    pub async fn path(&self, qid: i64) -> String {
        self.db
            .run(move |c| Ok(models::question::find_visible(c, qid)?.path()))
            .await
            .unwrap()
    }

    /// GETs a page and returns (status, body).
    pub async fn get(&self, uri: &str) -> (Status, String) {
        let r = self.client.get(uri.to_string()).dispatch().await;
        let s = r.status();
        (s, r.into_string().await.unwrap_or_default())
    }

    /// GETs the question page and returns the CSRF token in its vote form.
    pub async fn csrf_from_page(&self, qid: i64) -> String {
        let (status, body) = self.get(&self.path(qid).await).await;
        assert_eq!(status, Status::Ok);
        extract_csrf(&body).expect("vote form has a csrf token")
    }

    /// Posts a vote form as the tracked browser.
    pub async fn post_vote(&self, qid: i64, choices: &[i64], token: &str) -> LocalResponse<'_> {
        let mut body = format!("csrf_token={token}");
        for c in choices {
            body.push_str(&format!("&choice={c}"));
        }
        self.client
            .post(format!("/q/{qid}/vote"))
            .header(ContentType::Form)
            .body(body)
            .dispatch()
            .await
    }

    /// PUTs a JSON vote for `choice` as another visitor (a voter cookie of their own, not the
    /// tracked browser's); the vote must be taken.
    pub async fn vote_as_stranger(&self, qid: i64, choice: i64) {
        let r = self
            .client
            .put(format!("/api/v1/questions/{qid}/vote"))
            .header(ContentType::JSON)
            .private_cookie(("bb_voter", uuid::Uuid::new_v4().to_string()))
            .body(format!("{{\"choices\":[{choice}]}}"))
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::Ok);
    }

    /// PUTs a JSON vote as the tracked browser.
    pub async fn api_vote(&self, qid: i64, body: &str) -> (Status, serde_json::Value) {
        let r = self
            .client
            .put(format!("/api/v1/questions/{qid}/vote"))
            .header(ContentType::JSON)
            .body(body)
            .dispatch()
            .await;
        json_of(r).await
    }

    /// Checks the ledger invariants of a question and returns (ballots, votes per choice).
    pub async fn ledger(&self, qid: i64) -> (i64, Vec<(i64, i64)>) {
        let result = self
            .db
            .run(move |c| {
                use beebeta::db::schema::{ballots, votes};
                use diesel::prelude::*;
                let ballots_n: i64 = ballots::table
                    .filter(ballots::question_id.eq(qid))
                    .count()
                    .get_result(c)?;
                let dup_voters: i64 = ballots::table
                    .filter(ballots::question_id.eq(qid))
                    .group_by(ballots::voter)
                    .select(diesel::dsl::count_star())
                    .load::<i64>(c)?
                    .into_iter()
                    .filter(|n| *n > 1)
                    .count() as i64;
                assert_eq!(dup_voters, 0, "one ballot per voter");
                let orphans: i64 = votes::table
                    .left_join(ballots::table)
                    .filter(votes::question_id.eq(qid))
                    .filter(ballots::id.nullable().is_null())
                    .count()
                    .get_result(c)?;
                assert_eq!(orphans, 0, "every vote row belongs to a ballot");
                let mut per_choice: Vec<(i64, i64)> = votes::table
                    .filter(votes::question_id.eq(qid))
                    .group_by(votes::choice_id)
                    .select((votes::choice_id, diesel::dsl::count_star()))
                    .load(c)?;
                per_choice.sort();
                let counters = beebeta::models::counts::read(c, qid)?;
                let mut from_counters: Vec<(i64, i64)> = counters.by_choice.into_iter().collect();
                from_counters.sort();
                assert_eq!(
                    (counters.total, &from_counters),
                    (ballots_n, &per_choice),
                    "the slotted counters equal the ledger"
                );
                let by_level = beebeta::models::counts::ledger(c, qid)?;
                assert_eq!(
                    counters.by_trust, by_level.by_trust,
                    "each trust level's counters equal its ledger rows"
                );
                // Ranked ballots: one ranking each, whose first choice is the ballot's vote row,
                // and the ranking counters (by trust) equal the ledger's rankings.
                use beebeta::db::schema::rankings;
                let ranked: Vec<(i64, String)> = rankings::table
                    .filter(rankings::question_id.eq(qid))
                    .select((rankings::ballot_id, rankings::ranking))
                    .load(c)?;
                for (ballot, ranking) in &ranked {
                    let rows: Vec<i64> = votes::table
                        .filter(votes::ballot_id.eq(ballot))
                        .select(votes::choice_id)
                        .load(c)?;
                    let first = ranking.split(',').next().unwrap().parse::<i64>().unwrap();
                    assert_eq!(
                        rows,
                        vec![first],
                        "a ranked ballot's vote row is its first choice"
                    );
                }
                assert_eq!(
                    beebeta::models::ranking::counters(c, qid)?,
                    beebeta::models::ranking::ledger(c, qid)?,
                    "the ranking counters equal the ledger's rankings"
                );
                Ok((ballots_n, per_choice))
            })
            .await
            .unwrap();
        // The list counter follows within a refresh interval.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let counter: i64 = self
                .db
                .run(move |c| {
                    use beebeta::db::schema::questions;
                    use diesel::prelude::*;
                    Ok(questions::table
                        .find(qid)
                        .select(questions::vote_count)
                        .first(c)?)
                })
                .await
                .unwrap();
            if counter == result.0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "questions.vote_count ({counter}) catches up with the ballots ({})",
                result.0
            );
            rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        result
    }
}

/// Reads a JSON response.
pub async fn json_of(r: LocalResponse<'_>) -> (Status, serde_json::Value) {
    let s = r.status();
    let body = r.into_string().await.unwrap_or_default();
    let v = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON body, got: {body}"))
    };
    (s, v)
}

/// The `csrf_token` value of the first form in a page.
pub fn extract_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let rest = &html[i..];
    Some(rest[..rest.find('"')?].to_string())
}

/// A question to create in a test.
#[derive(Debug, Clone)]
pub struct QuestionBuilder {
    title: String,
    description: String,
    kind: &'static str,
    min: Option<u32>,
    max: Option<u32>,
    visibility: &'static str,
    protection: &'static str,
    choices: Vec<String>,
    tags: Vec<String>,
    age_secs: i64,
    closes_in_secs: Option<i64>,
}

/// A single-choice question with three choices, results always visible.
pub fn question(title: &str) -> QuestionBuilder {
    QuestionBuilder {
        title: title.to_string(),
        description: String::new(),
        kind: "single",
        min: None,
        max: None,
        visibility: "always",
        protection: "browser",
        choices: vec!["Red".into(), "Green".into(), "Blue".into()],
        tags: vec!["colours".into()],
        age_secs: 60,
        closes_in_secs: None,
    }
}

impl QuestionBuilder {
    pub fn description(mut self, d: &str) -> Self {
        self.description = d.into();
        self
    }
    pub fn multiple(mut self, min: u32, max: u32) -> Self {
        self.kind = "multiple";
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    /// A ranked question whose voters rank at most `max_ranks` choices.
    pub fn ranked(mut self, max_ranks: u32) -> Self {
        self.kind = "ranked";
        self.max = Some(max_ranks);
        self
    }
    pub fn visibility(mut self, v: &'static str) -> Self {
        self.visibility = v;
        self
    }
    pub fn protection(mut self, p: &'static str) -> Self {
        self.protection = p;
        self
    }
    pub fn choices(mut self, c: &[&str]) -> Self {
        self.choices = c.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn tags(mut self, t: &[&str]) -> Self {
        self.tags = t.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn age_days(mut self, d: i64) -> Self {
        self.age_secs = d * 86_400;
        self
    }
    /// Closed: created two hours ago, closed an hour ago.
    pub fn closed(mut self) -> Self {
        self.age_secs = 7_200;
        self.closes_in_secs = Some(3_600);
        self
    }
    pub fn closes_in_days(mut self, d: i64) -> Self {
        self.closes_in_secs = Some(self.age_secs + d * 86_400);
        self
    }
}

/// The `X-Real-IP` header a trusted proxy (see [`PROXY`]) adds to a request.
pub fn ip(addr: &str) -> Header<'static> {
    Header::new("X-Real-IP", addr.to_string())
}

/// The socket address of the local nginx: a trusted proxy by default.
pub fn proxy() -> std::net::SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

/// Generates, for each listed `async fn(Backend)`, one test per backend.
#[macro_export]
macro_rules! backend_tests {
    (#[ignore = $why:literal] $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[rocket::async_test]
                #[ignore = $why]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[rocket::async_test]
                #[ignore = $why]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Mysql).await
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[rocket::async_test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[rocket::async_test]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Mysql).await
                }
            )*
        }
    };
}

/// A password that passes the rules.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Signs up through the form as the tracked browser and follows the link mailed to the
    /// address (the browser is then logged in); returns the status of the last step: 303 when
    /// the account was made, 422 for a refused form. A taken address gets a notice, not a link:
    /// then the form's 303 is returned and no account is made.
    pub async fn signup(&self, username: &str, email: &str, password: &str) -> Status {
        let (_, page) = self.get("/signup").await;
        let token = extract_csrf(&page).expect("signup form has a token");
        let before = self.state().mailer.outbox().len();
        let status = self
            .client
            .post("/signup")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &token),
                ("username", username),
                ("email", email),
                ("password", password),
            ]))
            .dispatch()
            .await
            .status();
        if status != Status::SeeOther {
            return status;
        }
        match self.signup_link(email, before) {
            Some(link) => self.finish_signup(&link).await,
            None => status,
        }
    }

    /// The sign-up link in the messages to `email` sent after the first `since`.
    pub fn signup_link(&self, email: &str, since: usize) -> Option<String> {
        let sent = self.state().mailer.outbox();
        let mail = sent
            .get(since..)?
            .iter()
            .rev()
            .find(|m| m.to.eq_ignore_ascii_case(email.trim()))?;
        let start = mail.body.find("/signup/confirm?token=")?;
        Some(mail.body[start..].split_whitespace().next()?.to_string())
    }

    /// Follows a sign-up link (its page, then its button); returns the button's status.
    pub async fn finish_signup(&self, link: &str) -> Status {
        self.finish_signup_to(link).await.0
    }

    /// Follows a sign-up link; the button's status and where it leads (`Location`).
    pub async fn finish_signup_to(&self, link: &str) -> (Status, Option<String>) {
        let (_, page) = self.get(link).await;
        let Some(csrf) = extract_csrf(&page) else {
            return (Status::BadRequest, None);
        };
        let token = link.split("token=").nth(1).unwrap_or("").to_string();
        let r = self
            .client
            .post("/signup/confirm")
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", &csrf), ("token", &token)]))
            .dispatch()
            .await;
        let to = r.headers().get_one("Location").map(str::to_string);
        (r.status(), to)
    }

    /// Logs in through the form; returns the response.
    pub async fn login_as(&self, login: &str, password: &str, next: &str) -> LocalResponse<'_> {
        let (_, page) = self.get("/login").await;
        let token = extract_csrf(&page).expect("login form has a token");
        self.client
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &token),
                ("username", login),
                ("password", password),
                ("next", next),
            ]))
            .dispatch()
            .await
    }

    /// Answers the second step of a login (`/login/2fa`) with `code`; returns the response.
    pub async fn second_factor(&self, code: &str) -> LocalResponse<'_> {
        let (_, page) = self.get("/login/2fa").await;
        let token = extract_csrf(&page).expect("the second step has a form with a token");
        self.client
            .post("/login/2fa")
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", &token), ("code", code)]))
            .dispatch()
            .await
    }

    /// Creates (or promotes) an admin as `beebeta create-admin` does, two-factor included.
    pub async fn create_admin(
        &self,
        username: &str,
        email: &str,
        password: &str,
    ) -> Result<beebeta::cli::admin::AdminCreated, String> {
        let (db, keys) = (self.db.clone(), self.state().keys.clone());
        let (u, e, p) = (
            username.to_string(),
            email.to_string(),
            password.to_string(),
        );
        rocket::tokio::task::spawn_blocking(move || {
            beebeta::cli::admin::create_admin(&db, &keys, &u, &e, &p)
        })
        .await
        .unwrap()
    }

    /// Logs out through the header's form.
    pub async fn logout(&self) -> Status {
        let (_, page) = self.get("/").await;
        let token = header_csrf(&page).expect("the header has a logout form");
        self.client
            .post("/logout")
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", &token)]))
            .dispatch()
            .await
            .status()
    }

    /// Posts a form with the CSRF token taken from the page at `page_uri`.
    pub async fn post_form(
        &self,
        page_uri: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'_> {
        let (_, page) = self.get(page_uri).await;
        let token = extract_csrf(&page).unwrap_or_default();
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(action.to_string())
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Marks a user's email as not verified (as after a change of address: their ballots count
    /// as an account's again).
    pub async fn unverify_email(&self, name: &str) {
        let uid = self.user_id(name).await;
        self.db
            .write(move |c| {
                use beebeta::db::schema::users;
                use diesel::prelude::*;
                let email: String = users::table.find(uid).select(users::email).first(c)?;
                beebeta::models::user::set_email(c, uid, &email)?;
                Ok(())
            })
            .await
            .unwrap();
    }

    /// Marks a user's email as verified (as its link would).
    pub async fn verify_email(&self, name: &str) {
        let uid = self.user_id(name).await;
        self.db
            .write(move |c| {
                Ok(beebeta::models::user::mark_verified(
                    c,
                    uid,
                    beebeta::models::now(),
                )?)
            })
            .await
            .unwrap();
    }

    /// The id of a user by name.
    pub async fn user_id(&self, name: &str) -> i64 {
        let n = name.to_string();
        self.db
            .run(move |c| {
                Ok(beebeta::models::user::find_by_username(c, &n)?
                    .expect("user exists")
                    .id)
            })
            .await
            .unwrap()
    }

    /// Makes user `uid` the author of question `qid`.
    pub async fn set_author(&self, qid: i64, uid: i64) {
        self.db
            .write(move |c| {
                use beebeta::db::schema::questions as q;
                use diesel::prelude::*;
                diesel::update(q::table.find(qid))
                    .set(q::author_id.eq(Some(uid)))
                    .execute(c)?;
                Ok(())
            })
            .await
            .unwrap();
    }
}

/// `application/x-www-form-urlencoded` body from pairs.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The CSRF token of the header's logout form.
pub fn header_csrf(html: &str) -> Option<String> {
    let i = html
        .find("action=\"/logout\"")
        .or_else(|| html.find("action=\"&#x2F;logout\""))?;
    extract_csrf(&html[i..])
}

/// What remains of a [`TestApp`] after [`TestApp::shut_down`]: its database (dropped with this).
pub struct Stopped {
    /// The database, still there for checks.
    pub db: Db,
    _cleanup: Cleanup,
}

impl TestApp {
    /// Shuts the app down gracefully (Rocket's shutdown fairings run), keeping the database.
    pub async fn shut_down(self) -> Stopped {
        let TestApp {
            client,
            db,
            _cleanup,
            ..
        } = self;
        client.terminate().await;
        Stopped { db, _cleanup }
    }
}

/// The code an authenticator app with this `otpauth://` URI shows `steps` steps (30 s) from now.
pub fn totp_code(uri: &str, steps: i64) -> String {
    let totp = totp_rs::Totp::from_url(uri).expect("an otpauth URI");
    let now = chrono::Utc::now().timestamp() + steps * 30;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}
