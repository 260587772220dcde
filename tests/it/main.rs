//! Integration tests: the real app through Rocket's local client, on SQLite always and on
//! MariaDB/MySQL when built with `--features mysql` (then `BEEBETA_TEST_MYSQL_URL` is required).

mod accounts;
mod admin;
mod analytics;
mod api;
mod asking;
mod assets;
mod bad_input;
mod batching;
mod breakdowns;
mod cache;
mod cli;
mod concurrency;
mod db;
mod email;
mod embed;
mod faults;
mod feeds;
mod flags;
mod helpers;
mod limits;
mod live;
mod media;
mod oauth;
mod open_data;
mod pages;
mod polish;
mod ranked;
mod search;
mod security;
mod sentry;
mod telemetry;
mod trust;
mod visibility;
mod voting;
mod your_data;
