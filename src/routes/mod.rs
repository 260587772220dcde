//! HTTP routes, one module per area. Handlers parse input into domain values, call models through
//! `Db`, and render; they hold no SQL.

pub mod api;
pub mod catchers;
pub mod lists;
pub mod ops;
pub mod questions;
pub mod views;
pub mod votes;

/// Every HTML route.
pub fn html() -> Vec<rocket::Route> {
    let mut r = lists::routes();
    r.extend(questions::routes());
    r.extend(votes::routes());
    r.extend(ops::routes());
    r
}
