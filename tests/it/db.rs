//! The data layer: migrations and per-connection settings.

use beebeta::db::AnyConnection;
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    migrations_are_idempotent,
    the_unique_key_refuses_a_second_ballot,
    a_big_tags_lists_are_ordered_like_any_list
);

#[derive(QueryableByName)]
struct Mode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = BigInt)]
    foreign_keys: i64,
}

#[rocket::async_test]
async fn sqlite_runs_in_wal_with_foreign_keys() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (mode, fk) = app
        .db
        .run(|c| {
            let m: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(c)?;
            let f: Flag = diesel::sql_query("PRAGMA foreign_keys").get_result(c)?;
            Ok((m.journal_mode, f.foreign_keys))
        })
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
}

async fn migrations_are_idempotent(b: Backend) {
    let app = TestApp::new(b).await;
    assert_eq!(
        app.db.migrate().unwrap(),
        0,
        "all migrations ran at start-up"
    );
}

async fn the_unique_key_refuses_a_second_ballot(b: Backend) {
    use beebeta::db::schema::ballots;
    let app = TestApp::new(b).await;
    let id = app
        .question(question("Does the database enforce one ballot?"))
        .await;
    let insert = move |c: &mut AnyConnection| {
        let now = beebeta::models::now();
        diesel::insert_into(ballots::table)
            .values((
                ballots::question_id.eq(id),
                ballots::voter.eq("c:same"),
                ballots::trust.eq("cookie"),
                ballots::created_at.eq(now),
                ballots::updated_at.eq(now),
            ))
            .execute(c)
    };
    let first = app.db.run(move |c| Ok(insert(c))).await.unwrap();
    assert!(first.is_ok());
    let second = app.db.run(move |c| Ok(insert(c))).await.unwrap();
    assert!(matches!(
        second,
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    ));
}

#[cfg(feature = "mysql")]
#[rocket::async_test]
async fn closing_times_round_trip_on_mysql() {
    closing_times(Backend::Mysql).await
}

#[rocket::async_test]
async fn closing_times_round_trip_on_sqlite() {
    closing_times(Backend::Sqlite).await
}

/// Up to the latest allowed closing date (5 years; MySQL's TIMESTAMP binding ends in 2038).
async fn closing_times(b: Backend) {
    let app = TestApp::new(b).await;
    for days in [1, 30, 1_000, beebeta::domain::draft::MAX_OPEN_DAYS - 1] {
        let id = app
            .question(question(&format!("Closes in {days} days from now")).closes_in_days(days))
            .await;
        let q = app
            .db
            .run(move |c| Ok(beebeta::models::question::find_visible(c, id)?))
            .await
            .unwrap();
        let expected = q.created_at + chrono::Duration::seconds(60) + chrono::Duration::days(days);
        let got = q.closes_at.expect("closes_at kept");
        assert!(
            (got - expected).num_seconds().abs() <= 1,
            "{days} days: {got} vs {expected}"
        );
    }
}

/// Tag lists of a tag big enough for the index walk on MySQL (40 of 52 questions: 40² > 21 × 52)
/// match the order computed here from the rows, for each sort, window and page.
async fn a_big_tags_lists_are_ordered_like_any_list(b: Backend) {
    use beebeta::domain::{Page, Sort, Window};
    use beebeta::models::listing::{ListQuery, list};

    let app = TestApp::new(b).await;
    let mut tagged = Vec::new();
    for i in 0..52 {
        if i % 4 == 3 {
            app.question(question(&format!("Untagged question {i}?")))
                .await;
        } else {
            tagged.push(
                app.question(question(&format!("Big tag question {i}?")).tags(&["big"]))
                    .await,
            );
        }
    }
    assert_eq!(tagged.len(), 39);
    // Distinct-ish ranks, counts and ages with ties (broken by id, newest first).
    app.db
        .write(|c| {
            use beebeta::db::schema::questions as q;
            let ids: Vec<i64> = q::table.select(q::id).load(c)?;
            for id in ids {
                diesel::update(q::table.find(id))
                    .set((
                        q::hot_rank.eq((id * 37 % 101) as f64),
                        q::vote_count.eq(id * 13 % 17),
                        q::created_at
                            .eq(beebeta::models::now() - chrono::Duration::hours(id * 7 % 300)),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let tag_id = app
        .db
        .run(|c| {
            let n = beebeta::domain::TagName::parse("big").unwrap();
            Ok(beebeta::models::tag::find(c, &n)?.unwrap().id)
        })
        .await
        .unwrap();
    let rows: Vec<(i64, f64, i64, chrono::NaiveDateTime)> = app
        .db
        .run(move |c| {
            use beebeta::db::schema::questions as q;
            Ok(q::table
                .filter(q::id.eq_any(&tagged))
                .select((q::id, q::hot_rank, q::vote_count, q::created_at))
                .load(c)?)
        })
        .await
        .unwrap();
    let now = beebeta::models::now();
    for sort in [Sort::Hot, Sort::New, Sort::Top] {
        for window in [Window::All, Window::Week] {
            let mut expected: Vec<_> = rows
                .iter()
                .filter(|r| window.since(now).is_none_or(|s| r.3 >= s))
                .cloned()
                .collect();
            expected.sort_by(|a, b| {
                let key = match sort {
                    Sort::Hot => b.1.partial_cmp(&a.1).unwrap(),
                    Sort::New => b.3.cmp(&a.3),
                    Sort::Top => b.2.cmp(&a.2),
                };
                key.then(b.0.cmp(&a.0))
            });
            let expected: Vec<i64> = expected.iter().map(|r| r.0).collect();
            let mut got = Vec::new();
            for page in 1..=3 {
                let query = ListQuery {
                    sort,
                    window,
                    tag_id: Some(tag_id),
                    page: Page::from_query(Some(&page.to_string())).unwrap(),
                };
                let listed = app
                    .db
                    .run(move |c| Ok(list(c, &query, now)?))
                    .await
                    .unwrap();
                assert!(listed.items.iter().all(|s| s.tags == ["big"]));
                got.extend(listed.items.iter().map(|s| s.question.id));
                assert_eq!(
                    listed.has_more,
                    got.len() < expected.len(),
                    "{sort:?} {window:?} page {page}"
                );
            }
            assert_eq!(got, expected, "{sort:?} {window:?}");
        }
    }
}

/// The pool's alive-bypass window: a connection handed back just now is taken without a
/// `SELECT 1`, one idle for longer is checked, so a connection the server dropped while idle
/// is found before use.
#[cfg(feature = "mysql")]
#[test]
fn the_pool_checks_idle_connections_but_not_just_returned_ones() {
    use beebeta::db::{ALIVE_BYPASS, Manager};
    use diesel::r2d2::ManageConnection;

    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let url = std::env::var("BEEBETA_TEST_MYSQL_URL").expect(
        "the mysql feature's tests need BEEBETA_TEST_MYSQL_URL, e.g. mysql://root@127.0.0.1:3306/test",
    );
    let manager = Manager::new(&beebeta::db::DbUrl::parse(&url).expect("a MySQL URL"));
    let mut conn = manager.connect().expect("connect");
    assert!(
        manager.is_valid(&mut conn).is_ok(),
        "a new connection is checked and fine"
    );
    let id = diesel::sql_query("SELECT CAST(CONNECTION_ID() AS SIGNED) AS id")
        .get_result::<Id>(&mut *conn)
        .expect("connection id")
        .id;
    assert!(!manager.has_broken(&mut conn), "handed back in good order");
    let mut killer = diesel::MysqlConnection::establish(&url).expect("second connection");
    diesel::connection::SimpleConnection::batch_execute(&mut killer, &format!("KILL {id}"))
        .expect("kill the pooled connection");
    assert!(
        manager.is_valid(&mut conn).is_ok(),
        "within the window it is not checked (no round trip)"
    );
    std::thread::sleep(ALIVE_BYPASS + std::time::Duration::from_millis(100));
    assert!(
        manager.is_valid(&mut conn).is_err(),
        "after the window it is checked, and the dead connection is found"
    );
}

/// A transaction that reads before it writes, while another process holds SQLite's write lock,
/// waits for it (the write limit) instead of failing at once: `write_transaction` takes the lock
/// first (SQLite gives a read transaction that then wants to write `SQLITE_BUSY` without waiting).
#[rocket::async_test]
async fn sqlite_write_transactions_wait_for_another_writer() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::with(Backend::Sqlite, |f| f.merge(("db_write_timeout_ms", 3000))).await;
    let path = beebeta::db::DbUrl::parse(&app.cfg.database.url)
        .unwrap()
        .target;
    let mut holder = diesel::SqliteConnection::establish(&path).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        holder.batch_execute("ROLLBACK").unwrap();
    });
    let started = std::time::Instant::now();
    let written = app
        .db
        .write(|c| {
            Ok(beebeta::db::write_transaction(c, |c| {
                diesel::sql_query("SELECT COUNT(*) FROM questions").execute(c)?;
                diesel::sql_query("UPDATE questions SET title = title WHERE id < 0").execute(c)
            })?)
        })
        .await;
    release.join().unwrap();
    assert!(written.is_ok(), "{written:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "it waited for the other writer: {:?}",
        started.elapsed()
    );
}
