//! Where batches of events go: the database rollups, an HTTP endpoint, JSON-lines files.

pub mod files;
pub mod http;
pub mod rollups;
