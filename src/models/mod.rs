//! One file per table: `Row` (what is read), `New*` (what is inserted) and the queries on it,
//! plus the joined reads pages need (`poll`, `listing`). No HTTP here.

pub mod account_deletion;
pub mod api_token;
pub mod audit;
pub mod ballot;
pub mod bulk;
pub mod choice;
pub mod counts;
pub mod email_token;
pub mod feed;
pub mod flag;
pub mod identity;
pub mod listing;
pub mod media;
pub mod moderation;
pub mod pending_signup;
pub mod poll;
pub mod question;
pub mod ranking;
pub mod report;
pub mod rollup;
pub mod search;
pub mod security_event;
pub mod segment;
pub mod session;
pub mod sitemap;
pub mod tag;
pub mod two_factor;
pub mod user;
pub mod your_data;

/// The current time in UTC, as stored.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
