//! Password hashing: Argon2id (m = 19 MiB, t = 2, p = 1), run on blocking threads by callers.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified when the user does not exist, so that unknown
/// users and wrong passwords take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("not a real password, only for timing").expect("hashing works"));

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). Blocking.
pub fn hash(password: &str) -> Result<String, String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Checks a password against a stored hash (`None`: the user has none; still takes the time). Blocking.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(Some(&h), "correct horse battery"));
        assert!(!verify(Some(&h), "wrong horse battery"));
        assert!(!verify(None, "not a real password, only for timing"));
        assert!(!verify(Some("garbage"), "x"));
    }
}
