//! HTTP routes, one module per area. A handler takes the [`crate::state::AppState`] guard, the
//! caller's identity guards and its typed parameters ([`params::Qid`]), calls services (or a
//! model's read) and renders a template or JSON; it holds no SQL.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod ask;
pub mod breakdowns;
pub mod catchers;
pub mod confirm;
pub mod crawlers;
pub mod destructive;
pub mod documents;
pub mod embed;
pub mod feeds;
pub mod flags;
pub mod json;
pub mod lists;
pub mod live;
pub mod oauth;
pub mod open_data;
pub mod ops;
pub mod params;
pub mod questions;
pub mod ranked;
pub mod recovery;
pub mod settings;
pub mod share;
pub mod signup;
pub mod two_factor;
pub mod uploads;
pub mod users;
pub mod viewer;
pub mod views;
pub mod votes;
pub mod your_data;

/// Every HTML route.
pub fn html() -> Vec<rocket::Route> {
    let mut r = lists::routes();
    r.extend(questions::routes());
    r.extend(votes::routes());
    r.extend(flags::routes());
    r.extend(embed::routes());
    r.extend(ops::routes());
    r.extend(accounts::routes());
    r.extend(settings::routes());
    r.extend(your_data::routes());
    r.extend(confirm::routes());
    r.extend(signup::routes());
    r.extend(two_factor::routes());
    r.extend(users::routes());
    r.extend(admin::routes());
    r.extend(ask::routes());
    r.extend(recovery::routes());
    r.extend(oauth::routes());
    r.extend(live::routes());
    r.extend(uploads::routes());
    r.extend(open_data::routes());
    r.extend(share::routes());
    r.extend(feeds::routes());
    r.extend(crawlers::routes());
    r
}
