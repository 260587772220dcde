//! Use cases that join request identity to models: what a vote needs besides its ballot.

pub mod accounts;
pub mod asking;
pub mod identities;
pub mod moderation;
pub mod reading;
pub mod recovery;
pub mod reports;
pub mod uploads;
pub mod vote_batcher;
pub mod voting;
