//! HTTP routes, one module per area. Handlers parse input into domain values, call models through
//! `Db`, and render; they hold no SQL.

// Rocket handlers take their request guards as parameters; a signature listing who may call and
// what it needs is clearer than a bundle struct.
#![allow(clippy::too_many_arguments)]

pub mod accounts;
pub mod admin;
pub mod api;
pub mod ask;
pub mod catchers;
pub mod lists;
pub mod live;
pub mod oauth;
pub mod ops;
pub mod page_cache;
pub mod questions;
pub mod recovery;
pub mod settings;
pub mod uploads;
pub mod users;
pub mod viewer;
pub mod views;
pub mod votes;

/// Every HTML route.
pub fn html() -> Vec<rocket::Route> {
    let mut r = lists::routes();
    r.extend(questions::routes());
    r.extend(votes::routes());
    r.extend(ops::routes());
    r.extend(accounts::routes());
    r.extend(settings::routes());
    r.extend(users::routes());
    r.extend(admin::routes());
    r.extend(ask::routes());
    r.extend(recovery::routes());
    r.extend(oauth::routes());
    r.extend(live::routes());
    r.extend(uploads::routes());
    r
}
