//! Who is calling: the anonymous voter cookie, CSRF protection, request keys.
//! (Accounts, sessions and OAuth arrive with the accounts issue.)

pub mod csrf;
pub mod keys;
pub mod voter;

pub use csrf::{CsrfForm, CsrfProtected, JsonBody};
pub use keys::Keys;
pub use voter::Voter;
