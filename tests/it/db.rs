//! The data layer: migrations and per-connection settings.

use beebeta::db::AnyConnection;
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, question};

backend_tests!(
    migrations_are_idempotent,
    the_unique_key_refuses_a_second_ballot
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
