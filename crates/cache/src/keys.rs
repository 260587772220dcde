//! The key scheme: `<prefix>:<version>:<key>`, and the memcached-safe form of a full key.

use sha2::{Digest, Sha256};

/// Bumped whenever the stored format changes, so old and new code never read each other's values.
pub const SCHEME_VERSION: &str = "v2";

/// Longest key memcached accepts.
pub const MAX_MEMCACHED_KEY: usize = 250;

/// Longest accepted prefix, so that a prefixed key stays readable and well under the limit.
const MAX_PREFIX: usize = 64;

/// Checks a prefix: 1 to 64 characters of `A-Z a-z 0-9 _ . -`.
pub fn validate_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() || prefix.len() > MAX_PREFIX {
        return Err(format!(
            "cache prefix must be 1 to {MAX_PREFIX} characters, got {}",
            prefix.len()
        ));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "cache prefix {prefix:?} contains {c:?}; use only letters, digits, '_', '.' and '-'"
        ));
    }
    Ok(())
}

/// The key as stored: `<prefix>:v2:<key>`.
pub fn full_key(prefix: &str, key: &str) -> String {
    format!("{prefix}:{SCHEME_VERSION}:{key}")
}

/// The memcached form of a full key: unchanged when it is at most 250 bytes of printable ASCII,
/// otherwise `#` and the SHA-256 of the whole key in hex (65 bytes).
///
/// No prefix may contain `#` and every full key starts with its prefix, so a hashed key can
/// never equal an unhashed one; the prefix is hashed along with the rest, so two prefixes never
/// share a hashed key either.
pub fn memcached_key(full_key: &str) -> String {
    let safe = full_key.len() <= MAX_MEMCACHED_KEY
        && !full_key.is_empty()
        && full_key.bytes().all(|b| b.is_ascii_graphic());
    if safe {
        return full_key.to_owned();
    }
    let digest = Sha256::digest(full_key.as_bytes());
    let mut out = String::with_capacity(65);
    out.push('#');
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_key_has_prefix_and_version() {
        assert_eq!(full_key("beebeta", "question:7"), "beebeta:v2:question:7");
    }

    #[test]
    fn prefixes_are_validated() {
        assert!(validate_prefix("beebeta-test_1.2").is_ok());
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix("has space").is_err());
        assert!(validate_prefix("colon:").is_err());
        assert!(validate_prefix("hash#").is_err());
        assert!(validate_prefix(&"x".repeat(65)).is_err());
        assert!(validate_prefix(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn safe_keys_are_kept() {
        let key = full_key("p", "tag:rust");
        assert_eq!(memcached_key(&key), key);
        let exactly_max = "k".repeat(MAX_MEMCACHED_KEY);
        assert_eq!(memcached_key(&exactly_max), exactly_max);
    }

    #[test]
    fn long_or_unsafe_keys_are_hashed() {
        let cases = [
            "k".repeat(MAX_MEMCACHED_KEY + 1),
            full_key("p", "search:two words"),
            full_key("p", "line\nbreak"),
            full_key("p", "tab\there"),
            full_key("p", "del\u{7f}"),
            full_key("p", "ünïcode"),
        ];
        for case in &cases {
            let hashed = memcached_key(case);
            assert_eq!(hashed.len(), 65, "{case:?}");
            assert!(hashed.starts_with('#'));
            assert!(hashed[1..].bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(hashed, memcached_key(case), "hashing is deterministic");
        }
        let distinct: std::collections::HashSet<_> =
            cases.iter().map(|c| memcached_key(c)).collect();
        assert_eq!(distinct.len(), cases.len());
    }

    #[test]
    fn hashed_keys_differ_by_prefix() {
        let long = "x".repeat(300);
        assert_ne!(
            memcached_key(&full_key("run1", &long)),
            memcached_key(&full_key("run2", &long))
        );
    }
}
