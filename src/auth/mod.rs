//! Who is calling: the anonymous voter cookie, CSRF protection, request keys.
//! Accounts: sessions, passwords, the current user and admin guards.

pub mod client_ip;
pub mod csrf;
pub mod keys;
pub mod oauth;
pub mod password;
pub mod reauth;
pub mod session;
pub mod totp;
pub mod voter;

pub use csrf::{CsrfForm, CsrfProtected, JsonBody};
pub use keys::Keys;
pub use reauth::Confirmed;
pub use session::{AdminUser, CurrentUser};
pub use voter::Voter;
