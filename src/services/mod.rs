//! Use cases: what a request does, given who asks, in terms of the models. No HTTP here: services
//! return `AppResult`, and the routes turn that into pages and JSON.

pub mod accounts;
pub mod asking;
pub mod breakdowns;
pub mod count_refresher;
pub mod demo;
pub mod document;
pub mod feeds;
pub mod flagging;
pub mod identities;
pub mod moderation;
pub mod reading;
pub mod recovery;
pub mod reports;
pub mod schema;
pub mod security;
pub mod signup;
pub mod sitemaps;
pub mod stale;
pub mod two_factor;
pub mod uploads;
pub mod vote_batcher;
pub mod voting;
pub mod your_data;
