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
