//! Beebeta: a public opinion polling site. See `docs/ARCHITECTURE.md` for the layout.

pub mod analytics;
pub mod app;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod compress;
pub mod config;
pub mod db;
pub mod embedded;
pub mod error;
pub mod limits;
pub mod mail;
pub mod media;
pub mod models;
pub mod page_cache;
pub mod routes;
pub mod services;
pub mod state;
pub mod telemetry;

pub use error::{AppError, AppResult};

// The lower layers are crates of their own (`crates/`), so they cannot reach up into the app;
// re-exported here under their module names.
pub use beebeta_cache as cache;
pub use beebeta_domain as domain;
