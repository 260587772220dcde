//! Beebeta: a public opinion polling site. See `docs/ARCHITECTURE.md` for the layout.

pub mod analytics;
pub mod app;
pub mod assets;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod compress;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod limits;
pub mod mail;
pub mod media;
pub mod models;
pub mod routes;
pub mod services;
pub mod telemetry;

pub use error::{AppError, AppResult};
